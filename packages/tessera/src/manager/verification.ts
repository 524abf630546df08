/**
 * Verification in Flask-JWT-Extended's order: decode (signature, claims,
 * identity, CSRF) → type → freshness → revocation → claims verification →
 * user lookup. Synchronous whenever nothing configured has to wait.
 */
import { timingSafeEqualStrings } from '../bytes.js';
import {
  ClaimsVerificationError,
  CsrfMismatchError,
  FreshTokenRequiredError,
  MissingClaimError,
  RevokedTokenError,
  StoreUnavailableError,
  TesseraError,
  TokenExpiredError,
  UserLookupError,
  WrongTokenTypeError,
} from '../errors.js';
import { type DecodedJws, decodeJws, decodeJwsPayload } from '../jws/compact.js';
import type { JwsHeader } from '../jws/header.js';
import type { TesseraKey } from '../keys/key.js';
import type { RevocationCheck } from '../stores/types.js';
import type { JwtPayload } from '../tokens/validate.js';
import { isPromise, type TokenVerifier, type VerifiedJwt } from '../tokens/verifier.js';
import type { ResolvedConfig } from './config.js';
import { userKey } from './minting.js';
import { pythonStr, withFlaskDefaults } from './python.js';
import type { DecodeTokenOptions, VerifiedToken, VerifyTokenOptions } from './types.js';

// The verifier's per-call options, shared rather than built per request.
const ALLOW_EXPIRED = Object.freeze({ allowExpired: true });

/** Verifies tokens under one configuration. */
export class Verification<TUser> {
  readonly #config: ResolvedConfig<TUser>;
  readonly #verifier: TokenVerifier;
  #warned = false;

  constructor(config: ResolvedConfig<TUser>, verifier: TokenVerifier) {
    this.#config = config;
    this.#verifier = verifier;
  }

  /**
   * Every check a route makes; synchronous when nothing has to wait.
   *
   * `storeCheck: 'deferred'` (a refresh that rotates in a store whose rotation
   * checks revocation) leaves the store's revocation check to the caller, who
   * makes it inside the rotation; tokenInBlocklist and the other callbacks run
   * here. A token refused by one of them is still answered `token_revoked`
   * when the store has revoked it, as when the store is asked first: the
   * store is asked before that refusal is thrown.
   */
  verify(
    token: string,
    options: VerifyTokenOptions,
    storeCheck: 'now' | 'deferred' = 'now',
  ): VerifiedToken<TUser | undefined> | Promise<VerifiedToken<TUser | undefined>> {
    const decoded = this.decode(token, options);
    if (isPromise(decoded))
      return decoded.then((verified) => this.#afterDecode(verified, options, storeCheck));
    return this.#afterDecode(decoded, options, storeCheck);
  }

  /** Signature, registered claims and CSRF; no type, freshness, revocation or user checks. */
  decode(token: string, options: DecodeTokenOptions): VerifiedJwt | Promise<VerifiedJwt> {
    if (this.#config.callbacks.decodeKey !== undefined) {
      return this.#decodeWithCallback(token, options).then(
        (verified) => this.#decoded(verified, options),
        (error: unknown) => this.#decodeFailed(error, options),
      );
    }
    let result: VerifiedJwt | Promise<VerifiedJwt>;
    try {
      result = this.#verifier.verify(token, options.allowExpired ? ALLOW_EXPIRED : undefined);
    } catch (error) {
      return this.#decodeFailed(error, options);
    }
    if (isPromise(result)) {
      return result.then(
        (verified) => this.#decoded(verified, options),
        (error: unknown) => this.#decodeFailed(error, options),
      );
    }
    return this.#decoded(result, options);
  }

  /**
   * Is this verified token revoked? Asks the store (by jti, user cut-off and
   * refresh family) and the tokenInBlocklist callback. When the store cannot be
   * reached this throws StoreUnavailableError (fail closed) unless
   * `revocationFailOpen` was chosen.
   */
  async isRevoked(header: JwsHeader, payload: JwtPayload): Promise<boolean> {
    const { tokenInBlocklist } = this.#config.callbacks;
    const store = this.#config.store;
    if (store !== undefined) {
      try {
        if (await store.isRevoked(revocationCheck(payload, this.#config.profile.identityClaim))) return true;
      } catch (error) {
        this.#storeFailed(error);
      }
    }
    return tokenInBlocklist !== undefined && (await tokenInBlocklist(header, payload));
  }

  /**
   * The store's revocation check alone (not tokenInBlocklist): RevokedTokenError
   * when the store has revoked the token. A store that cannot be reached fails
   * closed (StoreUnavailableError) unless `revocationFailOpen` was chosen.
   */
  async checkStore(header: JwsHeader, payload: JwtPayload): Promise<void> {
    const store = this.#config.store;
    if (store === undefined) return;
    let revoked = this.#isRevokedNow(payload);
    if (revoked === undefined) {
      try {
        revoked = await store.isRevoked(revocationCheck(payload, this.#config.profile.identityClaim));
      } catch (error) {
        this.#storeFailed(error);
        return;
      }
    }
    if (revoked) throw new RevokedTokenError({ header, payload });
  }

  /** The type rules of the profile for what the route requires. */
  checkType(header: JwsHeader, payload: JwtPayload, options: VerifyTokenOptions): void {
    const { profile } = this.#config;
    const type = payload[profile.typeClaim];
    if (profile.typeCheck === 'simplejwt') {
      const expected = options.refresh ? 'refresh' : (options.tokenType ?? 'access');
      if (type === undefined)
        throw new WrongTokenTypeError('Token has no type', { header, payload }, NO_TYPE);
      if (type !== expected) {
        throw new WrongTokenTypeError('Token has wrong type', { header, payload }, { params: { expected } });
      }
      return;
    }
    if (options.refresh) {
      if (type !== 'refresh') {
        throw new WrongTokenTypeError('Only refresh tokens are allowed', { header, payload }, REFRESH_ONLY);
      }
      return;
    }
    if (type === 'refresh') {
      throw new WrongTokenTypeError('Only non-refresh tokens are allowed', { header, payload }, NOT_REFRESH);
    }
    const expected = options.tokenType ?? 'access';
    if (profile.accessTypeRule === 'exact' && type !== expected) {
      throw new WrongTokenTypeError(
        `Only ${expected} tokens are allowed`,
        { header, payload },
        {
          params: { expected },
        },
      );
    }
  }

  /** Compare a double-submit value with the token's `csrf` claim, in constant time. */
  checkCsrf(
    payload: Readonly<Record<string, unknown>>,
    value: string,
    header: Readonly<Record<string, unknown>>,
  ) {
    const parts = { header, payload };
    const claim = payload.csrf;
    if (claim === undefined) throw new MissingClaimError('csrf', undefined, parts);
    if (typeof claim !== 'string' || !timingSafeEqualStrings(claim, value))
      throw new CsrfMismatchError(parts);
  }

  #afterDecode(
    { header, payload }: VerifiedJwt,
    options: VerifyTokenOptions,
    storeCheck: 'now' | 'deferred' = 'now',
  ): VerifiedToken<TUser | undefined> | Promise<VerifiedToken<TUser | undefined>> {
    // The checks below build the error's { header, payload } only when they refuse.
    if (options.verifyType ?? true) this.checkType(header, payload, options);
    if (options.fresh && !this.#isFresh(payload)) throw new FreshTokenRequiredError({ header, payload });
    const { tokenVerification, userLookup, tokenInBlocklist } = this.#config.callbacks;
    if (storeCheck === 'deferred' && !options.skipRevocationCheck && this.#config.store !== undefined) {
      return this.#deferredChecks(header, payload);
    }
    let revocation =
      !options.skipRevocationCheck && (this.#config.store !== undefined || tokenInBlocklist !== undefined);
    // A store with local state answers without a turn of the event loop.
    if (revocation && tokenInBlocklist === undefined) {
      const now = this.#isRevokedNow(payload);
      if (now === true) throw new RevokedTokenError({ header, payload });
      if (now === false) revocation = false;
    }
    if (revocation || tokenVerification !== undefined || userLookup !== undefined) {
      return this.#callbackChecks(header, payload, revocation);
    }
    return { header, payload, identity: this.#identityOf(header, payload), user: undefined };
  }

  async #callbackChecks(
    header: JwsHeader,
    payload: JwtPayload,
    revocation: boolean,
  ): Promise<VerifiedToken<TUser | undefined>> {
    const parts = { header, payload };
    if (revocation && (await this.isRevoked(header, payload))) throw new RevokedTokenError(parts);
    const { tokenVerification, userLookup } = this.#config.callbacks;
    if (tokenVerification !== undefined && !(await tokenVerification(header, payload))) {
      throw new ClaimsVerificationError(undefined, parts);
    }
    const identity = this.#identityOf(header, payload);
    let user: TUser | undefined;
    if (userLookup !== undefined) {
      const found = await userLookup(header, payload);
      if (found === null || found === undefined) {
        throw new UserLookupError(`Error loading the user ${pythonStr(identity)}`, parts);
      }
      user = found;
    }
    return { header, payload, identity, user };
  }

  // The checks after revocation, the store's own left to the caller's rotation. A
  // refusal here is confirmed with the store first: a revoked token is answered
  // token_revoked whatever else is wrong with it, as when the store is asked first.
  async #deferredChecks(header: JwsHeader, payload: JwtPayload): Promise<VerifiedToken<TUser | undefined>> {
    try {
      const { tokenInBlocklist } = this.#config.callbacks;
      if (tokenInBlocklist !== undefined && (await tokenInBlocklist(header, payload))) {
        throw new RevokedTokenError({ header, payload });
      }
      return await this.#callbackChecks(header, payload, false);
    } catch (error) {
      if (!(error instanceof RevokedTokenError)) await this.checkStore(header, payload);
      throw error;
    }
  }

  #identityOf(header: JwsHeader, payload: JwtPayload): unknown {
    const identity = payload[this.#config.profile.identityClaim];
    if (identity === undefined) {
      throw new MissingClaimError(
        this.#config.profile.identityClaim,
        'Token contained no recognizable user identification',
        { header, payload },
      );
    }
    return identity;
  }

  /** The store's synchronous answer, when it has one (undefined: ask asynchronously). */
  #isRevokedNow(payload: JwtPayload): boolean | undefined {
    const store = this.#config.store;
    if (store?.isRevokedNow === undefined) return undefined;
    try {
      return store.isRevokedNow(revocationCheck(payload, this.#config.profile.identityClaim));
    } catch (error) {
      this.#storeFailed(error);
      return false;
    }
  }

  // Fail closed, unless fail-open was chosen: then accept, and say so once.
  #storeFailed(error: unknown): void {
    if (!this.#config.revocationFailOpen) {
      throw error instanceof TesseraError ? error : new StoreUnavailableError(undefined, { cause: error });
    }
    if (this.#warned) return;
    this.#warned = true;
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`tessera: revocation store unreachable, accepting tokens (revocationFailOpen): ${reason}`);
  }

  // The callback sees the unverified payload (as in Flask-JWT-Extended); the
  // signature is still checked with the key(s) it returns, under their algorithm.
  async #decodeWithCallback(token: string, options: DecodeTokenOptions): Promise<VerifiedJwt> {
    const decoded: DecodedJws = decodeJws(token, this.#config.limits);
    const unverified = decodeJwsPayload(decoded, this.#config.limits);
    const keys = await this.#config.callbacks.decodeKey!(decoded.header, unverified);
    return this.#verifier.verify(token, {
      allowExpired: options.allowExpired,
      keys: Array.isArray(keys) ? keys : [keys as TesseraKey],
    });
  }

  #decoded(verified: VerifiedJwt, options: DecodeTokenOptions): VerifiedJwt {
    const { isRefreshKid, profile } = this.#config;
    // A refresh key (refreshKeys) signs refresh tokens only: anything else under it is refused.
    if (isRefreshKid?.(verified.header.kid) === true && verified.payload[profile.typeClaim] !== 'refresh') {
      throw new WrongTokenTypeError('Only refresh tokens are allowed', verified, REFRESH_ONLY);
    }
    const result = profile.flaskClaimDefaults ? withFlaskDefaults(verified) : verified;
    if (options.csrfValue !== undefined) this.checkCsrf(result.payload, options.csrfValue, result.header);
    return result;
  }

  // An expired cookie token with a wrong CSRF value reports the CSRF failure
  // (Flask-JWT-Extended decodes again to attach the payload, F92).
  #decodeFailed(error: unknown, options: DecodeTokenOptions): never {
    if (error instanceof TokenExpiredError && options.csrfValue !== undefined && error.jwtPayload) {
      this.checkCsrf(error.jwtPayload, options.csrfValue, error.jwtHeader ?? {});
    }
    throw error;
  }

  #isFresh(payload: JwtPayload): boolean {
    const { fresh } = payload;
    if (typeof fresh === 'boolean') return fresh;
    return typeof fresh === 'number' && fresh >= this.#config.now();
  }
}

/**
 * What the store is asked about a token: its jti, its user (the identity claim
 * as the store keys it), its iat and its refresh family. The same facts go into
 * a rotation that checks revocation itself (`RotateRequest.presented`).
 */
export function revocationCheck(payload: JwtPayload, identityClaim: string): RevocationCheck {
  const identity = payload[identityClaim];
  return {
    jti: typeof payload.jti === 'string' ? payload.jti : undefined,
    userKey: identity === undefined ? undefined : userKey(identity),
    iat: typeof payload.iat === 'number' ? payload.iat : undefined,
    familyId: typeof payload.fam === 'string' ? payload.fam : undefined,
  };
}
const NO_TYPE = { key: 'wrong_token_type.missing' } as const;
const REFRESH_ONLY = { params: { expected: 'refresh' } } as const;
const NOT_REFRESH = { key: 'wrong_token_type.refresh_refused' } as const;
