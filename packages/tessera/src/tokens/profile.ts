/**
 * Profiles: each one complete object holding every behaviour in which the
 * profiles differ (claims, validation, transport defaults, error answers and
 * their wording), so that code reads a field and never asks for a profile by
 * name. `standard` is Tessera's default: the Flask-JWT-Extended claim layout
 * with RFC 8725 strictness. `flask-jwt-extended` and `simplejwt` reproduce
 * those libraries so that mixed services share tokens.
 */
import { TesseraError } from '../errors.js';
import { type ErrorAnswer, flaskAnswer, rfc6750Answer, simpleJwtAnswer } from '../messages/answers.js';

/** Profile names. */
export type ProfileName = 'standard' | 'flask-jwt-extended' | 'simplejwt';

/** What a profile decides: claims, validation, transport defaults, answers. */
export interface TokenProfile {
  /** For display only (telemetry, messages naming the profile): behaviour reads the fields below. */
  readonly name: ProfileName;
  /** Claim holding the identity (`sub`, or SimpleJWT's `user_id`). */
  readonly identityClaim: string;
  /** Claim holding the token type (`type`, or SimpleJWT's `token_type`). */
  readonly typeClaim: string;
  /** `jti` style: UUID with dashes (PyJWT/Flask) or 32 hex characters (SimpleJWT). */
  readonly jtiStyle: 'uuid' | 'hex';
  /** Whether a token without `exp` is refused. */
  readonly requireExp: boolean;
  /** Whether `jti` is required (SimpleJWT: `Token has no id`). */
  readonly requireJti: boolean;
  /**
   * Read `exp`/`nbf`/`iat` as PyJWT 2.6 does, with Python's int() (fractions truncated,
   * integer strings accepted), rather than as RFC 7519 NumericDates (finite numbers).
   */
  readonly integerTimes: boolean;
  /** The identity must be a string (RFC 7519 `sub` is a StringOrURI). */
  readonly identityMustBeString: boolean;
  /**
   * How strictly the type claim is read at an access route: `exact` needs
   * type === expected; `not-refresh` refuses only `refresh` (Flask: a missing or
   * unknown type counts as access).
   */
  readonly accessTypeRule: 'exact' | 'not-refresh';
  /** Whether new tokens get `nbf` = `iat`. */
  readonly encodeNbf: boolean;
  /** Whether new tokens carry `fresh`. */
  readonly encodeFresh: boolean;
  /**
   * Whether a session keeps one CSRF value: the pair shares it and every re-issue
   * carries it on, so browser tabs sharing a cookie jar never send a value another
   * tab's refresh replaced. The Python profiles mint one value per token, as
   * Flask-JWT-Extended does (its peers then refuse an access CSRF value on /refresh).
   */
  readonly sessionCsrf: boolean;
  /**
   * Whether the payload is parsed before the signature is checked. Flask-JWT-Extended
   * reads the claims unverified first (for its decode-key loader), so a payload that
   * is not a JSON object reports PyJWT's `Invalid payload string: …` even when the
   * signature is wrong; the other profiles parse nothing an attacker sent unsigned.
   */
  readonly payloadBeforeSignature: boolean;
  /** Default access lifetime in seconds. */
  readonly accessExpires: number;
  /** Default refresh lifetime in seconds. */
  readonly refreshExpires: number;
  /**
   * Whether an expired token reports expiry only after every other claim check
   * (Flask-JWT-Extended decodes an expired token again to attach its claims).
   */
  readonly expiryLast: boolean;
  /** The Python text for a token without `exp` (the two peers word it differently). */
  readonly missingExpText: string;
  /** Whether `jti` and `sub`, when present, must be strings (RFC 7519). */
  readonly strictClaimTypes: boolean;
  /**
   * Whether the identity claim is required with the registered claims (before
   * the type check), rather than when the identity is first read (SimpleJWT).
   */
  readonly identityWithClaims: boolean;
  /** Whether a `kid` no key has is ignored and the other keys tried (PyJWT does). */
  readonly ignoreUnknownKid: boolean;
  /** Claim order and content of new tokens. */
  readonly claimLayout: 'flask-jwt-extended' | 'simplejwt';
  /** Whether decoded tokens get Flask-JWT-Extended's claim defaults (`type`, `fresh`, `jti`). */
  readonly flaskClaimDefaults: boolean;
  /**
   * How the type claim is checked: `flask` (refresh routes need `refresh`, access
   * routes refuse it, then {@link accessTypeRule}), or `simplejwt` (one comparison
   * with the route's type; a token without a type is refused as such).
   */
  readonly typeCheck: 'flask' | 'simplejwt';
  /** Whether a refresh re-issues the access token from the refresh token's claims (SimpleJWT) rather than minting one. */
  readonly accessCopiesRefreshClaims: boolean;
  /** Whether SimpleJWT's token classes (`tokenClasses`) and views are available. */
  readonly simpleJwtClasses: boolean;
  /** `typ` values accepted by default (undefined: any). */
  readonly acceptedTyp: readonly string[] | undefined;
  /** Whether configuring a store turns refresh rotation on by default. */
  readonly rotateWithStore: boolean;
  /** Cookie defaults: SameSite (false: none set), Secure, the refresh cookie's path. */
  readonly cookieDefaults: {
    readonly sameSite: 'Lax' | false;
    readonly secure: boolean;
    readonly refreshPath: string;
  };
  /** A persistent cookie's Max-Age: Flask's fixed year, or the token's remaining lifetime. */
  readonly persistentCookieMaxAge: number | 'token-lifetime';
  /**
   * How the Authorization header is read: `rfc7235` (scheme case-insensitive,
   * several credentials), `flask` (case-sensitive scheme), `simplejwt` (split on
   * whitespace, other schemes ignored).
   */
  readonly authorizationHeader: 'rfc7235' | 'flask' | 'simplejwt';
  /** Whether a token cookie sent more than once is refused (`cookie_ambiguous`). */
  readonly refuseRepeatedCookies: boolean;
  /** Whether CSRF is checked only when cookies are a configured location (Flask-JWT-Extended). */
  readonly csrfWithCookieLocationOnly: boolean;
  /** Whether a JSON body that does not parse reads as one without the token (Flask, F50). */
  readonly unparsableBodyIsMissing: boolean;
  /** Whether OPTIONS requests pass the guard without a token (CORS preflight). */
  readonly exemptOptions: boolean;
  /**
   * The wording of errors: `catalog` (plain messages by code, translatable),
   * or `python` (the peers' texts, as `message` and in every answer).
   */
  readonly errorText: 'catalog' | 'python';
  /** The default answer to an error (before the app's error handlers). */
  readonly answer: ErrorAnswer;
}

const MINUTE = 60;
const DAY = 86_400;

/** The built-in profiles. */
export const PROFILES: Readonly<Record<ProfileName, TokenProfile>> = Object.freeze({
  standard: Object.freeze({
    name: 'standard',
    identityClaim: 'sub',
    typeClaim: 'type',
    jtiStyle: 'uuid',
    requireExp: true,
    requireJti: false,
    integerTimes: false,
    identityMustBeString: true,
    accessTypeRule: 'exact',
    encodeNbf: true,
    encodeFresh: true,
    sessionCsrf: true,
    payloadBeforeSignature: false,
    accessExpires: 15 * MINUTE,
    refreshExpires: 30 * DAY,
    expiryLast: false,
    missingExpText: 'Token is missing the "exp" claim',
    strictClaimTypes: true,
    identityWithClaims: true,
    ignoreUnknownKid: false,
    claimLayout: 'flask-jwt-extended',
    flaskClaimDefaults: false,
    typeCheck: 'flask',
    accessCopiesRefreshClaims: false,
    simpleJwtClasses: false,
    acceptedTyp: Object.freeze(['JWT', 'at+jwt']),
    rotateWithStore: true,
    cookieDefaults: Object.freeze({ sameSite: 'Lax', secure: true, refreshPath: '/auth/refresh' }),
    persistentCookieMaxAge: 'token-lifetime',
    authorizationHeader: 'rfc7235',
    refuseRepeatedCookies: true,
    csrfWithCookieLocationOnly: false,
    unparsableBodyIsMissing: false,
    exemptOptions: true,
    errorText: 'catalog',
    answer: rfc6750Answer,
  }),
  'flask-jwt-extended': Object.freeze({
    name: 'flask-jwt-extended',
    identityClaim: 'sub',
    typeClaim: 'type',
    jtiStyle: 'uuid',
    requireExp: false,
    requireJti: false,
    integerTimes: true,
    identityMustBeString: false,
    accessTypeRule: 'not-refresh',
    encodeNbf: true,
    encodeFresh: true,
    sessionCsrf: false,
    payloadBeforeSignature: true,
    accessExpires: 15 * MINUTE,
    refreshExpires: 30 * DAY,
    expiryLast: true,
    missingExpText: 'Token is missing the "exp" claim',
    strictClaimTypes: false,
    identityWithClaims: true,
    ignoreUnknownKid: true,
    claimLayout: 'flask-jwt-extended',
    flaskClaimDefaults: true,
    typeCheck: 'flask',
    accessCopiesRefreshClaims: false,
    simpleJwtClasses: false,
    acceptedTyp: undefined,
    rotateWithStore: true,
    cookieDefaults: Object.freeze({ sameSite: false, secure: false, refreshPath: '/' }),
    // Flask-JWT-Extended's JWT_SESSION_COOKIE=False: 31540000 seconds whatever the token says.
    persistentCookieMaxAge: 31_540_000,
    authorizationHeader: 'flask',
    refuseRepeatedCookies: false,
    csrfWithCookieLocationOnly: true,
    unparsableBodyIsMissing: true,
    exemptOptions: true,
    errorText: 'python',
    answer: flaskAnswer,
  }),
  simplejwt: Object.freeze({
    name: 'simplejwt',
    identityClaim: 'user_id',
    typeClaim: 'token_type',
    jtiStyle: 'hex',
    requireExp: true,
    requireJti: true,
    integerTimes: true,
    identityMustBeString: false,
    accessTypeRule: 'exact',
    encodeNbf: false,
    encodeFresh: false,
    sessionCsrf: false,
    payloadBeforeSignature: false,
    accessExpires: 5 * MINUTE,
    refreshExpires: 1 * DAY,
    expiryLast: false,
    missingExpText: "Token has no 'exp' claim",
    strictClaimTypes: false,
    identityWithClaims: false,
    ignoreUnknownKid: true,
    claimLayout: 'simplejwt',
    flaskClaimDefaults: false,
    typeCheck: 'simplejwt',
    accessCopiesRefreshClaims: true,
    simpleJwtClasses: true,
    acceptedTyp: undefined,
    // SimpleJWT's ROTATE_REFRESH_TOKENS defaults to False.
    rotateWithStore: false,
    cookieDefaults: Object.freeze({ sameSite: 'Lax', secure: true, refreshPath: '/' }),
    persistentCookieMaxAge: 'token-lifetime',
    authorizationHeader: 'simplejwt',
    refuseRepeatedCookies: false,
    csrfWithCookieLocationOnly: false,
    unparsableBodyIsMissing: true,
    // DRF authenticates an OPTIONS request like any other.
    exemptOptions: false,
    errorText: 'python',
    answer: simpleJwtAnswer,
  }),
});

/**
 * `error` in `profile`'s words: under the Python profiles a Tessera error shows
 * its peer's text as `message` (what Flask-JWT-Extended or SimpleJWT would
 * raise); under the standard profile it keeps the catalog's English.
 */
export function inProfileWords<T>(profile: TokenProfile, error: T): T {
  if (profile.errorText === 'python' && error instanceof TesseraError) error.message = error.pythonMessage;
  return error;
}
