/**
 * The benchmark smoke (CI): the bench code runs, every route of every
 * framework's bench server answers as it must, a verified-token cache hit is
 * faster than a full verification, and the store bench's server starts against
 * every store and runs its load. No timing threshold against a number: the
 * only speed check is relative (a hit against a full verify, interleaved on
 * the same core), because CI machines are shared and noisy.
 *
 * The servers run from the TypeScript source (no build needed); `npm run bench`
 * measures the built package.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingRedis, serviceAvailable, services } from '../packages/tessera/test/stores/services.js';
import { median, pairedRatios, runInterleaved } from './harness.js';
import { FRAMEWORKS, type HttpServer, startHttpServer } from './http.js';
import type { Framework, ServerSpec } from './http-server.js';
import { runStores, type StoresServer, startStoresServer } from './stores.js';
import { STORE_NAMES, type StoreName } from './stores-spec.js';
import { makeKeys, makeManager, mintPool, NAMES, runTokens } from './tokens.js';
import { hasWrk } from './wrk.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-smoke-'));

const redisUp = await serviceAvailable('Redis', pingRedis);
const pgUp = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ ...services.postgres, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
});
const wrkUp = await hasWrk();
if (!wrkUp) {
  if (process.env.CI) throw new Error('wrk is not installed: the store bench smoke needs it under CI');
  console.warn('[bench smoke] wrk is not installed: the store load is skipped (its refresh load still runs)');
}

/** The stores whose service answers (memory and SQLite always do). */
const stores: StoreName[] = STORE_NAMES.filter(
  (s) => (s !== 'postgres' || pgUp) && ((s !== 'redis' && s !== 'redis-cache') || redisUp),
);

type Scenario = 'HS256' | 'EdDSA + cache';

interface Started {
  readonly framework: Framework;
  readonly scenario: Scenario;
  readonly server: HttpServer;
  readonly token: string;
}

const hs = makeKeys('HS256');
const ed = makeKeys('EdDSA');
const http: Started[] = [];
let storesServer: StoresServer | undefined;

async function status(port: number, path: string, authorization?: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  await response.arrayBuffer();
  return response.status;
}

/** The token with its signature's first character changed: well-formed, wrongly signed. */
function tampered(token: string): string {
  const dot = token.lastIndexOf('.');
  return `${token.slice(0, dot + 1)}${token[dot + 1] === 'A' ? 'B' : 'A'}${token.slice(dot + 2)}`;
}

beforeAll(async () => {
  const hsFile = join(dir, 'hs256.json');
  const edFile = join(dir, 'eddsa.json');
  writeFileSync(hsFile, JSON.stringify({ secret: hs.secret }));
  writeFileSync(edFile, JSON.stringify({ publicPem: ed.verifyPem }));
  const [hsToken] = await mintPool(makeManager(hs), 1);
  const [edToken] = await mintPool(makeManager(ed), 1);
  const specs: Array<[Framework, Scenario, ServerSpec, string]> = FRAMEWORKS.flatMap((framework) => [
    [
      framework,
      'HS256',
      { framework, alg: 'HS256', keyFile: hsFile, cache: false, otherCache: false },
      hsToken!,
    ] as [Framework, Scenario, ServerSpec, string],
    [
      framework,
      'EdDSA + cache',
      { framework, alg: 'EdDSA', keyFile: edFile, cache: 10_000, otherCache: true },
      edToken!,
    ] as [Framework, Scenario, ServerSpec, string],
  ]);
  // Every server at once: each compiles the library from source first. The ones that
  // started are kept for afterAll even when another failed, so none is left running.
  const [storesStarted, ...servers] = await Promise.allSettled([
    startStoresServer({ stores, tokens: 5, seed: 20, mode: 'source' }),
    ...specs.map(async ([framework, scenario, spec, token]) => ({
      framework,
      scenario,
      server: await startHttpServer(spec, false, 'source'),
      token,
    })),
  ]);
  if (storesStarted.status === 'fulfilled') storesServer = storesStarted.value;
  for (const s of servers) if (s.status === 'fulfilled') http.push(s.value);
  const failed = [storesStarted, ...servers].find((s) => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}, 180_000);

afterAll(async () => {
  await Promise.all([...http.map((s) => s.server.stop()), storesServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTP bench servers', () => {
  it('every route of every framework answers 200 to a valid token and 401 without one or with a bad signature', async () => {
    const seen: string[] = [];
    for (const { framework, scenario, server, token } of http) {
      const protectedRoutes = ['tessera', 'other', 'floor', 'ceiling'].filter((route) => {
        // The cache scenario has no signature floor or ceiling; express-jwt (jsonwebtoken) has no EdDSA.
        if (scenario === 'EdDSA + cache' && (route === 'floor' || route === 'ceiling')) return false;
        if (scenario === 'EdDSA + cache' && framework === 'express' && route === 'other') return false;
        return true;
      });
      for (const route of protectedRoutes)
        expect(server.routes[route], `${framework} ${scenario} /${route}`).toBe('ok');
      expect(await status(server.port, '/bare'), `${framework} ${scenario} /bare`).toBe(200);
      for (const route of protectedRoutes) {
        const where = `${framework} ${scenario} /${route}`;
        expect(await status(server.port, `/${route}`, `Bearer ${token}`), where).toBe(200);
        expect(await status(server.port, `/${route}`), `${where} without a token`).toBe(401);
        expect(
          await status(server.port, `/${route}`, `Bearer ${tampered(token)}`),
          `${where} bad signature`,
        ).toBe(401);
        seen.push(where);
      }
      // The cache scenario's pass-through middleware checks nothing: 200 with or without a token.
      if (scenario === 'EdDSA + cache') {
        expect(server.routes.passthrough, `${framework} /passthrough`).toBe('ok');
        expect(await status(server.port, '/passthrough'), `${framework} /passthrough`).toBe(200);
        expect(
          await status(server.port, '/passthrough', `Bearer ${token}`),
          `${framework} /passthrough`,
        ).toBe(200);
        seen.push(`${framework} ${scenario} /passthrough`);
      } else {
        expect(server.routes.passthrough, `${framework} ${scenario} /passthrough`).not.toBe('ok');
      }
    }
    // 5 frameworks × (4 routes without the cache + 3 with it), express's EdDSA peer excepted.
    expect(seen).toHaveLength(FRAMEWORKS.length * 7 - 1);
  });
});

describe('token bench', () => {
  it('a verified-token cache hit is faster than a full verification (interleaved, same core)', async () => {
    const full = makeManager(hs);
    const cached = makeManager(hs, 1000);
    const pool = await mintPool(full, 100);
    for (const token of pool) cached.verifier.verifySync(token);
    const next = () => {
      let i = 0;
      return () => {
        i = i + 1 === pool.length ? 0 : i + 1;
        return pool[i]!;
      };
    };
    const fullNext = next();
    const hitNext = next();
    const [fullResult, hitResult] = await runInterleaved(
      [
        { name: 'full', kind: 'sync', fn: () => full.verifier.verifySync(fullNext()) },
        { name: 'hit', kind: 'sync', fn: () => cached.verifier.verifySync(hitNext()) },
      ],
      { rounds: 7, sliceMs: 15, warmupRounds: 1 },
    );
    // Ops per CPU second, round by round: the hit must do more in every typical round.
    expect(median(pairedRatios(hitResult!, fullResult!))).toBeGreaterThan(1);
  });

  it('runs every contender of a case and reports the targets', async () => {
    const report = await runTokens({ rounds: 1, sliceMs: 5, warmupRounds: 0 }, () => undefined, {
      algorithms: ['EdDSA'],
      poolSize: 20,
    });
    const verify = report.cases.find((c) => c.op === 'verify')!;
    for (const name of [
      NAMES.decodeFloor,
      NAMES.decodeFloorAwaited,
      NAMES.tessera,
      NAMES.managerVerify,
      NAMES.decodeToken,
      NAMES.fastJwt,
    ]) {
      const result = verify.results.find((r) => r.name === name);
      expect(result?.median, name).toBeGreaterThan(0);
    }
    expect(report.targets.length).toBeGreaterThan(0);
  });
});

describe('store bench', () => {
  it('its server starts against every store: valid tokens pass, missing and revoked ones are refused', async () => {
    const server = storesServer!;
    for (const store of stores) {
      expect(server.states[store], store).toBe('ok');
      const [token] = readFileSync(server.tokensFile(store), 'utf8').split('\n');
      expect(await status(server.port, `/${store}`, `Bearer ${token}`), store).toBe(200);
      expect(await status(server.port, `/${store}`), `${store} without a token`).toBe(401);
      if (store !== 'none') {
        // The revocation check really runs on every store's route.
        expect(
          await status(server.port, `/${store}`, `Bearer ${server.revoked[store]}`),
          `${store} revoked`,
        ).toBe(401);
      }
    }
  });

  it('runs its load and its refreshes on every store', async () => {
    const report = await runStores(
      {
        rounds: 1,
        durationSeconds: 1,
        warmupSeconds: 0,
        refreshRounds: 1,
        refreshSliceMs: 100,
        stores,
        skipRequests: !wrkUp,
      },
      () => undefined,
      storesServer,
    );
    if (wrkUp) {
      for (const row of report.requests) {
        expect(row.state, row.store).toBe('ok');
        expect(row.medianRps, row.store).toBeGreaterThan(0);
        expect(row.non2xx, row.store).toBe(0);
      }
      expect(report.requests.map((r) => r.store)).toEqual(stores);
    }
    const refreshed = report.refresh.filter((r) => r.state === 'ok');
    expect(refreshed).toHaveLength((stores.length - 1) * 2);
    for (const row of refreshed) {
      expect(row.errors, `${row.store} ${row.mode}: ${row.firstError ?? ''}`).toBe(0);
      expect(row.median, `${row.store} ${row.mode}`).toBeGreaterThan(0);
    }
  }, 60_000);
});
