/**
 * The store benchmark server, run as a child of bench/stores.ts:
 *
 *   node .bench-build/stores-server.js '<StoresServerSpec as JSON>'
 *
 * (bench/stores.ts transpiles it to plain JavaScript there and starts it; see plain-js.ts.)
 *
 * One node:http server, one protected route per store, each behind
 * `createGuard` over its own TokenManager (same HS256 secret, rotation on):
 *   GET /none          no store (no revocation check at all)
 *   GET /memory        MemoryStore
 *   GET /sqlite        SqlStore on a SQLite file (WAL)
 *   GET /postgres      SqlStore on PostgreSQL
 *   GET /redis         RedisStore, Redis asked on every request
 *   GET /redis-cache   RedisStore with its pub/sub-fed local cache
 * and the refresh benchmark, run inside this process (pinned like the routes):
 *   GET /refresh?store=<name>&mode=one|many&ms=<slice>  → {"refreshes","wallMs","cpuMs","errors"}
 *
 * Each store holds what a live one would: `seed` revoked jtis and user cut-offs,
 * and the sessions (refresh families) of the `tokens` users whose access tokens
 * the load rotates through; those are written, one per line, to
 * `<dir>/<store>.txt`. Prints `READY {"port","stores":{name: "ok"|why not},"revoked":{name: token}}`;
 * a store that cannot be reached is reported, not fatal. On SIGTERM it closes
 * the stores and removes what it wrote (PostgreSQL tables, Redis keys under its prefix).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createGuard, type GuardResult, MemoryStore, TokenManager, type TokenStore } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { SqlStore } from 'tessera-auth/stores/sql';
import { requestLike } from './request-like.js';
import {
  MANY_SESSIONS,
  type RefreshMode,
  type RefreshSlice,
  type StoreName,
  type StoresServerSpec,
} from './stores-spec.js';

const BODY = '{"ok":true}';
const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A store, and how to close it and remove what it wrote. */
interface Opened {
  readonly store: TokenStore;
  readonly cleanup: () => Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function openStore(name: Exclude<StoreName, 'none'>, spec: StoresServerSpec): Promise<Opened> {
  switch (name) {
    case 'memory': {
      const store = new MemoryStore();
      return { store, cleanup: () => store.close() };
    }
    case 'sqlite': {
      const store = await SqlStore.sqlite(join(spec.dir, `stores-${run}.sqlite`));
      await store.migrate();
      return { store, cleanup: () => store.close() };
    }
    case 'postgres': {
      const tablePrefix = `bench_${run}_`;
      const store = await SqlStore.postgres({ ...spec.postgres }, { tablePrefix });
      try {
        await store.migrate();
      } catch (error) {
        await store.close();
        throw error;
      }
      return {
        store,
        cleanup: async () => {
          await store.close();
          const client = new pg.Client({ ...spec.postgres, connectionTimeoutMillis: 3000 });
          await client.connect();
          try {
            for (const table of Object.values(store.tables))
              await client.query(`DROP TABLE IF EXISTS "${table}"`);
          } finally {
            await client.end();
          }
        },
      };
    }
    case 'redis':
    case 'redis-cache': {
      const prefix = `tessera-bench:${run}:${name}:`;
      const store = new RedisStore({ redis: { ...spec.redis }, prefix, localCache: name === 'redis-cache' });
      try {
        await store.ready();
      } catch (error) {
        await store.close();
        throw error;
      }
      return {
        store,
        cleanup: async () => {
          await store.close();
          const admin = new Redis({ ...spec.redis, maxRetriesPerRequest: 1 });
          try {
            let cursor = '0';
            do {
              const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
              if (keys.length > 0) await admin.unlink(...keys);
              cursor = next;
            } while (cursor !== '0');
          } finally {
            admin.disconnect();
          }
        },
      };
    }
  }
}

/** A route's manager, its guard, and the refresh loads' current refresh tokens. */
interface Route {
  readonly manager: TokenManager;
  readonly guard: ReturnType<typeof createGuard>;
  readonly chains: Partial<Record<RefreshMode, string[]>>;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Refresh for `ms`: `one` session refreshing its own token over and over
 * (each refresh waits for the last: nothing competes), or {@link MANY_SESSIONS}
 * users each refreshing their own session at the same time (the store serves
 * them concurrently). A session whose refresh fails (none should) starts over
 * with a new login, counted as an error.
 */
async function refreshSlice(route: Route, mode: RefreshMode, ms: number): Promise<RefreshSlice> {
  const sessions = mode === 'one' ? 1 : MANY_SESSIONS;
  let chains = route.chains[mode];
  if (chains === undefined) {
    chains = [];
    for (let i = 0; i < sessions; i++) {
      chains.push((await route.manager.createTokenPair({ identity: `refresh-${mode}-${i}` })).refreshToken);
    }
    route.chains[mode] = chains;
  }
  const tokens = chains;
  let refreshes = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = cpuMs();
  const start = performance.now();
  const end = start + ms;
  const loop = async (i: number) => {
    while (performance.now() < end) {
      try {
        const result = await route.manager.refreshTokens(tokens[i]!);
        tokens[i] = result.refreshToken!;
        refreshes++;
      } catch (error) {
        errors++;
        firstError ??= message(error);
        tokens[i] = (await route.manager.createTokenPair({ identity: `refresh-${mode}-${i}` })).refreshToken;
      }
    }
  };
  await Promise.all(Array.from({ length: sessions }, (_, i) => loop(i)));
  const wallMs = performance.now() - start;
  return {
    refreshes,
    wallMs,
    cpuMs: cpuMs() - cpu0,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as StoresServerSpec;
  const states: Record<string, string> = { none: 'ok' };
  const revoked: Record<string, string> = {};
  const routes = new Map<string, Route>();
  const cleanups: Array<() => Promise<void>> = [];
  const now = () => Math.floor(Date.now() / 1000);

  const setUp = async (name: StoreName, store: TokenStore | undefined) => {
    const manager = new TokenManager({
      secret: spec.secret,
      ...(store === undefined ? {} : { store, rotation: { graceSeconds: 5 } }),
    });
    if (store !== undefined) {
      // A store in use: revoked tokens and user cut-offs of other users.
      const until = now() + 3600;
      for (let i = 0; i < spec.seed; i++) {
        await store.revokeToken(`seed-revoked-${i}`, until);
        if (i % 10 === 0) await store.revokeUserBefore(`seed-user-${i}`, now(), until);
      }
      // A token of the load's kind, revoked: the route must refuse it.
      const pair = await manager.createTokenPair({ identity: 'revoked-user' });
      await manager.revokeToken(pair.accessToken);
      revoked[name] = pair.accessToken;
    }
    const tokens: string[] = [];
    for (let i = 0; i < spec.tokens; i++) {
      // createTokenPair: with a store each user has a live session, whose family the check looks up.
      tokens.push((await manager.createTokenPair({ identity: `user-${i}` })).accessToken);
    }
    writeFileSync(join(spec.dir, `${name}.txt`), `${tokens.join('\n')}\n`);
    routes.set(`/${name}`, { manager, guard: createGuard(manager), chains: {} });
  };

  await setUp('none', undefined);
  for (const name of spec.stores) {
    if (name === 'none') continue;
    try {
      const opened = await withTimeout(openStore(name, spec), 15_000, name);
      cleanups.push(opened.cleanup);
      await setUp(name, opened.store);
      states[name] = 'ok';
    } catch (error) {
      states[name] = `not available: ${message(error)}`;
    }
  }

  const refresh = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes.get(`/${url.searchParams.get('store') ?? ''}`);
    const mode = url.searchParams.get('mode');
    const ms = Number(url.searchParams.get('ms') ?? '500');
    if (route === undefined || (mode !== 'one' && mode !== 'many') || !(ms > 0)) return send(res, 400, '{}');
    refreshSlice(route, mode, ms).then(
      (slice) => send(res, 200, JSON.stringify(slice)),
      (error: unknown) => send(res, 500, JSON.stringify({ error: message(error) })),
    );
  };

  const server = createServer((req, res) => {
    if (req.url?.startsWith('/refresh?')) return refresh(req, res);
    const route = routes.get(req.url ?? '');
    if (route === undefined) return send(res, 404, '{}');
    const answer = (result: GuardResult<unknown>) =>
      result.ok ? send(res, 200, BODY) : send(res, result.response.status, result.response.body);
    const outcome = route.guard(requestLike(req));
    // The guard answers synchronously when nothing has to wait (no store, or a local answer).
    if (outcome instanceof Promise) outcome.then(answer, () => send(res, 500, '{}'));
    else answer(outcome);
  });
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as AddressInfo).port;
    process.stdout.write(`READY ${JSON.stringify({ port, stores: states, revoked })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void Promise.allSettled(cleanups.map((cleanup) => cleanup())).then((results) => {
      for (const r of results)
        if (r.status === 'rejected') process.stderr.write(`cleanup: ${message(r.reason)}\n`);
      process.exit(0);
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
