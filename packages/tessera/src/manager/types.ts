/**
 * The public shapes of the manager's calls: what each method takes and gives
 * back, and the option keys each call accepts (so a misspelt one is refused).
 */
import type { JwsHeader } from '../jws/header.js';
import type { Duration } from '../tokens/duration.js';
import type { JwtPayload } from '../tokens/validate.js';

/**
 * The custom claims of a manager that declares none: the payload is then just
 * {@link JwtPayload}. (`{}` rather than `object`: `JwtPayload & {}` is `JwtPayload`.)
 */
// biome-ignore lint/complexity/noBannedTypes: the identity of `&`, so `JwtPayload & NoClaims` is `JwtPayload`.
export type NoClaims = {};

/** A verified token's payload: the registered claims and the manager's custom claims. */
export type TokenPayload<TClaims extends object = NoClaims> = JwtPayload & TClaims;

/**
 * What `additionalClaims` takes: the declared custom claims, each checked
 * against its declared type, and any other claim (a registered claim to
 * override, such as `aud`, or one the application did not declare).
 */
export type AdditionalClaims<TClaims extends object = NoClaims> = Partial<TClaims> & Record<string, unknown>;

/** Options of {@link TokenManager.createAccessToken}. */
export interface CreateAccessTokenOptions<TClaims extends object = NoClaims, TIdentity = unknown> {
  /**
   * Who the token is for; passed through the userIdentity callback. Typed by the
   * manager's `TIdentity` (the identity claim's type).
   */
  identity: TIdentity;
  /** true, false, or a duration during which the token counts as fresh. Default false. */
  fresh?: boolean | Duration;
  /** Claims to add (override the additionalClaims callback and any default claim). */
  additionalClaims?: AdditionalClaims<TClaims>;
  /** Header parameters to add (`alg` is always the key's). */
  additionalHeaders?: Record<string, unknown>;
  /** Lifetime of this token, or false for no exp. Default: the configured lifetime. */
  expiresIn?: Duration | false;
}

/** Options of {@link TokenManager.createRefreshToken}. */
export type CreateRefreshTokenOptions<TClaims extends object = NoClaims, TIdentity = unknown> = Omit<
  CreateAccessTokenOptions<TClaims, TIdentity>,
  'fresh'
>;

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

/**
 * The outcome of a successful {@link TokenManager.verifyToken}, typed with the
 * manager's user, custom claims and identity types.
 */
export interface VerifiedToken<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown> {
  readonly header: JwsHeader;
  readonly payload: TokenPayload<TClaims>;
  /** The identity claim's value. */
  readonly identity: TIdentity;
  /**
   * What userLookup returned: never null or undefined (a lookup that finds
   * nobody refuses the token with `user_lookup_failed`). Without a userLookup
   * it is undefined at run time (`TUser` is then `unknown`).
   */
  readonly user: TUser;
}

/** An access token with its refresh token. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** The refresh family (login session), when a store tracks rotation. */
  readonly familyId: string | undefined;
}

/** Options of {@link TokenManager.createTokenPair}. */
export interface CreateTokenPairOptions<TClaims extends object = NoClaims, TIdentity = unknown>
  extends CreateAccessTokenOptions<TClaims, TIdentity> {
  /** Facts about the session to list later (user agent, IP...). */
  metadata?: Record<string, string>;
}

/** Options of {@link TokenManager.refreshTokens}. */
export interface RefreshTokensOptions {
  /** The double-submit CSRF value sent with a cookie refresh token. */
  csrfValue?: string;
}

/** Outcome of {@link TokenManager.refreshTokens}. */
export interface RefreshResult {
  readonly accessToken: string;
  /** The new refresh token when rotation is on; undefined otherwise. */
  readonly refreshToken: string | undefined;
  /** The verified refresh token that was presented. */
  readonly presented: VerifiedToken<unknown, NoClaims, unknown>;
}
