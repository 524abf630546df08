/**
 * The synchronous core of verification: structure, key selection, signature,
 * `typ`, registered claims, with an optional cache of verified tokens. Callbacks,
 * token types, freshness and revocation live a layer up, in the manager.
 */
import { InvalidHeaderParameterError, InvalidSignatureError, KeyNotFoundError } from '../errors.js';
import { type DecodedJws, decodeJws, decodeJwsPayload, verifyJwsMaybe } from '../jws/compact.js';
import { type JwsHeader, typMatches } from '../jws/header.js';
import { DEFAULT_JWS_LIMITS, type JwsLimits } from '../jws/limits.js';
import type { TesseraKey } from '../keys/key.js';
import type { KeySource } from '../keys/source.js';
import { VerifiedTokenCache } from './cache.js';
import { type ClaimRules, type JwtPayload, validateClaims } from './validate.js';

/** A token whose signature and registered claims passed. */
export interface VerifiedJwt {
  readonly header: JwsHeader;
  readonly payload: JwtPayload;
}

/** Options of {@link TokenVerifier}. */
export interface TokenVerifierOptions {
  readonly keys: KeySource;
  readonly rules: ClaimRules;
  /** Accepted `typ` header values (RFC 8725 3.11); a token without `typ` is accepted unless `requireTyp`. */
  readonly typ?: readonly string[] | undefined;
  /** Refuse tokens without a `typ` header. */
  readonly requireTyp?: boolean;
  /**
   * Treat a `kid` no key has as absent (PyJWT ignores kid; the Python profiles
   * match it), so candidates are then chosen by algorithm alone.
   */
  readonly ignoreUnknownKid?: boolean;
  /**
   * Parse the payload before the signature is checked, so that a token whose payload
   * is not a JSON object reports that whatever its signature (Flask-JWT-Extended
   * reads the claims unverified first, to hand them to its decode-key loader).
   */
  readonly payloadBeforeSignature?: boolean;
  readonly limits?: JwsLimits;
  /** Current time in seconds. */
  readonly clock: () => number;
  /** Keep up to this many verified tokens (0 = no cache). Entries never outlive `exp`. */
  readonly cacheSize?: number;
}

/** Per-call options of {@link TokenVerifier.verify}. */
export interface VerifyCallOptions {
  /** Accept an expired token (signature and other claims still checked). */
  readonly allowExpired?: boolean;
  /** Keys to use instead of the key source (a decode-key callback's answer). */
  readonly keys?: readonly TesseraKey[];
}

/** Verifies tokens against a key source and claim rules. */
export class TokenVerifier {
  readonly #keys: KeySource;
  readonly #rules: ClaimRules;
  readonly #typ: readonly string[] | undefined;
  readonly #requireTyp: boolean;
  readonly #ignoreUnknownKid: boolean;
  readonly #payloadBeforeSignature: boolean;
  readonly #limits: JwsLimits;
  readonly #clock: () => number;
  readonly #cache: VerifiedTokenCache | undefined;

  constructor(options: TokenVerifierOptions) {
    this.#keys = options.keys;
    this.#rules = options.rules;
    this.#typ = options.typ;
    this.#requireTyp = options.requireTyp ?? false;
    this.#ignoreUnknownKid = options.ignoreUnknownKid ?? false;
    this.#payloadBeforeSignature = options.payloadBeforeSignature ?? false;
    this.#limits = options.limits ?? DEFAULT_JWS_LIMITS;
    this.#clock = options.clock;
    const size = options.cacheSize ?? 0;
    this.#cache = size > 0 ? new VerifiedTokenCache(size, options.rules.leeway) : undefined;
  }

  /** The claim rules in force. */
  get rules(): ClaimRules {
    return this.#rules;
  }

  /**
   * Verify `token`. Synchronous when the key source answers synchronously (a
   * Keyring) and the keys are node:crypto keys; a promise when it has to fetch
   * (a remote JWKS) or the signature check is asynchronous (Web Crypto).
   */
  verify(token: string, options?: VerifyCallOptions): VerifiedJwt | Promise<VerifiedJwt> {
    const now = this.#clock();
    const cached =
      options?.keys === undefined ? this.#cache?.get(token, now, options?.allowExpired ?? false) : undefined;
    if (cached !== undefined) {
      // A hit holds only while the key that verified it is still held: removing a
      // compromised key must take effect for cached tokens too.
      const current = this.#keys.verificationKeys(cached.verified.header);
      if (!isPromise(current) && current.includes(cached.key)) return cached.verified;
      this.#cache!.delete(token);
    }
    const decoded = decodeJws(token, this.#limits);
    const early = this.#payloadBeforeSignature ? decodeJwsPayload(decoded, this.#limits) : undefined;
    this.#checkTyp(decoded.header);
    const keys = options?.keys ?? this.#selectKeys(decoded.header);
    // After a fetch the clock has moved: read it again.
    if (isPromise(keys))
      return keys.then((k) => this.#finish(token, decoded, k, options, this.#clock(), early));
    return this.#finish(token, decoded, keys, options, now, early);
  }

  /** Verify synchronously; throws a TypeError when the key source or the signature check is asynchronous. */
  verifySync(token: string, options?: VerifyCallOptions): VerifiedJwt {
    const result = this.verify(token, options);
    if (isPromise(result)) {
      result.catch(() => undefined);
      throw new TypeError(
        'verifySync needs a synchronous key source (a Keyring, not a remote JWKS) and node:crypto keys (Web Crypto verifies asynchronously)',
      );
    }
    return result;
  }

  /**
   * Whether the verified-token cache holds `token` (false without a cache). A
   * held token was verified before, so it is a well-formed compact JWS; this says
   * nothing of its expiry or key, which {@link verify} checks on every call.
   * Asking before `verify` costs no second lookup: the cache hands the entry it found
   * to the next verification.
   */
  isCached(token: string): boolean {
    return this.#cache?.has(token) ?? false;
  }

  /** Whether this verifier keeps a verified-token cache. */
  get caches(): boolean {
    return this.#cache !== undefined;
  }

  /** Forget every cached verification (after removing a key, say). */
  clearCache(): void {
    this.#cache?.clear();
  }

  #finish(
    token: string,
    decoded: DecodedJws,
    keys: readonly TesseraKey[],
    options: VerifyCallOptions | undefined,
    now: number,
    early: Record<string, unknown> | undefined,
  ): VerifiedJwt | Promise<VerifiedJwt> {
    const { header } = decoded;
    for (let i = 0; i < keys.length; i++) {
      const candidate = keys[i] as TesseraKey;
      if (candidate.alg !== header.alg) continue;
      const valid = verifyJwsMaybe(decoded, candidate.verifying);
      if (valid === true) return this.#accept(token, decoded, candidate, options, now, early);
      // Web Crypto: the remaining candidates are tried after this one answers.
      if (valid !== false) return this.#finishAsync(token, decoded, keys, i, valid, options, now, early);
    }
    throw new InvalidSignatureError({ header });
  }

  async #finishAsync(
    token: string,
    decoded: DecodedJws,
    keys: readonly TesseraKey[],
    from: number,
    first: Promise<boolean>,
    options: VerifyCallOptions | undefined,
    now: number,
    early: Record<string, unknown> | undefined,
  ): Promise<VerifiedJwt> {
    const { header } = decoded;
    for (let i = from; i < keys.length; i++) {
      const candidate = keys[i] as TesseraKey;
      if (candidate.alg !== header.alg) continue;
      const valid = i === from ? await first : await verifyJwsMaybe(decoded, candidate.verifying);
      if (valid) return this.#accept(token, decoded, candidate, options, now, early);
    }
    throw new InvalidSignatureError({ header });
  }

  #accept(
    token: string,
    decoded: DecodedJws,
    key: TesseraKey,
    options: VerifyCallOptions | undefined,
    now: number,
    early: Record<string, unknown> | undefined,
  ): VerifiedJwt {
    const { header } = decoded;
    const payload = early ?? decodeJwsPayload(decoded, this.#limits);
    validateClaims(header, payload, this.#rules, now, options?.allowExpired ?? false);
    const verified: VerifiedJwt = { header, payload };
    // An expired token accepted on request is never cached: the cache answers
    // only for tokens valid on their own.
    if (this.#cache !== undefined && !options?.allowExpired && options?.keys === undefined) {
      this.#cache.set(token, verified, key);
    }
    return verified;
  }

  #selectKeys(header: JwsHeader): readonly TesseraKey[] | Promise<readonly TesseraKey[]> {
    if (!this.#ignoreUnknownKid || header.kid === undefined) return this.#keys.verificationKeys(header);
    const { kid: _ignored, ...anonymous } = header;
    const retry = (error: unknown) => {
      if (error instanceof KeyNotFoundError) return this.#keys.verificationKeys(anonymous as JwsHeader);
      throw error;
    };
    try {
      const keys = this.#keys.verificationKeys(header);
      return isPromise(keys) ? keys.catch(retry) : keys;
    } catch (error) {
      return retry(error);
    }
  }

  #checkTyp(header: JwsHeader): void {
    const { typ } = header;
    if (typ === undefined) {
      if (this.#requireTyp)
        throw new InvalidHeaderParameterError(
          'Token type header (typ) is required',
          { header },
          TYP_REQUIRED,
        );
      return;
    }
    // Exact spellings first: the media-type comparison lowercases and allocates.
    if (this.#typ !== undefined && !this.#typ.includes(typ) && !this.#typ.some((t) => typMatches(typ, t))) {
      throw new InvalidHeaderParameterError(
        'Token type header (typ) is not accepted',
        { header },
        TYP_REFUSED,
      );
    }
  }
}

/** Whether a maybe-synchronous answer is a promise (thenable). */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

const TYP_REQUIRED = { key: 'header_invalid.typ_required' } as const;
const TYP_REFUSED = { key: 'header_invalid.typ_refused' } as const;
