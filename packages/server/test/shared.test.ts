/**
 * Several instances on PostgreSQL + Redis share everything: a revocation on
 * one is refused on the other, keys rotated on one verify on the other,
 * throttling counts across them; and a restart keeps users, keys, revocations
 * and throttles. Also a restart on the SQLite default.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../tessera/test/stores/services.js';
import {
  ADMIN,
  call,
  claims,
  createUser,
  login,
  removeDir,
  runId,
  sameSecondCutoff,
  startTestService,
  type TestService,
  tempDir,
  tokenHeader,
} from './support.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';

const up =
  (await serviceAvailable('postgres', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.end();
  })) &&
  (await serviceAvailable('redis', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    await redis.connect();
    await redis.ping();
    redis.disconnect();
  }));

/** Poll until `check` passes (revocations travel by pub/sub: milliseconds, not zero). */
async function eventually(check: () => Promise<void>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe.skipIf(!up)('two instances on PostgreSQL + Redis', () => {
  const id = runId();
  const shared = {
    databaseUrl: DATABASE_URL,
    redisUrl: REDIS_URL,
    tablePrefix: `t${id}_`,
    redisPrefix: `tessera-test:${id}:`,
  };
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    // Started together: migrations, the first key and the first admin must not collide.
    [a, b] = await Promise.all([startTestService(shared), startTestService(shared)]);
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ tablename: string }>(
      'select tablename from pg_tables where schemaname = current_schema() and tablename like $1',
      [`t${id}\\_%`],
    );
    for (const { tablename } of rows) await client.query(`drop table if exists "${tablename}" cascade`);
    await client.end();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${shared.redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('share users, keys and one signing key', async () => {
    const jwksA = await call(a.base, 'GET', '/.well-known/jwks.json');
    const jwksB = await call(b.base, 'GET', '/.well-known/jwks.json');
    expect(jwksA.body).toEqual(jwksB.body);
    expect((jwksA.body.keys as unknown[]).length).toBe(1);
    const tokens = await login(a.base, ADMIN.username, ADMIN.password);
    expect((await call(b.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(200);
    await createUser(b.base, tokens.access_token, 'shared-user', 'shared-password');
    expect((await login(a.base, 'shared-user', 'shared-password')).access_token).toBeTypeOf('string');
  });

  it('a logout on one instance is refused on the other', async () => {
    const tokens = await login(a.base, 'shared-user', 'shared-password');
    expect((await call(b.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(200);
    expect((await call(a.base, 'POST', '/auth/logout', { token: tokens.access_token })).status).toBe(200);
    await eventually(async () => {
      expect((await call(b.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(401);
    });
    expect((await call(b.base, 'POST', '/auth/refresh', { token: tokens.refresh_token })).status).toBe(401);
  });

  it('a refresh token rotated on one instance is spent on the other', async () => {
    const tokens = await login(a.base, 'shared-user', 'shared-password');
    expect((await call(a.base, 'POST', '/auth/refresh', { token: tokens.refresh_token })).status).toBe(200);
    // Within the 5 s grace a lost response may be retried; a second rotation ends that.
    const again = await call(b.base, 'POST', '/auth/refresh', { token: tokens.refresh_token });
    expect(again.status).toBe(200);
    const next = again.body.refresh_token as string;
    expect((await call(a.base, 'POST', '/auth/refresh', { token: next })).status).toBe(200);
    const reuse = await call(b.base, 'POST', '/auth/refresh', { token: tokens.refresh_token });
    expect(reuse.status).toBe(401);
  });

  it('revoking everything of a user on one instance is refused on the other', async () => {
    const admin = await login(b.base, ADMIN.username, ADMIN.password);
    const user = await login(b.base, 'shared-user', 'shared-password');
    expect(
      (await call(a.base, 'POST', '/admin/users/shared-user/revoke', { token: admin.access_token })).status,
    ).toBe(200);
    await eventually(async () => {
      expect((await call(b.base, 'GET', '/auth/me', { token: user.access_token })).status).toBe(401);
    });
  });

  it('a logout everywhere ends /api/token/ tokens of its second, and spares those issued after it', async () => {
    const admin = await login(a.base, ADMIN.username, ADMIN.password);
    const result = await sameSecondCutoff(a.base, admin.access_token, 'same-second-shared', 'logout-all');
    expect(result.sameSecond).toBe(true);
    expect(result.before).toEqual([400, 400, 401]);
    expect(result.after).toEqual([200, 200, 200]);
  });

  it('keys rotated on one instance verify on the other, which then publishes and signs with them', async () => {
    const admin = await login(a.base, ADMIN.username, ADMIN.password);
    const rotated = await call(a.base, 'POST', '/admin/keys/rotate', { token: admin.access_token });
    const kid = rotated.body.kid as string;
    const fresh = await login(a.base, ADMIN.username, ADMIN.password);
    expect(tokenHeader(fresh.access_token).kid).toBe(kid);
    // B has not polled yet: the unknown kid makes it reload the keys.
    expect((await call(b.base, 'GET', '/auth/me', { token: fresh.access_token })).status).toBe(200);
    const jwks = await call(b.base, 'GET', '/.well-known/jwks.json');
    expect((jwks.body.keys as { kid: string }[]).map((k) => k.kid)).toContain(kid);
    const fromB = await login(b.base, ADMIN.username, ADMIN.password);
    expect(tokenHeader(fromB.access_token).kid).toBe(kid);
    // Tokens of the previous key still verify on both during the grace period.
    expect((await call(b.base, 'GET', '/auth/me', { token: admin.access_token })).status).toBe(200);
  });

  it('a refresh token under a key rotated on one instance refreshes on the other (the same derived key)', async () => {
    const admin = await login(a.base, ADMIN.username, ADMIN.password);
    const rotated = await call(a.base, 'POST', '/admin/keys/rotate', { token: admin.access_token });
    const kid = rotated.body.kid as string;
    const fresh = await login(a.base, 'shared-user', 'shared-password');
    const kidOf = (token: string) => tokenHeader(token).kid;
    expect(kidOf(fresh.refresh_token)).toBe(`${kid}.refresh`);
    // B has not polled yet: the unknown refresh kid makes it reload the keys and derive the new one.
    const next = await call(b.base, 'POST', '/auth/refresh', { token: fresh.refresh_token });
    expect(next.status).toBe(200);
    expect(kidOf(next.body.access_token as string)).toBe(kid);
    expect(kidOf(next.body.refresh_token as string)).toBe(`${kid}.refresh`);
  });

  it('throttling counts attempts on both instances', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? a.base : b.base;
      statuses.push(
        (
          await call(target, 'POST', '/auth/login', {
            json: { username: 'shared-user', password: `wrong-${i}` },
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(
      (
        await call(b.base, 'POST', '/auth/login', {
          json: { username: 'shared-user', password: 'shared-password' },
        })
      ).status,
    ).toBe(429);
  });

  it('a restart keeps users, keys, revocations and throttles', async () => {
    const admin = await login(a.base, ADMIN.username, ADMIN.password);
    await createUser(a.base, admin.access_token, 'survivor', 'survivor-pass');
    const out = await login(a.base, 'survivor', 'survivor-pass');
    await call(a.base, 'POST', '/auth/logout', { token: out.access_token });
    const kept = await login(a.base, 'survivor', 'survivor-pass');
    const jwks = (await call(a.base, 'GET', '/.well-known/jwks.json')).body;
    await a.stop();
    a = await startTestService(shared);
    expect((await call(a.base, 'GET', '/.well-known/jwks.json')).body).toEqual(jwks);
    expect((await call(a.base, 'GET', '/auth/me', { token: kept.access_token })).status).toBe(200);
    expect((await call(a.base, 'GET', '/auth/me', { token: out.access_token })).status).toBe(401);
    expect(
      (
        await call(a.base, 'POST', '/auth/login', {
          json: { username: 'shared-user', password: 'shared-password' },
        })
      ).status,
    ).toBe(429);
    expect(claims((await login(a.base, 'survivor', 'survivor-pass')).access_token).sub).toBe('survivor');
  }, 30_000);
});

/** Five wrong passwords on `base`: the account is locked (the fifth failure starts the lock). */
async function lockAccount(bases: string[], username: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const base = bases[i % bases.length] as string;
    statuses.push(
      (await call(base, 'POST', '/auth/login', { json: { username, password: `wrong-${i}` } })).status,
    );
  }
  return statuses;
}

describe('restart on the SQLite default', () => {
  it('keeps users, keys, revocations and throttles', async () => {
    const dataDir = tempDir();
    try {
      let svc = await startTestService({ dataDir });
      const admin = await login(svc.base, ADMIN.username, ADMIN.password);
      await createUser(svc.base, admin.access_token, 'sqlite-user', 'sqlite-password');
      await createUser(svc.base, admin.access_token, 'sqlite-locked', 'sqlite-password');
      const out = await login(svc.base, 'sqlite-user', 'sqlite-password');
      await call(svc.base, 'POST', '/auth/logout', { token: out.access_token });
      const kept = await login(svc.base, 'sqlite-user', 'sqlite-password');
      const jwks = (await call(svc.base, 'GET', '/.well-known/jwks.json')).body;
      expect(await lockAccount([svc.base], 'sqlite-locked')).toEqual([401, 401, 401, 401, 401, 429]);
      await svc.stop();
      svc = await startTestService({ dataDir });
      try {
        // The lock outlived the process: the right password is still refused, with the time left.
        const locked = await call(svc.base, 'POST', '/auth/login', {
          json: { username: 'sqlite-locked', password: 'sqlite-password' },
        });
        expect(locked.status).toBe(429);
        expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
        expect((await call(svc.base, 'GET', '/.well-known/jwks.json')).body).toEqual(jwks);
        expect((await call(svc.base, 'GET', '/auth/me', { token: kept.access_token })).status).toBe(200);
        expect((await call(svc.base, 'GET', '/auth/me', { token: out.access_token })).status).toBe(401);
        expect((await call(svc.base, 'POST', '/auth/refresh', { token: kept.refresh_token })).status).toBe(
          200,
        );
      } finally {
        await svc.stop();
      }
    } finally {
      removeDir(dataDir);
    }
  });
});

const pgUp = await serviceAvailable('postgres', async () => {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  await client.end();
});

describe.skipIf(!pgUp)('two instances on PostgreSQL without Redis', () => {
  const id = runId();
  const shared = { databaseUrl: DATABASE_URL, tablePrefix: `t${id}_` };
  let a: TestService;
  let b: TestService;
  const dirs: string[] = [];

  beforeAll(async () => {
    dirs.push(tempDir(), tempDir());
    a = await startTestService({ ...shared, dataDir: dirs[0] });
    b = await startTestService({ ...shared, dataDir: dirs[1] });
    const admin = await login(a.base, ADMIN.username, ADMIN.password);
    await createUser(a.base, admin.access_token, 'pg-user', 'pg-password');
  }, 30_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    for (const dir of dirs) removeDir(dir);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ tablename: string }>(
      'select tablename from pg_tables where tablename like $1',
      [`t${id}_%`],
    );
    for (const { tablename } of rows) await client.query(`drop table if exists "${tablename}" cascade`);
    await client.end();
  });

  it('throttling counts attempts on both instances, through the database', async () => {
    expect(await lockAccount([a.base, b.base], 'pg-user')).toEqual([401, 401, 401, 401, 401, 429]);
    for (const base of [a.base, b.base]) {
      const res = await call(base, 'POST', '/auth/login', {
        json: { username: 'pg-user', password: 'pg-password' },
      });
      expect(res.status).toBe(429);
    }
    // The table holds digests, never the username or the address.
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>(`select id from "t${id}_throttle"`);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.id).toMatch(/^(acct|ip):[A-Za-z0-9_-]{43}$/);
        expect(row.id).not.toContain('pg-user');
      }
    } finally {
      await client.end();
    }
  });

  it('a restart keeps the lock', async () => {
    await a.stop();
    a = await startTestService({ ...shared, dataDir: dirs[0] });
    const res = await call(a.base, 'POST', '/auth/login', {
      json: { username: 'pg-user', password: 'pg-password' },
    });
    expect(res.status).toBe(429);
  }, 30_000);
});
