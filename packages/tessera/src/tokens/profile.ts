/**
 * Claim-layout and validation profiles. `standard` is Tessera's default: the
 * Flask-JWT-Extended claim layout with RFC 8725 strictness. `flask-jwt-extended`
 * and `simplejwt` reproduce those libraries so that mixed services share tokens.
 */

/** Profile names. */
export type ProfileName = 'standard' | 'flask-jwt-extended' | 'simplejwt';

/** What a profile decides about claims. */
export interface TokenProfile {
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
  }),
});
