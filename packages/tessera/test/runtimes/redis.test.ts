/**
 * The RedisStore outside Node: under Bun and Deno (their Node compatibility:
 * node:net, node:events), against the real Redis, with ioredis loaded from
 * node_modules. The runtime serves redis-app.ts (a TokenManager on a RedisStore
 * with its local cache, behind the Hono and Fetch adapters); this side shares
 * the Redis and the key prefix through its own RedisStore in Node, so every
 * fact crosses between the two: a revocation made here reaches the runtime's
 * local cache by pub/sub, a family rotated there is seen here, and the other
 * way round. Last, what ioredis does in workerd (nodejs_compat), as
 * docs/runtimes.md describes it.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Miniflare } from 'miniflare';
import { TokenManager } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, pingRedis, runId, serviceAvailable, services } from '../stores/services.js';
import { BIN, bundle, PACKAGE_DIR, type SpawnedServer, spawnServer } from './harness.js';
import type { RedisAppConfig } from './redis-app.js';
import type { Check } from './suite.js';

const SECRET = 'runtime-redis-secret-of-at-least-32-bytes!';
const redisUp = await serviceAvailable('Redis', pingRedis);
const run = runId();

const RUNTIMES: ReadonlyArray<
  readonly [string, (file: string, config: string) => readonly [string, string[]]]
> = [
  ['bun', (file, config) => [join(BIN, 'bun'), ['run', file, config]]],
  [
    'deno',
    (file, config) => [
      join(BIN, 'deno'),
      ['run', '--allow-net', '--allow-read', '--allow-env', file, config],
    ],
  ],
];

/** Ask until `probe` answers true, at most `ms`; the last answer. */
async function eventually(probe: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > until) return false;
    await new Promise((done) => setTimeout(done, 25));
  }
}

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

describe.skipIf(!redisUp).each(RUNTIMES)('RedisStore on %s', (runtime, command) => {
  const prefix = `tessera-test:${run}:${runtime}:`;
  let server: SpawnedServer;
  let store: RedisStore;
  let manager: TokenManager;

  beforeAll(async () => {
    const config: RedisAppConfig = { secret: SECRET, prefix, redis: services.redis };
    const file = await bundle(join(PACKAGE_DIR, 'test/runtimes/redis-serve.ts'), { external: ['ioredis'] });
    const [bin, args] = command(file, JSON.stringify(config));
    server = await spawnServer(bin, args);
    store = new RedisStore({ redis: { ...services.redis }, prefix });
    await store.ready();
    manager = new TokenManager({ secret: SECRET, store, rotation: { graceSeconds: 0 } });
  }, 120_000);

  afterAll(async () => {
    if (server !== undefined) {
      // The store closes its connections, then the runtime goes.
      await fetch(`${server.url}/__store/close`, { method: 'POST' }).catch(() => undefined);
      server.child.kill();
    }
    await store?.close();
    await dropPrefix(prefix);
  });

  it('the store checks pass there: revoke, cut-offs, rotation with reuse detection, sessions', async () => {
    const response = await fetch(`${server.url}/__store/checks`);
    expect(response.status).toBe(200);
    const { synced, checks } = (await response.json()) as { synced: boolean; checks: Check[] };
    expect(synced, 'the local cache is synced after ready()').toBe(true);
    expect(checks.map((c) => c.name)).toHaveLength(4);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('a revocation made in Node reaches its local cache by pub/sub; both adapters then answer 401', async () => {
    const access = await manager.createAccessToken({ identity: 'alice' });
    const { jti } = await manager.decodeToken(access);
    for (const adapter of ['hono', 'fetch']) {
      const ok = await fetch(`${server.url}/${adapter}/protected`, bearer(access));
      expect(ok.status, adapter).toBe(200);
      expect(await ok.json()).toEqual({ identity: 'alice' });
    }
    const cached = async () => {
      const answer = await fetch(`${server.url}/__store/cached?jti=${encodeURIComponent(String(jti))}`);
      return ((await answer.json()) as { revoked: boolean | undefined }).revoked;
    };
    // The cache is complete: it knows the jti is not revoked without asking Redis.
    expect(await cached()).toBe(false);
    await manager.revokeToken(access);
    expect(
      await eventually(async () => (await cached()) === true),
      'the runtime cache learnt the revocation',
    ).toBe(true);
    for (const adapter of ['hono', 'fetch']) {
      const refused = await fetch(`${server.url}/${adapter}/protected`, bearer(access));
      expect(refused.status, adapter).toBe(401);
      expect(((await refused.json()) as { code?: string }).code, adapter).toBe('token_revoked');
    }
  });

  it('rotation through its refresh handler; the spent refresh token again is reuse, which revokes the family', async () => {
    const pair = await manager.createTokenPair({ identity: 'bob' });
    const rotated = await fetch(`${server.url}/hono/refresh`, {
      method: 'POST',
      ...bearer(pair.refreshToken),
    });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { access_token: string; refresh_token?: string };
    expect(typeof next.refresh_token).toBe('string');
    const fresh = await fetch(`${server.url}/fetch/protected`, bearer(next.access_token));
    expect(fresh.status).toBe(200);

    const reused = await fetch(`${server.url}/fetch/refresh`, {
      method: 'POST',
      ...bearer(pair.refreshToken),
    });
    expect(reused.status).toBe(401);
    expect(await reused.text()).toContain('refresh_token_reused');
    // Seen in Node through Redis, and there through the cache: the whole family is gone.
    const { fam } = await manager.decodeToken(pair.refreshToken);
    expect(await store.isRevoked({ familyId: String(fam) })).toBe(true);
    for (const token of [next.access_token, pair.accessToken]) {
      expect((await fetch(`${server.url}/hono/protected`, bearer(token))).status).toBe(401);
    }
    const successor = await fetch(`${server.url}/hono/refresh`, {
      method: 'POST',
      ...bearer(next.refresh_token!),
    });
    expect(successor.status).toBe(401);
  });

  it('a revocation made there is seen by the store in Node', async () => {
    const access = await manager.createAccessToken({ identity: 'carol' });
    const { jti } = await manager.decodeToken(access);
    expect(await store.isRevoked({ jti: String(jti) })).toBe(false);
    const response = await fetch(`${server.url}/__store/revoke`, { method: 'POST', body: access });
    expect(response.status).toBe(204);
    expect(await store.isRevoked({ jti: String(jti) })).toBe(true);
  });
});

// What docs/runtimes.md says of Redis in Workers: ioredis loads and connects in workerd
// (nodejs_compat, compatibility date 2026-04-20), but workerd ties a socket to the request
// that opened it, so a store kept in the isolate serves only the request that created it.
describe.skipIf(!redisUp)('RedisStore on workerd with nodejs_compat', () => {
  const prefix = `tessera-test:${run}:workerd:`;
  let store: RedisStore;
  let mf: Miniflare | undefined;

  beforeAll(async () => {
    store = new RedisStore({ redis: { ...services.redis }, prefix });
    await store.ready();
  });

  afterAll(async () => {
    await mf?.dispose();
    await store?.close();
    await dropPrefix(prefix);
  });

  it('works in the request that created it; the next request cannot use its socket (store_unavailable)', async () => {
    // ioredis is CommonJS: its require() calls of Node modules go through node:module.
    const file = await bundle(join(PACKAGE_DIR, 'test/runtimes/redis-worker.ts'), {
      platform: 'node',
      banner:
        "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire('/');",
    });
    mf = new Miniflare({
      modules: [{ type: 'ESModule', path: file, contents: readFileSync(file, 'utf8') }],
      modulesRoot: dirname(file),
      compatibilityDate: '2026-04-20',
      compatibilityFlags: ['nodejs_compat'],
      bindings: { REDIS_CONFIG: JSON.stringify({ ...services.redis, prefix }) },
    });
    const ask = async (jti: string) =>
      (await (await mf!.dispatchFetch(`http://worker.test/${basename(file)}?jti=${jti}`)).json()) as {
        ok: boolean;
        revoked?: boolean;
        code?: string;
      };
    expect(await ask('first')).toEqual({ ok: true, revoked: true });
    expect(await store.isRevoked({ jti: 'first' })).toBe(true);
    const second = await ask('second');
    expect(second.ok).toBe(false);
    expect(second.code).toBe('store_unavailable');
    expect(await store.isRevoked({ jti: 'second' })).toBe(false);
  }, 60_000);
});
