/**
 * A bounded LRU of verified tokens. A hit skips the signature and JSON work,
 * never the clock: an entry is dropped once `exp` passes, so a cached token is
 * never accepted after it expires. Revocation is checked by the caller on every
 * request, cached or not.
 */
import { TokenExpiredError } from '../errors.js';
import type { VerifiedJwt } from './verifier.js';

export class VerifiedTokenCache {
  readonly #max: number;
  readonly #leeway: number;
  readonly #entries = new Map<string, VerifiedJwt>();

  constructor(maxEntries: number, leeway: number) {
    this.#max = maxEntries;
    this.#leeway = leeway;
  }

  get(token: string, now: number, allowExpired: boolean): VerifiedJwt | undefined {
    const hit = this.#entries.get(token);
    if (hit === undefined) return undefined;
    const exp = hit.payload.exp;
    if (exp !== undefined && exp <= now - this.#leeway) {
      this.#entries.delete(token);
      if (allowExpired) return undefined;
      throw new TokenExpiredError({ header: hit.header, payload: hit.payload });
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.#entries.delete(token);
    this.#entries.set(token, hit);
    return hit;
  }

  set(token: string, verified: VerifiedJwt): void {
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    // Entries are shared by every request that presents the token: freeze them so
    // one handler cannot change what the next one sees.
    deepFreeze(verified.payload);
    this.#entries.set(token, verified);
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
