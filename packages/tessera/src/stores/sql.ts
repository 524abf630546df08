/**
 * `SqlStore`: the {@link TokenStore} on a SQL database through Kysely, for
 * SQLite (better-sqlite3, the embedded default), PostgreSQL (pg) and
 * MySQL/MariaDB (mysql2). Entry point `tessera-auth/stores/sql`.
 *
 * Kysely and the drivers are optional peer dependencies and are referenced only
 * here. Kysely is imported at module load (this entry point exists to use it);
 * each driver is loaded with a dynamic `import()` inside its factory, so an app
 * using PostgreSQL never needs better-sqlite3 installed, and vice versa.
 *
 * Queries are written as SQL text with Kysely's `sql` tag: the statements are
 * the contract (conditional UPDATEs whose WHERE re-checks the precondition), and
 * they read the same in all three dialects; Kysely supplies the placeholders,
 * identifier quoting, pooling and transactions.
 *
 * @module
 */
import type {
  MysqlPool,
  PostgresPool,
  QueryExecutor,
  QueryExecutorProvider,
  RawBuilder,
  SqliteDatabase,
} from 'kysely';
import { utf8Decode } from '../bytes.js';
import { StoreUnavailableError } from '../errors.js';
import { refuseUnknownOptions } from '../known-options.js';
import { loadPeer } from './peer.js';
import {
  checkId,
  checkMetadata,
  checkRotateRequest,
  checkTime,
  compareSessions,
  isBeforeCutoff,
  parseMetadata,
} from './rules.js';
import { CompiledStatements, type SlotOf } from './sql-compiled.js';
import {
  DEFAULT_TABLE_PREFIX,
  migrations,
  type SqlDialectName,
  schemaVersionDdl,
  type TableNames,
  tableNames,
} from './sql-migrations.js';
import {
  type Clock,
  FamilyExistsError,
  type NewFamily,
  type RevocationCheck,
  type RotateOutcome,
  type RotateRequest,
  type SessionInfo,
  systemClock,
  type TokenStore,
} from './types.js';

export { DEFAULT_TABLE_PREFIX, migrations, type SqlDialectName, type TableNames, tableNames };

// Kysely is this entry point's one required peer: loaded once, on the first factory
// call or operation, so that a missing install is a ConfigError naming it rather than
// a resolver error. Not a top-level await: the CommonJS build (dist/cjs) cannot have one.
type KyselyModule = typeof import('kysely');
let Kysely: KyselyModule['Kysely'];
let MysqlDialect: KyselyModule['MysqlDialect'];
let PostgresDialect: KyselyModule['PostgresDialect'];
let SqliteDialect: KyselyModule['SqliteDialect'];
let sql: KyselyModule['sql'];
let kyselyLoaded = false;
let kyselyLoading: Promise<void> | undefined;
function loadKysely(): Promise<void> {
  kyselyLoading ??= loadPeer<KyselyModule>('kysely', 'tessera-auth/stores/sql').then(
    (mod) => {
      ({ Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } = mod);
      kyselyLoaded = true;
    },
    (error: unknown) => {
      kyselyLoading = undefined;
      throw error;
    },
  );
  return kyselyLoading;
}

/*
 * The drivers' types, described here as far as the store uses them, so that the
 * published types of this entry point name no driver package: an app on
 * PostgreSQL compiles without mysql2's or better-sqlite3's types installed. The
 * pool shapes are Kysely's own (`pg.Pool` and mysql2's pool fit them).
 */

/** A `pg.Pool` (Kysely's structural `PostgresPool`). */
export type PgPool = PostgresPool;

/** The configuration of a `pg.Pool`; every key is handed to `new pg.Pool()`. */
export interface PgPoolConfig {
  host?: string;
  port?: number;
  user?: string;
  password?: string | (() => string | Promise<string>);
  database?: string;
  connectionString?: string;
  /** Most clients in the pool. */
  max?: number;
  /** Default here: 2000 ms. */
  connectionTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  /** Default here: 4000 ms. */
  query_timeout?: number;
  statement_timeout?: number;
  ssl?: boolean | Record<string, unknown>;
  /** Any other `pg` pool option. */
  [option: string]: unknown;
}

/** A mysql2 pool from its callback API (Kysely's structural `MysqlPool`). */
export type MysqlPoolLike = MysqlPool;

/** The options of a mysql2 pool; every key is handed to `mysql2.createPool()`. */
export interface MysqlPoolOptions {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  uri?: string;
  connectionLimit?: number;
  /** Default here: 2000 ms. */
  connectTimeout?: number;
  ssl?: string | Record<string, unknown>;
  /** Any other mysql2 pool option. */
  [option: string]: unknown;
}

/** What the store loads from `pg`. */
interface PgModule {
  Pool: new (
    config: PgPoolConfig,
  ) => PgPool & { on(event: 'error', listener: (error: unknown) => void): unknown };
}

/** What the store loads from `mysql2`. */
interface Mysql2Module {
  createPool(options: MysqlPoolOptions): MysqlPool;
}

/** What the store loads from `better-sqlite3`. */
interface BetterSqlite3Module {
  default: new (
    filename: string,
    options: { timeout: number },
  ) => SqliteDatabase & { pragma(source: string): unknown };
}

/**
 * What the store needs from a Kysely instance. Any `Kysely<DB>` fits, whatever
 * its `DB` type (the store's tables are not part of the application's schema).
 */
export interface KyselyLike {
  /** Kysely's query executor. */
  getExecutor(): QueryExecutor;
  /** Kysely's transaction builder. */
  transaction(): { execute<T>(callback: (trx: QueryExecutorProvider) => Promise<T>): Promise<T> };
  /** Kysely's single-connection builder. */
  connection(): { execute<T>(callback: (conn: QueryExecutorProvider) => Promise<T>): Promise<T> };
  /** Ends the pool / closes the database. */
  destroy(): Promise<void>;
}

/** Options shared by the constructor and the factories. */
export interface SqlStoreOptions {
  /** Table name prefix (identifier characters only). Default `tessera_`. */
  tablePrefix?: string;
  /** The clock (unix seconds) for methods that take no `now`. Default: system time. */
  now?: Clock;
  /**
   * Upper bound on any one store operation, in milliseconds, whatever the
   * driver's own timeouts: past it the call rejects with `StoreUnavailableError`.
   * Default 5000.
   */
  operationTimeoutMs?: number;
  /**
   * Whether `close()` destroys the Kysely instance (ending its pool). Default
   * true for the factories; false for `new SqlStore(db, ...)`, whose `db` the
   * caller owns.
   */
  destroyOnClose?: boolean;
  /** Told about background connection errors (idle pool clients). Default: `console.warn`. */
  onError?: (error: unknown) => void;
}

/** Options of `new SqlStore(db, options)`. */
export interface SqlStoreConstructorOptions extends SqlStoreOptions {
  /** The database behind `db`: the SQL differs slightly per dialect. */
  dialect: SqlDialectName;
}

/** Every key of {@link SqlStoreOptions}. */
const OPTION_KEYS = [
  'tablePrefix',
  'now',
  'operationTimeoutMs',
  'destroyOnClose',
  'onError',
] as const satisfies readonly (keyof SqlStoreOptions)[];

/** Default bound on one operation. */
const DEFAULT_OPERATION_TIMEOUT_MS = 5000;

/** Driver timeouts applied by the factories: below the operation bound, so the driver's error (the more telling one) comes first. */
const CONNECT_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 4000;

/** Error codes meaning "another transaction got in the way; running again is safe". */
const RETRYABLE_CODES = new Set(['40001', '40P01', 'ER_LOCK_DEADLOCK', 'SQLITE_BUSY', 'SQLITE_LOCKED']);

/** Error codes of a primary-key violation, per driver. */
const UNIQUE_CODES = new Set([
  '23505',
  'ER_DUP_ENTRY',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  'SQLITE_CONSTRAINT_UNIQUE',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

/** Integers come back as number (SQLite, mysql2), string (pg BIGINT) or bigint. */
function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Ids come back as string, or as bytes from MySQL's VARBINARY. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8Decode(value);
  return String(value);
}

/** The values of a rotation's statements, by slot name. */
interface RotateValues {
  familyId: string;
  presentedJti: string;
  nextJti: string;
  now: number;
  expiresAt: number;
  storeNow: number | undefined;
  jti: string | undefined;
  userKey: string | undefined;
  bar: number | undefined;
}

/** The presented token's own revocation to check inside a rotation; `shape` names its SQL variant. */
interface PresentedCheck {
  readonly shape: string;
  readonly storeNow: number;
  readonly jti: string | undefined;
  readonly userKey: string | undefined;
  readonly bar: number | undefined;
}

/**
 * Result columns are read under aliases of lower-case letters only: an application's
 * own Kysely may rename result keys (CamelCasePlugin makes `family_id` `familyId`),
 * and such a name reads the same in every casing.
 */
interface FamilyRow {
  familyid: unknown;
  userkey: unknown;
  createdat: unknown;
  lastusedat: unknown;
  expiresat: unknown;
  metadata: unknown;
}

/**
 * A {@link TokenStore} on SQLite, PostgreSQL or MySQL/MariaDB.
 *
 * Build it with {@link SqlStore.sqlite}, {@link SqlStore.postgres},
 * {@link SqlStore.mysql} or `new SqlStore(kysely, { dialect })`, then call
 * {@link SqlStore.migrate} once (it is idempotent).
 *
 * The rotation and the revocation check, run on every refresh and verified
 * request, are compiled once per statement shape and then run with each call's
 * values. With your own Kysely instance, its plugins' `transformQuery` runs when
 * such a statement is compiled (once), `transformResult` on every run; the other
 * statements go through both on every call. Kysely's `log` sees every run.
 *
 * Atomicity: every state change is one conditional statement whose WHERE
 * clause re-checks the state it depends on (for rotation, `current_jti =
 * presented AND revoked_at IS NULL ...`) and whose affected-row count says
 * whether it won. The row lock every engine takes for an UPDATE (PostgreSQL
 * re-evaluates the WHERE on the committed row, InnoDB reads the latest version,
 * SQLite has one writer) makes two concurrent redeems of one jti unable to both
 * match. The grace branch touches `last_used_at` and reads the current jti it
 * answers with, as of that write (`UPDATE ... RETURNING` on SQLite and
 * PostgreSQL; on MySQL a short transaction whose UPDATE locks the row before
 * the read); the reuse branch is a further conditional UPDATE. A jti that
 * stopped being current never becomes current or previous again (next jtis are
 * fresh), so each branch's condition stays true once observed, and no engine
 * needs a lock upgrade (which SQLite answers with SQLITE_BUSY under concurrency).
 */
export class SqlStore implements TokenStore {
  /** The dialect in use. */
  readonly dialect: SqlDialectName;
  /** The physical table names. */
  readonly tables: TableNames;
  readonly #db: KyselyLike;
  readonly #now: Clock;
  readonly #timeoutMs: number;
  readonly #destroyOnClose: boolean;
  readonly #statements = new CompiledStatements();
  #closed = false;

  constructor(db: KyselyLike, options: SqlStoreConstructorOptions) {
    refuseUnknownOptions(options, [...OPTION_KEYS, 'dialect'], 'SqlStore options');
    if (!['sqlite', 'postgres', 'mysql'].includes(options.dialect)) {
      throw new TypeError("dialect must be 'sqlite', 'postgres' or 'mysql'");
    }
    this.dialect = options.dialect;
    this.tables = tableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.#db = db;
    this.#now = options.now ?? systemClock;
    this.#timeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.#destroyOnClose = options.destroyOnClose ?? false;
  }

  /**
   * An embedded SQLite store (better-sqlite3). `filename` is a path or
   * `':memory:'`. File databases are switched to WAL so that readers do not
   * block the writer; the busy timeout is bounded.
   */
  static async sqlite(filename: string, options: SqlStoreOptions = {}): Promise<SqlStore> {
    if (!kyselyLoaded) await loadKysely();
    refuseUnknownOptions(options, OPTION_KEYS, 'SqlStore.sqlite options');
    const mod = await loadPeer<BetterSqlite3Module>('better-sqlite3', 'SqlStore.sqlite');
    const database = new mod.default(filename, { timeout: QUERY_TIMEOUT_MS });
    if (filename !== ':memory:' && filename !== '') database.pragma('journal_mode = WAL');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    return new SqlStore(db, { destroyOnClose: true, ...options, dialect: 'sqlite' });
  }

  /**
   * A PostgreSQL store (pg). Pass a `pg.Pool` or its configuration; a
   * configuration gets bounded connect and query timeouts unless it sets its own.
   */
  static async postgres(
    poolOrConfig: PgPool | PgPoolConfig,
    options: SqlStoreOptions = {},
  ): Promise<SqlStore> {
    if (!kyselyLoaded) await loadKysely();
    refuseUnknownOptions(options, OPTION_KEYS, 'SqlStore.postgres options');
    let pool: PgPool;
    if (isPgPool(poolOrConfig)) {
      pool = poolOrConfig;
    } else {
      const mod = await loadPeer<PgModule & { default?: PgModule }>('pg', 'SqlStore.postgres');
      const Pool = mod.default?.Pool ?? mod.Pool;
      const created = new Pool({
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
        ...poolOrConfig,
      });
      // An idle client losing its connection emits 'error' on the pool; unheard, it would crash the process.
      const onError = options.onError ?? ((e: unknown) => console.warn('[tessera] SqlStore (postgres):', e));
      created.on('error', onError);
      pool = created;
    }
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    return new SqlStore(db, { destroyOnClose: true, ...options, dialect: 'postgres' });
  }

  /**
   * A MySQL/MariaDB store (mysql2, callback API). Pass a `mysql2` pool or its
   * options; options get a bounded connect timeout unless they set their own.
   */
  static async mysql(
    poolOrOptions: MysqlPoolLike | MysqlPoolOptions,
    options: SqlStoreOptions = {},
  ): Promise<SqlStore> {
    if (!kyselyLoaded) await loadKysely();
    refuseUnknownOptions(options, OPTION_KEYS, 'SqlStore.mysql options');
    let pool: MysqlPoolLike;
    if (isMysqlPool(poolOrOptions)) {
      pool = poolOrOptions;
    } else {
      const mod = await loadPeer<Mysql2Module & { default?: Mysql2Module }>('mysql2', 'SqlStore.mysql');
      const createPool = mod.default?.createPool ?? mod.createPool;
      pool = createPool({ connectTimeout: CONNECT_TIMEOUT_MS, ...poolOrOptions });
    }
    const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) });
    return new SqlStore(db, { destroyOnClose: true, ...options, dialect: 'mysql' });
  }

  /**
   * Creates or upgrades the tables. Idempotent and safe to run from several
   * processes at once (PostgreSQL: advisory lock inside one transaction; MySQL:
   * a named lock, and DDL that tolerates re-runs since MySQL commits DDL
   * implicitly; SQLite: one transaction). Returns the versions it applied.
   */
  async migrate(): Promise<number[]> {
    if (!kyselyLoaded) await loadKysely();
    const d = this.dialect;
    const t = this.tables;
    const apply = async (ex: QueryExecutorProvider): Promise<number[]> => {
      const rows = await sql<{ version: unknown }>`SELECT version FROM ${sql.table(t.schemaVersion)}`.execute(
        ex,
      );
      const done = new Set(rows.rows.map((r) => num(r.version)));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        for (const statement of m.up(d, t)) await sql.raw(statement).execute(ex);
        await sql`INSERT INTO ${sql.table(t.schemaVersion)} (version, name, applied_at)
                  VALUES (${m.version}, ${m.name}, ${this.#now()})`.execute(ex);
        applied.push(m.version);
      }
      return applied;
    };
    // The version table is created under the lock too: concurrent CREATE TABLE IF NOT
    // EXISTS races on PostgreSQL (duplicate pg_type entry).
    const createVersionTable = (ex: QueryExecutorProvider) => sql.raw(schemaVersionDdl(d, t)).execute(ex);
    return this.#guard(
      'migrate',
      async () => {
        if (d === 'mysql') {
          const lock = `tessera_migrate:${t.schemaVersion}`;
          return this.#db.connection().execute(async (conn) => {
            await sql`SELECT GET_LOCK(${lock}, 30)`.execute(conn);
            try {
              await createVersionTable(conn);
              return await apply(conn);
            } finally {
              await sql`SELECT RELEASE_LOCK(${lock})`.execute(conn);
            }
          });
        }
        return this.#db.transaction().execute(async (trx) => {
          if (d === 'postgres')
            await sql`SELECT pg_advisory_xact_lock(hashtext(${t.schemaVersion}))`.execute(trx);
          await createVersionTable(trx);
          return apply(trx);
        });
      },
      30_000,
    );
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    if (!kyselyLoaded) await loadKysely();
    checkId('jti', jti);
    checkTime('expiresAt', expiresAt);
    const t = sql.table(this.tables.revokedTokens);
    const later = this.#greatest(sql.ref(`${this.tables.revokedTokens}.expires_at`), 'expires_at');
    await this.#guard('revokeToken', () =>
      sql`INSERT INTO ${t} (jti, expires_at) VALUES (${jti}, ${expiresAt})
          ${this.#onConflict('jti')} expires_at = ${later}`.execute(this.#db),
    );
  }

  async revokeUserBefore(userKey: string, before: number, keepUntil: number): Promise<void> {
    if (!kyselyLoaded) await loadKysely();
    checkId('userKey', userKey);
    checkTime('before', before);
    checkTime('keepUntil', keepUntil);
    const name = this.tables.userCutoffs;
    await this.#guard('revokeUserBefore', () =>
      sql`INSERT INTO ${sql.table(name)} (user_key, revoked_before, keep_until)
          VALUES (${userKey}, ${before}, ${keepUntil})
          ${this.#onConflict('user_key')}
            revoked_before = ${this.#greatest(sql.ref(`${name}.revoked_before`), 'revoked_before')},
            keep_until = ${this.#greatest(sql.ref(`${name}.keep_until`), 'keep_until')}`.execute(this.#db),
    );
  }

  async isRevoked(check: RevocationCheck): Promise<boolean> {
    if (!kyselyLoaded) await loadKysely();
    const { jti, userKey, familyId } = check;
    if (jti === undefined && userKey === undefined && familyId === undefined) return false;
    const t = this.tables;
    // One round trip: each check is a scalar subquery, NULL when absent.
    const shape = `isRevoked:${jti === undefined ? '' : 'j'}${userKey === undefined ? '' : 'u'}${familyId === undefined ? '' : 'f'}`;
    const values = { jti, userKey, familyId, now: this.#now() };
    const result = await this.#guard('isRevoked', () =>
      this.#statements.run(
        this.#db,
        shape,
        (slot: SlotOf<keyof typeof values>) => {
          const j =
            jti === undefined
              ? sql`NULL`
              : sql`(SELECT 1 FROM ${sql.table(t.revokedTokens)} WHERE jti = ${slot('jti')} AND expires_at > ${slot('now')})`;
          const c =
            userKey === undefined
              ? sql`NULL`
              : sql`(SELECT revoked_before FROM ${sql.table(t.userCutoffs)} WHERE user_key = ${slot('userKey')} AND keep_until > ${slot('now')})`;
          const f =
            familyId === undefined
              ? sql`NULL`
              : sql`(SELECT revoked_at FROM ${sql.table(t.families)} WHERE family_id = ${slot('familyId')})`;
          return sql<{ j: unknown; c: unknown; f: unknown }>`SELECT ${j} AS j, ${c} AS c, ${f} AS f`;
        },
        values,
      ),
    );
    const row = result.rows[0];
    if (row === undefined) return false;
    if (row.j !== null) return true;
    if (row.c !== null && isBeforeCutoff(check.iat, num(row.c))) return true;
    return row.f !== null;
  }

  async createFamily(f: NewFamily): Promise<void> {
    if (!kyselyLoaded) await loadKysely();
    checkId('familyId', f.familyId);
    checkId('userKey', f.userKey);
    checkId('jti', f.jti);
    checkTime('now', f.now);
    checkTime('expiresAt', f.expiresAt);
    const metadata = JSON.stringify(checkMetadata(f.metadata));
    await this.#guard('createFamily', async () => {
      try {
        await sql`INSERT INTO ${sql.table(this.tables.families)}
            (family_id, user_key, current_jti, previous_jti, rotated_at, created_at, last_used_at, expires_at, revoked_at, metadata)
          VALUES (${f.familyId}, ${f.userKey}, ${f.jti}, NULL, NULL, ${f.now}, ${f.now}, ${f.expiresAt}, NULL, ${metadata})`.execute(
          this.#db,
        );
      } catch (error) {
        if (UNIQUE_CODES.has(errorCode(error) ?? '')) throw new FamilyExistsError(f.familyId);
        throw error;
      }
    });
  }

  /**
   * {@link TokenStore.rotationChecksRevocation}: with `presented`, every statement
   * of the rotation also requires that the presented token is not revoked, so
   * the normal case stays one statement (one round trip).
   */
  readonly rotationChecksRevocation = true;

  async rotateFamily(r: RotateRequest): Promise<RotateOutcome> {
    if (!kyselyLoaded) await loadKysely();
    checkRotateRequest(r);
    const fam = sql.table(this.tables.families);
    // A live family, and (when the caller left the check to the rotation) a presented
    // token that isRevoked would not refuse: each branch below re-checks both in its WHERE.
    const presented = this.#presentedCheck(r.presented);
    const values: RotateValues = {
      familyId: r.familyId,
      presentedJti: r.presentedJti,
      nextJti: r.nextJti,
      now: r.now,
      expiresAt: r.expiresAt,
      storeNow: presented?.storeNow,
      jti: presented?.jti,
      userKey: presented?.userKey,
      bar: presented?.bar,
    };
    const live = (v: SlotOf<keyof RotateValues>) =>
      presented === undefined
        ? this.#livePredicate(v('now'))
        : sql`(${this.#livePredicate(v('now'))} AND NOT ${this.#presentedRevoked(presented, v)})`;
    const inline: SlotOf<keyof RotateValues> = (name) => values[name];
    return this.#guard('rotateFamily', async () => {
      // 1. The normal case, decided by the row lock: exactly one caller can match current_jti.
      // The one statement of every refresh: compiled once per shape of the presented check.
      const rotated = await this.#statements.run(
        this.#db,
        `rotate:${presented?.shape ?? ''}`,
        (v: SlotOf<keyof RotateValues>) => sql`UPDATE ${fam}
          SET previous_jti = ${v('presentedJti')}, current_jti = ${v('nextJti')}, rotated_at = ${v('now')},
              last_used_at = ${v('now')}, expires_at = ${v('expiresAt')}
          WHERE family_id = ${v('familyId')} AND current_jti = ${v('presentedJti')} AND ${live(v)}`,
        values,
      );
      if (affected(rotated) === 1)
        return { status: 'rotated', currentJti: r.nextJti, expiresAt: r.expiresAt };
      // The rare branches below build their SQL per call, with the values written in.
      const liveNow = live(inline);

      // 2. A retry of the previous jti inside the grace window (never when graceSeconds is 0):
      // nothing changes but last_used_at, and the answer is the successor already minted.
      if (r.graceSeconds > 0) {
        const grace = await this.#graceRetry(r, liveNow);
        if (grace !== undefined) return grace;
      }

      // 3. Why did neither match? Missing, dead (or the presented token revoked), or a spent jti.
      const state = await sql<{ live: unknown }>`SELECT CASE WHEN ${liveNow} THEN 1 ELSE 0 END AS live
          FROM ${fam} WHERE family_id = ${r.familyId}`.execute(this.#db);
      const row = state.rows[0];
      if (row === undefined) return { status: 'unknown' };
      if (num(row.live) !== 1) return { status: 'revoked' };

      // 4. Reuse: revoke the family. Only the call that flips revoked_at reports 'reused'.
      // A presented token revoked meanwhile is answered 'revoked', as isRevoked would first.
      const notRevoked =
        presented === undefined ? sql`` : sql` AND NOT ${this.#presentedRevoked(presented, inline)}`;
      const revoked = await sql`UPDATE ${fam} SET revoked_at = ${r.now}
          WHERE family_id = ${r.familyId} AND revoked_at IS NULL AND current_jti <> ${r.presentedJti}${notRevoked}`.execute(
        this.#db,
      );
      return affected(revoked) === 1 ? { status: 'reused' } : { status: 'revoked' };
    });
  }

  /**
   * What of the presented token's own revocation there is to check, by the
   * store's clock as {@link isRevoked} reads it: its jti, and its user's live
   * cut-off against its `iat` (a token without a finite `iat` counts as older:
   * no bar). Its family is the row being rotated, whose revocation the live
   * predicate covers. Undefined when there is nothing to check.
   */
  #presentedCheck(p: RevocationCheck | undefined): PresentedCheck | undefined {
    if (p === undefined) return undefined;
    let userKey: string | undefined;
    let bar: number | undefined;
    if (p.userKey !== undefined) {
      // iat < revoked_before, with revoked_before an integer, is floor(iat) < revoked_before:
      // the bound stays an integer, which every dialect compares with a BIGINT column.
      const iat = p.iat;
      const floor = iat === undefined || !Number.isFinite(iat) ? undefined : Math.floor(iat);
      if (floor === undefined || floor <= Number.MAX_SAFE_INTEGER) {
        userKey = p.userKey;
        if (floor !== undefined && floor >= 0) bar = floor;
      }
    }
    const { jti } = p;
    if (jti === undefined && userKey === undefined) return undefined;
    const shape = `${jti === undefined ? '' : 'j'}${userKey === undefined ? '' : bar === undefined ? 'u' : 'ub'}`;
    return { shape, storeNow: this.#now(), jti, userKey, bar };
  }

  /** The presented token revoked, as one SQL condition over the check's values (`v` places them). */
  #presentedRevoked(p: PresentedCheck, v: SlotOf<keyof RotateValues>): RawBuilder<unknown> {
    const t = this.tables;
    const checks: RawBuilder<unknown>[] = [];
    if (p.jti !== undefined) {
      checks.push(sql`EXISTS (SELECT 1 FROM ${sql.table(t.revokedTokens)}
        WHERE ${sql.ref(`${t.revokedTokens}.jti`)} = ${v('jti')}
          AND ${sql.ref(`${t.revokedTokens}.expires_at`)} > ${v('storeNow')})`);
    }
    if (p.userKey !== undefined) {
      const before =
        p.bar === undefined ? sql`` : sql` AND ${sql.ref(`${t.userCutoffs}.revoked_before`)} > ${v('bar')}`;
      checks.push(sql`EXISTS (SELECT 1 FROM ${sql.table(t.userCutoffs)}
        WHERE ${sql.ref(`${t.userCutoffs}.user_key`)} = ${v('userKey')}
          AND ${sql.ref(`${t.userCutoffs}.keep_until`)} > ${v('storeNow')}${before})`);
    }
    return sql`(${sql.join(checks, sql` OR `)})`;
  }

  /**
   * The grace branch of {@link rotateFamily}: touches `last_used_at` and reads the
   * current jti and expiry as of that write. SQLite and PostgreSQL do both in one
   * statement (`UPDATE ... RETURNING`). MySQL/MariaDB have no RETURNING on UPDATE:
   * there a short transaction writes first (the UPDATE locks the row until commit)
   * and then reads. SQLite must not hold a transaction across an await: better-sqlite3
   * waits for a lock synchronously, so a second connection in the same process would
   * block the event loop the first one needs to commit.
   */
  async #graceRetry(r: RotateRequest, live: RawBuilder<unknown>): Promise<RotateOutcome | undefined> {
    const fam = sql.table(this.tables.families);
    const touch = sql`UPDATE ${fam} SET last_used_at = ${r.now}
        WHERE family_id = ${r.familyId} AND previous_jti = ${r.presentedJti}
          AND rotated_at >= ${r.now - r.graceSeconds} AND ${live}`;
    type Row = { currentjti: unknown; expiresat: unknown };
    let row: Row | undefined;
    if (this.dialect !== 'mysql') {
      row = (
        await sql<Row>`${touch} RETURNING current_jti AS currentjti, expires_at AS expiresat`.execute(
          this.#db,
        )
      ).rows[0];
    } else {
      row = await this.#db.transaction().execute(async (trx) => {
        const touched = await touch.execute(trx);
        // The affected count is trusted only with FOUND_ROWS (mysql2's default): otherwise a
        // row whose last_used_at already equals now counts as unchanged, so look at the row.
        const state = await sql<
          Row & { grace: unknown }
        >`SELECT current_jti AS currentjti, expires_at AS expiresat,
            CASE WHEN previous_jti = ${r.presentedJti} AND rotated_at >= ${r.now - r.graceSeconds}
              AND ${live} THEN 1 ELSE 0 END AS grace
          FROM ${fam} WHERE family_id = ${r.familyId}`.execute(trx);
        const found = state.rows[0];
        return found !== undefined && (affected(touched) === 1 || num(found.grace) === 1) ? found : undefined;
      });
    }
    if (row === undefined) return undefined;
    return { status: 'grace', currentJti: text(row.currentjti), expiresAt: num(row.expiresat) };
  }

  async revokeFamily(familyId: string): Promise<boolean> {
    if (!kyselyLoaded) await loadKysely();
    checkId('familyId', familyId);
    const fam = sql.table(this.tables.families);
    const now = this.#now();
    return this.#guard('revokeFamily', async () => {
      const result = await sql`UPDATE ${fam} SET revoked_at = ${now}
          WHERE family_id = ${familyId} AND revoked_at IS NULL`.execute(this.#db);
      if (affected(result) === 1) return true;
      const exists = await sql`SELECT 1 AS one FROM ${fam} WHERE family_id = ${familyId}`.execute(this.#db);
      return exists.rows.length > 0;
    });
  }

  async revokeUserFamilies(userKey: string): Promise<number> {
    if (!kyselyLoaded) await loadKysely();
    checkId('userKey', userKey);
    const now = this.#now();
    return this.#guard('revokeUserFamilies', async () => {
      const result = await sql`UPDATE ${sql.table(this.tables.families)} SET revoked_at = ${now}
          WHERE user_key = ${userKey} AND revoked_at IS NULL AND expires_at > ${now}`.execute(this.#db);
      return affected(result);
    });
  }

  async listSessions(userKey: string, now: number): Promise<SessionInfo[]> {
    if (!kyselyLoaded) await loadKysely();
    checkId('userKey', userKey);
    checkTime('now', now);
    const result = await this.#guard('listSessions', () =>
      sql<FamilyRow>`SELECT family_id AS familyid, user_key AS userkey, created_at AS createdat,
              last_used_at AS lastusedat, expires_at AS expiresat, metadata
          FROM ${sql.table(this.tables.families)}
          WHERE user_key = ${userKey} AND ${this.#livePredicate(now)}`.execute(this.#db),
    );
    return result.rows
      .map(
        (row): SessionInfo => ({
          familyId: text(row.familyid),
          userKey: text(row.userkey),
          createdAt: num(row.createdat),
          lastUsedAt: num(row.lastusedat),
          expiresAt: num(row.expiresat),
          metadata: parseMetadata(typeof row.metadata === 'string' ? row.metadata : text(row.metadata)),
        }),
      )
      .sort(compareSessions);
  }

  async purgeExpired(now: number): Promise<number> {
    if (!kyselyLoaded) await loadKysely();
    checkTime('now', now);
    const t = this.tables;
    return this.#guard('purgeExpired', async () => {
      const a = await sql`DELETE FROM ${sql.table(t.revokedTokens)} WHERE expires_at <= ${now}`.execute(
        this.#db,
      );
      const b = await sql`DELETE FROM ${sql.table(t.userCutoffs)} WHERE keep_until <= ${now}`.execute(
        this.#db,
      );
      const c = await sql`DELETE FROM ${sql.table(t.families)} WHERE expires_at <= ${now}`.execute(this.#db);
      return affected(a) + affected(b) + affected(c);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#destroyOnClose) await this.#db.destroy();
  }

  /** A family row is live: not revoked, not expired, not older than its user's live cut-off. */
  #livePredicate(now: unknown): RawBuilder<unknown> {
    const f = this.tables.families;
    const c = this.tables.userCutoffs;
    return sql`(${sql.ref(`${f}.revoked_at`)} IS NULL AND ${sql.ref(`${f}.expires_at`)} > ${now}
      AND NOT EXISTS (SELECT 1 FROM ${sql.table(c)}
        WHERE ${sql.ref(`${c}.user_key`)} = ${sql.ref(`${f}.user_key`)}
          AND ${sql.ref(`${c}.revoked_before`)} > ${sql.ref(`${f}.created_at`)}
          AND ${sql.ref(`${c}.keep_until`)} > ${now}))`;
  }

  /** The upsert clause: `ON CONFLICT (key) DO UPDATE SET` or MySQL's `ON DUPLICATE KEY UPDATE`. */
  #onConflict(key: string): RawBuilder<unknown> {
    return this.dialect === 'mysql'
      ? sql`ON DUPLICATE KEY UPDATE`
      : sql`ON CONFLICT (${sql.id(key)}) DO UPDATE SET`;
  }

  /** The larger of the stored value and the value being inserted, for an upsert. */
  #greatest(stored: RawBuilder<unknown>, column: string): RawBuilder<unknown> {
    if (this.dialect === 'mysql') return sql`GREATEST(${sql.id(column)}, VALUES(${sql.id(column)}))`;
    const incoming = sql.ref(`excluded.${column}`);
    return sql`CASE WHEN ${incoming} > ${stored} THEN ${incoming} ELSE ${stored} END`;
  }

  /**
   * Runs one operation with a time bound; any backend failure becomes
   * `StoreUnavailableError` (cause attached), except a duplicate family id.
   * Deadlocks and busy databases are retried twice: every operation is a
   * sequence of conditional statements, so running it again is safe.
   */
  async #guard<T>(what: string, op: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('SqlStore is closed');
    for (let attempt = 0; ; attempt++) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          op(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${what} took longer than ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } catch (error) {
        if (error instanceof FamilyExistsError) throw error;
        if (attempt < 2 && RETRYABLE_CODES.has(errorCode(error) ?? '')) continue;
        throw new StoreUnavailableError(`SQL store unavailable (${this.dialect}: ${what})`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** Number of rows a write statement affected. */
function affected(result: { numAffectedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? 0n);
}

/** A `pg.Pool` rather than its configuration. */
function isPgPool(value: PgPool | PgPoolConfig): value is PgPool {
  return typeof (value as { connect?: unknown }).connect === 'function';
}

/** A `mysql2` pool rather than its options. */
function isMysqlPool(value: MysqlPoolLike | MysqlPoolOptions): value is MysqlPoolLike {
  return typeof (value as { getConnection?: unknown }).getConnection === 'function';
}
