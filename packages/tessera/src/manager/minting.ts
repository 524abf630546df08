/**
 * Minting: new tokens from what the application passes (identity through the
 * userIdentity callback), and re-issued tokens from what was verified (the
 * identity claim as it is, never converted twice). Every mint returns the
 * claims it signed, so no caller parses its own token back.
 */
import { utf8ByteLength } from '../bytes.js';
import { ConfigError, InvalidIdentityError, WrongTokenTypeError } from '../errors.js';
import { encodeJwsHeader, signJwsMaybe, signWithHeaderSegment } from '../jws/compact.js';
import type { TesseraKey } from '../keys/key.js';
import { MAX_ID_BYTES } from '../stores/rules.js';
import { type Duration, toSeconds } from '../tokens/duration.js';
import type { JwtPayload } from '../tokens/validate.js';
import { buildClaims, type ClaimInputs, customClaims, newJti, type TokenKind } from './claims.js';
import type { ResolvedConfig } from './config.js';
import type { CreateRefreshTokenOptions } from './types.js';

/** A signed token and the claims in it. */
export interface Minted {
  readonly token: string;
  readonly payload: Record<string, unknown>;
}

/** What a mint needs besides the application's options. */
export interface MintDetails {
  readonly now: number;
  /** `fresh` claim of access tokens. */
  readonly fresh: boolean | number;
  /** The configured lifetime, used when the call gives no `expiresIn`. */
  readonly defaultExpires: number | false;
  readonly refreshExp?: number;
  readonly familyId?: string;
  readonly jti?: string;
  /** The session's CSRF value, when the token joins one (see ClaimInputs.csrfValue). */
  readonly csrfValue?: string;
}

/** Re-issue options: the family, jti and lifetime of the new token. */
export interface ReissueDetails {
  readonly now: number;
  readonly familyId?: string;
  readonly jti?: string;
  /** Seconds from `now`, or false for no exp. */
  readonly expiresIn: number | false;
}

/** The key a store files a user under: the identity as a string (JSON for objects). */
export function userKey(identity: unknown): string {
  return typeof identity === 'string' ? identity : JSON.stringify(identity);
}

/**
 * Whether a store can key a user by this key: 1 to {@link MAX_ID_BYTES} UTF-8
 * bytes. Cheap for the usual short string (a UTF-16 unit is at most 3 UTF-8 bytes).
 */
export function isKeyableUserKey(key: string | undefined): boolean {
  if (typeof key !== 'string' || key.length === 0) return false;
  return key.length * 3 <= MAX_ID_BYTES || utf8ByteLength(key) <= MAX_ID_BYTES;
}

const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Mints tokens under one configuration. */
export class Minter<TUser> {
  readonly #config: ResolvedConfig<TUser>;
  /** No additionalClaims, additionalHeaders or encodeKey callback: a mint can finish without awaiting. */
  readonly #plain: boolean;
  // The header segment of the last signing key, for mints without header options:
  // every token a key signs carries the same one (keyring rotation changes the key).
  #headerKey: TesseraKey | undefined;
  #headerSegment = '';
  #otherHeaderKey: TesseraKey | undefined;
  #otherHeaderSegment = '';

  constructor(config: ResolvedConfig<TUser>) {
    this.#config = config;
    const { additionalClaims, additionalHeaders, encodeKey } = config.callbacks;
    this.#plain =
      additionalClaims === undefined && additionalHeaders === undefined && encodeKey === undefined;
  }

  /** Now, in whole seconds, as every profile writes `iat`, `nbf` and `exp`. */
  issueTime(): number {
    return Math.floor(this.#config.now());
  }

  // Flask-JWT-Extended writes a timedelta freshness as a float timestamp.
  freshClaim(fresh: boolean | Duration): boolean | number {
    return typeof fresh === 'boolean' ? fresh : this.#config.now() + toSeconds(fresh, 'fresh');
  }

  /** A new token for the identity the application passed (run through userIdentity). */
  async mint(kind: TokenKind, options: CreateRefreshTokenOptions, details: MintDetails): Promise<Minted> {
    const { userIdentity } = this.#config.callbacks;
    const raw = options.identity;
    const identity = this.#checkedIdentity(userIdentity === undefined ? raw : await userIdentity(raw));
    return this.#sign(kind, identity, raw, options, details);
  }

  /**
   * A new token from a verified one: its identity claim as it is (userIdentity
   * already ran when the first token was made), its application claims, and
   * the family, jti and lifetime given.
   */
  async reissue(kind: TokenKind, verified: JwtPayload, details: ReissueDetails): Promise<Minted> {
    const { profile } = this.#config;
    const identity = verified[profile.identityClaim];
    this.checkIdentity(identity);
    const additionalClaims = customClaims(verified, profile.identityClaim, profile.typeClaim);
    return this.#sign(
      kind,
      identity,
      identity,
      { identity, additionalClaims },
      {
        now: details.now,
        fresh: false,
        defaultExpires: details.expiresIn,
        familyId: details.familyId,
        jti: details.jti,
        // The session keeps its CSRF value: a tab that read the old CSRF cookie stays valid.
        csrfValue: typeof verified.csrf === 'string' ? verified.csrf : undefined,
      },
    );
  }

  /** A non-refresh token re-issued in its family (implicit cookie refresh). */
  async reissueAccess(verified: JwtPayload): Promise<string> {
    const { profile } = this.#config;
    if (verified[profile.typeClaim] === 'refresh') {
      throw new WrongTokenTypeError('Only non-refresh tokens are allowed', { payload: verified });
    }
    const familyId = typeof verified.fam === 'string' ? verified.fam : undefined;
    const now = this.issueTime();
    const minted = await this.reissue('access', verified, {
      now,
      familyId,
      expiresIn: this.#config.accessExpires,
    });
    return minted.token;
  }

  /**
   * SimpleJWT's `RefreshToken.access_token`: an access token that copies every claim
   * of a (verified) refresh token but its type, exp and jti, `iat` included;
   * `exp` counts from now (docs/reference/python-peers.md Q8).
   */
  async accessFromRefresh(refresh: JwtPayload): Promise<string> {
    const { profile } = this.#config;
    const now = this.issueTime();
    const claims: Record<string, unknown> = { [profile.typeClaim]: 'access' };
    if (this.#config.accessExpires !== false) claims.exp = now + this.#config.accessExpires;
    claims.iat = now;
    claims.jti = newJti(profile);
    for (const [claim, value] of Object.entries(refresh)) {
      if (claim !== profile.typeClaim && claim !== 'exp' && claim !== 'jti') claims[claim] = value;
    }
    return this.signPayload(claims, { identity: refresh[profile.identityClaim] });
  }

  /** Sign an explicit payload as is (claims already built). */
  async signPayload(
    payload: Record<string, unknown>,
    options: { identity?: unknown; additionalHeaders?: Record<string, unknown> } = {},
  ): Promise<string> {
    const kind: TokenKind = payload[this.#config.profile.typeClaim] === 'refresh' ? 'refresh' : 'access';
    const key = await this.#signingKey(options.identity, kind);
    // A string on node:crypto (no extra await on the fast path), a promise on Web Crypto.
    return signJwsMaybe(this.#header(key, options.additionalHeaders ?? {}), payload, key.signing!);
  }

  /**
   * The identity claim's value for what the application passed: userIdentity
   * applied, a string in the standard profile, and keyable by a store.
   */
  async identityClaim(raw: unknown): Promise<unknown> {
    const { userIdentity } = this.#config.callbacks;
    return this.#checkedIdentity(userIdentity === undefined ? raw : await userIdentity(raw));
  }

  /** {@link identityClaim} after userIdentity ran. */
  #checkedIdentity(identity: unknown): unknown {
    if (identity === undefined) throw new ConfigError('identity is required to create a token');
    let claim = identity;
    if (this.#config.profile.identityMustBeString) {
      if (typeof identity === 'number' && Number.isFinite(identity)) claim = String(identity);
      else if (typeof identity !== 'string') {
        throw new ConfigError(
          'identity must be a string in the standard profile (RFC 7519 sub): convert it with the userIdentity callback',
        );
      }
    }
    this.checkIdentity(claim);
    return claim;
  }

  /** Throws `identity_invalid` unless a store can key this identity claim. */
  checkIdentity(identity: unknown): void {
    const key = userKey(identity);
    if (isKeyableUserKey(key)) return;
    throw new InvalidIdentityError(
      (key ?? '').length === 0
        ? 'Token identity cannot be empty'
        : `Token identity is too long: at most ${MAX_ID_BYTES} UTF-8 bytes`,
    );
  }

  /**
   * Sign a new token: without a promise of its own when no callback has to be
   * awaited (no additionalClaims, additionalHeaders or encodeKey) and the key
   * signs synchronously (node:crypto), with the same claims, header and errors.
   */
  #sign(
    kind: TokenKind,
    identity: unknown,
    callbackIdentity: unknown,
    options: CreateRefreshTokenOptions,
    details: MintDetails,
  ): Minted | Promise<Minted> {
    if (!this.#plain) return this.#signWithCallbacks(kind, identity, callbackIdentity, options, details);
    const payload = buildClaims(
      this.#config.profile,
      this.#claimInputs(kind, identity, options, details, options.additionalClaims ?? NO_CLAIMS),
    );
    const key = this.#keyFor(kind);
    if (key === undefined || key.signing === undefined) throw noSigningKey();
    const token =
      options.additionalHeaders === undefined
        ? signWithHeaderSegment(this.#plainHeader(key), payload, key.signing)
        : signJwsMaybe(this.#header(key, { ...options.additionalHeaders }), payload, key.signing);
    return typeof token === 'string' ? { token, payload } : token.then((text) => ({ token: text, payload }));
  }

  /** The encoded header of a token `key` signs without header options. */
  #plainHeader(key: TesseraKey): string {
    if (this.#headerKey === key) return this.#headerSegment;
    // A second slot, so that access and refresh tokens under different keys (refreshKeys) do not evict each other.
    if (this.#otherHeaderKey !== key) {
      this.#otherHeaderKey = this.#headerKey;
      this.#otherHeaderSegment = this.#headerSegment;
      this.#headerSegment = encodeJwsHeader(this.#header(key, {}), key.signing!);
      this.#headerKey = key;
      return this.#headerSegment;
    }
    return this.#otherHeaderSegment;
  }

  #claimInputs(
    kind: TokenKind,
    identity: unknown,
    options: CreateRefreshTokenOptions,
    details: MintDetails,
    extra: Readonly<Record<string, unknown>>,
  ): ClaimInputs {
    const expiresIn =
      options.expiresIn === undefined
        ? details.defaultExpires
        : options.expiresIn === false
          ? false
          : toSeconds(options.expiresIn, 'expiresIn');
    return {
      kind,
      identity,
      now: details.now,
      expiresIn,
      fresh: details.fresh,
      encodeNbf: this.#config.encodeNbf,
      csrf: this.#config.transport.csrf.enabled,
      issuer: this.#config.issuer,
      audience: this.#config.audience,
      extra,
      refreshExp: details.refreshExp,
      familyId: details.familyId,
      jti: details.jti,
      csrfValue: details.csrfValue,
    };
  }

  async #signWithCallbacks(
    kind: TokenKind,
    identity: unknown,
    callbackIdentity: unknown,
    options: CreateRefreshTokenOptions,
    details: MintDetails,
  ): Promise<Minted> {
    const { callbacks, profile } = this.#config;
    const extra = {
      ...(callbacks.additionalClaims === undefined ? {} : await callbacks.additionalClaims(callbackIdentity)),
      ...options.additionalClaims,
    };
    const headers = {
      ...(callbacks.additionalHeaders === undefined
        ? {}
        : await callbacks.additionalHeaders(callbackIdentity)),
      ...options.additionalHeaders,
    };
    const payload = buildClaims(profile, this.#claimInputs(kind, identity, options, details, extra));
    const key = await this.#signingKey(callbackIdentity, kind);
    const token = signJwsMaybe(this.#header(key, headers), payload, key.signing!);
    // Awaited only on Web Crypto, so node:crypto's path keeps its synchronous signature.
    return { token: typeof token === 'string' ? token : await token, payload };
  }

  async #signingKey(identity: unknown, kind: TokenKind): Promise<TesseraKey> {
    const { encodeKey } = this.#config.callbacks;
    const key = encodeKey !== undefined ? await encodeKey(identity) : this.#keyFor(kind);
    if (key === undefined || key.signing === undefined) throw noSigningKey();
    return key;
  }

  #isRefreshKey(key: TesseraKey): boolean {
    return key === this.#config.refreshSigningKey?.();
  }

  /** Refresh tokens sign with the refresh keys when there are some (`refreshKeys`), all else with the manager's. */
  #keyFor(kind: TokenKind): TesseraKey | undefined {
    const { refreshSigningKey, signingKey } = this.#config;
    return kind === 'refresh' && refreshSigningKey !== undefined ? refreshSigningKey() : signingKey?.();
  }

  #header(key: TesseraKey, extra: Record<string, unknown>): Record<string, unknown> {
    const header: Record<string, unknown> = { ...extra, alg: key.alg, typ: extra.typ ?? this.#config.typ };
    if (key.kid !== undefined && header.kid === undefined) header.kid = key.kid;
    // Verification finds a refresh key by its kid alone: no header may name another.
    if (this.#config.refreshSigningKey !== undefined && header.kid !== key.kid && this.#isRefreshKey(key)) {
      header.kid = key.kid;
    }
    // PyJWT writes headers with sorted keys; doing the same keeps tokens byte-identical.
    return Object.fromEntries(Object.entries(header).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

function noSigningKey(): ConfigError {
  return new ConfigError('this manager has no signing key: configure secret, privateKey or a keyring');
}
