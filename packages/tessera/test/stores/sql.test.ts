import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect } from 'kysely';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { StoreUnavailableError } from 'tessera-auth';
import { SqlStore, tableNames } from 'tessera-auth/stores/sql';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreContract, TestClock } from './contract.js';
import { runId, serviceAvailable, services } from './services.js';

const run = runId();
const dir = mkdtempSync(join(tmpdir(), 'tessera-sql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

describeStoreContract('SqlStore sqlite :memory:', async (clock) => {
  const store = await SqlStore.sqlite(':memory:', { now: clock.now });
  await store.migrate();
  return { store };
});

describeStoreContract('SqlStore sqlite file', async (clock) => {
  fileSeq += 1;
  const store = await SqlStore.sqlite(join(dir, `contract-${fileSeq}.db`), { now: clock.now });
  await store.migrate();
  return { store };
});

// An application's own Kysely with CamelCasePlugin, which renames result columns (current_jti to
// currentJti): the store's reads must not depend on how the application's rows are cased.
describeStoreContract(
  'SqlStore over an application Kysely with CamelCasePlugin (sqlite :memory:)',
  async (clock) => {
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(':memory:') }),
      plugins: [new CamelCasePlugin()],
    });
    const store = new SqlStore(db, { dialect: 'sqlite', now: clock.now, destroyOnClose: true });
    await store.migrate();
    return { store };
  },
);

describe('SqlStore sqlite: schema and restart', () => {
  it('migrate() is idempotent and records its version', async () => {
    const store = await SqlStore.sqlite(':memory:');
    expect(await store.migrate()).toEqual([1]);
    expect(await store.migrate()).toEqual([]);
    await store.close();
  });

  it('state survives closing the store and opening the file again', async () => {
    const file = join(dir, 'restart.db');
    const clock = new TestClock();
    const t = clock.t;
    const first = await SqlStore.sqlite(file, { now: clock.now, tablePrefix: 'app_' });
    await first.migrate();
    await first.revokeToken('jti-1', t + 600);
    await first.revokeUserBefore('alice', t, t + 600);
    await first.createFamily({
      familyId: 'fam-1',
      userKey: 'bob',
      jti: 'r1',
      now: t,
      expiresAt: t + 600,
      metadata: { ua: 'x' },
    });
    await first.rotateFamily({
      familyId: 'fam-1',
      presentedJti: 'r1',
      nextJti: 'r2',
      now: t + 1,
      graceSeconds: 0,
      expiresAt: t + 700,
    });
    await first.close();

    const second = await SqlStore.sqlite(file, { now: clock.now, tablePrefix: 'app_' });
    expect(await second.migrate()).toEqual([]);
    expect(await second.isRevoked({ jti: 'jti-1' })).toBe(true);
    expect(await second.isRevoked({ userKey: 'alice', iat: t - 1 })).toBe(true);
    expect(await second.listSessions('bob', t + 1)).toEqual([
      {
        familyId: 'fam-1',
        userKey: 'bob',
        createdAt: t,
        lastUsedAt: t + 1,
        expiresAt: t + 700,
        metadata: { ua: 'x' },
      },
    ]);
    expect(
      (
        await second.rotateFamily({
          familyId: 'fam-1',
          presentedJti: 'r1',
          nextJti: 'r3',
          now: t + 2,
          graceSeconds: 0,
          expiresAt: t + 700,
        })
      ).status,
    ).toBe('reused');
    await second.close();
  });

  it('two connections to one file: concurrent redeems still give exactly one rotated', async () => {
    const file = join(dir, 'two-connections.db');
    const clock = new TestClock();
    const t = clock.t;
    const a = await SqlStore.sqlite(file, { now: clock.now });
    const b = await SqlStore.sqlite(file, { now: clock.now });
    await a.migrate();
    await a.createFamily({ familyId: 'fam', userKey: 'u', jti: 'r0', now: t, expiresAt: t + 600 });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 ? a : b).rotateFamily({
          familyId: 'fam',
          presentedJti: 'r0',
          nextJti: `r1-${i}`,
          now: t,
          graceSeconds: 0,
          expiresAt: t + 600,
        }),
      ),
    );
    const rotated = outcomes.filter((o) => o.status === 'rotated').length;
    const reused = outcomes.filter((o) => o.status === 'reused').length;
    expect([rotated, reused]).toEqual([1, 1]);
    expect(await b.isRevoked({ familyId: 'fam' })).toBe(true);
    await a.close();
    await b.close();
  });

  it('two connections to one file: concurrent redeems inside the grace window converge on one successor', async () => {
    const file = join(dir, 'two-connections-grace.db');
    const clock = new TestClock();
    const t = clock.t;
    const a = await SqlStore.sqlite(file, { now: clock.now });
    const b = await SqlStore.sqlite(file, { now: clock.now });
    try {
      await a.migrate();
      await a.createFamily({ familyId: 'fam', userKey: 'u', jti: 'r0', now: t, expiresAt: t + 600 });
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? a : b).rotateFamily({
            familyId: 'fam',
            presentedJti: 'r0',
            nextJti: `r1-${i}`,
            now: t,
            graceSeconds: 10,
            expiresAt: t + 600,
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'rotated')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'grace')).toHaveLength(99);
      expect(new Set(outcomes.map((o) => ('currentJti' in o ? o.currentJti : o.status))).size).toBe(1);
      expect(await b.isRevoked({ familyId: 'fam' })).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an unmigrated database or a closed store is StoreUnavailableError, not a driver error', async () => {
    const store = await SqlStore.sqlite(':memory:');
    const error = await store.isRevoked({ jti: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).cause).toBeInstanceOf(Error);
    await store.close();
    await expect(store.isRevoked({ jti: 'x' })).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('refuses a table prefix that is not an identifier', async () => {
    await expect(SqlStore.sqlite(':memory:', { tablePrefix: 'x; DROP TABLE y' })).rejects.toThrow(TypeError);
  });
});

// ---- PostgreSQL ----

const pgUp = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ ...services.postgres, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
});

async function dropPg(prefix: string): Promise<void> {
  const client = new pg.Client(services.postgres);
  await client.connect();
  const t = tableNames(prefix);
  for (const name of [t.families, t.userCutoffs, t.revokedTokens, t.schemaVersion]) {
    await client.query(`DROP TABLE IF EXISTS "${name}"`);
  }
  await client.end();
}

/** Every table this run created in PostgreSQL (prefix `tt<run>_`), left over or not. */
async function pgRunTables(client: pg.Client): Promise<string[]> {
  const runPrefix = `tt${run}_`;
  const result = await client.query<{ tablename: string }>(
    'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND left(tablename, $1) = $2',
    [runPrefix.length, runPrefix],
  );
  return result.rows.map((r) => r.tablename);
}

describe.skipIf(!pgUp)('SqlStore postgres', () => {
  // A test that failed half-way may have left tables behind: drop whatever this run created.
  afterAll(async () => {
    const client = new pg.Client(services.postgres);
    await client.connect();
    try {
      for (const name of await pgRunTables(client)) await client.query(`DROP TABLE IF EXISTS "${name}"`);
      expect(await pgRunTables(client)).toEqual([]);
    } finally {
      await client.end();
    }
  });
  let seq = 0;
  describeStoreContract('SqlStore postgres', async (clock) => {
    seq += 1;
    const prefix = `tt${run}_${seq}_`;
    const store = await SqlStore.postgres({ ...services.postgres }, { now: clock.now, tablePrefix: prefix });
    await store.migrate();
    return { store, drop: () => dropPg(prefix) };
  });

  it('state survives closing the store and opening a new pool', async () => {
    const prefix = `tt${run}_restart_`;
    const clock = new TestClock();
    const t = clock.t;
    try {
      const first = await SqlStore.postgres(
        { ...services.postgres },
        { now: clock.now, tablePrefix: prefix },
      );
      await first.migrate();
      await first.revokeToken('jti-1', t + 600);
      await first.createFamily({ familyId: 'fam-1', userKey: 'bob', jti: 'r1', now: t, expiresAt: t + 600 });
      await first.close();
      const second = await SqlStore.postgres(
        { ...services.postgres },
        { now: clock.now, tablePrefix: prefix },
      );
      expect(await second.migrate()).toEqual([]);
      expect(await second.isRevoked({ jti: 'jti-1' })).toBe(true);
      expect(
        (
          await second.rotateFamily({
            familyId: 'fam-1',
            presentedJti: 'r1',
            nextJti: 'r2',
            now: t,
            graceSeconds: 0,
            expiresAt: t + 600,
          })
        ).status,
      ).toBe('rotated');
      await second.close();
    } finally {
      await dropPg(prefix);
    }
  });

  it('concurrent migrate() from two stores applies the schema once', async () => {
    const prefix = `tt${run}_mig_`;
    try {
      const a = await SqlStore.postgres({ ...services.postgres }, { tablePrefix: prefix });
      const b = await SqlStore.postgres({ ...services.postgres }, { tablePrefix: prefix });
      const [x, y] = await Promise.all([a.migrate(), b.migrate()]);
      expect([...x, ...y]).toEqual([1]);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await dropPg(prefix);
    }
  });
});

// ---- MySQL / MariaDB ----

const mysqlUp = await serviceAvailable('MariaDB/MySQL', async () => {
  const conn = await mysql.createConnection({ ...services.mysql, connectTimeout: 3000 });
  await conn.query('SELECT 1');
  await conn.end();
});

async function dropMysql(prefix: string): Promise<void> {
  const conn = await mysql.createConnection(services.mysql);
  const t = tableNames(prefix);
  for (const name of [t.families, t.userCutoffs, t.revokedTokens, t.schemaVersion]) {
    await conn.query(`DROP TABLE IF EXISTS \`${name}\``);
  }
  await conn.end();
}

/** Every table this run created in MySQL/MariaDB (prefix `tt<run>_`), left over or not. */
async function mysqlRunTables(conn: mysql.Connection): Promise<string[]> {
  const runPrefix = `tt${run}_`;
  const [rows] = await conn.query(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND LEFT(table_name, ?) = ?',
    [runPrefix.length, runPrefix],
  );
  return (rows as { name: string }[]).map((r) => r.name);
}

describe.skipIf(!mysqlUp)('SqlStore mysql', () => {
  // A test that failed half-way may have left tables behind: drop whatever this run created.
  afterAll(async () => {
    const conn = await mysql.createConnection(services.mysql);
    try {
      for (const name of await mysqlRunTables(conn)) await conn.query(`DROP TABLE IF EXISTS \`${name}\``);
      expect(await mysqlRunTables(conn)).toEqual([]);
    } finally {
      await conn.end();
    }
  });
  let seq = 0;
  describeStoreContract('SqlStore mysql', async (clock) => {
    seq += 1;
    const prefix = `tt${run}_${seq}_`;
    const store = await SqlStore.mysql({ ...services.mysql }, { now: clock.now, tablePrefix: prefix });
    await store.migrate();
    return { store, drop: () => dropMysql(prefix) };
  });

  it('compares ids byte for byte (no case folding, no trailing-space padding)', async () => {
    const prefix = `tt${run}_bin_`;
    const clock = new TestClock();
    try {
      const store = await SqlStore.mysql({ ...services.mysql }, { now: clock.now, tablePrefix: prefix });
      await store.migrate();
      await store.revokeToken('AbC', clock.t + 60);
      expect(await store.isRevoked({ jti: 'AbC' })).toBe(true);
      expect(await store.isRevoked({ jti: 'abc' })).toBe(false);
      expect(await store.isRevoked({ jti: 'AbC ' })).toBe(false);
      await store.createFamily({
        familyId: 'F',
        userKey: 'u',
        jti: 'J',
        now: clock.t,
        expiresAt: clock.t + 60,
      });
      const r = {
        familyId: 'F',
        presentedJti: 'j',
        nextJti: 'K',
        now: clock.t,
        graceSeconds: 0,
        expiresAt: clock.t + 60,
      };
      expect((await store.rotateFamily(r)).status).toBe('reused');
      await store.close();
    } finally {
      await dropMysql(prefix);
    }
  });
});

// ---- databases that are down ----

describe('SqlStore with its database down', () => {
  it('postgres on a closed port: StoreUnavailableError quickly', async () => {
    const store = await SqlStore.postgres({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test' });
    const started = performance.now();
    const error = await store.isRevoked({ jti: 'x' }).catch((e: unknown) => e);
    const ms = performance.now() - started;
    console.log(`[down] postgres 127.0.0.1:1 -> ${(error as Error).name} in ${ms.toFixed(0)} ms`);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(ms).toBeLessThan(3000);
    await store.close();
  });

  it('mysql on a closed port: StoreUnavailableError quickly', async () => {
    const store = await SqlStore.mysql({ host: '127.0.0.1', port: 1, user: 'root', database: 'test' });
    const started = performance.now();
    const error = await store.isRevoked({ jti: 'x' }).catch((e: unknown) => e);
    const ms = performance.now() - started;
    console.log(`[down] mysql 127.0.0.1:1 -> ${(error as Error).name} in ${ms.toFixed(0)} ms`);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(ms).toBeLessThan(3000);
    await store.close();
  });

  it('a server that accepts but never answers is bounded by the timeouts', async () => {
    // A black hole: TCP connects, no byte ever comes back. Only timeouts can end the wait.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const make of [
        () => SqlStore.postgres({ host: '127.0.0.1', port, user: 'postgres', database: 'test' }),
        () => SqlStore.mysql({ host: '127.0.0.1', port, user: 'root', database: 'test' }),
      ]) {
        const store = await make();
        const started = performance.now();
        const error = await store.isRevoked({ jti: 'x' }).catch((e: unknown) => e);
        const ms = performance.now() - started;
        console.log(`[down] ${store.dialect} black hole -> ${(error as Error).name} in ${ms.toFixed(0)} ms`);
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(ms).toBeLessThan(6000);
        await store.close().catch(() => undefined);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
