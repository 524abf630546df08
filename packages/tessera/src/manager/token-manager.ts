/**
 * TokenManager: Flask-JWT-Extended's JWTManager for TypeScript. One validated
 * configuration behind a small facade over three parts: minting (minting.ts),
 * verification in Flask-JWT-Extended's order (verification.ts), and sessions:
 * refresh families, rotation, logout and revocation (sessions.ts).
 */
import { MissingClaimError, RefreshTokenReusedError, TesseraError, TokenExpiredError } from '../errors.js';
import { TesseraEvents, type TokenManagerEventMap, type TokenOperation } from '../events.js';
import type { JwsHeader } from '../jws/header.js';
import { Keyring } from '../keys/keyring.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { SessionInfo } from '../stores/types.js';
import { inProfileWords } from '../tokens/profile.js';
import type { JwtPayload } from '../tokens/validate.js';
import { isPromise, TokenVerifier, type VerifiedJwt } from '../tokens/verifier.js';
import { type ResolvedConfig, resolveConfig } from './config.js';
import { Minter } from './minting.js';
import { CALL_OPTION_KEYS } from './option-keys.js';
import type { TokenManagerOptions } from './options.js';
import { Sessions } from './sessions.js';
import type {
  CreateAccessTokenOptions,
  CreateRefreshTokenOptions,
  CreateTokenPairOptions,
  DecodeTokenOptions,
  NoClaims,
  RefreshResult,
  RefreshTokensOptions,
  TokenPair,
  TokenPayload,
  VerifiedToken,
  VerifyTokenOptions,
} from './types.js';
import { Verification } from './verification.js';

export { userKey } from './minting.js';
export type {
  AdditionalClaims,
  CreateAccessTokenOptions,
  CreateRefreshTokenOptions,
  CreateTokenPairOptions,
  DecodeTokenOptions,
  NoClaims,
  RefreshResult,
  RefreshTokensOptions,
  TokenPair,
  TokenPayload,
  VerifiedToken,
  VerifyTokenOptions,
} from './types.js';

const NO_OPTIONS: Readonly<VerifyTokenOptions> = Object.freeze({});

/**
 * Mints and verifies tokens under one configuration.
 *
 * Three types flow from here to every adapter's request: `TUser`, what the
 * `userLookup` callback returns (inferred from it; `unknown` without one),
 * `TClaims`, the application's custom claims (an object type), and `TIdentity`,
 * the identity claim's type. `TClaims` and `TIdentity` are declared, not
 * checked at run time: they describe the tokens this manager's key signed.
 *
 * @example
 * ```ts
 * const jwt = new TokenManager({ secret: process.env.JWT_SECRET });
 * const token = await jwt.createAccessToken({ identity: 'alice' });
 * const { identity } = await jwt.verifyToken(token);
 * ```
 *
 * @example
 * ```ts
 * interface User { readonly id: string }
 * const typed = new TokenManager<User, { roles: readonly string[] }, string>({
 *   secret: process.env.JWT_SECRET,
 *   callbacks: { userLookup: (_header, payload) => ({ id: String(payload.sub) }) },
 * });
 * const access = await typed.createAccessToken({ identity: 'alice', additionalClaims: { roles: ['admin'] } });
 * const { payload, user } = await typed.verifyToken(access); // payload.roles: readonly string[]; user: User
 * ```
 */
export class TokenManager<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown> {
  /** The validated configuration. */
  readonly config: ResolvedConfig<TUser>;
  /** The synchronous verification core (signature and registered claims only). */
  readonly verifier: TokenVerifier;
  /**
   * Events to subscribe to: `token_refused`, `refresh_reuse_detected`,
   * `session_revoked`, `key_rotated` (when `keys` is a Keyring), and
   * `sign_in_refused`, which the application emits itself. See docs/events.md.
   */
  readonly events: TesseraEvents<TokenManagerEventMap>;
  readonly #minter: Minter<TUser>;
  readonly #verification: Verification<TUser>;
  readonly #sessions: Sessions<TUser>;
  /** Whether errors keep the catalog's English as `message` (no rewording on the way out). */
  readonly #catalogText: boolean;

  constructor(options: TokenManagerOptions<TUser>) {
    this.config = resolveConfig(options);
    const ring = options.keys instanceof Keyring ? options.keys : undefined;
    // The ring is subscribed to only once somebody listens here, so a manager
    // nobody watches leaves no listener behind on a long-lived ring.
    this.events = new TesseraEvents<TokenManagerEventMap>((name) => {
      if (name === 'key_rotated' && ring !== undefined) {
        ring.events.on('key_rotated', (event) => this.events.emit('key_rotated', event));
      }
    });
    this.verifier = new TokenVerifier({
      keys: this.config.verificationKeys,
      rules: this.config.rules,
      typ: this.config.acceptedTyp,
      limits: this.config.limits,
      clock: this.config.now,
      cacheSize: this.config.cacheSize,
      ignoreUnknownKid: this.config.profile.ignoreUnknownKid,
      payloadBeforeSignature: this.config.profile.payloadBeforeSignature,
    });
    this.#minter = new Minter(this.config);
    this.#verification = new Verification(this.config, this.verifier);
    this.#catalogText = this.config.profile.errorText === 'catalog';
    this.#sessions = new Sessions(this.config, this.#minter);
  }

  /**
   * Mint an access token. The identity goes through the userIdentity callback;
   * an identity a store cannot key (empty, over 255 UTF-8 bytes) is refused with
   * `identity_invalid`.
   */
  async createAccessToken(options: CreateAccessTokenOptions<TClaims, TIdentity>): Promise<string> {
    refuseUnknownOptions(options, CALL_OPTION_KEYS.createAccessToken, 'createAccessToken options');
    const minter = this.#minter;
    const minted = await minter.mint('access', options, {
      now: minter.issueTime(),
      fresh: minter.freshClaim(options.fresh ?? false),
      defaultExpires: this.config.accessExpires,
    });
    return minted.token;
  }

  /**
   * Mint a refresh token. Under rotation (a store, `rotation.enabled`) it opens
   * a session family, as {@link createTokenPair} does, so it is single-use like
   * every other refresh token.
   */
  async createRefreshToken(options: CreateRefreshTokenOptions<TClaims, TIdentity>): Promise<string> {
    refuseUnknownOptions(options, CALL_OPTION_KEYS.createRefreshToken, 'createRefreshToken options');
    const now = this.#minter.issueTime();
    if (this.#sessions.rotating) return (await this.#sessions.openFamily(options, now)).refresh.token;
    const minted = await this.#minter.mint('refresh', options, {
      now,
      fresh: false,
      defaultExpires: this.config.refreshExpires,
    });
    return minted.token;
  }

  /** Mint a SimpleJWT sliding token (`token_type: sliding`, with `refresh_exp`). */
  async createSlidingToken(options: CreateRefreshTokenOptions<TClaims, TIdentity>): Promise<string> {
    refuseUnknownOptions(options, CALL_OPTION_KEYS.createSlidingToken, 'createSlidingToken options');
    const now = this.#minter.issueTime();
    const minted = await this.#minter.mint('sliding', options, {
      now,
      fresh: false,
      defaultExpires: this.config.slidingExpires,
      refreshExp: now + this.config.slidingRefreshExpires,
    });
    return minted.token;
  }

  /**
   * Sign an explicit payload as is (claims already built). For re-issuing tokens
   * whose claims must be kept, like SimpleJWT's access-from-refresh.
   */
  async signPayload(
    payload: Record<string, unknown>,
    options: { identity?: unknown; additionalHeaders?: Record<string, unknown> } = {},
  ): Promise<string> {
    return this.#minter.signPayload(payload, options);
  }

  /**
   * Verify a token's signature and registered claims, its identity claim, and the
   * CSRF value when one is given (Flask-JWT-Extended's `decode_token`). No type,
   * freshness, revocation or user checks.
   */
  decodeToken(token: string, options: DecodeTokenOptions = NO_OPTIONS): Promise<TokenPayload<TClaims>> {
    // Not an async function: a synchronous answer is handed over in one settled promise,
    // without the extra turn an inner await costs (the caller's own await is the only one).
    let result: VerifiedJwt | Promise<VerifiedJwt>;
    try {
      refuseUnknownOptions(options, CALL_OPTION_KEYS.decodeToken, 'decodeToken options');
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      result = this.#verification.decode(token, options);
    } catch (error) {
      this.#refused('decode', error);
      return Promise.reject(error);
    }
    if (!isPromise(result)) return Promise.resolve(result.payload as TokenPayload<TClaims>);
    return result.then(
      (verified) => verified.payload as TokenPayload<TClaims>,
      (error: unknown) => {
        this.#refused('decode', error);
        throw error;
      },
    );
  }

  /** Decode and run every check a protected route makes. */
  async verifyToken(
    token: string,
    options: VerifyTokenOptions = NO_OPTIONS,
  ): Promise<VerifiedToken<TUser, TClaims, TIdentity>> {
    refuseUnknownOptions(options, CALL_OPTION_KEYS.verifyToken, 'verifyToken options');
    try {
      return (await this.#verification.verify(token, options)) as Typed<TUser, TClaims, TIdentity>;
    } catch (error) {
      this.#refused('verify', error);
      throw error;
    }
  }

  /**
   * {@link verifyToken}, answering synchronously when nothing configured has to
   * wait (no store, no async-capable callback, a local keyring): the form the
   * request guard uses, since every await on the hot path costs a turn of the loop.
   * A refusal is thrown synchronously when the answer is synchronous, and is a
   * rejected promise otherwise. The options are not checked for unknown keys here
   * (the guard checks its route options once, when it is built).
   */
  verify(
    token: string,
    options: VerifyTokenOptions = NO_OPTIONS,
  ): Typed<TUser, TClaims, TIdentity> | Promise<Typed<TUser, TClaims, TIdentity>> {
    type Result = Typed<TUser, TClaims, TIdentity> | Promise<Typed<TUser, TClaims, TIdentity>>;
    // Nobody listening and nothing to reword: no wrapper on the hot path.
    if (this.#catalogText && !this.events.listening('token_refused')) {
      return this.#verification.verify(token, options) as Result;
    }
    try {
      const result = this.#verification.verify(token, options) as Result;
      if (!isPromise(result)) return result;
      return result.then(undefined, (error: unknown) => {
        this.#refused('verify', error);
        throw error;
      });
    } catch (error) {
      this.#refused('verify', error);
      throw error;
    }
  }

  /**
   * Log in: an access token and a refresh token. With a store and rotation on,
   * the refresh token opens a new family (a session that can be listed and
   * revoked) and both tokens carry its id in `fam`.
   */
  async createTokenPair(options: CreateTokenPairOptions<TClaims, TIdentity>): Promise<TokenPair> {
    refuseUnknownOptions(options, CALL_OPTION_KEYS.createTokenPair, 'createTokenPair options');
    return this.#sessions.createTokenPair(options);
  }

  /**
   * Exchange a refresh token for a new access token (never fresh), rotating the
   * refresh token when configured. Pass the token string, or the
   * {@link VerifiedToken} a guard already produced for it (a route with
   * `refresh: true`), so that the refresh costs one signature check; a
   * `VerifiedToken` is trusted as verified, only its type (and `csrfValue`, if
   * given) is checked again, and its revocation is not asked again.
   *
   * Given the string, with a store whose rotation checks revocation
   * (`rotationChecksRevocation`: every store Tessera ships), the store's
   * revocation check is made inside the rotation: a refresh is one store
   * operation, and a revoked token is refused as `token_revoked` all the same.
   *
   * New tokens are minted from the verified claims: the identity claim as it
   * is (the userIdentity callback is not run on it again), the application's
   * claims carried over, and the session family kept.
   *
   * Under rotation every refresh token is single-use (RFC 9700 4.14): a spent
   * one presented again revokes its whole family and fails with
   * `refresh_token_reused`, except within `rotation.graceSeconds` of its
   * rotation, when it gets the family's current successor (the same refresh
   * token the first redeemer got), so a retry or a second tab converges instead
   * of forking the session. A refresh token minted outside any family is given
   * one derived from its jti on first use, so it is single-use too.
   */
  async refreshTokens(
    refreshToken: string | VerifiedToken<unknown>,
    options: RefreshTokensOptions = NO_OPTIONS,
  ): Promise<RefreshResult> {
    refuseUnknownOptions(options, CALL_OPTION_KEYS.refreshTokens, 'refreshTokens options');
    try {
      return await this.#refreshTokens(refreshToken, options);
    } catch (error) {
      if (error instanceof RefreshTokenReusedError) this.#reuseDetected(error);
      this.#refused('refresh', error);
      throw error;
    }
  }

  async #refreshTokens(
    refreshToken: string | VerifiedToken<unknown>,
    options: RefreshTokensOptions,
  ): Promise<RefreshResult> {
    if (typeof refreshToken === 'string') {
      // A store whose rotation checks revocation gets one operation per refresh: the
      // verification leaves its check to the rotation (tokenInBlocklist still runs here).
      const defer = this.#sessions.rotationChecksRevocation;
      const verification = this.#verification;
      const presented = await verification.verify(
        refreshToken,
        { refresh: true, csrfValue: options.csrfValue },
        defer ? 'deferred' : 'now',
      );
      if (!defer) return this.#sessions.refresh(presented);
      return this.#sessions.refresh(presented, () =>
        verification.checkStore(presented.header, presented.payload),
      );
    }
    // A guard's context: its guard asked the store unless built with skipRevocationCheck,
    // which the context does not say. Where the rotation checks revocation, the token is
    // handed to it (free), and a token it cannot take (no family, say) is asked about
    // first; a store without the capability trusts the guard, as before.
    const { header, payload } = refreshToken;
    const verification = this.#verification;
    verification.checkType(header, payload, { refresh: true });
    if (options.csrfValue !== undefined) verification.checkCsrf(payload, options.csrfValue, header);
    if (!this.#sessions.rotationChecksRevocation) return this.#sessions.refresh(refreshToken);
    return this.#sessions.refresh(refreshToken, () => verification.checkStore(header, payload));
  }

  /**
   * A new access token for a verified non-refresh token (implicit cookie
   * refresh): the same identity claim (userIdentity is not run on it again), the
   * application's claims, the same session family (`fam`), never fresh, and the
   * configured lifetime from now. It dies with its session like the original.
   */
  async reissueAccessToken(verified: Pick<VerifiedToken<unknown>, 'payload'>): Promise<string> {
    return this.#minter.reissueAccess(verified.payload);
  }

  /**
   * SimpleJWT's `RefreshToken.access_token`: an access token that copies every claim
   * of a (verified) refresh token but its type, exp and jti, `iat` included;
   * `exp` counts from now (docs/reference/python-peers.md Q8).
   */
  async createAccessTokenFromRefresh(refresh: JwtPayload): Promise<string> {
    return this.#minter.accessFromRefresh(refresh);
  }

  /**
   * SimpleJWT's sliding refresh: a sliding token that is still valid, and whose
   * `refresh_exp` has not passed, gets a new `exp` and `iat` with the same `jti`
   * and `refresh_exp` (docs/reference/python-peers.md Q9).
   */
  async refreshSlidingToken(token: string): Promise<string> {
    try {
      return await this.#refreshSlidingToken(token);
    } catch (error) {
      throw this.#worded(error);
    }
  }

  async #refreshSlidingToken(token: string): Promise<string> {
    const verified = await this.#verification.verify(token, { tokenType: 'sliding' });
    const { payload, header } = verified;
    const refreshExp = payload.refresh_exp;
    if (refreshExp === undefined)
      throw new MissingClaimError('refresh_exp', "Token has no 'refresh_exp' claim", { header, payload });
    if (typeof refreshExp !== 'number' || refreshExp <= this.config.now() - this.config.rules.leeway) {
      throw new TokenExpiredError({ header, payload }, "Token 'refresh_exp' claim has expired", {
        key: 'token_expired.refresh_exp',
      });
    }
    const now = this.#minter.issueTime();
    return this.#minter.signPayload(
      { ...payload, exp: now + this.config.slidingExpires, iat: now },
      { identity: verified.identity },
    );
  }

  /** Revoke one token (by jti, until its exp) in the store. */
  async revokeToken(token: string | JwtPayload): Promise<void> {
    this.#sessions.requireStore('revokeToken');
    return this.#sessions.revokeToken(await this.#payloadOf(token));
  }

  /**
   * Log out the session a token belongs to: its refresh family when it has one
   * (every access and refresh token of that login), else the token itself.
   */
  async logout(token: string | JwtPayload): Promise<void> {
    this.#sessions.requireStore('logout');
    const payload = await this.#payloadOf(token);
    await this.#sessions.logout(payload);
    if (typeof payload.fam === 'string' && this.events.listening('session_revoked')) {
      const identity = payload[this.config.profile.identityClaim];
      this.events.emit('session_revoked', { reason: 'logout', familyId: payload.fam, identity });
    }
  }

  /**
   * Revoke every token of a user issued before now, and all their sessions
   * (password change, "log out everywhere"). Tokens issued within the same
   * second as the call stay valid, so a token minted right after it works.
   */
  async revokeAllTokens(identity: TIdentity): Promise<void> {
    await this.#sessions.revokeAllTokens(identity);
    this.events.emit('session_revoked', { reason: 'revoke_all', familyId: undefined, identity });
  }

  /** A user's live sessions (refresh families), newest first. */
  async listSessions(identity: TIdentity): Promise<SessionInfo[]> {
    return this.#sessions.listSessions(identity);
  }

  /** Revoke one session by its family id. Returns whether it existed. */
  async revokeSession(familyId: string): Promise<boolean> {
    const existed = await this.#sessions.revokeSession(familyId);
    if (existed)
      this.events.emit('session_revoked', { reason: 'revoke_session', familyId, identity: undefined });
    return existed;
  }

  /**
   * Is this verified token revoked? Asks the store (by jti, user cut-off and
   * refresh family) and the tokenInBlocklist callback. When the store cannot be
   * reached this throws StoreUnavailableError (fail closed) unless
   * `revocationFailOpen` was chosen.
   */
  async isRevoked(header: JwsHeader, payload: JwtPayload): Promise<boolean> {
    return this.#verification.isRevoked(header, payload);
  }

  #refused(operation: TokenOperation, error: unknown): void {
    this.#worded(error);
    if (!(error instanceof TesseraError) || !this.events.listening('token_refused')) return;
    this.events.emit('token_refused', { code: error.code, kind: error.kind, operation, error });
  }

  // The store revoked the whole family before answering 'reused'.
  #reuseDetected(error: RefreshTokenReusedError): void {
    const payload = error.jwtPayload ?? {};
    const familyId = typeof payload.fam === 'string' ? payload.fam : undefined;
    const identity = payload[this.config.profile.identityClaim];
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
    this.events.emit('refresh_reuse_detected', { familyId, jti, identity });
    this.events.emit('session_revoked', { reason: 'reuse_detected', familyId, identity });
  }

  async #payloadOf(token: string | JwtPayload): Promise<JwtPayload> {
    if (typeof token !== 'string') return token;
    try {
      return (await this.#verification.decode(token, { allowExpired: true })).payload;
    } catch (error) {
      throw this.#worded(error);
    }
  }

  /** `error` in the profile's words (the Python profiles show their peers' texts). */
  #worded(error: unknown): unknown {
    return this.#catalogText ? error : inProfileWords(this.config.profile, error);
  }
}

/**
 * A verification's result under the manager's declared types. The one place
 * the declarations meet the run-time value: the payload and identity are what
 * this manager's key signed, and `user` is set whenever a userLookup is
 * configured (a lookup that finds nobody refuses the token), undefined (and
 * typed `unknown`) otherwise.
 */
type Typed<TUser, TClaims extends object, TIdentity> = VerifiedToken<TUser, TClaims, TIdentity>;
