/**
 * A bounded (approximately LRU) cache of verified tokens. A hit skips the signature and JSON work,
 * never the clock: an entry is dropped once `exp` passes, so a cached token is
 * never accepted after it expires. Revocation is checked by the caller on every
 * request, cached or not.
 */
import { TokenExpiredError } from '../errors.js';
import type { TesseraKey } from '../keys/key.js';
import type { VerifiedJwt } from './verifier.js';

/** A cached verification and the key that verified it. */
export interface CacheEntry {
  readonly verified: VerifiedJwt;
  readonly key: TesseraKey;
}

export class VerifiedTokenCache {
  readonly #max: number;
  readonly #leeway: number;
  // Keyed by the token's last characters (signature bytes): every request brings
  // a new string that the Map must hash, and 16 characters hash in a fraction of
  // the time the whole token would. The whole token is compared on a hit, and only
  // verified tokens are stored, so a forged token sharing the tail only misses.
  readonly #entries = new Map<string, Entry>();
  #seq = 0;
  // The entry `has` found, for the `get` that follows. A guard asks `has` before it
  // verifies the same token (to skip the header's separator scan), so the verification
  // finds the entry here without a second Map lookup. Only `has` sets it and the next
  // `get` takes it: a caller that only verifies pays nothing for it. Cleared as well
  // whenever its entry leaves the Map.
  #recent: Entry | undefined;

  constructor(maxEntries: number, leeway: number) {
    this.#max = maxEntries;
    this.#leeway = leeway;
  }

  /**
   * Whether `token` is held (verified before). Says nothing of its expiry or of
   * its key: {@link get} checks those.
   */
  has(token: string): boolean {
    const hit = this.#lookup(token);
    if (hit === undefined) return false;
    this.#recent = hit;
    return true;
  }

  get(token: string, now: number, allowExpired: boolean): CacheEntry | undefined {
    // The entry `has` found is handed to this one call: the guard's token, asked twice
    // (the same string, compared by reference). Taken once, so a caller that only
    // verifies never compares tokens with it.
    const recent = this.#recent;
    let hit: Entry | undefined;
    if (recent !== undefined) {
      this.#recent = undefined;
      if (recent.token === token) hit = recent;
    }
    hit ??= this.#lookup(token);
    if (hit === undefined) return undefined;
    const { header, payload } = hit.verified;
    const exp = payload.exp;
    if (exp !== undefined && exp <= now - this.#leeway) {
      this.delete(token);
      if (allowExpired) return undefined;
      throw new TokenExpiredError({ header, payload });
    }
    // Approximate LRU: an entry that has drifted into the older half moves back to
    // the young end (Map keeps insertion order); recent hits cost nothing.
    if (this.#seq - hit.seq > this.#max / 2) {
      const key = keyOf(token);
      this.#entries.delete(key);
      hit.seq = ++this.#seq;
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(token: string, verified: VerifiedJwt, key: TesseraKey): void {
    // Whatever it evicts or replaces may be the recent entry (a set follows a full verification: rare).
    this.#recent = undefined;
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    // Entries are shared by every request that presents the token: freeze them so
    // one handler cannot change what the next one sees.
    deepFreeze(verified.payload);
    this.#entries.set(keyOf(token), { verified, key, token, seq: ++this.#seq });
  }

  delete(token: string): void {
    const key = keyOf(token);
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
    if (this.#recent?.token === token) this.#recent = undefined;
  }

  clear(): void {
    this.#entries.clear();
    this.#recent = undefined;
  }

  #lookup(token: string): Entry | undefined {
    const hit = this.#entries.get(keyOf(token));
    return hit !== undefined && hit.token === token ? hit : undefined;
  }
}

type Entry = CacheEntry & { readonly token: string; seq: number };

// 96 bits of the signature: distinct tokens collide by chance about never.
const KEY_LENGTH = 16;

function keyOf(token: string): string {
  return token.slice(-KEY_LENGTH);
}

function deepFreeze(value: object): void {
  if (Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
}
