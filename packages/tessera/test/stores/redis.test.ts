import { type AddressInfo, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { StoreUnavailableError } from 'tessera-auth';
import { RedisStore, subscriberName } from 'tessera-auth/stores/redis';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRevocationMessage, parseRevocationMessage } from '../../src/stores/redis-cache.js';
import { describeStoreContract } from './contract.js';
import { dropPrefix, pingRedis, runId, serviceAvailable, services } from './services.js';

const run = runId();
const base = `tessera-test:${run}:`;

const redisUp = await serviceAvailable('Redis', pingRedis);

/** Kills the pub/sub connections of the stores using `prefix` (and nobody else's). Returns how many. */
async function killSubscribers(admin: Redis, prefix: string): Promise<number> {
  const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
  const name = subscriberName(prefix);
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = new Map(line.split(' ').map((kv) => kv.split('=', 2) as [string, string]));
    if (fields.get('name') === name && fields.has('id')) {
      killed += Number(await admin.call('CLIENT', 'KILL', 'ID', fields.get('id')!));
    }
  }
  return killed;
}

describe('revocation channel messages', () => {
  it('round-trip, ids may contain the separator', () => {
    for (const m of [
      { kind: 'jti', id: 'a|b|c', expiresAt: 1700000000 },
      { kind: 'family', id: 'f', expiresAt: 1 },
      { kind: 'cutoff', id: 'user|1', revokedBefore: 10, keepUntil: 20 },
    ] as const) {
      expect(parseRevocationMessage(formatRevocationMessage(m))).toEqual(m);
    }
    for (const bad of ['', 'x|1|a', 'j|1|', 'j|abc|id', 'c|1|id', 'j1|id']) {
      expect(parseRevocationMessage(bad)).toBeUndefined();
    }
  });
});

describe.skipIf(!redisUp)('RedisStore', () => {
  // Every key this run wrote is under `base`: delete them, and check none is left.
  afterAll(async () => {
    await dropPrefix(base);
    const admin = new Redis(services.redis);
    try {
      const [, left] = await admin.scan(
        '0',
        'MATCH',
        `${base.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        100_000,
      );
      expect(left).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });
  let seq = 0;

  describeStoreContract('RedisStore', async (clock) => {
    seq += 1;
    const prefix = `${base}c${seq}:`;
    const store = new RedisStore({ redis: { ...services.redis }, prefix, now: clock.now });
    await store.ready();
    return { store, drop: () => dropPrefix(prefix) };
  });

  describeStoreContract('RedisStore localCache', async (clock) => {
    seq += 1;
    const prefix = `${base}c${seq}:`;
    const store = new RedisStore({ redis: { ...services.redis }, prefix, now: clock.now, localCache: true });
    await store.ready();
    return { store, drop: () => dropPrefix(prefix) };
  });

  it('uses a client passed in, and leaves it open on close()', async () => {
    const client = new Redis(services.redis);
    const prefix = `${base}own:`;
    const store = new RedisStore({ redis: client, prefix, localCache: true });
    await store.ready();
    await store.revokeToken('j1', Math.floor(Date.now() / 1000) + 60);
    expect(await store.isRevoked({ jti: 'j1' })).toBe(true);
    await store.close();
    expect(await client.get(`${prefix}j:j1`)).not.toBeNull();
    client.disconnect();
  });

  describe('two instances with localCache', () => {
    const open = async (prefix: string, extra: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}) => {
      const store = new RedisStore({
        // A slower reconnect gives the kill test a window in which the subscriber is surely down.
        redis: { ...services.redis, retryStrategy: (times: number) => Math.min(200 * times, 1000) },
        prefix,
        localCache: true,
        onError: () => undefined,
        ...extra,
      });
      await store.ready();
      return store;
    };

    it('a revocation on one is refused on the other within a small bound (propagation delay)', async () => {
      const prefix = `${base}multi:`;
      const [a, b] = [await open(prefix), await open(prefix)];
      try {
        const now = Math.floor(Date.now() / 1000);
        const samples: number[] = [];
        const afterReply: number[] = [];
        for (let i = 0; i < 200; i++) {
          const jti = `prop-${i}`;
          const started = performance.now();
          await a.revokeToken(jti, now + 60);
          const replied = performance.now();
          while (!(await b.isRevoked({ jti }))) {
            if (performance.now() - started > 1000)
              throw new Error('revocation did not reach the other instance within 1 s');
            await new Promise((r) => setImmediate(r));
          }
          const seen = performance.now();
          samples.push(seen - started);
          afterReply.push(seen - replied);
        }
        const stats = (xs: number[]) => {
          const s = [...xs].sort((x, y) => x - y);
          const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
          return `median ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`;
        };
        console.log(
          `[propagation] 200 revocations, A -> B (localCache, loopback Redis): from A's call: ${stats(samples)}; ` +
            `from A's reply: ${stats(afterReply)}`,
        );
        expect(samples[samples.length - 1]).toBeLessThan(1000);
        // Cut-offs and family revocations travel the same way.
        await a.revokeUserBefore('carol', now, now + 60);
        await a.createFamily({ familyId: 'fam-x', userKey: 'carol', jti: 'r1', now, expiresAt: now + 60 });
        await a.revokeFamily('fam-x');
        await expect
          .poll(() => b.isRevoked({ userKey: 'carol', iat: now - 1 }), { timeout: 1000, interval: 1 })
          .toBe(true);
        await expect
          .poll(() => b.isRevoked({ familyId: 'fam-x' }), { timeout: 1000, interval: 1 })
          .toBe(true);
      } finally {
        await a.close();
        await b.close();
        await dropPrefix(prefix);
      }
    });

    it('subscriber killed: fails closed until resync, then sees what was revoked meanwhile', async () => {
      const prefix = `${base}kill:`;
      const [a, b] = [await open(prefix), await open(prefix)];
      const admin = new Redis(services.redis);
      try {
        const now = Math.floor(Date.now() / 1000);
        await a.revokeToken('before-kill', now + 60);
        await expect
          .poll(() => b.isRevoked({ jti: 'before-kill' }), { timeout: 1000, interval: 1 })
          .toBe(true);

        // Kill the subscriber connections of A and B (like CLIENT KILL TYPE pubsub, but
        // only ours: other suites share this Redis). The redis-server keeps running.
        expect(await killSubscribers(admin, prefix)).toBe(2);
        // Published now, while B is not subscribed: B never receives this message.
        await a.revokeToken('during-outage', now + 60);

        const failedAt = performance.now();
        await expect
          .poll(
            () =>
              b.isRevoked({ jti: 'x' }).then(
                () => 'answered',
                (e: unknown) => e,
              ),
            {
              timeout: 1000,
              interval: 1,
            },
          )
          .toBeInstanceOf(StoreUnavailableError);
        console.log('[outage] B refuses isRevoked (StoreUnavailableError) while its subscriber is down');

        // Recovery: reconnect, resubscribe, full SCAN resync.
        await b.ready(5000);
        console.log(
          `[outage] B resynced ${(performance.now() - failedAt).toFixed(0)} ms after the kill was noticed`,
        );
        expect(await b.isRevoked({ jti: 'during-outage' })).toBe(true);
        expect(await b.isRevoked({ jti: 'before-kill' })).toBe(true);
        expect(await b.isRevoked({ jti: 'never' })).toBe(false);
      } finally {
        admin.disconnect();
        await a.close();
        await b.close();
        await dropPrefix(prefix);
      }
    });

    it('failOpen: an explicit, logged choice to answer from the stale cache', async () => {
      const prefix = `${base}open:`;
      const errors: unknown[] = [];
      const b = await open(prefix, { failOpen: true, onError: (e) => errors.push(e) });
      const admin = new Redis(services.redis);
      try {
        const now = Math.floor(Date.now() / 1000);
        await b.revokeToken('known', now + 60);
        expect(await killSubscribers(admin, prefix)).toBe(1);
        await expect.poll(() => b.synced, { timeout: 1000, interval: 1 }).toBe(false);
        expect(await b.isRevoked({ jti: 'known' })).toBe(true);
        expect(await b.isRevoked({ jti: 'unknown' })).toBe(false);
        expect(await b.isRevoked({ jti: 'unknown-2' })).toBe(false);
        const warnings = errors.filter((e) => e instanceof Error && e.message.includes('failing OPEN'));
        expect(warnings).toHaveLength(1);
        await b.ready(5000);
      } finally {
        admin.disconnect();
        await b.close();
        await dropPrefix(prefix);
      }
    });

    it('an overflowing local cache falls back to Redis instead of forgetting', async () => {
      const prefix = `${base}full:`;
      const a = await open(prefix, { localCache: { maxEntries: 2 } });
      try {
        const now = Math.floor(Date.now() / 1000);
        for (const jti of ['a', 'b', 'c', 'd']) await a.revokeToken(jti, now + 60);
        for (const jti of ['a', 'b', 'c', 'd']) expect(await a.isRevoked({ jti })).toBe(true);
        expect(await a.isRevoked({ jti: 'e' })).toBe(false);
      } finally {
        await a.close();
        await dropPrefix(prefix);
      }
    });
  });

  describe('data lost while the store was connected (keys flushed, then a reconnect)', () => {
    for (const localCache of [false, true]) {
      it(`localCache ${localCache}: the loss is detected, earlier tokens and sessions refused, later ones pass`, async () => {
        const prefix = `${base}lost${localCache ? 'c' : 'p'}:`;
        const client = new Redis(services.redis);
        const errors: unknown[] = [];
        const store = new RedisStore({ redis: client, prefix, localCache, onError: (e) => errors.push(e) });
        try {
          await store.ready();
          const now = Math.floor(Date.now() / 1000);
          await store.revokeToken('revoked-before', now + 600);
          await store.createFamily({ familyId: 'old', userKey: 'ann', jti: 'o1', now, expiresAt: now + 600 });
          expect(await store.isRevoked({ jti: 'revoked-before', iat: now })).toBe(true);
          expect(store.dataLossesDetected).toBe(0);

          // What a Redis restarted without persistence looks like to this store: its keys
          // (marker included) are gone, and its connection comes back.
          await dropPrefix(prefix);
          client.disconnect(true);
          await store.ready(5000);

          expect(store.dataLossesDetected).toBe(1);
          expect(errors.some((e) => e instanceof Error && e.message.startsWith('Redis lost its data'))).toBe(
            true,
          );
          const cutoff = Number(String(await client.get(`${prefix}g`)).split('|')[0]);
          expect(cutoff).toBeGreaterThan(now);
          // The revocation is gone from Redis, and still refused; so is any token from before.
          expect(await client.get(`${prefix}j:revoked-before`)).toBeNull();
          expect(await store.isRevoked({ jti: 'revoked-before', iat: now })).toBe(true);
          expect(await store.isRevoked({ jti: 'never-revoked', iat: cutoff - 1 })).toBe(true);
          expect(await store.isRevoked({ userKey: 'ann' })).toBe(true);
          // Tokens from the cut-off's second on pass; a check naming nothing is not revoked.
          expect(await store.isRevoked({ jti: 'new', userKey: 'ann', iat: cutoff })).toBe(false);
          expect(await store.isRevoked({})).toBe(false);
          if (localCache) expect(store.isRevokedNow({ jti: 'x', iat: cutoff - 1 })).toBe(true);

          // A family created before the cut-off (here one recreated with an old creation time,
          // as another instance might have during the loss) is refused; a new one rotates.
          await store.createFamily({
            familyId: 'during',
            userKey: 'ann',
            jti: 'd1',
            now: cutoff - 1,
            expiresAt: cutoff + 600,
          });
          await store.createFamily({
            familyId: 'after',
            userKey: 'ann',
            jti: 'a1',
            now: cutoff,
            expiresAt: cutoff + 600,
          });
          const r = { nextJti: 'n', now: cutoff, graceSeconds: 0, expiresAt: cutoff + 600 };
          expect(await store.rotateFamily({ ...r, familyId: 'during', presentedJti: 'd1' })).toEqual({
            status: 'revoked',
          });
          // A rotation that checks the presented token applies the store-wide cut-off to it
          // too: a token issued before the loss is refused even in a family created after it.
          const token = { jti: 'a1', userKey: 'ann', familyId: 'after' };
          for (const iat of [cutoff - 1, undefined]) {
            expect(
              await store.rotateFamily({
                ...r,
                familyId: 'after',
                presentedJti: 'a1',
                presented: { ...token, iat },
              }),
            ).toEqual({ status: 'revoked' });
          }
          expect(
            await store.rotateFamily({
              ...r,
              familyId: 'after',
              presentedJti: 'a1',
              presented: { ...token, iat: cutoff },
            }),
          ).toEqual({
            status: 'rotated',
            currentJti: 'n',
            expiresAt: cutoff + 600,
          });
          expect((await store.listSessions('ann', cutoff)).map((x) => x.familyId)).toEqual(['after']);

          // Another reconnect with nothing lost: no second cut-off.
          client.disconnect(true);
          await store.ready(5000);
          expect(store.dataLossesDetected).toBe(1);
          expect(Number(String(await client.get(`${prefix}g`)).split('|')[0])).toBe(cutoff);
        } finally {
          await store.close();
          client.disconnect();
          await dropPrefix(prefix);
        }
      });
    }

    it('two instances: exactly one writes the cut-off, the other adopts it', async () => {
      const prefix = `${base}lost2:`;
      const clients = [new Redis(services.redis), new Redis(services.redis)];
      const stores = clients.map(
        (redis) => new RedisStore({ redis, prefix, localCache: true, onError: () => undefined }),
      );
      try {
        await Promise.all(stores.map((s) => s.ready()));
        await dropPrefix(prefix);
        for (const c of clients) c.disconnect(true);
        await Promise.all(stores.map((s) => s.ready(5000)));
        expect(stores.map((s) => s.dataLossesDetected).sort()).toEqual([0, 1]);
        const cutoff = Number(String(await clients[0]!.get(`${prefix}g`)).split('|')[0]);
        for (const s of stores) {
          expect(await s.isRevoked({ jti: 'x', iat: cutoff - 1 })).toBe(true);
          expect(await s.isRevoked({ jti: 'x', iat: cutoff })).toBe(false);
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        for (const c of clients) c.disconnect();
        await dropPrefix(prefix);
      }
    });

    it('a store that starts against an empty Redis writes a marker and no cut-off (the documented limit)', async () => {
      const prefix = `${base}first:`;
      const store = new RedisStore({ redis: { ...services.redis }, prefix });
      try {
        await store.ready();
        expect(store.dataLossesDetected).toBe(0);
        const admin = new Redis(services.redis);
        try {
          expect(await admin.get(`${prefix}gen`)).toMatch(/^[\w-]{16,}$/);
          expect(await admin.get(`${prefix}g`)).toBeNull();
        } finally {
          admin.disconnect();
        }
        expect(await store.isRevoked({ jti: 'x', iat: 1 })).toBe(false);
      } finally {
        await store.close();
        await dropPrefix(prefix);
      }
    });
  });
});

describe('RedisStore with Redis down', () => {
  it('a closed port gives StoreUnavailableError quickly', async () => {
    const errors: unknown[] = [];
    for (const localCache of [false, true]) {
      const store = new RedisStore({
        redis: { host: '127.0.0.1', port: 1 },
        localCache,
        onError: (e) => errors.push(e),
      });
      const started = performance.now();
      const results = await Promise.all([
        store.isRevoked({ jti: 'x' }).catch((e: unknown) => e),
        store.revokeToken('x', 2_000_000_000).catch((e: unknown) => e),
        store.ready(1000).catch((e: unknown) => e),
      ]);
      const ms = performance.now() - started;
      console.log(
        `[down] redis 127.0.0.1:1 (localCache ${localCache}) -> ${results.map((r) => (r as Error).name).join(', ')} in ${ms.toFixed(0)} ms`,
      );
      for (const r of results) expect(r).toBeInstanceOf(StoreUnavailableError);
      expect(ms).toBeLessThan(1500);
      await store.close();
    }
    expect(errors.length).toBeGreaterThan(0);
  });

  it('a server that accepts but never answers is bounded by the timeouts', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const store = new RedisStore({ redis: { host: '127.0.0.1', port }, onError: () => undefined });
      const started = performance.now();
      const error = await store.isRevoked({ jti: 'x' }).catch((e: unknown) => e);
      const ms = performance.now() - started;
      console.log(`[down] redis black hole -> ${(error as Error).name} in ${ms.toFixed(0)} ms`);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(ms).toBeLessThan(2500);
      await store.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('failOpen without a cache: "not revoked", reported once', async () => {
    const errors: unknown[] = [];
    const store = new RedisStore({
      redis: { host: '127.0.0.1', port: 1 },
      failOpen: true,
      onError: (e) => errors.push(e),
    });
    expect(await store.isRevoked({ jti: 'x' })).toBe(false);
    expect(await store.isRevoked({ jti: 'y' })).toBe(false);
    expect(errors.filter((e) => e instanceof Error && e.message.includes('failing OPEN'))).toHaveLength(1);
    // Writes never fail open.
    await expect(store.revokeToken('x', 2_000_000_000)).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close();
  });
});
