/**
 * A bounded LRU of verified tokens. A hit skips the signature and JSON work,
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
  readonly #entries = new Map<string, CacheEntry>();

  constructor(maxEntries: number, leeway: number) {
    this.#max = maxEntries;
    this.#leeway = leeway;
  }

  get(token: string, now: number, allowExpired: boolean): CacheEntry | undefined {
    const hit = this.#entries.get(token);
    if (hit === undefined) return undefined;
    const { header, payload } = hit.verified;
    const exp = payload.exp;
    if (exp !== undefined && exp <= now - this.#leeway) {
      this.#entries.delete(token);
      if (allowExpired) return undefined;
      throw new TokenExpiredError({ header, payload });
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.#entries.delete(token);
    this.#entries.set(token, hit);
    return hit;
  }

  set(token: string, verified: VerifiedJwt, key: TesseraKey): void {
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    // Entries are shared by every request that presents the token: freeze them so
    // one handler cannot change what the next one sees.
    deepFreeze(verified.payload);
    this.#entries.set(token, { verified, key });
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }

  clear(): void {
    this.#entries.clear();
  }
}

function deepFreeze(value: object): void {
  if (Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
}
