/**
 * Users: the table's rows as objects, and the operations the routes need.
 * Passwords are hashed and verified by ./passwords (argon2id, and the Django
 * and Werkzeug formats of imported users, upgraded on login).
 */
import type { ProfileName } from 'tessera-auth';
import { type Database, int, stringList, type UserRow } from './db/schema.js';
import type { Argon2Cost } from './passwords/argon2.js';

/** A user as the service shows it. */
export interface User {
  id: number;
  username: string;
  email: string | null;
  roles: string[];
  disabled: boolean;
  createdAt: number;
  lastLoginAt: number | null;
  passwordChangedAt: number | null;
}

/** A user with the stored password hash (never leaves the service). */
export interface UserWithHash extends User {
  passwordHash: string;
}

/** The username is taken (registration, import, admin create). */
export class UsernameTakenError extends Error {
  constructor() {
    super('A user with that username already exists');
    this.name = 'UsernameTakenError';
  }
}

/** Usernames: Django's allowed characters (letters, digits and @.+-_), at most 150. */
export const USERNAME_PATTERN = /^[\p{L}\p{N}@.+_-]{1,150}$/u;

/** Roles: short identifiers. */
export const ROLE_PATTERN = /^[a-z][a-z0-9_:-]{0,39}$/;

/** The identity claim's value for a user: SimpleJWT apps expect the numeric id, the others the username. */
export function identityOf(profile: ProfileName, user: Pick<User, 'id' | 'username'>): string | number {
  return profile === 'simplejwt' ? user.id : user.username;
}

/**
 * What the service mints tokens for: a user just read from the database. The
 * token managers' callbacks take the identity claim and the roles from it, so
 * minting reads nothing more (service.ts, `tokenManagerOptions`).
 */
export class TokenSubject {
  readonly user: Pick<User, 'id' | 'username' | 'roles'>;
  constructor(user: Pick<User, 'id' | 'username' | 'roles'>) {
    this.user = user;
  }
}

function toUser(row: UserRow): UserWithHash {
  return {
    id: int(row.id),
    username: row.username,
    email: row.email,
    roles: stringList(row.roles),
    disabled: int(row.disabled) === 1,
    createdAt: int(row.created_at),
    lastLoginAt: int(row.last_login_at),
    passwordChangedAt: int(row.password_changed_at),
    passwordHash: row.password_hash,
  };
}

/** Drop the hash before a user leaves the service. */
export function publicUser(user: User): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    roles: user.roles,
    disabled: user.disabled,
    created_at: user.createdAt,
    last_login_at: user.lastLoginAt,
  };
}

const UNIQUE_CODES = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && 'code' in error && UNIQUE_CODES.has(String(error.code))
  );
}

/** The user table. */
export class Users {
  readonly #database: Database;
  // Every /auth/me, sign-in and admin check reads one of these: prepared once (Database.selectOne).
  readonly #byUsername: (username: string) => Promise<Record<string, unknown> | undefined>;
  readonly #byId: (id: number) => Promise<Record<string, unknown> | undefined>;

  constructor(database: Database) {
    this.#database = database;
    const { db, t, selectOne } = database;
    this.#byUsername =
      selectOne?.(t.users, 'username') ??
      ((username) => db.selectFrom(t.users).selectAll().where('username', '=', username).executeTakeFirst());
    this.#byId =
      selectOne?.(t.users, 'id') ??
      ((id) => db.selectFrom(t.users).selectAll().where('id', '=', id).executeTakeFirst());
  }

  async byUsername(username: string): Promise<UserWithHash | undefined> {
    const row = (await this.#byUsername(username)) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  async byId(id: number): Promise<UserWithHash | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = (await this.#byId(id)) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  /** The user a token's identity claim names (username or numeric id, per {@link identityOf}). */
  async byIdentity(identity: unknown): Promise<UserWithHash | undefined> {
    if (typeof identity === 'number') return this.byId(identity);
    if (typeof identity === 'string') return this.byUsername(identity);
    return undefined;
  }

  /**
   * Up to `limit` stored hashes that are not argon2id at `cost` (imported or
   * older ones), for the refusal time floor (passwords/timing.ts).
   */
  async hashesOtherThan(cost: Argon2Cost, limit: number): Promise<string[]> {
    const { db, t } = this.#database;
    // '$', ',' and '=' are not LIKE wildcards.
    const current = `$argon2id$v=19$m=${cost.memoryCost},t=${cost.timeCost},p=${cost.parallelism}$%`;
    const rows = (await db
      .selectFrom(t.users)
      .select('password_hash')
      .where('password_hash', 'not like', current)
      .limit(limit)
      .execute()) as Pick<UserRow, 'password_hash'>[];
    return rows.map((r) => r.password_hash);
  }

  async count(): Promise<number> {
    const { db, t } = this.#database;
    const row = (await db
      .selectFrom(t.users)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()) as { n: number | string | bigint } | undefined;
    return Number(row?.n ?? 0);
  }

  async create(input: {
    username: string;
    passwordHash: string;
    email?: string | null;
    roles?: readonly string[];
    disabled?: boolean;
  }): Promise<UserWithHash> {
    const { db, t } = this.#database;
    const now = Math.floor(Date.now() / 1000);
    try {
      await db
        .insertInto(t.users)
        .values({
          username: input.username,
          password_hash: input.passwordHash,
          email: input.email ?? null,
          roles: JSON.stringify([...new Set(input.roles ?? [])]),
          disabled: input.disabled ? 1 : 0,
          created_at: now,
          last_login_at: null,
          password_changed_at: null,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new UsernameTakenError();
      throw error;
    }
    const user = await this.byUsername(input.username);
    if (user === undefined) throw new Error('user vanished after insert');
    return user;
  }

  async list(limit: number, offset: number): Promise<User[]> {
    const { db, t } = this.#database;
    const rows = (await db
      .selectFrom(t.users)
      .selectAll()
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute()) as UserRow[];
    return rows.map(toUser);
  }

  async setPasswordHash(id: number, hash: string, changed: boolean): Promise<void> {
    const { db, t } = this.#database;
    const values: Record<string, unknown> = { password_hash: hash };
    if (changed) values.password_changed_at = Math.floor(Date.now() / 1000);
    await db.updateTable(t.users).set(values).where('id', '=', id).execute();
  }

  async touchLogin(id: number): Promise<void> {
    const { db, t } = this.#database;
    await db
      .updateTable(t.users)
      .set({ last_login_at: Math.floor(Date.now() / 1000) })
      .where('id', '=', id)
      .execute();
  }

  async update(
    id: number,
    changes: { roles?: readonly string[]; disabled?: boolean; email?: string | null },
  ): Promise<void> {
    const { db, t } = this.#database;
    const values: Record<string, unknown> = {};
    if (changes.roles !== undefined) values.roles = JSON.stringify([...new Set(changes.roles)]);
    if (changes.disabled !== undefined) values.disabled = changes.disabled ? 1 : 0;
    if (changes.email !== undefined) values.email = changes.email;
    if (Object.keys(values).length === 0) return;
    await db.updateTable(t.users).set(values).where('id', '=', id).execute();
  }
}
