/**
 * Refresh rotation, reuse detection, logout and sessions through the TokenManager
 * (RFC 9700 section 4.14), on the memory store and on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTesseraError, type TesseraError } from '../../src/errors.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { SqlStore } from '../../src/stores/sql.js';
import type { TokenStore } from '../../src/stores/types.js';
import { codeOf } from '../error-code.js';

const SECRET = 'rotation-test-secret-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'tessera-rotation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: Array<[string, () => Promise<TokenStore>]> = [
  ['memory', async () => new MemoryStore()],
  [
    'sqlite',
    async () => {
      const store = await SqlStore.sqlite(join(dir, `${Math.random().toString(36).slice(2)}.sqlite`));
      await store.migrate();
      return store;
    },
  ],
];

describe.each(stores)('rotation on %s', (_name, makeStore) => {
  function manager(store: TokenStore, clock: { now: number }, graceSeconds = 5) {
    return new TokenManager({ secret: SECRET, store, rotation: { graceSeconds }, now: () => clock.now });
  }

  it('rotates: the new refresh token works, the old one is spent', async () => {
    const clock = { now: 1_800_000_000 };
    const jwt = manager(await makeStore(), clock, 0);
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    expect(pair.familyId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await jwt.decodeToken(pair.accessToken)).fam).toBe(pair.familyId);
    const next = await jwt.refreshTokens(pair.refreshToken);
    expect(next.refreshToken).toBeDefined();
    expect((await jwt.verifyToken(next.accessToken)).payload.fresh).toBe(false);
    clock.now += 1;
    expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('refresh_token_reused');
    // Reuse revoked the whole family: the rotated token and its access token too.
    expect(await codeOf(jwt.refreshTokens(next.refreshToken!))).toBe('token_revoked');
    expect(await codeOf(jwt.verifyToken(next.accessToken))).toBe('token_revoked');
  });

  it('lets a client that lost the response retry within the grace window, not after', async () => {
    const clock = { now: 1_800_000_000 };
    const jwt = manager(await makeStore(), clock, 5);
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    await jwt.refreshTokens(pair.refreshToken);
    clock.now += 3;
    const retry = await jwt.refreshTokens(pair.refreshToken);
    expect(await codeOf(jwt.verifyToken(retry.accessToken))).toBe('ok');
    clock.now += 10;
    expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('refresh_token_reused');
  });

  it('gives exactly one success to 200 concurrent redeems of one refresh token', async () => {
    const clock = { now: 1_800_000_000 };
    const jwt = manager(await makeStore(), clock, 0);
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () => codeOf(jwt.refreshTokens(pair.refreshToken))),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(
      outcomes.filter((o) => o !== 'ok').every((o) => o === 'refresh_token_reused' || o === 'token_revoked'),
    ).toBe(true);
    expect(await codeOf(jwt.verifyToken(pair.accessToken))).toBe('token_revoked');
  });

  it('logs out one session, lists the others, and revokes everything of a user', async () => {
    const clock = { now: 1_800_000_000 };
    const jwt = manager(await makeStore(), clock);
    const a = await jwt.createTokenPair({ identity: 'bob', metadata: { device: 'phone' } });
    const b = await jwt.createTokenPair({ identity: 'bob', metadata: { device: 'laptop' } });
    expect((await jwt.listSessions('bob')).map((s) => s.metadata.device).sort()).toEqual(['laptop', 'phone']);
    await jwt.logout(a.accessToken);
    expect(await codeOf(jwt.verifyToken(a.accessToken))).toBe('token_revoked');
    expect(await codeOf(jwt.refreshTokens(a.refreshToken))).toBe('token_revoked');
    expect(await codeOf(jwt.verifyToken(b.accessToken))).toBe('ok');
    expect((await jwt.listSessions('bob')).map((s) => s.familyId)).toEqual([b.familyId]);
    clock.now += 2;
    await jwt.revokeAllTokens('bob');
    expect(await codeOf(jwt.verifyToken(b.accessToken))).toBe('token_revoked');
    expect(await jwt.listSessions('bob')).toEqual([]);
    // A token minted after the cut-off (same second) works: a password change can log the user back in.
    const fresh = await jwt.createTokenPair({ identity: 'bob' });
    expect(await codeOf(jwt.verifyToken(fresh.accessToken))).toBe('ok');
  });

  it('revokes a single token by jti', async () => {
    const clock = { now: 1_800_000_000 };
    const jwt = manager(await makeStore(), clock);
    const token = await jwt.createAccessToken({ identity: 'carol' });
    const other = await jwt.createAccessToken({ identity: 'carol' });
    await jwt.revokeToken(token);
    expect(await codeOf(jwt.verifyToken(token))).toBe('token_revoked');
    expect(await codeOf(jwt.verifyToken(other))).toBe('ok');
    expect(await codeOf(jwt.verifyToken(token, { skipRevocationCheck: true }))).toBe('ok');
  });
});

describe('SimpleJWT modes', () => {
  it('rotation off: refresh answers an access token only, keeping custom claims and iat (Q8)', async () => {
    const jwt = new TokenManager({ profile: 'simplejwt', secret: SECRET, now: () => 1_800_000_000 });
    const refresh = await jwt.createRefreshToken({ identity: 1, additionalClaims: { role: 'admin' } });
    const result = await jwt.refreshTokens(refresh);
    expect(result.refreshToken).toBeUndefined();
    const access = await jwt.decodeToken(result.accessToken);
    expect(access).toMatchObject({ token_type: 'access', user_id: 1, role: 'admin', iat: 1_800_000_000 });
    expect(Object.keys(access).slice(0, 2)).toEqual(['token_type', 'exp']);
  });

  it('rotation with blacklist-after-rotation: the old refresh token is blacklisted', async () => {
    const jwt = new TokenManager({
      profile: 'simplejwt',
      secret: SECRET,
      store: new MemoryStore(),
      rotation: { enabled: true, blacklistAfterRotation: true },
    });
    const refresh = await jwt.createRefreshToken({ identity: 1 });
    const result = await jwt.refreshTokens(refresh);
    expect(result.refreshToken).toBeDefined();
    expect(await codeOf(jwt.refreshTokens(refresh))).toBe('token_revoked');
    expect(await codeOf(jwt.refreshTokens(result.refreshToken!))).toBe('ok');
  });

  it('sliding tokens refresh with the same jti and refresh_exp until refresh_exp passes (Q9)', async () => {
    const clock = { now: 1_800_000_000 };
    const jwt = new TokenManager({ profile: 'simplejwt', secret: SECRET, now: () => clock.now });
    const sliding = await jwt.createSlidingToken({ identity: 1 });
    const before = await jwt.decodeToken(sliding);
    clock.now += 200;
    const next = await jwt.decodeToken(await jwt.refreshSlidingToken(sliding));
    expect(next).toMatchObject({
      jti: before.jti,
      refresh_exp: before.refresh_exp,
      iat: clock.now,
      exp: clock.now + 300,
    });
    clock.now += 400;
    expect(await codeOf(jwt.refreshSlidingToken(sliding))).toBe('token_expired');
  });
});

describe('fail closed', () => {
  const broken: TokenStore = {
    revokeToken: () => Promise.reject(new Error('connection refused')),
    revokeUserBefore: () => Promise.reject(new Error('connection refused')),
    isRevoked: () => Promise.reject(new Error('connection refused')),
    createFamily: () => Promise.reject(new Error('connection refused')),
    rotateFamily: () => Promise.reject(new Error('connection refused')),
    revokeFamily: () => Promise.reject(new Error('connection refused')),
    revokeUserFamilies: () => Promise.reject(new Error('connection refused')),
    listSessions: () => Promise.reject(new Error('connection refused')),
    purgeExpired: () => Promise.reject(new Error('connection refused')),
    close: () => Promise.resolve(),
  };

  it('refuses tokens with store_unavailable (503) when the store cannot answer', async () => {
    const jwt = new TokenManager({ secret: SECRET, store: broken });
    const token = await jwt.createAccessToken({ identity: 'dave' });
    const error = await jwt.verifyToken(token).catch((e: unknown) => e);
    expect(isTesseraError(error, 'store_unavailable')).toBe(true);
    expect((error as TesseraError).status).toBe(503);
    expect(await codeOf(jwt.createTokenPair({ identity: 'dave' }))).toBe('store_unavailable');
  });

  it('accepts them only when fail-open was chosen explicitly', async () => {
    const jwt = new TokenManager({ secret: SECRET, store: broken, revocationFailOpen: true });
    const token = await jwt.createAccessToken({ identity: 'dave' });
    expect(await codeOf(jwt.verifyToken(token))).toBe('ok');
  });
});

describe('two service instances sharing Redis', async () => {
  const { RedisStore } = await import('../../src/stores/redis.js');
  const { Redis } = await import('ioredis');
  const { runId, serviceAvailable, services } = await import('../stores/services.js');
  const up = await serviceAvailable('Redis', async () => {
    const probe = new Redis({ ...services.redis, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await probe.connect();
      await probe.ping();
    } finally {
      probe.disconnect();
    }
  });

  it.runIf(up)('a logout on one instance is refused on the other (local caches fed by pub/sub)', async () => {
    const prefix = `tessera-test:${runId()}:`;
    const storeA = new RedisStore({ redis: { ...services.redis }, prefix, localCache: true });
    const storeB = new RedisStore({ redis: { ...services.redis }, prefix, localCache: true });
    try {
      await Promise.all([storeA.ready(), storeB.ready()]);
      const a = new TokenManager({ secret: SECRET, store: storeA });
      const b = new TokenManager({ secret: SECRET, store: storeB });
      const pair = await a.createTokenPair({ identity: 'erin' });
      expect(await codeOf(b.verifyToken(pair.accessToken))).toBe('ok');
      await a.logout(pair.accessToken);
      const started = performance.now();
      let code = await codeOf(b.verifyToken(pair.accessToken));
      while (code === 'ok' && performance.now() - started < 2000) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        code = await codeOf(b.verifyToken(pair.accessToken));
      }
      console.log(
        `revocation reached the other instance after ${(performance.now() - started).toFixed(2)} ms`,
      );
      expect(code).toBe('token_revoked');
      expect(await codeOf(b.refreshTokens(pair.refreshToken))).toBe('token_revoked');
    } finally {
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it('fails closed, quickly, when Redis cannot be reached', async () => {
    const store = new RedisStore({
      redis: { host: '127.0.0.1', port: 1 },
      prefix: 'unreachable:',
      onError: () => {},
    });
    try {
      const jwt = new TokenManager({ secret: SECRET, store });
      const token = await jwt.createAccessToken({ identity: 'frank' });
      // The test timeout bounds the wait: an unreachable Redis must not hang the request.
      expect(await codeOf(jwt.verifyToken(token))).toBe('store_unavailable');
    } finally {
      await store.close();
    }
  });
});
