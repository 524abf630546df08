/**
 * Claim layouts of new tokens, in each profile's exact key order, so that a
 * token minted here is byte-for-byte shaped like one its Python peer mints.
 */
import type { TokenProfile } from '../tokens/profile.js';

/** The kinds of token a manager mints. */
export type TokenKind = 'access' | 'refresh' | 'sliding';

/** Inputs of one new token, after callbacks ran. */
export interface ClaimInputs {
  readonly kind: TokenKind;
  readonly identity: unknown;
  /** Seconds since the epoch, already an integer for the python profiles. */
  readonly now: number;
  /** Lifetime in seconds, or false for no `exp`. */
  readonly expiresIn: number | false;
  /** `fresh` claim: boolean or a timestamp until which the token is fresh. */
  readonly fresh: boolean | number;
  readonly encodeNbf: boolean;
  readonly csrf: boolean;
  /**
   * The CSRF value to carry, when the token continues a session: one value per
   * session, so that a tab holding the CSRF cookie it read before another tab
   * refreshed still sends the value the new cookies expect.
   */
  readonly csrfValue?: string;
  readonly issuer: string | undefined;
  readonly audience: string | readonly string[] | undefined;
  /** `refresh_exp` for sliding tokens. */
  readonly refreshExp?: number;
  /** Refresh family id (rotation). */
  readonly familyId?: string;
  /** A jti chosen by the caller (rotation records it before signing). */
  readonly jti?: string;
  /** Claims from the additionalClaims callback merged with the call's own; they may override any claim. */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** A new token id in the profile's style. */
export function newJti(profile: TokenProfile): string {
  const id = globalThis.crypto.randomUUID();
  return profile.jtiStyle === 'hex' ? id.replaceAll('-', '') : id;
}

/** Build the payload of a new token. */
export function buildClaims(profile: TokenProfile, input: ClaimInputs): Record<string, unknown> {
  return profile.claimLayout === 'simplejwt' ? simpleJwtClaims(profile, input) : flaskClaims(profile, input);
}

// Flask-JWT-Extended 4.x order: fresh, iat, jti, type, <identity>, nbf, csrf, aud, iss, exp, extras.
function flaskClaims(profile: TokenProfile, input: ClaimInputs): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (profile.encodeFresh) claims.fresh = input.kind === 'access' ? input.fresh : false;
  claims.iat = input.now;
  claims.jti = input.jti ?? newJti(profile);
  claims[profile.typeClaim] = input.kind;
  claims[profile.identityClaim] = input.identity;
  if (input.encodeNbf) claims.nbf = input.now;
  if (input.csrf)
    claims.csrf = (profile.sessionCsrf ? input.csrfValue : undefined) ?? globalThis.crypto.randomUUID();
  if (input.audience !== undefined) claims.aud = input.audience;
  if (input.issuer !== undefined) claims.iss = input.issuer;
  if (input.expiresIn !== false) claims.exp = input.now + input.expiresIn;
  if (input.familyId !== undefined) claims.fam = input.familyId;
  return Object.assign(claims, input.extra);
}

// SimpleJWT 5.2 order: token_type, exp, iat, jti, [refresh_exp], user_id, extras, then aud and iss
// (its backend appends them last).
function simpleJwtClaims(profile: TokenProfile, input: ClaimInputs): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  claims[profile.typeClaim] = input.kind;
  if (input.expiresIn !== false) claims.exp = input.now + input.expiresIn;
  claims.iat = input.now;
  claims.jti = input.jti ?? newJti(profile);
  if (input.refreshExp !== undefined) claims.refresh_exp = input.refreshExp;
  claims[profile.identityClaim] = input.identity;
  if (input.encodeNbf) claims.nbf = input.now;
  if (input.csrf)
    claims.csrf = (profile.sessionCsrf ? input.csrfValue : undefined) ?? globalThis.crypto.randomUUID();
  if (input.familyId !== undefined) claims.fam = input.familyId;
  Object.assign(claims, input.extra);
  if (input.audience !== undefined) claims.aud = input.audience;
  if (input.issuer !== undefined) claims.iss = input.issuer;
  return claims;
}

// Claims a token's layout owns; everything else is the application's.
const REGISTERED = new Set(['iat', 'nbf', 'exp', 'jti', 'fresh', 'csrf', 'iss', 'aud', 'fam', 'refresh_exp']);

/**
 * The application's claims of a token, to carry over to a re-issued one (refresh,
 * implicit cookie refresh): everything but the registered and layout claims.
 */
export function customClaims(
  payload: Readonly<Record<string, unknown>>,
  identityClaim: string,
  typeClaim: string,
): Record<string, unknown> {
  const custom: Record<string, unknown> = {};
  for (const [claim, value] of Object.entries(payload)) {
    if (!REGISTERED.has(claim) && claim !== identityClaim && claim !== typeClaim) custom[claim] = value;
  }
  return custom;
}
