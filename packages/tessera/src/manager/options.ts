/**
 * The one configuration object of a {@link TokenManager}: keys, lifetimes,
 * claims, where tokens travel, and the callbacks that replace any behaviour.
 * Names follow Flask-JWT-Extended's settings in TypeScript casing.
 */
import type { KeyObject } from 'node:crypto';
import type { ErrorKind, TesseraError } from '../errors.js';
import type { JwsAlgorithm } from '../jws/algorithms.js';
import type { JwsHeader } from '../jws/header.js';
import type { JwsLimits } from '../jws/limits.js';
import type { TesseraKey } from '../keys/key.js';
import type { KeySource } from '../keys/source.js';
import type { MessagesOptions } from '../messages/messages.js';
import type { TokenStore } from '../stores/types.js';
import type { Duration } from '../tokens/duration.js';
import type { ProfileName } from '../tokens/profile.js';
import type { JwtPayload } from '../tokens/validate.js';

/** A value or a promise of it: every callback may be sync or async. */
export type MaybePromise<T> = T | Promise<T>;

/** Where a token may travel, in lookup order. */
export type TokenLocation = 'headers' | 'cookies' | 'query_string' | 'json';

/** Every location name, for validation and docs. */
export const TOKEN_LOCATIONS: readonly TokenLocation[] = ['headers', 'cookies', 'query_string', 'json'];

/** Callbacks (Flask-JWT-Extended's loaders). Each replaces one default behaviour. */
export interface TokenCallbacks<TUser = unknown> {
  /** Claims added to every new token (access and refresh); explicit `additionalClaims` win. */
  additionalClaims?: (identity: unknown) => MaybePromise<Record<string, unknown>>;
  /** Header parameters added to every new token (`alg` cannot be changed). */
  additionalHeaders?: (identity: unknown) => MaybePromise<Record<string, unknown>>;
  /** Turns what you pass as `identity` (a user object, say) into the identity claim's value. */
  userIdentity?: (identity: unknown) => MaybePromise<unknown>;
  /** Loads the current user for a verified token; `null`/`undefined` answers 401 `user_lookup_failed`. */
  userLookup?: (header: JwsHeader, payload: JwtPayload) => MaybePromise<TUser | null | undefined>;
  /** Return true to refuse the token as revoked (checked in addition to the store). */
  tokenInBlocklist?: (header: JwsHeader, payload: JwtPayload) => MaybePromise<boolean>;
  /** Return false to refuse the token's claims (403 `claims_verification_failed`). */
  tokenVerification?: (header: JwsHeader, payload: JwtPayload) => MaybePromise<boolean>;
  /** Picks the signing key per identity (per-tenant keys). */
  encodeKey?: (identity: unknown) => MaybePromise<TesseraKey>;
  /**
   * Picks the verification key(s) from the unverified header and payload
   * (per-tenant keys). The algorithm is still the key's, never the header's.
   */
  decodeKey?: (
    header: JwsHeader,
    unverifiedPayload: Record<string, unknown>,
  ) => MaybePromise<TesseraKey | readonly TesseraKey[]>;
}

/** Cookie transport settings. */
export interface CookieOptions {
  /** Default `access_token_cookie`. */
  accessName?: string;
  /** Default `refresh_token_cookie`. */
  refreshName?: string;
  /** Default `/`. */
  accessPath?: string;
  /** Default `/`. */
  refreshPath?: string;
  domain?: string;
  /** `Secure` attribute. Default true (standard profile), false (flask-jwt-extended profile). */
  secure?: boolean;
  /** `SameSite` attribute; false omits it. Default `Lax` (standard), omitted (flask-jwt-extended). */
  sameSite?: 'Strict' | 'Lax' | 'None' | false;
  /** Session cookies (no Max-Age) when true (default); otherwise Max-Age is the token's lifetime. */
  session?: boolean;
  /** Prefix cookie names with `__Host-` (forces Secure, Path=/ and no Domain). */
  hostPrefix?: boolean;
  /**
   * Re-issue the access cookie on a successful request when the token expires
   * within this long. Off by default.
   */
  implicitRefresh?: false | Duration;
}

/** Double-submit CSRF settings for cookie tokens. */
export interface CsrfOptions {
  /** Default true. Only effective when `cookies` is a token location. */
  protect?: boolean;
  /** Methods that need the double-submit value. Default POST, PUT, PATCH, DELETE. */
  methods?: readonly string[];
  /** Also set script-readable CSRF cookies with the token cookies. Default true. */
  inCookies?: boolean;
  /** Default `csrf_access_token`. */
  accessCookieName?: string;
  /** Default `csrf_refresh_token`. */
  refreshCookieName?: string;
  accessCookiePath?: string;
  refreshCookiePath?: string;
  /** Default `X-CSRF-TOKEN`. */
  accessHeaderName?: string;
  /** Default `X-CSRF-TOKEN`. */
  refreshHeaderName?: string;
  /** Also accept the value from a form field. Default false. */
  checkForm?: boolean;
  /** Default `csrf_token`. */
  accessFieldName?: string;
  /** Default `csrf_token`. */
  refreshFieldName?: string;
}

/** Refresh rotation and reuse detection (needs a store). */
export interface RotationOptions {
  /** Issue a new refresh token on every refresh; the old one is spent. Default: true with a store (false in the simplejwt profile, as ROTATE_REFRESH_TOKENS). */
  enabled?: boolean;
  /**
   * Seconds after a rotation during which the just-spent refresh token is still
   * answered, with the family's current successor (the same refresh token the
   * first redeemer got): a client that lost the response can retry, and two tabs
   * refreshing at once both stay signed in and converge on one session. Default 5.
   *
   * The trade-off: inside the window a replay is not detected, so a thief who
   * presents a stolen refresh token within `graceSeconds` of the user's own
   * refresh gets a working pair too. Outside it, a replay revokes the whole
   * family (RFC 9700 4.14). Keep it to seconds; 0 makes every refresh token
   * strictly single-use (a second tab's refresh then logs the session out).
   */
  graceSeconds?: number;
  /** SimpleJWT's BLACKLIST_AFTER_ROTATION: revoke the old refresh token's jti. Default false. */
  blacklistAfterRotation?: boolean;
}

/** An HTTP answer as plain data: adapters write it with their framework's API. */
export interface ResponseData {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The serialized body. */
  readonly body: string;
}

/**
 * Replaces the answer for one kind of error (Flask-JWT-Extended's
 * expired_token_loader and friends). Receives the default answer to adapt or ignore.
 */
export type ErrorHandler = (error: TesseraError, defaultResponse: ResponseData) => MaybePromise<ResponseData>;

/** One replaceable handler per error kind. */
export type ErrorHandlers = Partial<Record<Exclude<ErrorKind, 'configuration'>, ErrorHandler>>;

/** Everything a {@link TokenManager} is configured with. */
export interface TokenManagerOptions<TUser = unknown> {
  /** Claim layout, strictness and error format. Default `standard`. */
  profile?: ProfileName;

  /** Signing algorithm. Default HS256. */
  algorithm?: JwsAlgorithm;
  /** HMAC secret (at least 32/48/64 bytes for HS256/384/512). */
  secret?: string | Uint8Array;
  /** Private key (PEM or KeyObject) for asymmetric algorithms. */
  privateKey?: string | KeyObject;
  /** Public key (PEM or KeyObject), for a verify-only manager or an extra verification key. */
  publicKey?: string | KeyObject;
  /** Key id for the key built from secret/privateKey. */
  kid?: string;
  /** A keyring: signs with its active key, verifies with all of them. */
  keys?: KeySource & { signingKey?: () => TesseraKey };
  /** Verify with this source instead (a RemoteJwks, say); signing still uses the keys above. */
  verificationKeys?: KeySource;
  /**
   * Keys for refresh tokens alone. Refresh tokens are signed with
   * `refreshKeys.signingKey()` (which must carry a `kid`); a token whose `kid`
   * names one of these keys verifies against it, and is refused
   * (`wrong_token_type`) unless it is a refresh token. Everything else (access
   * tokens, refresh tokens issued before) verifies against the keys above.
   *
   * A refresh token is read only by the service that issued it, so an HMAC key
   * it keeps to itself (never in a JWKS) does: verifying and signing one costs a
   * fraction of an asymmetric signature, while access tokens stay verifiable by
   * anyone with the public key. Not with the `encodeKey`/`decodeKey` callbacks.
   *
   * @example
   * ```ts
   * import { generateKey, importSecret, Keyring, TokenManager } from 'tessera-auth';
   *
   * const tokens = new TokenManager({
   *   algorithm: 'EdDSA',
   *   keys: new Keyring([generateKey('EdDSA', { kid: 'sign-1' })]),
   *   // `secret`: 32 random bytes or more, kept by this service alone.
   *   refreshKeys: new Keyring([importSecret(secret, 'HS256', { kid: 'refresh-1' })]),
   * });
   * ```
   */
  refreshKeys?: KeySource & { signingKey: () => TesseraKey };

  /** Access token lifetime (seconds, '15m', or false for no exp). Profile default. */
  accessTokenExpires?: Duration | false;
  /** Refresh token lifetime. Profile default. */
  refreshTokenExpires?: Duration | false;
  /** Sliding token lifetime (simplejwt). Default 5m. */
  slidingTokenExpires?: Duration;
  /** Sliding refresh window (`refresh_exp`). Default 1d. */
  slidingTokenRefreshExpires?: Duration;

  /** Identity claim name. Profile default (`sub` or `user_id`). */
  identityClaim?: string;
  /** `iss` of new tokens. */
  issuer?: string;
  /** `aud` of new tokens. */
  audience?: string | readonly string[];
  /** Accepted issuers; defaults to `issuer`. */
  decodeIssuer?: string | readonly string[];
  /** Accepted audiences; defaults to `audience`. */
  decodeAudience?: string | readonly string[];
  /** Clock skew tolerated on exp/nbf/iat. Default 0. */
  leeway?: Duration;
  /** Add `nbf` to new tokens. Profile default. */
  encodeNbf?: boolean;
  /** Refuse tokens without exp. Profile default (true, false for flask-jwt-extended). */
  requireExp?: boolean;
  /** `typ` header of new tokens. Default `JWT`. */
  typ?: string;
  /** Accepted `typ` values on verification. Default JWT and at+jwt (standard); any (python profiles). */
  acceptedTyp?: readonly string[] | false;
  /** Size limits. */
  limits?: Partial<JwsLimits>;
  /** Cache up to this many verified tokens (never past exp; revocation still checked). Default off. */
  verifiedTokenCache?: number | false;
  /** Current time in seconds since the epoch (for tests). */
  now?: () => number;

  /** Where to look for tokens, in order. Default ['headers']. */
  tokenLocation?: TokenLocation | readonly TokenLocation[];
  /** Authorization header name. Default `Authorization`. */
  headerName?: string;
  /** Authorization scheme; '' for a bare token. Default `Bearer`. */
  headerType?: string;
  /** Query parameter name. Default `jwt`. */
  queryStringName?: string;
  /** Required prefix of the query value. Default ''. */
  queryStringValuePrefix?: string;
  /** JSON body key for access tokens. Default `access_token`. */
  jsonKey?: string;
  /** JSON body key for refresh tokens. Default `refresh_token`. */
  refreshJsonKey?: string;
  cookies?: CookieOptions;
  csrf?: CsrfOptions;
  /** Key of error bodies. Default `msg`. */
  errorMessageKey?: string;
  /**
   * The language of the standard profile's error messages, and the app's own
   * catalogs and overrides (docs/errors.md). Default English. The Python
   * profiles answer with their peers' texts and refuse this option.
   */
  messages?: MessagesOptions;

  /** Revocation and refresh-family store. */
  store?: TokenStore;
  /** When the store cannot be reached: refuse (default) or accept and log. */
  revocationFailOpen?: boolean;
  /** Refresh rotation settings (used with a store). */
  rotation?: RotationOptions;

  /** Callbacks that replace default behaviour. */
  callbacks?: TokenCallbacks<TUser>;
  /** Replace the HTTP answer for error kinds. */
  errorHandlers?: ErrorHandlers;
}
