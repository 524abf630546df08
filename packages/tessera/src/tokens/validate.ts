/**
 * Registered-claim validation (RFC 7519 section 4.1, RFC 8725) in PyJWT's order:
 * iat, nbf, exp, iss, aud, then the identity claim. Runs after the signature.
 */
import {
  InvalidAudienceError,
  InvalidClaimError,
  InvalidIssuerError,
  MissingClaimError,
  TokenExpiredError,
  TokenNotYetValidError,
} from '../errors.js';
import type { JwsHeader } from '../jws/header.js';
import type { TokenProfile } from './profile.js';

/** A verified token's claims. Registered claims are typed; everything else is unknown. */
export interface JwtPayload {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/** The claim rules a verifier applies, resolved once from configuration. */
export interface ClaimRules {
  readonly profile: TokenProfile;
  /** Seconds of clock skew tolerated on exp, nbf and iat. */
  readonly leeway: number;
  /** Refuse tokens without `exp`. */
  readonly requireExp: boolean;
  /** Accepted issuers; `iss` is required when set. */
  readonly issuer: readonly string[] | undefined;
  /** Accepted audiences; `aud` is required and must intersect when set. */
  readonly audience: readonly string[] | undefined;
}

const TIME_NAMES = { iat: 'Issued At', nbf: 'Not Before', exp: 'Expiration Time' } as const;

/**
 * Validate `payload`. Throws the first failure, carrying header and payload so
 * that error handlers (and `allowExpired` callers) can see the token.
 */
export function validateClaims(
  header: JwsHeader,
  payload: Record<string, unknown>,
  rules: ClaimRules,
  now: number,
  allowExpired = false,
): asserts payload is JwtPayload {
  const { profile, leeway } = rules;
  const { iat, nbf, exp } = payload;
  if (iat !== undefined && timeOf('iat', iat, profile, header, payload) > now + leeway) {
    throw new TokenNotYetValidError('iat', { header, payload });
  }
  if (nbf !== undefined && timeOf('nbf', nbf, profile, header, payload) > now + leeway) {
    throw new TokenNotYetValidError('nbf', { header, payload });
  }
  const expired =
    exp !== undefined && timeOf('exp', exp, profile, header, payload) <= now - leeway && !allowExpired;
  // Flask-JWT-Extended decodes an expired token again, without the exp check, to
  // attach its claims to the error: any other failure then wins over expiry.
  if (expired && !profile.expiryLast) throw new TokenExpiredError({ header, payload });
  if (rules.issuer !== undefined) {
    const { iss } = payload;
    if (iss === undefined)
      throw new MissingClaimError('iss', 'Token is missing the "iss" claim', { header, payload });
    if (typeof iss !== 'string' || !rules.issuer.includes(iss))
      throw new InvalidIssuerError({ header, payload });
  }
  if (rules.audience !== undefined) checkAudience(payload.aud, rules.audience, { header, payload });
  if (exp === undefined && rules.requireExp) {
    throw new MissingClaimError('exp', profile.missingExpText, { header, payload });
  }
  if (profile.requireJti && payload.jti === undefined)
    throw new MissingClaimError('jti', 'Token has no id', { header, payload });
  if (profile.strictClaimTypes) {
    if (payload.jti !== undefined && typeof payload.jti !== 'string') {
      throw new InvalidClaimError(
        'JWT ID (jti) must be a string',
        { header, payload },
        {
          key: 'claim_invalid.string',
          params: { claim: 'jti' },
        },
      );
    }
    if (payload.sub !== undefined && typeof payload.sub !== 'string') {
      throw new InvalidClaimError(
        'Subject (sub) must be a string',
        { header, payload },
        {
          key: 'claim_invalid.string',
          params: { claim: 'sub' },
        },
      );
    }
  }
  // SimpleJWT looks the identity up after the type check; the manager does it there.
  if (profile.identityWithClaims && payload[profile.identityClaim] === undefined) {
    throw new MissingClaimError(profile.identityClaim, undefined, { header, payload });
  }
  if (expired) throw new TokenExpiredError({ header, payload });
}

/**
 * A time claim as a number of seconds. RFC 7519 allows any NumericDate; the
 * Python profiles read it as PyJWT 2.6 does, with Python's int(): fractions are
 * truncated, booleans and integer strings accepted, anything else refused.
 */
function timeOf(
  name: keyof typeof TIME_NAMES,
  value: unknown,
  profile: TokenProfile,
  header: JwsHeader,
  payload: Record<string, unknown>,
): number {
  if (typeof value === 'number' && Number.isFinite(value)) {
    // PyJWT compares iat as given but nbf and exp after int(), which truncates.
    return profile.integerTimes && name !== 'iat' ? Math.trunc(value) : value;
  }
  if (profile.integerTimes) {
    if (typeof value === 'boolean') return value ? 1 : 0;
    // int('1795709373') works in Python; for iat PyJWT would then crash comparing a
    // string with a number (a 500), so iat strings are refused here instead.
    if (name !== 'iat' && typeof value === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(value)) {
      return Number(value.replaceAll('_', ''));
    }
  }
  const kind = profile.integerTimes ? 'an integer' : 'a number';
  const key = profile.integerTimes ? 'claim_invalid.integer' : 'claim_invalid.number';
  throw new InvalidClaimError(
    `${TIME_NAMES[name]} claim (${name}) must be ${kind}.`,
    { header, payload },
    {
      key,
      params: { claim: name },
    },
  );
}

function checkAudience(
  aud: unknown,
  expected: readonly string[],
  parts: { header: JwsHeader; payload: Record<string, unknown> },
): void {
  if (aud === undefined) throw new MissingClaimError('aud', 'Token is missing the "aud" claim', parts);
  if (typeof aud === 'string') {
    if (expected.includes(aud)) return;
  } else if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) {
    if (aud.some((a) => expected.includes(a))) return;
  } else {
    throw new InvalidAudienceError('Invalid claim format in token', parts, {
      key: 'audience_invalid.format',
    });
  }
  throw new InvalidAudienceError(undefined, parts);
}
