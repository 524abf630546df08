/**
 * The public shapes of the manager's calls: what each method takes and gives
 * back, and the option keys each call accepts (so a misspelt one is refused).
 */
import type { JwsHeader } from '../jws/header.js';
import type { Duration } from '../tokens/duration.js';
import type { JwtPayload } from '../tokens/validate.js';

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
  readonly presented: VerifiedToken<unknown>;
}
