/**
 * What a store costs, on each store (memory, SQLite, PostgreSQL, Redis with
 * and without its local cache), in one server process pinned to CPU 1
 * (bench/stores-server.ts):
 *
 * - per verified request: wrk (pinned to CPU 0) loads one `createGuard` route
 *   per store, HS256, rotating through the access tokens of `tokens` users with
 *   live sessions; routes alternate within each round; req/s, the per-round
 *   ratio to the route without a store, and server CPU per request;
 * - refresh throughput: `refreshTokens` in the server process, one session
 *   refreshing its own token (no contention) and 64 users refreshing at once
 *   (the store serves them concurrently); slices alternate store by store,
 *   round after round.
 *
 * The databases run on the same two cores and their CPU time is not counted in
 * the server's: read the store figures as this machine's, not the store's alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatOps, formatRatio, markdownTable, median } from './harness.js';
import { hasTaskset, type ServerMode, startBenchServer, stopBenchServer } from './proc.js';
import {
  MANY_SESSIONS,
  type RefreshMode,
  type RefreshSlice,
  STORE_NAMES,
  type StoreName,
  type StoresServerSpec,
} from './stores-spec.js';
import { hasWrk, roundRobin, runWrk, type WrkRun, writeRotateScript } from './wrk.js';

/** Options of {@link runStores}. */
export interface StoresOptions {
  /** Measured rounds of the per-request part. */
  readonly rounds: number;
  /** Seconds of one wrk run. */
  readonly durationSeconds: number;
  /** Measured rounds of the refresh part. */
  readonly refreshRounds: number;
  /** Milliseconds of one refresh slice. */
  readonly refreshSliceMs: number;
  /** Stores to measure (default: all). */
  readonly stores?: readonly StoreName[];
  /** Users whose tokens the load rotates through (default 100). */
  readonly tokens?: number;
  /** Revoked jtis written to each store first (default 1,000; a tenth as many user cut-offs). */
  readonly seed?: number;
  /** How the server runs (default `dist`: what the figures are taken on). */
  readonly mode?: ServerMode;
  /** Skip the wrk part (the refresh part still runs). */
  readonly skipRequests?: boolean;
  /** Seconds of wrk per route before the rounds (default 1; 0: none). */
  readonly warmupSeconds?: number;
}

export const STORE_LABELS: Readonly<Record<StoreName, string>> = {
  none: 'no store (no revocation check)',
  memory: 'MemoryStore',
  sqlite: 'SQLite (file, WAL)',
  postgres: 'PostgreSQL',
  redis: 'Redis, asked on every request',
  'redis-cache': 'Redis with the local cache',
};

/** One store's per-request figures. */
export interface StoreRequestRow {
  readonly store: StoreName;
  readonly label: string;
  /** 'ok', or why it was not measured. */
  readonly state: string;
  readonly samples: readonly number[];
  readonly medianRps: number;
  /** Per-round ratio to the no-store route: median, min, max. */
  readonly ratioToNone: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Server CPU µs per request (median of rounds). */
  readonly cpuMicros: number;
  /** Wall µs per request added to the no-store route (median of per-round differences). */
  readonly addedMicros: number;
  /** Server CPU µs per request added to the no-store route (median of per-round differences). */
  readonly addedCpuMicros: number;
  readonly non2xx: number;
}

/** One store's refresh figures under one load. */
export interface RefreshRow {
  readonly store: StoreName;
  readonly label: string;
  readonly mode: RefreshMode;
  readonly state: string;
  /** Refreshes per wall second, per slice. */
  readonly samples: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Server CPU µs per refresh (median of slices). */
  readonly cpuMicros: number;
  readonly errors: number;
  readonly firstError?: string;
}

/** The report of {@link runStores}. */
export interface StoresReport {
  readonly options: StoresOptions;
  readonly pinned: boolean;
  readonly requests: readonly StoreRequestRow[];
  readonly refresh: readonly RefreshRow[];
  readonly notes: readonly string[];
  readonly seconds: number;
}

interface Ready {
  readonly port: number;
  readonly stores: Readonly<Record<string, string>>;
  readonly revoked: Readonly<Record<string, string>>;
}

/** A running store bench server. */
export interface StoresServer {
  readonly port: number;
  readonly pid: number;
  /** Per store: 'ok' or why it is not served. */
  readonly states: Readonly<Record<StoreName, string>>;
  /** Per store with a store: an access token of the load's kind that was revoked. */
  readonly revoked: Readonly<Partial<Record<StoreName, string>>>;
  /** The token file of a store's route (one access token per line). */
  tokensFile(store: StoreName): string;
  /** Where the wrk script is. */
  readonly lua: string;
  /** One refresh slice in the server. */
  refresh(store: StoreName, mode: RefreshMode, ms: number): Promise<RefreshSlice>;
  stop(): Promise<void>;
}

/** The loopback services, overridable like the store tests' (TESSERA_TEST_PG_*, TESSERA_TEST_REDIS_*). */
function services(): Pick<StoresServerSpec, 'postgres' | 'redis'> {
  const env = process.env;
  return {
    postgres: {
      host: env.TESSERA_TEST_PG_HOST ?? '127.0.0.1',
      port: Number(env.TESSERA_TEST_PG_PORT ?? 5432),
      user: env.TESSERA_TEST_PG_USER ?? 'postgres',
      database: env.TESSERA_TEST_PG_DATABASE ?? 'test',
    },
    redis: {
      host: env.TESSERA_TEST_REDIS_HOST ?? '127.0.0.1',
      port: Number(env.TESSERA_TEST_REDIS_PORT ?? 6379),
      db: Number(env.TESSERA_TEST_REDIS_DB ?? 0),
    },
  };
}

/** Start the store bench server against `stores` (every store's route answers or says why not). */
export async function startStoresServer(options: {
  readonly stores?: readonly StoreName[];
  readonly tokens?: number;
  readonly seed?: number;
  readonly mode?: ServerMode;
  readonly pin?: boolean;
}): Promise<StoresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-stores-'));
  const lua = writeRotateScript(dir);
  const spec: StoresServerSpec = {
    secret: randomBytes(32).toString('base64url'),
    dir,
    stores: options.stores ?? STORE_NAMES,
    tokens: options.tokens ?? 100,
    seed: options.seed ?? 1000,
    ...services(),
  };
  let started: Awaited<ReturnType<typeof startBenchServer<Ready>>>;
  try {
    started = await startBenchServer<Ready>('stores-server', spec, {
      pin: options.pin ?? false,
      mode: options.mode ?? 'dist',
      timeoutMs: 120_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { child, ready } = started;
  const states = Object.fromEntries(
    STORE_NAMES.map((name) => [name, ready.stores[name] ?? 'not asked for']),
  ) as Record<StoreName, string>;
  return {
    port: ready.port,
    pid: child.pid!,
    states,
    revoked: ready.revoked,
    lua,
    tokensFile: (store) => join(dir, `${store}.txt`),
    async refresh(store, mode, ms) {
      const response = await fetch(
        `http://127.0.0.1:${ready.port}/refresh?store=${store}&mode=${mode}&ms=${ms}`,
      );
      const text = await response.text();
      if (response.status !== 200) throw new Error(`refresh ${store} ${mode}: ${response.status} ${text}`);
      return JSON.parse(text) as RefreshSlice;
    },
    async stop() {
      await stopBenchServer(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function spread(values: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

async function measureRequests(
  server: StoresServer,
  stores: readonly StoreName[],
  options: StoresOptions,
  pin: boolean,
  log: (line: string) => void,
): Promise<StoreRequestRow[]> {
  const active = stores.filter((s) => server.states[s] === 'ok');
  const runs = await roundRobin(
    active,
    {
      rounds: options.rounds,
      durationSeconds: options.durationSeconds,
      // Warm-up: JIT, connection pools, the local cache's first fill.
      warmupSeconds: options.warmupSeconds ?? 1,
    },
    (store, seconds) =>
      runWrk(
        {
          port: server.port,
          pid: server.pid,
          route: store,
          lua: server.lua,
          tokensFile: server.tokensFile(store),
          pin,
        },
        seconds,
      ),
    (round) => log(`stores: requests, round ${round + 1}/${options.rounds}`),
  );
  const none = runs.get('none') ?? [];
  return stores.map((store): StoreRequestRow => {
    const r = runs.get(store) ?? [];
    if (r.length === 0 || none.length === 0) {
      return {
        store,
        label: STORE_LABELS[store],
        state: server.states[store] === 'ok' ? 'not measured' : server.states[store],
        samples: [],
        medianRps: Number.NaN,
        ratioToNone: Number.NaN,
        ratioMin: Number.NaN,
        ratioMax: Number.NaN,
        cpuMicros: Number.NaN,
        addedMicros: Number.NaN,
        addedCpuMicros: Number.NaN,
        non2xx: 0,
      };
    }
    const ratios = spread(r.map((x, i) => x.rps / none[i]!.rps));
    const cpuPer = (x: WrkRun) => (x.cpuSeconds / x.requests) * 1e6;
    return {
      store,
      label: STORE_LABELS[store],
      state: 'ok',
      samples: r.map((x) => x.rps),
      medianRps: median(r.map((x) => x.rps)),
      ratioToNone: ratios.median,
      ratioMin: ratios.min,
      ratioMax: ratios.max,
      cpuMicros: median(r.map(cpuPer)),
      addedMicros: median(r.map((x, i) => 1e6 / x.rps - 1e6 / none[i]!.rps)),
      addedCpuMicros: median(r.map((x, i) => cpuPer(x) - cpuPer(none[i]!))),
      non2xx: r.reduce((sum, x) => sum + x.non2xx, 0),
    };
  });
}

async function measureRefresh(
  server: StoresServer,
  stores: readonly StoreName[],
  options: StoresOptions,
  log: (line: string) => void,
): Promise<RefreshRow[]> {
  // Refresh needs a store: rotation is what is measured.
  const active = stores.filter((s) => s !== 'none' && server.states[s] === 'ok');
  const modes: readonly RefreshMode[] = ['one', 'many'];
  const slices = new Map<string, RefreshSlice[]>();
  const key = (store: StoreName, mode: RefreshMode) => `${store} ${mode}`;
  // One unmeasured round first: sessions are opened, pools and JIT warmed.
  for (let round = -1; round < options.refreshRounds; round++) {
    for (const store of active) {
      for (const mode of modes) {
        const slice = await server.refresh(store, mode, options.refreshSliceMs);
        if (round >= 0) {
          const list = slices.get(key(store, mode)) ?? [];
          list.push(slice);
          slices.set(key(store, mode), list);
        }
      }
    }
    if (round >= 0) log(`stores: refresh, round ${round + 1}/${options.refreshRounds}`);
  }
  return stores
    .filter((s) => s !== 'none')
    .flatMap((store) =>
      modes.map((mode): RefreshRow => {
        const list = slices.get(key(store, mode)) ?? [];
        const perSecond = list.map((s) => (s.refreshes / s.wallMs) * 1000);
        const s =
          list.length === 0 ? { median: Number.NaN, min: Number.NaN, max: Number.NaN } : spread(perSecond);
        const firstError = list.find((x) => x.firstError !== undefined)?.firstError;
        return {
          store,
          label: STORE_LABELS[store],
          mode,
          state:
            list.length > 0 ? 'ok' : server.states[store] === 'ok' ? 'not measured' : server.states[store],
          samples: perSecond,
          ...s,
          cpuMicros:
            list.length === 0
              ? Number.NaN
              : median(list.map((x) => (x.cpuMs * 1000) / Math.max(1, x.refreshes))),
          errors: list.reduce((sum, x) => sum + x.errors, 0),
          ...(firstError === undefined ? {} : { firstError }),
        };
      }),
    );
}

/**
 * Run the store benchmark, on a server of its own, or on `running` (started
 * by the caller with {@link startStoresServer}, and left running).
 */
export async function runStores(
  options: StoresOptions,
  log: (line: string) => void,
  running?: StoresServer,
): Promise<StoresReport> {
  const started = performance.now();
  const stores = options.stores ?? STORE_NAMES;
  const pin = hasTaskset();
  const notes: string[] = [];
  if (!pin) notes.push('taskset not available: server and wrk were not pinned to separate CPUs');
  const skipRequests = options.skipRequests === true || !(await hasWrk());
  if (skipRequests && options.skipRequests !== true)
    notes.push('wrk is not installed: the per-request part was skipped');
  const server =
    running ??
    (await startStoresServer({
      stores,
      ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      pin,
    }));
  try {
    for (const store of stores) {
      if (server.states[store] !== 'ok') notes.push(`${STORE_LABELS[store]}: ${server.states[store]}`);
    }
    log(`stores: serving ${stores.filter((s) => server.states[s] === 'ok').join(', ')}`);
    const requests = skipRequests ? [] : await measureRequests(server, stores, options, pin, log);
    const refresh = await measureRefresh(server, stores, options, log);
    return {
      options,
      pinned: pin,
      requests,
      refresh,
      notes,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (running === undefined) await server.stop();
  }
}

function micros(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '–';
}

/** The report as markdown. */
export function renderStores(report: StoresReport): string {
  const o = report.options;
  const parts: string[] = [];
  if (report.requests.length > 0) {
    parts.push(
      `### Per request: the revocation check through the guard (node:http, HS256, wrk -t1 -c50, ${o.rounds} rounds × ${o.durationSeconds} s, routes alternated)\n\n${markdownTable(
        [
          'store',
          'median req/s',
          '÷ no store (median of rounds, min–max)',
          'µs added per request (wall)',
          'server CPU µs per request',
          'CPU µs added',
        ],
        report.requests.map((r) =>
          r.state !== 'ok'
            ? [r.label, r.state, '', '', '', '']
            : [
                r.label,
                `${formatOps(r.medianRps)}${r.non2xx > 0 ? ` (${r.non2xx} non-2xx!)` : ''}`,
                `${formatRatio(r.ratioToNone)} (${formatRatio(r.ratioMin)}–${formatRatio(r.ratioMax)})`,
                r.store === 'none' ? '–' : micros(r.addedMicros),
                micros(r.cpuMicros),
                r.store === 'none' ? '–' : micros(r.addedCpuMicros),
              ],
        ),
      )}`,
    );
  }
  const modeLabel = (mode: RefreshMode) =>
    mode === 'one'
      ? 'one session, refreshes in turn'
      : `${MANY_SESSIONS} users, ${MANY_SESSIONS} sessions at once`;
  parts.push(
    `### Refresh throughput (refreshTokens with rotation, in the server process, ${o.refreshRounds} rounds × ${o.refreshSliceMs} ms per store and load, alternated)\n\n${markdownTable(
      ['store', 'load', 'median refreshes/s', 'min–max', 'server CPU µs per refresh', 'errors'],
      report.refresh.map((r) =>
        r.state !== 'ok'
          ? [r.label, modeLabel(r.mode), r.state, '', '', '']
          : [
              r.label,
              modeLabel(r.mode),
              formatOps(r.median),
              `${formatOps(r.min)}–${formatOps(r.max)}`,
              micros(r.cpuMicros),
              r.errors === 0 ? '0' : `${r.errors} (${r.firstError ?? ''})`,
            ],
      ),
    )}`,
  );
  if (report.notes.length > 0) parts.push(`Notes:\n\n${report.notes.map((n) => `- ${n}`).join('\n')}`);
  return `## Stores (${report.seconds.toFixed(0)} s)\n\n${parts.join('\n\n')}\n`;
}
