/**
 * The console's endpoints over HTTP, on the SQLite default and on PostgreSQL
 * (its raw SQL: bucket arithmetic and an escaped LIKE): user search, the
 * rotation schedule, the activity series, and the refresh-reuse audit event.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../tessera/test/stores/services.js';
import { ADMIN, call, login, runId, startTestService, type TestService } from './support.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const pgUp = await serviceAvailable('postgres', async () => {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  await client.end();
});

const id = runId();
const backends = [
  { name: 'SQLite', up: true, config: {} },
  { name: 'PostgreSQL', up: pgUp, config: { databaseUrl: DATABASE_URL, tablePrefix: `c${id}_` } },
];

interface Activity {
  bucket_seconds: number;
  buckets: { start: number; sign_ins: number; refusals: number }[];
  events: { type: string; subject: string | null; address: string | null }[];
}

for (const backend of backends) {
  describe.skipIf(!backend.up)(`console API on ${backend.name}`, () => {
    let svc: TestService;
    let admin: string;
    const password = 'correct-horse-battery';

    beforeAll(async () => {
      svc = await startTestService(backend.config);
      admin = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
      for (const username of ['alpha_1', 'alphax1', 'Alpha-Big', 'beta']) {
        const res = await call(svc.base, 'POST', '/admin/users', {
          token: admin,
          json: { username, password },
        });
        expect(res.status).toBe(201);
      }
    }, 60_000);

    afterAll(async () => {
      await svc?.stop();
      if (backend.name !== 'PostgreSQL') return;
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      const { rows } = await client.query<{ tablename: string }>(
        'select tablename from pg_tables where schemaname = current_schema() and tablename like $1',
        [`c${id}\\_%`],
      );
      for (const { tablename } of rows) await client.query(`drop table if exists "${tablename}" cascade`);
      await client.end();
    });

    const names = async (q: string) => {
      const res = await call(svc.base, 'GET', `/admin/console/users?q=${encodeURIComponent(q)}`, {
        token: admin,
      });
      expect(res.status).toBe(200);
      // Sorted here: the database's collation decides the order of mixed-case names.
      return (res.body.users as { username: string }[]).map((u) => u.username).sort();
    };

    it('searches users by part of the name, case-insensitively, with % and _ taken literally', async () => {
      expect(await names('alpha')).toEqual(['Alpha-Big', 'alpha_1', 'alphax1'].sort());
      expect(await names('alpha_')).toEqual(['alpha_1']);
      expect(await names('%')).toEqual([]);
      expect(await names('_')).toEqual(['alpha_1']);
      expect(await names('')).toHaveLength(5);
      expect(await names('nobody-by-this-name')).toEqual([]);
      const long = await call(svc.base, 'GET', `/admin/console/users?q=${'x'.repeat(151)}`, { token: admin });
      expect(long.status).toBe(400);
    });

    it('reports the keys and when the next rotation is due', async () => {
      const res = await call(svc.base, 'GET', '/admin/console/keys', { token: admin });
      expect(res.status).toBe(200);
      const keys = res.body.keys as { createdAt: number; signing: boolean }[];
      expect(keys.filter((k) => k.signing)).toHaveLength(1);
      const newest = Math.max(...keys.map((k) => k.createdAt));
      expect(res.body.next_rotation_at).toBe(newest + 30 * 86_400);
      expect(res.body.rotation_seconds).toBe(30 * 86_400);
      expect(res.body.algorithm).toBe('EdDSA');
    });

    it('counts sign-ins and refusals per bucket and lists failures, throttling and reuse', async () => {
      const before = (await call(svc.base, 'GET', '/admin/console/activity?range=1h', { token: admin }))
        .body as unknown as Activity;
      const sum = (a: Activity, key: 'sign_ins' | 'refusals') => a.buckets.reduce((n, b) => n + b[key], 0);
      for (let i = 0; i < 6; i++) {
        await call(svc.base, 'POST', '/auth/login', {
          json: { username: 'alphax1', password: 'wrong-password' },
        });
      }
      const r0 = (await login(svc.base, 'beta', password)).refresh_token;
      const r1 = await call(svc.base, 'POST', '/auth/refresh', { token: r0 });
      await call(svc.base, 'POST', '/auth/refresh', { token: r1.body.refresh_token as string });
      expect((await call(svc.base, 'POST', '/auth/refresh', { token: r0 })).body.code).toBe(
        'refresh_token_reused',
      );

      const res = await call(svc.base, 'GET', '/admin/console/activity?range=1h', { token: admin });
      expect(res.status).toBe(200);
      const after = res.body as unknown as Activity;
      expect(after.bucket_seconds).toBe(300);
      expect(after.buckets).toHaveLength(12);
      expect(sum(after, 'sign_ins') - sum(before, 'sign_ins')).toBe(1);
      // Five wrong passwords, then one throttled attempt.
      expect(sum(after, 'refusals') - sum(before, 'refusals')).toBe(6);
      const types = after.events.map((e) => e.type);
      expect(types.filter((t) => t === 'login.failed')).toHaveLength(5);
      expect(types.filter((t) => t === 'login.throttled')).toHaveLength(1);
      expect(types).toContain('refresh.reused');
      const reused = after.events.find((e) => e.type === 'refresh.reused');
      expect(reused?.address).toBe('127.0.0.1');
      expect(reused?.subject).toBe('beta');

      const day = (await call(svc.base, 'GET', '/admin/console/activity', { token: admin }))
        .body as unknown as Activity;
      expect(day.bucket_seconds).toBe(3600);
      expect(day.buckets).toHaveLength(24);
      expect(sum(day, 'refusals')).toBeGreaterThanOrEqual(6);
      const week = (await call(svc.base, 'GET', '/admin/console/activity?range=7d', { token: admin }))
        .body as unknown as Activity;
      expect(week.buckets).toHaveLength(28);
      expect((await call(svc.base, 'GET', '/admin/console/activity?range=1y', { token: admin })).status).toBe(
        400,
      );
    });

    it('refuses callers who are not admins', async () => {
      const user = (await login(svc.base, 'alpha_1', password)).access_token;
      for (const path of ['/admin/console/users', '/admin/console/keys', '/admin/console/activity']) {
        expect((await call(svc.base, 'GET', path)).status).toBe(401);
        expect((await call(svc.base, 'GET', path, { token: user })).status).toBe(403);
        expect((await call(svc.base, 'POST', path, { token: admin })).status).toBe(405);
      }
    });
  });
}
