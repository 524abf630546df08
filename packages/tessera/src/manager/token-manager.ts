/**
 * TokenManager: Flask-JWT-Extended's JWTManager for TypeScript. One validated
 * configuration, token creation, and the full verification pipeline in
 * Flask-JWT-Extended's order: decode (signature, claims, identity, CSRF) →
 * type → freshness → revocation → claims verification → user lookup.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  ClaimsVerificationError,
  ConfigError,
  CsrfMismatchError,
  FreshTokenRequiredError,
  MissingClaimError,
  RefreshTokenReusedError,
  RevokedTokenError,
  StoreUnavailableError,
  TesseraError,
  TokenExpiredError,
  UserLookupError,
  WrongTokenTypeError,
} from '../errors.js';
import { type DecodedJws, decodeJws, decodeJwsPayload, signJws } from '../jws/compact.js';
import type { JwsHeader } from '../jws/header.js';
import type { TesseraKey } from '../keys/key.js';
import type { RevocationCheck, SessionInfo, TokenStore } from '../stores/types.js';
import { type Duration, toSeconds } from '../tokens/duration.js';
import type { JwtPayload } from '../tokens/validate.js';
import { isPromise, TokenVerifier, type VerifiedJwt } from '../tokens/verifier.js';
import { buildClaims, customClaims, newJti, type TokenKind } from './claims.js';
import { type ResolvedConfig, resolveConfig } from './config.js';
import type { TokenManagerOptions } from './options.js';
import { pythonStr, withFlaskDefaults } from './python.js';

/** Options of {@link TokenManager.createAccessToken}. */
export interface CreateAccessTokenOptions {
  /** Who the token is for; passed through the userIdentity callback. */
  identity: unknown;
  /** true, false, or a duration during which the token counts as fresh. Default false. */
  fresh?: boolean | Duration;
  /** Claims to add (override the additionalClaims callback and any default claim). */
  additionalClaims?: Record<string, unknown>;
  /** Header parameters to add (`alg` is always the key's). */
  additionalHeaders?: Record<string, unknown>;
  /** Lifetime of this token, or false for no exp. Default: the configured lifetime. */
  expiresIn?: Duration | false;
}

/** Options of {@link TokenManager.createRefreshToken}. */
export type CreateRefreshTokenOptions = Omit<CreateAccessTokenOptions, 'fresh'>;

/** Options of {@link TokenManager.decodeToken}. */
export interface DecodeTokenOptions {
  /** Accept an expired token (everything else is still checked). */
  allowExpired?: boolean;
  /** A double-submit CSRF value to compare with the token's `csrf` claim. */
  csrfValue?: string;
}

/** Options of {@link TokenManager.verifyToken}: what a route requires. */
export interface VerifyTokenOptions extends DecodeTokenOptions {
  /** Require a refresh token (true) or a non-refresh token (false, default). */
  refresh?: boolean;
  /** Require a fresh access token. */
  fresh?: boolean;
  /** Check the token type. Default true. */
  verifyType?: boolean;
  /** Skip store and tokenInBlocklist checks. */
  skipRevocationCheck?: boolean;
  /** Accept this type instead of access (SimpleJWT's sliding tokens). */
  tokenType?: string;
}

/** The outcome of a successful {@link TokenManager.verifyToken}. */
export interface VerifiedToken<TUser = unknown> {
  readonly header: JwsHeader;
  readonly payload: JwtPayload;
  /** The identity claim's value. */
  readonly identity: unknown;
  /** What userLookup returned; undefined when no userLookup is configured. */
  readonly user: TUser | undefined;
}

/** An access token with its refresh token. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** The refresh family (login session), when a store tracks rotation. */
  readonly familyId: string | undefined;
}

/** Options of {@link TokenManager.createTokenPair}. */
export interface CreateTokenPairOptions extends CreateAccessTokenOptions {
  /** Facts about the session to list later (user agent, IP...). */
  metadata?: Record<string, string>;
}

/** Outcome of {@link TokenManager.refreshTokens}. */
export interface RefreshResult {
  readonly accessToken: string;
  /** The new refresh token when rotation is on; undefined otherwise. */
  readonly refreshToken: string | undefined;
  /** The verified refresh token that was presented. */
  readonly presented: VerifiedToken<unknown>;
}

/**
 * Mints and verifies tokens under one configuration.
 *
 * @example
 * ```ts
 * const jwt = new TokenManager({ secret: process.env.JWT_SECRET });
 * const token = await jwt.createAccessToken({ identity: 'alice' });
 * const { identity } = await jwt.verifyToken(token);
 * ```
 */
export class TokenManager<TUser = unknown> {
  /** The validated configuration. */
  readonly config: ResolvedConfig<TUser>;
  /** The synchronous verification core (signature and registered claims only). */
  readonly verifier: TokenVerifier;

  constructor(options: TokenManagerOptions<TUser>) {
    this.config = resolveConfig(options);
    this.verifier = new TokenVerifier({
      keys: this.config.verificationKeys,
      rules: this.config.rules,
      typ: this.config.acceptedTyp,
      limits: this.config.limits,
      clock: this.config.now,
      cacheSize: this.config.cacheSize,
      ignoreUnknownKid: this.config.profile.name !== 'standard',
    });
  }

  /** Mint an access token. */
  async createAccessToken(options: CreateAccessTokenOptions): Promise<string> {
    const now = this.#issueTime();
    const fresh = options.fresh ?? false;
    const freshClaim = this.#freshClaim(fresh);
    return this.#create('access', options, now, freshClaim, this.config.accessExpires);
  }

  /** Mint a refresh token. */
  async createRefreshToken(options: CreateRefreshTokenOptions): Promise<string> {
    return this.#create('refresh', options, this.#issueTime(), false, this.config.refreshExpires);
  }

  /** Mint a SimpleJWT sliding token (`token_type: sliding`, with `refresh_exp`). */
  async createSlidingToken(options: CreateRefreshTokenOptions): Promise<string> {
    const now = this.#issueTime();
    return this.#create('sliding', options, now, false, this.config.slidingExpires, {
      refreshExp: now + this.config.slidingRefreshExpires,
    });
  }

  /**
   * Sign an explicit payload as is (claims already built). For re-issuing tokens
   * whose claims must be kept, like SimpleJWT's access-from-refresh.
   */
  async signPayload(
    payload: Record<string, unknown>,
    options: { identity?: unknown; additionalHeaders?: Record<string, unknown> } = {},
  ): Promise<string> {
    const key = await this.#signingKey(options.identity);
    return signJws(this.#header(key, options.additionalHeaders ?? {}), payload, key.signing!);
  }

  /**
   * Verify a token's signature and registered claims, its identity claim, and the
   * CSRF value when one is given (Flask-JWT-Extended's `decode_token`). No type,
   * freshness, revocation or user checks.
   */
  async decodeToken(token: string, options: DecodeTokenOptions = {}): Promise<JwtPayload> {
    return (await this.#decode(token, options)).payload;
  }

  /** Decode and run every check a protected route makes. */
  async verifyToken(token: string, options: VerifyTokenOptions = {}): Promise<VerifiedToken<TUser>> {
    return this.verify(token, options);
  }

  /**
   * {@link verifyToken}, answering synchronously when nothing configured has to
   * wait (no store, no async-capable callback, a local keyring): the form the
   * request guard uses, since every await on the hot path costs a turn of the loop.
   * A refusal is thrown synchronously when the answer is synchronous, and is a
   * rejected promise otherwise.
   */
  verify(
    token: string,
    options: VerifyTokenOptions = {},
  ): VerifiedToken<TUser> | Promise<VerifiedToken<TUser>> {
    const decoded = this.#decodeAny(token, options);
    if (isPromise(decoded)) return decoded.then((verified) => this.#afterDecode(verified, options));
    return this.#afterDecode(decoded, options);
  }

  #afterDecode(
    { header, payload }: VerifiedJwt,
    options: VerifyTokenOptions,
  ): VerifiedToken<TUser> | Promise<VerifiedToken<TUser>> {
    // The checks below build the error's { header, payload } only when they refuse.
    if (options.verifyType ?? true) this.#checkType(header, payload, options);
    if (options.fresh && !this.#isFresh(payload)) throw new FreshTokenRequiredError({ header, payload });
    const { tokenVerification, userLookup, tokenInBlocklist } = this.config.callbacks;
    let revocation =
      !options.skipRevocationCheck && (this.config.store !== undefined || tokenInBlocklist !== undefined);
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
  ): Promise<VerifiedToken<TUser>> {
    const parts = { header, payload };
    if (revocation && (await this.isRevoked(header, payload))) throw new RevokedTokenError(parts);
    const { tokenVerification, userLookup } = this.config.callbacks;
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

  #identityOf(header: JwsHeader, payload: JwtPayload): unknown {
    const identity = payload[this.config.profile.identityClaim];
    if (identity === undefined) {
      throw new MissingClaimError(
        this.config.profile.identityClaim,
        'Token contained no recognizable user identification',
        { header, payload },
      );
    }
    return identity;
  }

  /**
   * Log in: an access token and a refresh token. With a store and rotation on,
   * the refresh token opens a new family (a session that can be listed and
   * revoked) and both tokens carry its id in `fam`.
   */
  async createTokenPair(options: CreateTokenPairOptions): Promise<TokenPair> {
    const { store, rotation, profile } = this.config;
    const now = this.#issueTime();
    if (store === undefined || !rotation.enabled) {
      const refreshToken = await this.createRefreshToken(options);
      const accessToken = await this.createAccessToken({ fresh: true, ...options });
      return { accessToken, refreshToken, familyId: undefined };
    }
    const familyId = newJti({ ...profile, jtiStyle: 'uuid' });
    const jti = newJti(profile);
    const expiresAt = this.#refreshExpiry(now);
    const refreshToken = await this.#create('refresh', options, now, false, this.config.refreshExpires, {
      familyId,
      jti,
    });
    const identity = (await this.#decodeUnverified(refreshToken))[profile.identityClaim];
    await this.#store('createFamily', () =>
      store.createFamily({
        familyId,
        userKey: userKey(identity),
        jti,
        now,
        expiresAt,
        metadata: options.metadata,
      }),
    );
    const fresh = options.fresh ?? true;
    const freshClaim = this.#freshClaim(fresh);
    const accessToken = await this.#create('access', options, now, freshClaim, this.config.accessExpires, {
      familyId,
    });
    return { accessToken, refreshToken, familyId };
  }

  /**
   * Exchange a refresh token for a new access token (never fresh), rotating the
   * refresh token when configured. A spent refresh token presented again revokes
   * its whole family and fails with `refresh_token_reused` (RFC 9700 4.14); within
   * `rotation.graceSeconds` of its rotation it is accepted once more, so a client
   * that lost the response can retry.
   */
  async refreshTokens(refreshToken: string, options: { csrfValue?: string } = {}): Promise<RefreshResult> {
    const { store, rotation, profile } = this.config;
    const presented = await this.verifyToken(refreshToken, { refresh: true, csrfValue: options.csrfValue });
    const { payload } = presented;
    const parts = { header: presented.header, payload };
    const identity = presented.identity;
    const custom = customClaims(payload, profile.identityClaim, profile.typeClaim);
    const now = this.#issueTime();
    const familyId = typeof payload.fam === 'string' ? payload.fam : undefined;
    let nextRefresh: string | undefined;
    if (rotation.enabled) {
      const inFamily = store !== undefined && familyId !== undefined && typeof payload.jti === 'string';
      const jti = newJti(profile);
      if (inFamily) {
        const outcome = await this.#store('rotateFamily', () =>
          store.rotateFamily({
            familyId,
            presentedJti: payload.jti as string,
            nextJti: jti,
            now,
            graceSeconds: rotation.graceSeconds,
            expiresAt: this.#refreshExpiry(now),
          }),
        );
        // The store has already revoked the whole family when it answers 'reused'.
        if (outcome.status === 'reused') throw new RefreshTokenReusedError(parts);
        if (outcome.status !== 'rotated' && outcome.status !== 'grace') throw new RevokedTokenError(parts);
      }
      // SimpleJWT's BLACKLIST_AFTER_ROTATION: the presented token's jti is revoked too.
      if (rotation.blacklistAfterRotation) await this.revokeToken(payload);
      nextRefresh = await this.#create(
        'refresh',
        { identity, additionalClaims: custom },
        now,
        false,
        this.config.refreshExpires,
        inFamily ? { familyId, jti } : { jti },
      );
    }
    let accessToken: string;
    if (profile.name === 'simplejwt') {
      accessToken = await this.createAccessTokenFromRefresh(payload);
    } else {
      accessToken = await this.#create(
        'access',
        { identity, additionalClaims: custom },
        now,
        false,
        this.config.accessExpires,
        {
          familyId,
        },
      );
    }
    return { accessToken, refreshToken: nextRefresh, presented };
  }

  /**
   * SimpleJWT's `RefreshToken.access_token`: an access token that copies every claim
   * of a (verified) refresh token but its type, exp and jti, `iat` included;
   * `exp` counts from now (python-peers Q8).
   */
  async createAccessTokenFromRefresh(refresh: JwtPayload): Promise<string> {
    const { profile } = this.config;
    const now = this.#issueTime();
    const claims: Record<string, unknown> = { [profile.typeClaim]: 'access' };
    if (this.config.accessExpires !== false) claims.exp = now + this.config.accessExpires;
    claims.iat = now;
    claims.jti = newJti(profile);
    for (const [claim, value] of Object.entries(refresh)) {
      if (claim !== profile.typeClaim && claim !== 'exp' && claim !== 'jti') claims[claim] = value;
    }
    return this.signPayload(claims, { identity: refresh[profile.identityClaim] });
  }

  /**
   * SimpleJWT's sliding refresh: a sliding token that is still valid, and whose
   * `refresh_exp` has not passed, gets a new `exp` and `iat` with the same `jti`
   * and `refresh_exp` (python-peers Q9).
   */
  async refreshSlidingToken(token: string): Promise<string> {
    const verified = await this.verifyToken(token, { tokenType: 'sliding' });
    const { payload, header } = verified;
    const refreshExp = payload.refresh_exp;
    if (refreshExp === undefined)
      throw new MissingClaimError('refresh_exp', "Token has no 'refresh_exp' claim", { header, payload });
    if (typeof refreshExp !== 'number' || refreshExp <= this.config.now() - this.config.rules.leeway) {
      throw new TokenExpiredError({ header, payload }, "Token 'refresh_exp' claim has expired");
    }
    const now = this.#issueTime();
    return this.signPayload(
      { ...payload, exp: now + this.config.slidingExpires, iat: now },
      { identity: verified.identity },
    );
  }

  /** Revoke one token (by jti, until its exp) in the store. */
  async revokeToken(token: string | JwtPayload): Promise<void> {
    const store = this.#requireStore('revokeToken');
    const payload = typeof token === 'string' ? await this.decodeToken(token, { allowExpired: true }) : token;
    if (typeof payload.jti !== 'string') throw new MissingClaimError('jti', 'Token has no id');
    const exp = typeof payload.exp === 'number' ? payload.exp : this.config.now() + this.#longestLifetime();
    // Kept past exp by the leeway: the verifier still accepts the token that long.
    const until = Math.ceil(exp + this.config.rules.leeway);
    await this.#store('revokeToken', () => store.revokeToken(payload.jti as string, until));
  }

  /**
   * Log out the session a token belongs to: its refresh family when it has one
   * (every access and refresh token of that login), else the token itself.
   */
  async logout(token: string | JwtPayload): Promise<void> {
    const store = this.#requireStore('logout');
    const payload = typeof token === 'string' ? await this.decodeToken(token, { allowExpired: true }) : token;
    if (typeof payload.fam === 'string') {
      const familyId = payload.fam;
      await this.#store('revokeFamily', () => store.revokeFamily(familyId));
    }
    if (typeof payload.jti === 'string') await this.revokeToken(payload);
  }

  /**
   * Revoke every token of a user issued before now, and all their sessions
   * (password change, "log out everywhere"). Tokens issued within the same
   * second as the call stay valid, so a token minted right after it works.
   */
  async revokeAllTokens(identity: unknown): Promise<void> {
    const store = this.#requireStore('revokeAllTokens');
    const key = userKey(await this.#identity(identity));
    const now = Math.floor(this.config.now());
    await this.#store('revokeUserBefore', () =>
      store.revokeUserBefore(key, now, now + this.#longestLifetime()),
    );
    await this.#store('revokeUserFamilies', () => store.revokeUserFamilies(key));
  }

  /** A user's live sessions (refresh families), newest first. */
  async listSessions(identity: unknown): Promise<SessionInfo[]> {
    const store = this.#requireStore('listSessions');
    const key = userKey(await this.#identity(identity));
    return this.#store('listSessions', () => store.listSessions(key, Math.floor(this.config.now())));
  }

  /** Revoke one session by its family id. Returns whether it existed. */
  async revokeSession(familyId: string): Promise<boolean> {
    const store = this.#requireStore('revokeSession');
    return this.#store('revokeFamily', () => store.revokeFamily(familyId));
  }

  /**
   * Is this verified token revoked? Asks the store (by jti, user cut-off and
   * refresh family) and the tokenInBlocklist callback. When the store cannot be
   * reached this throws StoreUnavailableError (fail closed) unless
   * `revocationFailOpen` was chosen.
   */
  async isRevoked(header: JwsHeader, payload: JwtPayload): Promise<boolean> {
    const { tokenInBlocklist } = this.config.callbacks;
    const store = this.config.store;
    if (store !== undefined) {
      try {
        if (await store.isRevoked(this.#revocationCheck(payload))) return true;
      } catch (error) {
        this.#storeFailed(error);
      }
    }
    return tokenInBlocklist !== undefined && (await tokenInBlocklist(header, payload));
  }

  /** The store's synchronous answer, when it has one (undefined: ask asynchronously). */
  #isRevokedNow(payload: JwtPayload): boolean | undefined {
    const store = this.config.store;
    if (store?.isRevokedNow === undefined) return undefined;
    try {
      return store.isRevokedNow(this.#revocationCheck(payload));
    } catch (error) {
      this.#storeFailed(error);
      return false;
    }
  }

  #revocationCheck(payload: JwtPayload): RevocationCheck {
    const identity = payload[this.config.profile.identityClaim];
    return {
      jti: typeof payload.jti === 'string' ? payload.jti : undefined,
      userKey: identity === undefined ? undefined : userKey(identity),
      iat: typeof payload.iat === 'number' ? payload.iat : undefined,
      familyId: typeof payload.fam === 'string' ? payload.fam : undefined,
    };
  }

  // Fail closed, unless fail-open was chosen: then accept, and say so once.
  #storeFailed(error: unknown): void {
    if (!this.config.revocationFailOpen) {
      throw error instanceof TesseraError ? error : new StoreUnavailableError(undefined, { cause: error });
    }
    this.#warnFailOpen(error);
  }

  #requireStore(what: string): TokenStore {
    const store = this.config.store;
    if (store === undefined) throw new ConfigError(`${what} needs a store: configure \`store\``);
    return store;
  }

  // Store failures become StoreUnavailableError: nothing is half-done silently.
  async #store<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof TesseraError) throw error;
      throw new StoreUnavailableError(`Token store failed during ${operation}`, { cause: error });
    }
  }

  // Flask-JWT-Extended writes a timedelta freshness as a float timestamp.
  #freshClaim(fresh: boolean | Duration): boolean | number {
    return typeof fresh === 'boolean' ? fresh : this.config.now() + toSeconds(fresh, 'fresh');
  }

  // A family of non-expiring refresh tokens still needs a date to be purged at.
  #refreshExpiry(now: number): number {
    const lifetime = this.config.refreshExpires;
    return now + (lifetime === false ? 10 * 365 * 86_400 : lifetime);
  }

  #longestLifetime(): number {
    const { accessExpires, refreshExpires, slidingRefreshExpires } = this.config;
    return Math.max(accessExpires || 0, refreshExpires || 0, slidingRefreshExpires);
  }

  async #decodeUnverified(token: string): Promise<Record<string, unknown>> {
    return decodeJwsPayload(decodeJws(token, this.config.limits), this.config.limits);
  }

  async #create(
    kind: TokenKind,
    options: CreateRefreshTokenOptions,
    now: number,
    fresh: boolean | number,
    defaultExpires: number | false,
    more: { refreshExp?: number; familyId?: string; jti?: string } = {},
  ): Promise<string> {
    const { callbacks, profile } = this.config;
    const identity = await this.#identity(options.identity);
    const extra = {
      ...(callbacks.additionalClaims === undefined ? {} : await callbacks.additionalClaims(options.identity)),
      ...options.additionalClaims,
    };
    const headers = {
      ...(callbacks.additionalHeaders === undefined
        ? {}
        : await callbacks.additionalHeaders(options.identity)),
      ...options.additionalHeaders,
    };
    const expiresIn =
      options.expiresIn === undefined
        ? defaultExpires
        : options.expiresIn === false
          ? false
          : toSeconds(options.expiresIn, 'expiresIn');
    const payload = buildClaims(profile, {
      kind,
      identity,
      now,
      expiresIn,
      fresh,
      encodeNbf: this.config.encodeNbf,
      csrf: this.config.transport.csrf.enabled,
      issuer: this.config.issuer,
      audience: this.config.audience,
      extra,
      ...more,
    });
    const key = await this.#signingKey(options.identity);
    return signJws(this.#header(key, headers), payload, key.signing!);
  }

  async #identity(raw: unknown): Promise<unknown> {
    const { userIdentity } = this.config.callbacks;
    const identity = userIdentity === undefined ? raw : await userIdentity(raw);
    if (identity === undefined) throw new ConfigError('identity is required to create a token');
    if (this.config.profile.identityMustBeString) {
      if (typeof identity === 'number' && Number.isFinite(identity)) return String(identity);
      if (typeof identity !== 'string') {
        throw new ConfigError(
          'identity must be a string in the standard profile (RFC 7519 sub): convert it with the userIdentity callback',
        );
      }
    }
    return identity;
  }

  async #signingKey(identity: unknown): Promise<TesseraKey> {
    const { encodeKey } = this.config.callbacks;
    const key = encodeKey !== undefined ? await encodeKey(identity) : this.config.signingKey?.();
    if (key === undefined || key.signing === undefined) {
      throw new ConfigError('this manager has no signing key: configure secret, privateKey or a keyring');
    }
    return key;
  }

  #header(key: TesseraKey, extra: Record<string, unknown>): Record<string, unknown> {
    const header: Record<string, unknown> = { ...extra, alg: key.alg, typ: extra.typ ?? this.config.typ };
    if (key.kid !== undefined && header.kid === undefined) header.kid = key.kid;
    // PyJWT writes headers with sorted keys; doing the same keeps tokens byte-identical.
    return Object.fromEntries(Object.entries(header).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  #issueTime(): number {
    const now = this.config.now();
    return this.config.profile.integerTimes || this.config.profile.name === 'standard'
      ? Math.floor(now)
      : now;
  }

  async #decode(token: string, options: DecodeTokenOptions): Promise<VerifiedJwt> {
    return this.#decodeAny(token, options);
  }

  #decodeAny(token: string, options: DecodeTokenOptions): VerifiedJwt | Promise<VerifiedJwt> {
    if (this.config.callbacks.decodeKey !== undefined) {
      return this.#decodeWithCallback(token, options).then(
        (verified) => this.#decoded(verified, options),
        (error: unknown) => this.#decodeFailed(error, options),
      );
    }
    let result: VerifiedJwt | Promise<VerifiedJwt>;
    try {
      result = this.verifier.verify(token, options.allowExpired ? ALLOW_EXPIRED : undefined);
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

  // The callback sees the unverified payload (as in Flask-JWT-Extended); the
  // signature is still checked with the key(s) it returns, under their algorithm.
  async #decodeWithCallback(token: string, options: DecodeTokenOptions): Promise<VerifiedJwt> {
    const decoded: DecodedJws = decodeJws(token, this.config.limits);
    const unverified = decodeJwsPayload(decoded, this.config.limits);
    const keys = await this.config.callbacks.decodeKey!(decoded.header, unverified);
    return this.verifier.verify(token, {
      allowExpired: options.allowExpired,
      keys: Array.isArray(keys) ? keys : [keys as TesseraKey],
    });
  }

  #decoded(verified: VerifiedJwt, options: DecodeTokenOptions): VerifiedJwt {
    const result = this.config.profile.name === 'flask-jwt-extended' ? withFlaskDefaults(verified) : verified;
    if (options.csrfValue !== undefined) this.#checkCsrf(result.payload, options.csrfValue, result.header);
    return result;
  }

  // An expired cookie token with a wrong CSRF value reports the CSRF failure
  // (Flask-JWT-Extended decodes again to attach the payload, F92).
  #decodeFailed(error: unknown, options: DecodeTokenOptions): never {
    if (error instanceof TokenExpiredError && options.csrfValue !== undefined && error.jwtPayload) {
      this.#checkCsrf(error.jwtPayload, options.csrfValue, error.jwtHeader ?? {});
    }
    throw error;
  }

  #checkCsrf(
    payload: Readonly<Record<string, unknown>>,
    value: string,
    header: Readonly<Record<string, unknown>>,
  ) {
    const parts = { header, payload };
    const claim = payload.csrf;
    if (claim === undefined) throw new MissingClaimError('csrf', undefined, parts);
    if (typeof claim !== 'string' || !constantTimeEqual(claim, value)) throw new CsrfMismatchError(parts);
  }

  #checkType(header: JwsHeader, payload: JwtPayload, options: VerifyTokenOptions) {
    const { profile } = this.config;
    const type = payload[profile.typeClaim];
    if (profile.name === 'simplejwt') {
      const expected = options.refresh ? 'refresh' : (options.tokenType ?? 'access');
      if (type === undefined) throw new WrongTokenTypeError('Token has no type', { header, payload });
      if (type !== expected) throw new WrongTokenTypeError('Token has wrong type', { header, payload });
      return;
    }
    if (options.refresh) {
      if (type !== 'refresh')
        throw new WrongTokenTypeError('Only refresh tokens are allowed', { header, payload });
      return;
    }
    if (type === 'refresh')
      throw new WrongTokenTypeError('Only non-refresh tokens are allowed', { header, payload });
    const expected = options.tokenType ?? 'access';
    if (profile.accessTypeRule === 'exact' && type !== expected) {
      throw new WrongTokenTypeError(`Only ${expected} tokens are allowed`, { header, payload });
    }
  }

  #isFresh(payload: JwtPayload): boolean {
    const { fresh } = payload;
    if (typeof fresh === 'boolean') return fresh;
    return typeof fresh === 'number' && fresh >= this.config.now();
  }

  #warned = false;
  #warnFailOpen(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`tessera: revocation store unreachable, accepting tokens (revocationFailOpen): ${reason}`);
  }
}

// The verifier's per-call options, shared rather than built per request.
const ALLOW_EXPIRED = Object.freeze({ allowExpired: true });

/** The key a store files a user under: the identity as a string (JSON for objects). */
export function userKey(identity: unknown): string {
  return typeof identity === 'string' ? identity : JSON.stringify(identity);
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  if (x.length !== y.length) {
    // Spend the same work on a length mismatch so timing does not reveal it early.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
