/**
 * When a store goes down the service answers 503 `store_unavailable` (fail
 * closed), never a 500 and never a crash, keeps /healthz and the JWKS up, and
 * recovers when the store returns. The outage is a TCP proxy in front of the
 * real PostgreSQL or Redis, closed and reopened by the test.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../tessera/test/stores/services.js';
import { ADMIN, call, login, runId, startTestService, type TestService } from './support.js';

/** A TCP proxy to a loopback service that can be cut and restored on the same port. */
class Cable {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;
  constructor(readonly targetPort: number) {}

  async plug(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function eventually(check: () => Promise<void>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const pgUp = await serviceAvailable('postgres', async () => {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await client.connect();
  await client.end();
});
const redisUp = await serviceAvailable('redis', async () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  redis.disconnect();
});

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function dropTables(prefix: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await client.connect();
  const { rows } = await client.query<{ tablename: string }>(
    'select tablename from pg_tables where schemaname = current_schema() and tablename like $1',
    [`${prefix.replace(/_/g, '\\_')}%`],
  );
  for (const { tablename } of rows) await client.query(`drop table if exists "${tablename}" cascade`);
  await client.end();
}

describe.skipIf(!pgUp)('PostgreSQL down', () => {
  it('answers 503 while it is down and recovers after', async () => {
    const cable = new Cable(5432);
    await cable.plug();
    const prefix = `o${runId()}_`;
    const svc: TestService = await startTestService({
      databaseUrl: `postgres://postgres@127.0.0.1:${cable.port}/test`,
      tablePrefix: prefix,
    });
    cleanups.push(async () => {
      await svc.stop();
      await cable.cut();
      await dropTables(prefix);
    });
    const tokens = await login(svc.base, ADMIN.username, ADMIN.password);
    await cable.cut();
    const signIn = await call(svc.base, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password },
    });
    expect(signIn).toMatchObject({ status: 503, body: { code: 'store_unavailable' } });
    expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(503);
    expect((await call(svc.base, 'POST', '/auth/refresh', { token: tokens.refresh_token })).status).toBe(503);
    expect((await call(svc.base, 'GET', '/readyz')).status).toBe(503);
    expect((await call(svc.base, 'GET', '/healthz')).status).toBe(200);
    expect((await call(svc.base, 'GET', '/.well-known/jwks.json')).status).toBe(200);
    await cable.plug();
    await eventually(async () => {
      expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(200);
    });
    expect((await call(svc.base, 'GET', '/readyz')).status).toBe(200);
    expect(svc.logs.some((l) => l.includes('"level":50') && l.includes('storeDown":true'))).toBe(true);
  }, 60_000);
});

describe.skipIf(!pgUp || !redisUp)('Redis down', () => {
  it('fails closed with 503 and recovers after', async () => {
    const cable = new Cable(6379);
    await cable.plug();
    const id = runId();
    const svc: TestService = await startTestService({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: `redis://127.0.0.1:${cable.port}`,
      tablePrefix: `r${id}_`,
      redisPrefix: `tessera-test:${id}:`,
    });
    cleanups.push(async () => {
      await svc.stop();
      await cable.cut();
      await dropTables(`r${id}_`);
      const redis = new Redis({ host: '127.0.0.1', port: 6379 });
      const keys = await redis.keys(`tessera-test:${id}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    const tokens = await login(svc.base, ADMIN.username, ADMIN.password);
    expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(200);
    await cable.cut();
    await eventually(async () => {
      expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(503);
    });
    const signIn = await call(svc.base, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password },
    });
    expect(signIn).toMatchObject({ status: 503, body: { code: 'store_unavailable' } });
    expect((await call(svc.base, 'GET', '/readyz')).status).toBe(503);
    await cable.plug();
    await eventually(async () => {
      expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(200);
    }, 15_000);
    expect((await login(svc.base, ADMIN.username, ADMIN.password)).access_token).toBeTypeOf('string');
  }, 60_000);
});
