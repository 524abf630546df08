/**
 * The local revocation cache of `RedisStore` (`localCache: true`): each process
 * keeps the revoked jtis, user cut-offs and revoked families in memory, fed by
 * Redis pub/sub and resynchronised from Redis on every (re)connect, so that the
 * hot-path `isRevoked` costs no network round trip.
 *
 * Only revocations are cached, and revocations only ever grow (a jti's expiry
 * and a cut-off only move forward), so applying the same fact twice, or in any
 * order, gives the same cache: a message that races the resync scan is harmless.
 *
 * This module holds data only; it imports no Redis client.
 *
 * @module
 */
import { ExpiryHeap } from './expiry-heap.js';
import { isBeforeCutoff } from './rules.js';
import type { RevocationCheck } from './types.js';

/**
 * Wire format of the `<prefix>revocations` channel, one fact per message, the
 * id last so that it may contain any character:
 * `j|<expiresAt>|<jti>`, `c|<revokedBefore>|<keepUntil>|<userKey>`, `f|<expiresAt>|<familyId>`,
 * and `g|<revokedBefore>|<generation>` for the store-wide cut-off written after
 * Redis lost its data. The Lua scripts build the same strings.
 */
export type RevocationMessage =
  | { kind: 'jti'; id: string; expiresAt: number }
  | { kind: 'cutoff'; id: string; revokedBefore: number; keepUntil: number }
  | { kind: 'family'; id: string; expiresAt: number }
  | { kind: 'everyone'; id: string; revokedBefore: number };

/** Parses a channel message; `undefined` when it is not one of ours. */
export function parseRevocationMessage(message: string): RevocationMessage | undefined {
  const kind = message[0];
  if (message[1] !== '|') return undefined;
  const fields = (count: number): { nums: number[]; id: string } | undefined => {
    let at = 2;
    const nums: number[] = [];
    for (let i = 0; i < count; i++) {
      const bar = message.indexOf('|', at);
      if (bar < 0) return undefined;
      const n = Number(message.slice(at, bar));
      if (!Number.isSafeInteger(n)) return undefined;
      nums.push(n);
      at = bar + 1;
    }
    const id = message.slice(at);
    return id.length > 0 ? { nums, id } : undefined;
  };
  if (kind === 'j' || kind === 'f') {
    const f = fields(1);
    if (f === undefined) return undefined;
    return { kind: kind === 'j' ? 'jti' : 'family', id: f.id, expiresAt: f.nums[0]! };
  }
  if (kind === 'g') {
    const f = fields(1);
    return f === undefined ? undefined : { kind: 'everyone', id: f.id, revokedBefore: f.nums[0]! };
  }
  if (kind === 'c') {
    const f = fields(2);
    if (f === undefined) return undefined;
    return { kind: 'cutoff', id: f.id, revokedBefore: f.nums[0]!, keepUntil: f.nums[1]! };
  }
  return undefined;
}

/** Encodes a fact in the channel's wire format. */
export function formatRevocationMessage(m: RevocationMessage): string {
  switch (m.kind) {
    case 'jti':
      return `j|${m.expiresAt}|${m.id}`;
    case 'family':
      return `f|${m.expiresAt}|${m.id}`;
    case 'everyone':
      return `g|${m.revokedBefore}|${m.id}`;
    default:
      return `c|${m.revokedBefore}|${m.keepUntil}|${m.id}`;
  }
}

/**
 * Does the store-wide cut-off (written after Redis lost its data) cover the
 * token a check names? Its `iat` is compared as with a user cut-off, a token
 * without `iat` counting as older; a check that names no token (`{}`) is not.
 */
export function revokedForEveryone(check: RevocationCheck, revokedBefore: number): boolean {
  const namesToken =
    check.jti !== undefined ||
    check.userKey !== undefined ||
    check.familyId !== undefined ||
    check.iat !== undefined;
  return namesToken && isBeforeCutoff(check.iat, revokedBefore);
}

type CacheKey = `j${string}` | `c${string}` | `f${string}`;

/**
 * A bounded set of revocation facts with lazy expiry.
 *
 * When full it does not evict live facts (that would un-revoke tokens
 * silently): it reclaims expired ones, and if none has expired it stops being
 * {@link RevocationCache.complete}; the store then asks Redis whenever the cache
 * has no positive answer, until the next full resync.
 */
export class RevocationCache {
  readonly #max: number;
  readonly #jtis = new Map<string, number>();
  readonly #cutoffs = new Map<string, { revokedBefore: number; keepUntil: number }>();
  readonly #families = new Map<string, number>();
  readonly #heap = new ExpiryHeap<CacheKey>();
  /** The store-wide cut-off (0: none); one number, never evicted. */
  #everyoneBefore = 0;
  #complete = true;

  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
  }

  /** True while every fact received since the last {@link clear} is held. */
  get complete(): boolean {
    return this.#complete;
  }

  /** Number of facts held. */
  get size(): number {
    return this.#jtis.size + this.#cutoffs.size + this.#families.size;
  }

  /** Forgets everything (before a full resync). */
  clear(): void {
    this.#jtis.clear();
    this.#cutoffs.clear();
    this.#families.clear();
    this.#heap.rebuild([]);
    this.#everyoneBefore = 0;
    this.#complete = true;
  }

  /** Marks the cache as possibly missing facts (a message it could not read). */
  markIncomplete(): void {
    this.#complete = false;
  }

  /** Adds one fact, keeping the later expiry / the larger cut-off. Returns false if it did not fit. */
  add(m: RevocationMessage, now: number): boolean {
    switch (m.kind) {
      case 'everyone':
        this.#everyoneBefore = Math.max(this.#everyoneBefore, m.revokedBefore);
        return true;
      case 'jti': {
        const cur = this.#jtis.get(m.id);
        if (cur !== undefined && cur >= m.expiresAt) return true;
        if (cur === undefined && !this.#room(now)) return false;
        this.#jtis.set(m.id, m.expiresAt);
        this.#push(m.expiresAt, `j${m.id}`);
        return true;
      }
      case 'family': {
        const cur = this.#families.get(m.id);
        if (cur !== undefined && cur >= m.expiresAt) return true;
        if (cur === undefined && !this.#room(now)) return false;
        this.#families.set(m.id, m.expiresAt);
        this.#push(m.expiresAt, `f${m.id}`);
        return true;
      }
      default: {
        const cur = this.#cutoffs.get(m.id);
        if (cur === undefined && !this.#room(now)) return false;
        const keepUntil = Math.max(cur?.keepUntil ?? 0, m.keepUntil);
        this.#cutoffs.set(m.id, {
          revokedBefore: Math.max(cur?.revokedBefore ?? 0, m.revokedBefore),
          keepUntil,
        });
        if (keepUntil !== cur?.keepUntil) this.#push(keepUntil, `c${m.id}`);
        return true;
      }
    }
  }

  /**
   * Answers from memory: `true` when a held fact revokes the token, `false`
   * when none does and the cache is complete, `undefined` when none does but the
   * cache may be missing facts (ask Redis).
   */
  check(check: RevocationCheck, now: number): boolean | undefined {
    if (this.#everyoneBefore > 0 && revokedForEveryone(check, this.#everyoneBefore)) return true;
    if (check.jti !== undefined) {
      const exp = this.#jtis.get(check.jti);
      if (exp !== undefined && now < exp) return true;
    }
    if (check.userKey !== undefined) {
      const c = this.#cutoffs.get(check.userKey);
      if (c !== undefined && now < c.keepUntil && isBeforeCutoff(check.iat, c.revokedBefore)) return true;
    }
    // A revoked family stays revoked until it is purged, as in the other stores.
    if (check.familyId !== undefined && this.#families.has(check.familyId)) return true;
    return this.#complete ? false : undefined;
  }

  #push(at: number, key: CacheKey): void {
    this.#heap.push(at, key);
    if (this.#heap.size > 2 * this.size + 1024) this.#rebuild();
  }

  /** Reclaims expired facts until one more fits; false (and incomplete) if none can go. */
  #room(now: number): boolean {
    for (
      let top = this.#heap.peek();
      this.size >= this.#max && top !== undefined && top.at <= now;
      top = this.#heap.peek()
    ) {
      this.#heap.pop();
      const id = top.key.slice(1);
      if (top.key[0] === 'j' && this.#jtis.get(id) === top.at) this.#jtis.delete(id);
      else if (top.key[0] === 'f' && this.#families.get(id) === top.at) this.#families.delete(id);
      else if (top.key[0] === 'c' && this.#cutoffs.get(id)?.keepUntil === top.at) this.#cutoffs.delete(id);
    }
    if (this.size < this.#max) return true;
    this.#complete = false;
    return false;
  }

  #rebuild(): void {
    const items: { at: number; key: CacheKey }[] = [];
    for (const [id, at] of this.#jtis) items.push({ at, key: `j${id}` });
    for (const [id, at] of this.#families) items.push({ at, key: `f${id}` });
    for (const [id, c] of this.#cutoffs) items.push({ at: c.keepUntil, key: `c${id}` });
    this.#heap.rebuild(items);
  }
}
