/**
 * The service's own tables (users, signing keys, API keys, invites, audit
 * events) and their migrations, for SQLite and PostgreSQL through Kysely. The
 * token store's tables (revocations, refresh families) belong to
 * `tessera-auth/stores/sql` and are migrated by it.
 */
import { type Kysely, sql } from 'kysely';

/** Which SQL engine holds the data. */
export type Dialect = 'sqlite' | 'postgres';

/** Integers come back as number (SQLite) or string (PostgreSQL BIGINT). */
export type Int = number | string;

export interface UserRow {
  id: Int;
  username: string;
  password_hash: string;
  email: string | null;
  /** JSON array of role names. */
  roles: string;
  disabled: Int;
  created_at: Int;
  last_login_at: Int | null;
  password_changed_at: Int | null;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  /** The public JWK (JSON); for HMAC keys, empty: nothing is published. */
  public_jwk: string;
  /** The private JWK (JSON), or its AES-256-GCM envelope when `encrypted` is 1. */
  private_jwk: string;
  encrypted: Int;
  created_at: Int;
  /** When it stopped signing (rotation), null while it is the newest. */
  retired_at: Int | null;
  /** When it stops verifying and leaves the JWKS. */
  expires_at: Int | null;
}

export interface ApiKeyRow {
  id: string;
  user_id: Int;
  name: string;
  /** SHA-256 (hex) of the whole key. */
  hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: Int;
  expires_at: Int | null;
  last_used_at: Int | null;
  revoked_at: Int | null;
}

export interface InviteRow {
  hash: string;
  created_by: string;
  roles: string;
  created_at: Int;
  expires_at: Int;
  used_at: Int | null;
}

export interface ThrottleRow {
  id: string;
  attempts: Int;
  /** Of the attempts, failures (the rest are in flight). */
  failures: Int;
  window_start: Int;
  locked_until: Int;
  lock_level: Int;
  forget_at: Int;
}

export interface AuditRow {
  id: Int;
  at: Int;
  type: string;
  actor: string | null;
  subject: string | null;
  address: string | null;
  /** JSON object. */
  detail: string;
}

interface MigrationRow {
  version: Int;
  applied_at: Int;
}

/** Physical table names under one prefix. */
export interface Tables {
  users: string;
  signingKeys: string;
  apiKeys: string;
  invites: string;
  audit: string;
  /** Sign-in throttle records (./throttle/sql.ts), when there is no Redis. */
  throttle: string;
  migrations: string;
}

export function tables(prefix: string): Tables {
  return {
    users: `${prefix}users`,
    signingKeys: `${prefix}signing_keys`,
    apiKeys: `${prefix}api_keys`,
    invites: `${prefix}invites`,
    audit: `${prefix}audit_events`,
    throttle: `${prefix}throttle`,
    migrations: `${prefix}service_migrations`,
  };
}

/**
 * The database as Kysely sees it. Table names carry a configurable prefix, so
 * queries go through `db.withTables(...)`-free dynamic names: see {@link Database}.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's table map is keyed by runtime (prefixed) names.
export type AnyDB = Record<string, any>;

/**
 * A prepared read of the row whose `column` equals a value, for hot paths
 * (the user of every /auth/me and sign-in): no query building per call.
 */
export type SelectOne = (
  table: string,
  column: string,
) => (value: string | number) => Promise<Record<string, unknown> | undefined>;

/** Typed access to the prefixed tables. */
export interface Database {
  readonly db: Kysely<AnyDB>;
  readonly dialect: Dialect;
  readonly t: Tables;
  /** Prepared single-row reads (db/connect.ts); absent on a bare Kysely handle (tests), which then serves them. */
  readonly selectOne?: SelectOne;
}

type Step = (db: Kysely<AnyDB>, t: Tables, dialect: Dialect) => Promise<void>;

/** Schema steps; never edit a released one, add the next. */
const STEPS: readonly Step[] = [
  async (db, t, dialect) => {
    const id = dialect === 'postgres' ? 'bigserial' : 'integer';
    const idColumn = (c: ReturnType<typeof db.schema.createTable>) =>
      dialect === 'postgres'
        ? c.addColumn('id', id, (col) => col.primaryKey())
        : c.addColumn('id', id, (col) => col.primaryKey().autoIncrement());
    await idColumn(db.schema.createTable(t.users).ifNotExists())
      .addColumn('username', 'varchar(150)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('email', 'varchar(254)')
      .addColumn('roles', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_login_at', 'bigint')
      .addColumn('password_changed_at', 'bigint')
      .execute();
    await db.schema
      .createTable(t.signingKeys)
      .ifNotExists()
      .addColumn('kid', 'varchar(100)', (c) => c.primaryKey())
      .addColumn('alg', 'varchar(10)', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .addColumn('encrypted', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('retired_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema
      .createTable(t.apiKeys)
      .ifNotExists()
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('user_id', 'bigint', (c) => c.notNull())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      .addColumn('hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema
      .createTable(t.invites)
      .ifNotExists()
      .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('created_by', 'varchar(150)', (c) => c.notNull())
      .addColumn('roles', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await idColumn(db.schema.createTable(t.audit).ifNotExists())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('type', 'varchar(60)', (c) => c.notNull())
      .addColumn('actor', 'varchar(150)')
      .addColumn('subject', 'varchar(150)')
      .addColumn('address', 'varchar(100)')
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${t.audit}_at`).ifNotExists().on(t.audit).column('at').execute();
    await db.schema.createIndex(`${t.apiKeys}_user`).ifNotExists().on(t.apiKeys).column('user_id').execute();
  },
  // 2: the sign-in throttle's records, so that locks survive a restart without Redis.
  async (db, t) => {
    await db.schema
      .createTable(t.throttle)
      .ifNotExists()
      // `<kind>:<base64url SHA-256 of the value>`: no username or address is stored.
      .addColumn('id', 'varchar(80)', (c) => c.primaryKey())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint', (c) => c.notNull())
      .addColumn('lock_level', 'integer', (c) => c.notNull())
      .addColumn('forget_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex(`${t.throttle}_forget`)
      .ifNotExists()
      .on(t.throttle)
      .column('forget_at')
      .execute();
  },
  // 3: failures counted apart from attempts in flight, so that only failures lock. Rows written
  // before count as attempts in flight: they hold the budget until their window ends, lock nobody.
  async (db, t) => {
    await db.schema
      .alterTable(t.throttle)
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
];

/**
 * Bring the schema up to date. Several instances may start at once: on
 * PostgreSQL a transaction-scoped advisory lock serialises them; SQLite has one
 * writer. Returns the versions applied.
 */
export async function migrate(database: Database): Promise<number[]> {
  const { db, t, dialect } = database;
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(${t.migrations}))`.execute(trx);
    }
    await trx.schema
      .createTable(t.migrations)
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    const rows = (await trx.selectFrom(t.migrations).select('version').execute()) as Pick<
      MigrationRow,
      'version'
    >[];
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const [index, step] of STEPS.entries()) {
      const version = index + 1;
      if (done.has(version)) continue;
      await step(trx, t, dialect);
      await trx
        .insertInto(t.migrations)
        .values({ version, applied_at: Math.floor(Date.now() / 1000) })
        .execute();
      applied.push(version);
    }
    return applied;
  });
}

/** Parse a JSON array of strings stored in a text column; anything else reads as empty. */
export function stringList(text: string | null | undefined): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** A database integer as a JS number (null stays null). */
export function int(value: Int): number;
export function int(value: Int | null): number | null;
export function int(value: Int | null): number | null {
  return value === null ? null : Number(value);
}
