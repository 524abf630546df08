/**
 * Every store Tessera ships, built for the session tests: memory, SQLite,
 * PostgreSQL, MariaDB (MySQL dialect), Redis without and with its local cache.
 * Each is a real store on its real backend, isolated by its own file, table
 * prefix or key prefix, and driven by a clock the test moves.
 *
 * Each backend also counts what reaches its database: SQL statements (a Kysely
 * plugin sees every statement the store runs) and Redis commands (the store's
 * own ioredis client, its `sendCommand` counted), so that a test can tell how
 * many round trips an operation costs. A service that does not answer fails
 * under CI and is skipped with a printed reason otherwise (services.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Redis } from 'ioredis';
import { Kysely, type KyselyPlugin, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MemoryStore, type TokenStore } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { type SqlDialectName, SqlStore } from 'tessera-auth/stores/sql';
import { pingRedis, runId, serviceAvailable, services } from '../stores/services.js';

/** A clock shared by a manager and its store, so that a test can move time for both. */
export interface Clock {
  now: number;
}

/** A store on its backend. */
export interface Backend {
  readonly store: TokenStore;
  /**
   * How many statements (SQL) or commands (Redis) the store has sent so far;
   * undefined for the memory store, which has no backend.
   */
  backendCalls(): number | undefined;
  /**
   * Redis only: what a Redis restarted without persistence looks like to the
   * store (its keys gone, its connection back), resolved once the store has
   * checked and written its store-wide cut-off.
   */
  loseData?: () => Promise<void>;
}

/** Builds one isolated backend whose clock is `clock`. */
export type BackendFactory = (clock: Clock) => Promise<Backend>;

/** The backends, each with whether its service answers, and the cleanup of what they wrote. */
export interface EveryStore {
  readonly backends: ReadonlyArray<readonly [name: string, available: boolean, make: BackendFactory]>;
  /** Closes every store built and drops its tables, keys and files. */
  cleanup(): Promise<void>;
}

/**
 * Counts the statements Kysely runs (raw `sql` statements included). Counted as results come
 * back: the store compiles its hot statements once (transformQuery runs then), and runs them
 * many times (transformResult runs on each).
 */
function countingPlugin(counter: { n: number }): KyselyPlugin {
  return {
    transformQuery(args) {
      return args.node;
    },
    transformResult(args) {
      counter.n += 1;
      return Promise.resolve(args.result);
    },
  };
}

/** Probes the services and returns the backend factories (call once per test file). */
export async function everyStore(tag: string): Promise<EveryStore> {
  const run = runId();
  const dir = mkdtempSync(join(tmpdir(), `tessera-${tag}-`));
  const cleanups: Array<() => Promise<void>> = [];
  let seq = 0;
  const prefix = () => `${tag}_${run}_${++seq}_`;

  const pgUp = await serviceAvailable('PostgreSQL', async () => {
    const client = new pg.Client({ ...services.postgres, connectionTimeoutMillis: 3000 });
    await client.connect();
    await client.end();
  });
  const mysqlUp = await serviceAvailable('MariaDB/MySQL', async () => {
    const conn = await mysql.createConnection({ ...services.mysql, connectTimeout: 3000 });
    await conn.end();
  });
  const redisUp = await serviceAvailable('Redis', pingRedis);

  async function sqlBackend(
    clock: Clock,
    dialect: SqlDialectName,
    build: (plugins: KyselyPlugin[]) => Kysely<unknown>,
    drop: (tables: string[]) => Promise<void>,
  ): Promise<Backend> {
    const counter = { n: 0 };
    const store = new SqlStore(build([countingPlugin(counter)]), {
      dialect,
      tablePrefix: prefix(),
      now: () => clock.now,
      destroyOnClose: true,
    });
    await store.migrate();
    cleanups.push(async () => {
      await store.close();
      await drop(Object.values(store.tables));
    });
    return { store, backendCalls: () => counter.n };
  }

  const redisBackend =
    (localCache: boolean): BackendFactory =>
    async (clock) => {
      const keyPrefix = `tessera-test:${prefix()}:`;
      const client = new Redis({ ...services.redis });
      const counter = { n: 0 };
      const send = client.sendCommand.bind(client);
      client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
        counter.n += 1;
        return send(...args);
      }) as Redis['sendCommand'];
      const store = new RedisStore({ redis: client, prefix: keyPrefix, localCache, now: () => clock.now });
      await store.ready();
      const dropKeys = async () => {
        const admin = new Redis(services.redis);
        const keys = await admin.keys(`${keyPrefix}*`);
        if (keys.length > 0) await admin.unlink(...keys);
        admin.disconnect();
      };
      cleanups.push(async () => {
        await store.close();
        client.disconnect();
        await dropKeys();
      });
      return {
        store,
        backendCalls: () => counter.n,
        loseData: async () => {
          await dropKeys();
          client.disconnect(true);
          await store.ready(5000);
        },
      };
    };

  const backends: Array<[string, boolean, BackendFactory]> = [
    [
      'memory',
      true,
      async (clock) => {
        const store = new MemoryStore({ now: () => clock.now });
        cleanups.push(() => store.close());
        return { store, backendCalls: () => undefined };
      },
    ],
    [
      'SQLite',
      true,
      (clock) =>
        sqlBackend(
          clock,
          'sqlite',
          (plugins) =>
            new Kysely<unknown>({
              dialect: new SqliteDialect({ database: new BetterSqlite3(join(dir, `${++seq}.sqlite`)) }),
              plugins,
            }),
          async () => undefined,
        ),
    ],
    [
      'PostgreSQL',
      pgUp,
      (clock) =>
        sqlBackend(
          clock,
          'postgres',
          (plugins) =>
            new Kysely<unknown>({
              dialect: new PostgresDialect({ pool: new pg.Pool(services.postgres) }),
              plugins,
            }),
          async (tables) => {
            const client = new pg.Client(services.postgres);
            await client.connect();
            for (const t of tables) await client.query(`DROP TABLE IF EXISTS "${t}"`);
            await client.end();
          },
        ),
    ],
    [
      'MariaDB',
      mysqlUp,
      (clock) =>
        sqlBackend(
          clock,
          'mysql',
          (plugins) =>
            new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool(services.mysql) }), plugins }),
          async (tables) => {
            const conn = await mysql.createConnection(services.mysql);
            for (const t of tables) await conn.query(`DROP TABLE IF EXISTS \`${t}\``);
            await conn.end();
          },
        ),
    ],
    ['Redis', redisUp, redisBackend(false)],
    ['Redis with local cache', redisUp, redisBackend(true)],
  ];

  return {
    backends,
    async cleanup() {
      for (const cleanup of cleanups.reverse()) await cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
