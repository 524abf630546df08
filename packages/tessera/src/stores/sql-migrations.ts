/**
 * The SQL store's schema, shipped as code: an ordered list of migrations, each a
 * list of DDL statements per dialect. `SqlStore.migrate()` applies the ones not
 * yet recorded in the `<prefix>schema_version` table.
 *
 * This module is plain text and imports no database package, so it can be read
 * (or its DDL printed for a DBA) without Kysely or a driver installed.
 *
 * Column choices, and why:
 * - times are `BIGINT` unix seconds (no time zones, no driver date conversion);
 * - ids are compared byte for byte: `TEXT` on SQLite and PostgreSQL (binary
 *   comparison), `VARBINARY(255)` on MySQL/MariaDB, whose default collations are
 *   case-insensitive and ignore trailing spaces (a jti "ABC" must never match "abc");
 * - `metadata` is JSON text, read back only by the store.
 *
 * @module
 */

/** The SQL dialects the store speaks. */
export type SqlDialectName = 'sqlite' | 'postgres' | 'mysql';

/** The physical names of the store's tables for one prefix. */
export interface TableNames {
  /** Applied migrations. */
  readonly schemaVersion: string;
  /** Revoked jtis: `jti` PK, `expires_at`. */
  readonly revokedTokens: string;
  /** Per-user cut-offs: `user_key` PK, `revoked_before`, `keep_until`. */
  readonly userCutoffs: string;
  /** Refresh families (login sessions). */
  readonly families: string;
}

/** One schema step. `version`s are consecutive integers starting at 1; never edit a released one. */
export interface Migration {
  /** Position in the sequence. */
  readonly version: number;
  /** Short description, recorded with the version. */
  readonly name: string;
  /** The DDL statements for a dialect, idempotent where the dialect allows. */
  readonly up: (dialect: SqlDialectName, t: TableNames) => readonly string[];
}

/** Allowed table prefixes: they are spliced into DDL, so only identifier characters. */
const PREFIX_RE = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/** Default table prefix. */
export const DEFAULT_TABLE_PREFIX = 'tessera_';

/** The table names for `prefix`; throws on a prefix that is not a plain identifier. */
export function tableNames(prefix: string = DEFAULT_TABLE_PREFIX): TableNames {
  if (!PREFIX_RE.test(prefix)) {
    throw new TypeError('table prefix must match /^[A-Za-z_][A-Za-z0-9_]{0,39}$/');
  }
  return Object.freeze({
    schemaVersion: `${prefix}schema_version`,
    revokedTokens: `${prefix}revoked_tokens`,
    userCutoffs: `${prefix}user_cutoffs`,
    families: `${prefix}families`,
  });
}

/** Quotes a (validated) identifier for the dialect. */
export function quoteId(dialect: SqlDialectName, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/** Column type of ids, compared byte for byte (see the module comment). */
function idType(dialect: SqlDialectName): string {
  return dialect === 'mysql' ? 'VARBINARY(255)' : 'TEXT';
}

/** Table options: MySQL gets an explicit engine and charset so behaviour does not depend on server defaults. */
function tableSuffix(dialect: SqlDialectName): string {
  return dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
}

/**
 * Builds `CREATE TABLE` plus secondary indexes. MySQL has no
 * `CREATE INDEX IF NOT EXISTS`, so there the indexes are declared inline.
 */
function createTable(
  dialect: SqlDialectName,
  table: string,
  columns: readonly string[],
  indexes: readonly { name: string; column: string }[],
): string[] {
  const q = (n: string) => quoteId(dialect, n);
  const inline = dialect === 'mysql' ? indexes.map((i) => `KEY ${q(i.name)} (${q(i.column)})`) : [];
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${q(table)} (\n  ${[...columns, ...inline].join(',\n  ')}\n)${tableSuffix(dialect)}`,
  ];
  if (dialect !== 'mysql') {
    for (const i of indexes) {
      statements.push(`CREATE INDEX IF NOT EXISTS ${q(i.name)} ON ${q(table)} (${q(i.column)})`);
    }
  }
  return statements;
}

/** The statement creating the version table (run before anything else, outside the migration list). */
export function schemaVersionDdl(dialect: SqlDialectName, t: TableNames): string {
  return createTable(
    dialect,
    t.schemaVersion,
    ['version INTEGER NOT NULL PRIMARY KEY', 'name VARCHAR(100) NOT NULL', 'applied_at BIGINT NOT NULL'],
    [],
  )[0]!;
}

/** Every migration, in order. */
export const migrations: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'revoked tokens, user cut-offs, refresh families',
    up: (dialect: SqlDialectName, t: TableNames): string[] => {
      const id = idType(dialect);
      return [
        ...createTable(
          dialect,
          t.revokedTokens,
          [`jti ${id} NOT NULL PRIMARY KEY`, 'expires_at BIGINT NOT NULL'],
          [{ name: `${t.revokedTokens}_exp_idx`, column: 'expires_at' }],
        ),
        ...createTable(
          dialect,
          t.userCutoffs,
          [
            `user_key ${id} NOT NULL PRIMARY KEY`,
            'revoked_before BIGINT NOT NULL',
            'keep_until BIGINT NOT NULL',
          ],
          [{ name: `${t.userCutoffs}_keep_idx`, column: 'keep_until' }],
        ),
        ...createTable(
          dialect,
          t.families,
          [
            `family_id ${id} NOT NULL PRIMARY KEY`,
            `user_key ${id} NOT NULL`,
            `current_jti ${id} NOT NULL`,
            `previous_jti ${id} NULL`,
            'rotated_at BIGINT NULL',
            'created_at BIGINT NOT NULL',
            'last_used_at BIGINT NOT NULL',
            'expires_at BIGINT NOT NULL',
            'revoked_at BIGINT NULL',
            'metadata TEXT NOT NULL',
          ],
          [
            { name: `${t.families}_user_idx`, column: 'user_key' },
            { name: `${t.families}_exp_idx`, column: 'expires_at' },
          ],
        ),
      ];
    },
  },
]);

/** The schema version this library expects (the last migration). */
export const LATEST_SCHEMA_VERSION: number = migrations[migrations.length - 1]!.version;
