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
  // Keyed by the signature segment: far shorter to hash than the token (every
  // request brings a new string), and as unique; the whole token is compared on a hit.
  readonly #entries = new Map<string, CacheEntry & { readonly token: string; seq: number }>();
  #seq = 0;

  constructor(maxEntries: number, leeway: number) {
    this.#max = maxEntries;
    this.#leeway = leeway;
  }

  get(token: string, now: number, allowExpired: boolean): CacheEntry | undefined {
    const signature = signatureOf(token);
    const hit = this.#entries.get(signature);
    if (hit === undefined || hit.token !== token) return undefined;
    const { header, payload } = hit.verified;
    const exp = payload.exp;
    if (exp !== undefined && exp <= now - this.#leeway) {
      this.#entries.delete(signature);
      if (allowExpired) return undefined;
      throw new TokenExpiredError({ header, payload });
    }
    // Approximate LRU: an entry that has drifted into the older half moves back to
    // the young end (Map keeps insertion order); recent hits cost nothing.
    if (this.#seq - hit.seq > this.#max / 2) {
      this.#entries.delete(signature);
      hit.seq = ++this.#seq;
      this.#entries.set(signature, hit);
    }
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
    this.#entries.set(signatureOf(token), { verified, key, token, seq: ++this.#seq });
  }

  delete(token: string): void {
    const signature = signatureOf(token);
    if (this.#entries.get(signature)?.token === token) this.#entries.delete(signature);
  }

  clear(): void {
    this.#entries.clear();
  }
}

function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

function deepFreeze(value: object): void {
  if (Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
}
