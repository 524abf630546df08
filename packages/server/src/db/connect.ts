/**
 * Opening the stores the configuration names: SQLite in the data directory by
 * default, PostgreSQL with `DATABASE_URL`; the token store (revocations,
 * refresh families) on the same database, or on Redis with `REDIS_URL`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Redis } from 'ioredis';
import {
  Kysely,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from 'kysely';
import type { TokenStore } from 'tessera-auth';
import { SqlStore } from 'tessera-auth/stores/sql';
import type { ServiceConfig } from '../config.js';
import { type AnyDB, type Database, migrate, tables } from './schema.js';

/** Everything with a connection, opened and migrated. */
export interface Stores {
  readonly database: Database;
  readonly tokenStore: TokenStore;
  /** The shared Redis client, when REDIS_URL is set (throttling uses it too). */
  readonly redis: Redis | undefined;
  /** Throws when a store cannot be reached within `timeoutMs` (default 4 s): for /readyz. */
  check(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Bounds on waiting for a store: a down database answers an error in seconds, never hangs. */
const CONNECT_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 4000;

/** Open, migrate and return the stores. `log` hears about background connection errors. */
export async function openStores(config: ServiceConfig, log: (error: unknown) => void): Promise<Stores> {
  const closers: (() => Promise<void>)[] = [];
  try {
    let database: Database;
    if (config.databaseUrl === undefined) {
      const dir = resolve(config.dataDir);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, 'tessera.sqlite');
      const file = new BetterSqlite3(path, { timeout: QUERY_TIMEOUT_MS });
      file.pragma('journal_mode = WAL');
      // FULL would fsync the WAL on every commit (each refresh, logout, sign-in), blocking the event
      // loop for the disk's flush time (5 ms here): NORMAL fsyncs at checkpoints only. See docs/service.md.
      file.pragma(`synchronous = ${config.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      const db = new Kysely<AnyDB>({ dialect: new SqliteDialect({ database: keptStatements(file) }) });
      closers.push(() => db.destroy());
      // Prepared reads run on a read-only connection of their own, opened once the schema exists: under
      // WAL it reads the last commit without waiting for the writer, and never inside a transaction
      // another request holds open on the writer connection.
      let reader: BetterSqlite3.Database | undefined;
      closers.push(async () => {
        reader?.close();
      });
      database = {
        db,
        dialect: 'sqlite',
        t: tables(config.tablePrefix),
        selectOne: (table, column) => {
          reader ??= new BetterSqlite3(path, {
            readonly: true,
            fileMustExist: true,
            timeout: QUERY_TIMEOUT_MS,
          });
          const statement = reader.prepare(`select * from ${quoted(table)} where ${quoted(column)} = ?`);
          return async (value) => statement.get(value) as Record<string, unknown> | undefined;
        },
      };
    } else {
      // Loaded only when configured: the SQLite default starts without the PostgreSQL and Redis drivers.
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({
        connectionString: config.databaseUrl,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
        max: 10,
      });
      // An idle client losing its connection emits 'error' on the pool; unheard, it would crash the process.
      pool.on('error', log);
      const db = new Kysely<AnyDB>({ dialect: new PostgresDialect({ pool }) });
      closers.push(() => db.destroy());
      database = {
        db,
        dialect: 'postgres',
        t: tables(config.tablePrefix),
        // A named statement: each pooled connection parses and plans it once.
        selectOne: (table, column) => {
          const text = `select * from ${quoted(table)} where ${quoted(column)} = $1`;
          const name = `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
          return async (value) => (await pool.query({ name, text, values: [value] })).rows[0];
        },
      };
    }
    await migrate(database);

    let tokenStore: TokenStore;
    let redis: Redis | undefined;
    let synced = () => true;
    if (config.redisUrl === undefined) {
      const store = new SqlStore(database.db, { dialect: database.dialect, tablePrefix: config.tablePrefix });
      await store.migrate();
      tokenStore = store;
    } else {
      const { Redis } = await import('ioredis');
      const { RedisStore } = await import('tessera-auth/stores/redis');
      redis = new Redis(config.redisUrl, {
        maxRetriesPerRequest: 1,
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: 1000,
        lazyConnect: true,
      });
      redis.on('error', log);
      const client = redis;
      closers.push(async () => {
        client.disconnect();
      });
      await redis.connect();
      const store = new RedisStore({ redis, prefix: config.redisPrefix, localCache: true, onError: log });
      // Listen only once the local revocation cache is in sync: before that every check would fail closed (503).
      await store.ready();
      tokenStore = store;
      synced = () => store.synced;
    }
    closers.push(() => tokenStore.close());

    const client = redis;
    return {
      database,
      tokenStore,
      redis,
      async check(timeoutMs = QUERY_TIMEOUT_MS) {
        await withTimeout(sql`select 1`.execute(database.db), timeoutMs, 'database');
        if (client !== undefined) await withTimeout(client.ping(), timeoutMs, 'redis');
        if (!synced()) throw new Error('redis: revocation cache not in sync');
      },
      async close() {
        // Reverse order: the token store before the connections it uses.
        for (const close of closers.reverse()) await close().catch(log);
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** An SQL identifier in double quotes (the names here are the service's own, from identifier characters). */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
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

/** Most prepared statements kept; past it the oldest goes (`in (…)` lists make one statement per length). */
const KEPT_STATEMENTS = 512;

/**
 * The SQLite file as Kysely sees it, with its prepared statements kept by SQL
 * text: Kysely prepares every query anew, and under refresh and /auth/me load
 * that preparation was the largest single cost in the profile. better-sqlite3
 * runs a statement synchronously to the end (Kysely does not stream here), so
 * one statement can serve every call.
 */
function keptStatements(file: BetterSqlite3.Database): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  return {
    close: () => file.close(),
    prepare(text) {
      let statement = kept.get(text);
      if (statement === undefined) {
        statement = file.prepare(text) as unknown as SqliteStatement;
        if (kept.size >= KEPT_STATEMENTS) kept.delete(kept.keys().next().value as string);
        kept.set(text, statement);
      }
      return statement;
    },
  };
}
