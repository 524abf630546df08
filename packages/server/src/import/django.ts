/**
 * Users from a Django `auth_user` table, on SQLite (a file path) or PostgreSQL
 * (a `postgres://` or `postgresql://` URL), through Kysely. The table is read
 * in id order, in batches, read-only; the drivers (better-sqlite3, pg) are
 * loaded only when used.
 *
 * Django's columns map as: `username`, `password` (the stored hash, kept as
 * is), `email` (empty → none), `is_active`; `is_staff` gives the role `staff`,
 * `is_superuser` the role `admin`. Groups and permissions are not read.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { type Generated, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Pool } from 'pg';
import { refuseUnknownOptions } from 'tessera-auth/core';
import { checkUser, type ImportedUser, type ImportProgress, UserImportError } from './user.js';

/** Options of {@link readDjangoAuthUsers}. */
export interface DjangoImportOptions {
  /** The table, optionally schema-qualified (`public.auth_user`). Default `auth_user`. */
  readonly table?: string;
  /** Rows per query. Default 1000. */
  readonly batchSize?: number;
  /** Called after each batch with the users read and the table's row count. */
  readonly onProgress?: (progress: ImportProgress) => void;
}

interface AuthUserTable {
  id: Generated<number>;
  username: string;
  password: string;
  email: string | null;
  is_active: number | boolean;
  is_staff: number | boolean;
  is_superuser: number | boolean;
}

interface DjangoDatabase {
  auth_user: AuthUserTable;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

/**
 * Reads every user of a Django `auth_user` table, in id order. `source` is the
 * path of a SQLite database file or a PostgreSQL URL. Throws
 * {@link UserImportError} when the source cannot be opened, the table or a
 * column is missing, or a row breaks the user rules (naming the row's id);
 * never includes the URL (which may hold a password) in a message.
 */
export async function* readDjangoAuthUsers(
  source: string,
  options: DjangoImportOptions = {},
): AsyncGenerator<ImportedUser, void, undefined> {
  refuseUnknownOptions(options, ['table', 'batchSize', 'onProgress'], 'Django import options');
  const table = options.table ?? 'auth_user';
  if (!IDENTIFIER.test(table)) throw new UserImportError(`table '${table.slice(0, 80)}' is not a table name`);
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new UserImportError('batchSize must be an integer from 1 to 100000');
  }
  const db = await open(source);
  try {
    // The table name is checked above; Kysely quotes it (and splits schema.table).
    const users = table as 'auth_user';
    const total = Number(
      (
        await query(
          db
            .selectFrom(users)
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .executeTakeFirst(),
        )
      )?.n ?? 0,
    );
    let read = 0;
    let after: number | undefined;
    for (;;) {
      let select = db
        .selectFrom(users)
        .select(['id', 'username', 'password', 'email', 'is_active', 'is_staff', 'is_superuser']);
      if (after !== undefined) select = select.where('id', '>', after);
      const rows = await query(select.orderBy('id').limit(batchSize).execute());
      for (const row of rows) {
        const roles: string[] = [];
        if (truthy(row.is_staff)) roles.push('staff');
        if (truthy(row.is_superuser)) roles.push('admin');
        yield checkUser(
          {
            username: String(row.username ?? ''),
            passwordHash: String(row.password ?? ''),
            email: row.email ?? undefined,
            isActive: truthy(row.is_active),
            roles,
          },
          `${table} id ${row.id}`,
        );
        read++;
      }
      options.onProgress?.({ read, total });
      if (rows.length < batchSize) break;
      after = Number((rows.at(-1) as { id: number }).id);
    }
  } finally {
    await db.destroy();
  }
}

function truthy(value: number | boolean | string | null): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

async function query<T>(running: Promise<T>): Promise<T> {
  try {
    return await running;
  } catch (error) {
    // Driver messages name the missing table or column; they never carry the connection URL.
    const reason = error instanceof Error ? error.message : String(error);
    throw new UserImportError(`could not read the Django user table: ${reason}`, undefined, { cause: error });
  }
}

async function open(source: string): Promise<Kysely<DjangoDatabase>> {
  if (typeof source !== 'string' || source === '') {
    throw new UserImportError('the source must be a SQLite file path or a PostgreSQL URL');
  }
  if (/^postgres(ql)?:\/\//.test(source)) {
    const pg = (await import('pg')) as unknown as { default?: { Pool: typeof Pool }; Pool?: typeof Pool };
    const PgPool = (pg.default?.Pool ?? pg.Pool) as typeof Pool;
    const pool = new PgPool({
      connectionString: source,
      max: 1,
      connectionTimeoutMillis: 5000,
      query_timeout: 60_000,
    });
    pool.on('error', () => undefined); // an idle client's error surfaces on the next query instead
    return new Kysely<DjangoDatabase>({ dialect: new PostgresDialect({ pool }) });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new UserImportError('only SQLite file paths and postgres:// URLs are read');
  }
  const sqlite = (await import('better-sqlite3')) as unknown as { default: typeof BetterSqlite3 };
  let database: BetterSqlite3.Database;
  try {
    database = new sqlite.default(source, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (error) {
    throw new UserImportError(
      `cannot open the SQLite database: ${error instanceof Error ? error.message : String(error)}`,
      undefined,
      { cause: error },
    );
  }
  return new Kysely<DjangoDatabase>({ dialect: new SqliteDialect({ database }) });
}
