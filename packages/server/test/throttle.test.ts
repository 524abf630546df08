/**
 * The sign-in throttle on every backend, one suite: memory, the real Redis (a
 * random key prefix per test), and SQL on SQLite (a temporary file) and the
 * real PostgreSQL (random table prefix). A fake clock drives windows and locks.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { ConfigError, StoreUnavailableError } from 'tessera-auth';
import { afterAll, describe, expect, it } from 'vitest';
import { runId, serviceAvailable, services } from '../../tessera/test/stores/services.js';
import { type AnyDB, type Database, migrate, tables } from '../src/db/schema.js';
import { createThrottle, type Throttle, type ThrottleOptions } from '../src/throttle/index.js';

class Clock {
  t = Date.now();
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

type Make = (clock: Clock, options?: Omit<ThrottleOptions, 'redis' | 'database' | 'now'>) => Throttle;

const clients: Redis[] = [];
const databases: Kysely<AnyDB>[] = [];
const dirs: string[] = [];
const pgPrefixes: string[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
  await Promise.all(databases.map((db) => db.destroy().catch(() => undefined)));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (pgPrefixes.length > 0) {
    const client = new pg.Client(services.postgres);
    await client.connect();
    for (const prefix of pgPrefixes) {
      const { rows } = await client.query<{ tablename: string }>(
        'select tablename from pg_tables where tablename like $1',
        [`${prefix}%`],
      );
      for (const { tablename } of rows) await client.query(`drop table if exists "${tablename}"`);
    }
    await client.end();
  }
});

/** A new handle (its own connection) on one SQLite file: two handles are two instances. */
async function sqliteDatabase(file: string): Promise<Database> {
  const db = new Kysely<AnyDB>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(file, { timeout: 4000 }) }),
  });
  databases.push(db);
  await sql`pragma journal_mode = WAL`.execute(db);
  const database: Database = { db, dialect: 'sqlite', t: tables('tessera_') };
  await migrate(database);
  return database;
}

/** A new pool on the test PostgreSQL, tables under `prefix`. */
async function postgresDatabase(prefix: string): Promise<Database> {
  const db = new Kysely<AnyDB>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ ...services.postgres, max: 4 }) }),
  });
  databases.push(db);
  const database: Database = { db, dialect: 'postgres', t: tables(prefix) };
  await migrate(database);
  return database;
}

const pgUp = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ ...services.postgres, connectionTimeoutMillis: 2000 });
  await client.connect();
  await client.end();
});

function redisClient(): Redis {
  const client = new Redis({ ...services.redis, maxRetriesPerRequest: 1, lazyConnect: false });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

const redisUp = await serviceAvailable('Redis', async () => {
  const probe = new Redis({
    ...services.redis,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } finally {
    probe.disconnect();
  }
});

const backends: [string, () => Make][] = [
  ['memory', () => (clock, options) => createThrottle({ ...options, now: clock.now })],
];
if (redisUp) {
  backends.push([
    'redis',
    () => {
      // One prefix per suite instance: every throttle made by it shares state, like instances do.
      const prefix = `test:throttle:${runId()}:`;
      return (clock, options) => createThrottle({ ...options, redis: redisClient(), prefix, now: clock.now });
    },
  ]);
}

/**
 * The SQL backends. A throttle must be made synchronously, so each one waits
 * for its handle inside its first call; every throttle of one factory opens its
 * own handle on the same storage, as instances do.
 */
function sqlMake(open: () => Promise<Database>): Make {
  return (clock, options) => {
    const made = open().then((database) => createThrottle({ ...options, database, now: clock.now }));
    return {
      check: async (keys) => (await made).check(keys),
      fail: async (keys) => (await made).fail(keys),
      succeed: async (keys) => (await made).succeed(keys),
      close: async () => (await made).close(),
    };
  };
}

backends.push([
  'sqlite',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-throttle-'));
    dirs.push(dir);
    return sqlMake(() => sqliteDatabase(join(dir, 'throttle.sqlite')));
  },
]);
if (pgUp) {
  backends.push([
    'postgres',
    () => {
      const prefix = `tt${runId()}_`;
      pgPrefixes.push(prefix);
      return sqlMake(() => postgresDatabase(prefix));
    },
  ]);
}

const acct = (name: string) => `acct:${name}`;

describe.each(backends)('throttle on %s', (_, factory) => {
  it('lets 5 attempts on an account through, then refuses with a 15-minute Retry-After', async () => {
    const clock = new Clock();
    const throttle = factory()(clock);
    const keys = [acct('alice'), 'ip:192.0.2.1'];
    for (let i = 0; i < 5; i++) {
      expect(await throttle.check(keys)).toEqual({ allowed: true });
      await throttle.fail(keys);
    }
    // The lock started with the fifth failure, not with the next attempt.
    clock.advance(100);
    expect(await throttle.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 800 });
    clock.advance(500);
    expect(await throttle.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 300 });
    clock.advance(299.5);
    expect(await throttle.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(0.5);
    expect(await throttle.check(keys)).toEqual({ allowed: true });
    await throttle.close();
  });

  it('refuses the right password after 400 wrong ones', async () => {
    const clock = new Clock();
    const throttle = factory()(clock);
    const keys = [acct('bob'), 'ip:198.51.100.7'];
    let allowed = 0;
    for (let i = 0; i < 400; i++) {
      const verdict = await throttle.check(keys);
      if (verdict.allowed) {
        allowed++;
        await throttle.fail(keys);
      } else {
        expect(verdict.retryAfterSeconds).toBeGreaterThan(0);
        expect(verdict.retryAfterSeconds).toBeLessThanOrEqual(900);
      }
      clock.advance(0.001);
    }
    expect(allowed).toBe(5);
    // The right password now: the service asks check() first and is refused.
    const verdict = await throttle.check(keys);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.retryAfterSeconds).toBe(900);
  });

  it('doubles the lock after each lockout and forgets after a success', async () => {
    const clock = new Clock();
    const throttle = factory()(clock);
    const keys = [acct('carol')];
    const spend = async () => {
      for (let i = 0; i < 5; i++) {
        expect((await throttle.check(keys)).allowed).toBe(true);
        await throttle.fail(keys);
      }
      return throttle.check(keys);
    };
    expect(await spend()).toEqual({ allowed: false, retryAfterSeconds: 900 });
    clock.advance(900);
    expect(await spend()).toEqual({ allowed: false, retryAfterSeconds: 1800 });
    clock.advance(1800);
    expect(await spend()).toEqual({ allowed: false, retryAfterSeconds: 3600 });
    clock.advance(3600);
    // The right password: the record is forgotten, the next lockout starts at 15 minutes again.
    expect((await throttle.check(keys)).allowed).toBe(true);
    await throttle.succeed(keys);
    expect(await spend()).toEqual({ allowed: false, retryAfterSeconds: 900 });
  });

  it('caps the lock at maxLockSeconds and forgets the level after backoffResetSeconds', async () => {
    const clock = new Clock();
    const throttle = factory()(clock, {
      rules: { acct: { limit: 1, lockSeconds: 10, maxLockSeconds: 25, backoffResetSeconds: 100 } },
    });
    const keys = [acct('dave')];
    const lockout = async () => {
      expect((await throttle.check(keys)).allowed).toBe(true);
      await throttle.fail(keys);
      const v = await throttle.check(keys);
      return v.allowed ? 0 : v.retryAfterSeconds;
    };
    expect(await lockout()).toBe(10);
    clock.advance(10);
    expect(await lockout()).toBe(20);
    clock.advance(20);
    expect(await lockout()).toBe(25);
    clock.advance(25 + 100);
    expect(await lockout()).toBe(10);
  });

  it('counts the address across accounts, and refunds its successes', async () => {
    const clock = new Clock();
    const throttle = factory()(clock, { rules: { ip: { limit: 10 } } });
    const ip = 'ip:203.0.113.9';
    // Successful sign-ins from one address (a NAT) do not use its budget up.
    for (let i = 0; i < 30; i++) {
      const keys = [acct(`user${i}`), ip];
      expect((await throttle.check(keys)).allowed).toBe(true);
      await throttle.succeed(keys);
    }
    // Failures on ten different accounts do.
    for (let i = 0; i < 10; i++) {
      const keys = [acct(`victim${i}`), ip];
      expect((await throttle.check(keys)).allowed).toBe(true);
      await throttle.fail(keys);
    }
    expect(await throttle.check([acct('victim10'), ip])).toEqual({ allowed: false, retryAfterSeconds: 900 });
    // Another address is not affected, and the refused attempt did not count on the account.
    for (let i = 0; i < 5; i++) {
      expect((await throttle.check([acct('victim10'), 'ip:203.0.113.10'])).allowed).toBe(true);
    }
  });

  it('counts nothing when one of the keys is locked (all or none)', async () => {
    const clock = new Clock();
    const throttle = factory()(clock, { rules: { ip: { limit: 2 } } });
    const ip = 'ip:192.0.2.50';
    for (let i = 0; i < 2; i++) {
      expect((await throttle.check([acct('x'), ip])).allowed).toBe(true);
      await throttle.fail([acct('x'), ip]);
    }
    for (let i = 0; i < 10; i++) expect((await throttle.check([acct('erin'), ip])).allowed).toBe(false);
    // erin's account budget is untouched: five attempts from elsewhere.
    for (let i = 0; i < 5; i++) expect((await throttle.check([acct('erin')])).allowed).toBe(true);
    expect((await throttle.check([acct('erin')])).allowed).toBe(false);
  });

  it('lets exactly the budget through when 50 attempts race (check-and-count is atomic)', async () => {
    const clock = new Clock();
    const make = factory();
    // Two throttles over one state: two instances on one Redis or PostgreSQL. On memory, one process's
    // two handles are separate states; on SQLite, two connections of one process would wait on each
    // other's write lock synchronously (better-sqlite3 blocks), and one instance runs one connection:
    // those cases race on one throttle.
    const a = make(clock);
    const b = _ === 'memory' || _ === 'sqlite' ? a : make(clock);
    const keys = [acct('frank')];
    const verdicts = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).check(keys)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
    // The five in flight hold the budget: the rest wait a second, and nothing is locked until they fail.
    for (const v of verdicts.filter((v) => !v.allowed)) {
      expect(v).toEqual({ allowed: false, retryAfterSeconds: 1 });
    }
    for (let i = 0; i < 5; i++) await (i % 2 ? a : b).fail(keys);
    expect(await a.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 900 });
  });

  it('never locks an account for right passwords given at once; only failures lock', async () => {
    const clock = new Clock();
    const throttle = factory()(clock);
    const keys = [acct('hal'), 'ip:192.0.2.60'];
    // Eight sign-ins at the same instant: five are checked, the rest wait a second (the budget is
    // held by the five in flight), and none of them starts a lock.
    const verdicts = await Promise.all(Array.from({ length: 8 }, () => throttle.check(keys)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
    for (const v of verdicts.filter((v) => !v.allowed))
      expect(v).toEqual({ allowed: false, retryAfterSeconds: 1 });
    for (let i = 0; i < 5; i++) await throttle.succeed(keys);
    expect(await throttle.check(keys)).toEqual({ allowed: true });
    await throttle.succeed(keys);
    // Four failures and a right password in flight together: the fifth attempt is the user's, no lock.
    const ip = 'ip:192.0.2.61';
    for (let i = 0; i < 5; i++) expect((await throttle.check([acct('ida'), ip])).allowed).toBe(true);
    for (let i = 0; i < 4; i++) await throttle.fail([acct('ida'), ip]);
    expect(await throttle.check([acct('ida'), ip])).toEqual({ allowed: false, retryAfterSeconds: 1 });
    await throttle.succeed([acct('ida'), ip]);
    expect(await throttle.check([acct('ida'), ip])).toEqual({ allowed: true });
    await throttle.close();
  });

  it('does not lock an address for the right passwords in flight beside one failure (refund rule)', async () => {
    const clock = new Clock();
    const throttle = factory()(clock, { rules: { ip: { limit: 4 } } });
    const ip = 'ip:203.0.113.77';
    const keys = (i: number) => [acct(`nat${i}`), ip];
    for (let i = 0; i < 4; i++) expect((await throttle.check(keys(i))).allowed).toBe(true);
    // One wrong password answers first, while three right ones are still being verified.
    await throttle.fail(keys(0));
    for (let i = 1; i < 4; i++) await throttle.succeed(keys(i));
    expect(await throttle.check(keys(9))).toEqual({ allowed: true });
    // Failures alone still lock it: three more make four.
    await throttle.fail(keys(9));
    for (let i = 10; i < 12; i++) {
      expect((await throttle.check(keys(i))).allowed).toBe(true);
      await throttle.fail(keys(i));
    }
    expect(await throttle.check(keys(20))).toEqual({ allowed: false, retryAfterSeconds: 900 });
    await throttle.close();
  });

  it('ignores duplicate keys and separates accounts', async () => {
    const clock = new Clock();
    const throttle = factory()(clock);
    for (let i = 0; i < 5; i++) {
      expect((await throttle.check([acct('gina'), acct('gina')])).allowed).toBe(true);
    }
    expect((await throttle.check([acct('gina')])).allowed).toBe(false);
    expect((await throttle.check([acct('Gina')])).allowed).toBe(true);
  });

  it('refuses keys of an unknown kind and calls after close', async () => {
    const clock = new Clock();
    const throttle = factory()(clock);
    await expect(throttle.check(['user:alice'])).rejects.toThrow(TypeError);
    await expect(throttle.check(['alice'])).rejects.toThrow(TypeError);
    await throttle.close();
    await expect(throttle.check([acct('alice')])).rejects.toThrow(StoreUnavailableError);
  });
});

describe.runIf(redisUp)('throttle on Redis: sharing, restarts, outages', () => {
  it('two instances share the count', async () => {
    const clock = new Clock();
    const prefix = `test:throttle:${runId()}:`;
    const one = createThrottle({ redis: redisClient(), prefix, now: clock.now });
    const two = createThrottle({ redis: redisClient(), prefix, now: clock.now });
    const keys = [acct('hank'), 'ip:192.0.2.77'];
    for (let i = 0; i < 5; i++) {
      const throttle = i % 2 ? two : one;
      expect((await throttle.check(keys)).allowed).toBe(true);
      await throttle.fail(keys);
    }
    expect(await one.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 900 });
    expect(await two.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 900 });
  });

  it('keeps locks across a restart of the service', async () => {
    const clock = new Clock();
    const prefix = `test:throttle:${runId()}:`;
    const before = redisClient();
    const first = createThrottle({ redis: before, prefix, now: clock.now });
    for (let i = 0; i < 5; i++) {
      await first.check([acct('ivan')]);
      await first.fail([acct('ivan')]);
    }
    await first.close();
    await before.quit();
    clock.advance(60);
    const second = createThrottle({ redis: redisClient(), prefix, now: clock.now });
    expect(await second.check([acct('ivan')])).toEqual({ allowed: false, retryAfterSeconds: 840 });
  });

  it('stores digests, not usernames or addresses, and gives every record an expiry', async () => {
    const prefix = `test:throttle:${runId()}:`;
    const client = redisClient();
    const throttle = createThrottle({ redis: client, prefix });
    await throttle.check([acct('judy@example.com'), 'ip:192.0.2.99']);
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).not.toContain('judy');
      expect(key).not.toContain('192.0.2.99');
      const ttl = await client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(900_000);
    }
  });

  it('fails closed with StoreUnavailableError when Redis is unreachable', async () => {
    // A port where nothing listens.
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const down = new Redis({
      host: '127.0.0.1',
      port: closedPort,
      maxRetriesPerRequest: 1,
      connectTimeout: 500,
    });
    down.on('error', () => undefined);
    clients.push(down);
    const throttle = createThrottle({ redis: down, operationTimeoutMs: 1500 });
    const refused = await throttle.check([acct('kate')]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as StoreUnavailableError).code).toBe('store_unavailable');
    expect((refused as StoreUnavailableError).status).toBe(503);
    await expect(throttle.fail([acct('kate')])).rejects.toThrow(StoreUnavailableError);
    down.disconnect();
  });

  it('fails closed within operationTimeoutMs when Redis accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => {
      socket.on('error', () => undefined);
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const hung = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
    hung.on('error', () => undefined);
    const throttle = createThrottle({ redis: hung, operationTimeoutMs: 300 });
    await expect(throttle.check([acct('leo')])).rejects.toThrow(StoreUnavailableError);
    hung.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

describe('throttle on SQL: restarts, digests, outages', () => {
  it('SQLite: a lock outlives the handle (a restart), and rows hold digests with a forget time', async () => {
    const clock = new Clock();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-throttle-'));
    dirs.push(dir);
    const file = join(dir, 'throttle.sqlite');
    const before = await sqliteDatabase(file);
    const first = createThrottle({ database: before, now: clock.now });
    for (let i = 0; i < 5; i++) {
      await first.check([acct('mia@example.com'), 'ip:192.0.2.123']);
      await first.fail([acct('mia@example.com'), 'ip:192.0.2.123']);
    }
    await first.close();
    await before.db.destroy();
    clock.advance(60);
    const after = await sqliteDatabase(file);
    const second = createThrottle({ database: after, now: clock.now });
    expect(await second.check([acct('mia@example.com')])).toEqual({ allowed: false, retryAfterSeconds: 840 });
    const rows = (await after.db.selectFrom(after.t.throttle).selectAll().execute()) as {
      id: string;
      forget_at: number;
    }[];
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.id).toMatch(/^(acct|ip):[A-Za-z0-9_-]{43}$/);
      expect(row.id).not.toContain('mia');
      expect(row.id).not.toContain('192.0.2.123');
      expect(row.forget_at).toBeGreaterThan(clock.t);
    }
  });

  it('fails closed with StoreUnavailableError when the database is unreachable', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const db = new Kysely<AnyDB>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({
          host: '127.0.0.1',
          port: closedPort,
          user: 'postgres',
          connectionTimeoutMillis: 500,
        }),
      }),
    });
    databases.push(db);
    const throttle = createThrottle({ database: { db, dialect: 'postgres', t: tables('down_') } });
    const refused = await throttle.check([acct('nina')]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as StoreUnavailableError).status).toBe(503);
    await expect(throttle.fail([acct('nina')])).rejects.toThrow(StoreUnavailableError);
  });

  it('refuses redis and database together', () => {
    const db = new Kysely<AnyDB>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    databases.push(db);
    expect(() =>
      createThrottle({ redis: redisClient(), database: { db, dialect: 'sqlite', t: tables('x_') } }),
    ).toThrow(ConfigError);
  });
});

describe('throttle options', () => {
  it('refuses unknown keys and bad values at configuration time', () => {
    expect(() => createThrottle({ rule: {} } as never)).toThrow(
      /Unknown option 'rule'.*did you mean 'rules'/,
    );
    expect(() => createThrottle({ rules: { acct: { limt: 3 } } } as never)).toThrow(/did you mean 'limit'/);
    expect(() => createThrottle({ rules: { acct: { limit: 0 } } })).toThrow(ConfigError);
    expect(() => createThrottle({ rules: { acct: { lockSeconds: 100, maxLockSeconds: 10 } } })).toThrow(
      ConfigError,
    );
    expect(() => createThrottle({ rules: { acct: { onSuccess: 'keep' } } } as never)).toThrow(ConfigError);
    expect(() => createThrottle({ rules: { 'Bad Name': { limit: 1 } } })).toThrow(ConfigError);
    // A new kind needs every field.
    expect(() => createThrottle({ rules: { device: { limit: 3 } } })).toThrow(ConfigError);
    expect(() => createThrottle({ maxEntries: 0 })).toThrow(ConfigError);
  });

  it('accepts a new kind of key with a complete rule', async () => {
    const throttle = createThrottle({
      rules: {
        device: {
          limit: 1,
          windowSeconds: 60,
          lockSeconds: 30,
          maxLockSeconds: 60,
          backoffResetSeconds: 60,
          onSuccess: 'reset',
        },
      },
    });
    expect((await throttle.check(['device:abc'])).allowed).toBe(true);
    expect(await throttle.check(['device:abc'])).toEqual({ allowed: false, retryAfterSeconds: 1 });
    await throttle.fail(['device:abc']);
    expect(await throttle.check(['device:abc'])).toEqual({ allowed: false, retryAfterSeconds: 30 });
  });

  it('memory: holds at most maxEntries records', async () => {
    const throttle = createThrottle({ maxEntries: 3 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await throttle.check([acct(name)]);
    // The oldest records were dropped: 'a' starts over, 'e' keeps its count.
    for (let i = 0; i < 5; i++) expect((await throttle.check([acct('a')])).allowed).toBe(true);
    for (let i = 0; i < 4; i++) expect((await throttle.check([acct('e')])).allowed).toBe(true);
    expect((await throttle.check([acct('e')])).allowed).toBe(false);
  });
});
