/**
 * API keys: opaque, high-entropy secrets shown once at creation and stored as
 * SHA-256 hashes (a leaked table grants nothing; a 256-bit secret needs no slow
 * hash). A key reads `tsk_<id>_<secret>`: the id is its public prefix, listed
 * to the owner and in logs, the secret is never stored. Each key has scopes,
 * an optional expiry, and its last use (recorded at most once a minute).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type ApiKeyRow, type Database, int, stringList } from './db/schema.js';

/** Scopes a key may carry. */
export const API_KEY_SCOPES = ['introspect', 'revoke', 'read:profile', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A key as listed to its owner (no secret). */
export interface ApiKeyInfo {
  id: string;
  userId: number;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

const KEY_PATTERN = /^tsk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const LAST_USE_GRANULARITY = 60;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    userId: int(row.user_id),
    name: row.name,
    prefix: `tsk_${row.id}_`,
    scopes: stringList(row.scopes),
    createdAt: int(row.created_at),
    expiresAt: int(row.expires_at),
    lastUsedAt: int(row.last_used_at),
  };
}

/** The JSON shape of a key in answers. */
export function apiKeyJson(info: ApiKeyInfo): Record<string, unknown> {
  return {
    id: info.id,
    name: info.name,
    prefix: info.prefix,
    scopes: info.scopes,
    created_at: info.createdAt,
    expires_at: info.expiresAt,
    last_used_at: info.lastUsedAt,
  };
}

/** The API-key table. */
export class ApiKeys {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  /** Make a key; the returned `key` is the only copy of the secret. */
  async create(input: {
    userId: number;
    name: string;
    scopes: readonly string[];
    expiresAt: number | null;
  }): Promise<{ key: string; info: ApiKeyInfo }> {
    const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
    const key = `tsk_${id}_${randomBytes(32).toString('base64url')}`;
    const row: ApiKeyRow = {
      id,
      user_id: input.userId,
      name: input.name,
      hash: sha256(key),
      scopes: JSON.stringify([...new Set(input.scopes)]),
      created_at: Math.floor(Date.now() / 1000),
      expires_at: input.expiresAt,
      last_used_at: null,
      revoked_at: null,
    };
    const { db, t } = this.#database;
    await db.insertInto(t.apiKeys).values(row).execute();
    return { key, info: toInfo(row) };
  }

  /**
   * The live key this secret is, or undefined. Lookup is by id, then a
   * constant-time comparison of hashes, so response time says nothing about the secret.
   */
  async authenticate(key: string): Promise<ApiKeyInfo | undefined> {
    const match = KEY_PATTERN.exec(key);
    if (match === null) return undefined;
    const { db, t } = this.#database;
    const row = (await db.selectFrom(t.apiKeys).selectAll().where('id', '=', match[1]!).executeTakeFirst()) as
      | ApiKeyRow
      | undefined;
    if (row === undefined) return undefined;
    const given = Buffer.from(sha256(key), 'hex');
    const stored = Buffer.from(row.hash, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (row.revoked_at !== null) return undefined;
    if (row.expires_at !== null && int(row.expires_at) <= now) return undefined;
    if (row.last_used_at === null || int(row.last_used_at) + LAST_USE_GRANULARITY <= now) {
      await db.updateTable(t.apiKeys).set({ last_used_at: now }).where('id', '=', row.id).execute();
      row.last_used_at = now;
    }
    return toInfo(row);
  }

  async list(userId: number): Promise<ApiKeyInfo[]> {
    const { db, t } = this.#database;
    const rows = (await db
      .selectFrom(t.apiKeys)
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .execute()) as ApiKeyRow[];
    return rows.map(toInfo);
  }

  /** Revoke one key of a user; false when there is no such live key. */
  async revoke(userId: number, id: string): Promise<boolean> {
    const { db, t } = this.#database;
    const result = await db
      .updateTable(t.apiKeys)
      .set({ revoked_at: Math.floor(Date.now() / 1000) })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Revoke every key of a user (disable, revoke everything). */
  async revokeAll(userId: number): Promise<number> {
    const { db, t } = this.#database;
    const result = await db
      .updateTable(t.apiKeys)
      .set({ revoked_at: Math.floor(Date.now() / 1000) })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

/** Invites for registration mode `invite`: single-use codes, stored hashed. */
export class Invites {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async create(
    createdBy: string,
    roles: readonly string[],
    ttlSeconds: number,
  ): Promise<{ code: string; expiresAt: number }> {
    const code = randomBytes(24).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const { db, t } = this.#database;
    await db
      .insertInto(t.invites)
      .values({
        hash: sha256(code),
        created_by: createdBy,
        roles: JSON.stringify(roles),
        created_at: now,
        expires_at: now + ttlSeconds,
        used_at: null,
      })
      .execute();
    return { code, expiresAt: now + ttlSeconds };
  }

  /** Spend an invite (once, atomically); the roles it grants, or undefined when it is not valid. */
  async redeem(code: string): Promise<string[] | undefined> {
    const hash = sha256(code);
    const now = Math.floor(Date.now() / 1000);
    const { db, t } = this.#database;
    const result = await db
      .updateTable(t.invites)
      .set({ used_at: now })
      .where('hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    const row = (await db
      .selectFrom(t.invites)
      .select('roles')
      .where('hash', '=', hash)
      .executeTakeFirst()) as { roles: string } | undefined;
    return stringList(row?.roles);
  }
}
