/**
 * Every failure Tessera reports is a {@link TesseraError} with a stable `code`.
 *
 * `code` is the contract: messages follow Flask-JWT-Extended's wording so that a
 * migrated app can answer byte for byte, but programs should branch on `code`.
 * `status` is the HTTP status of the default (`standard`, RFC 6750) profile;
 * other profiles map `code` to their own statuses in the http layer.
 */

/** The stable error codes. Adding one is a minor release; renaming one is breaking. */
export type ErrorCode =
  | 'token_malformed'
  | 'token_too_large'
  | 'algorithm_not_allowed'
  | 'key_not_found'
  | 'signature_invalid'
  | 'header_invalid'
  | 'crit_unsupported'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'claim_invalid'
  | 'claim_missing'
  | 'audience_invalid'
  | 'issuer_invalid'
  | 'wrong_token_type'
  | 'fresh_token_required'
  | 'token_revoked'
  | 'refresh_token_reused'
  | 'user_lookup_failed'
  | 'claims_verification_failed'
  | 'authorization_missing'
  | 'authorization_header_invalid'
  | 'query_param_invalid'
  | 'csrf_missing'
  | 'csrf_mismatch'
  | 'cookie_ambiguous'
  | 'body_too_large'
  | 'body_invalid'
  | 'identity_invalid'
  | 'store_unavailable'
  | 'config_invalid'
  | 'key_invalid'
  | 'jwks_unavailable'
  | 'jwks_invalid';

/**
 * Which replaceable error handler answers an error (Flask-JWT-Extended's loader
 * callbacks): `invalid` covers every malformed or unverifiable token.
 */
export type ErrorKind =
  | 'unauthorized'
  | 'invalid'
  | 'expired'
  | 'needs_fresh'
  | 'revoked'
  | 'user_lookup'
  | 'claims_verification'
  | 'csrf'
  | 'unavailable'
  | 'configuration';

/** The decoded parts of a token an error is about, when it got that far. */
export interface ErrorTokenParts {
  readonly header?: Readonly<Record<string, unknown>>;
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** Base class of every error Tessera throws. */
export class TesseraError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** HTTP status in the `standard` profile. */
  readonly status: number;
  /** Which error handler answers it. */
  readonly kind: ErrorKind;
  /** Decoded token header, when the failure happened after it was read. */
  readonly jwtHeader: Readonly<Record<string, unknown>> | undefined;
  /** Decoded token payload, when the failure happened after it was verified. */
  readonly jwtPayload: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    kind: ErrorKind,
    parts?: ErrorTokenParts,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.kind = kind;
    this.jwtHeader = parts?.header;
    this.jwtPayload = parts?.payload;
  }
}

/** Is `value` a Tessera error (optionally with one of `codes`)? */
export function isTesseraError(value: unknown, ...codes: ErrorCode[]): value is TesseraError {
  return value instanceof TesseraError && (codes.length === 0 || codes.includes(value.code));
}

// ---- configuration time (never reach a client) ----

/** A configuration value is missing or unsafe. Thrown at construction, never per request. */
export class ConfigError extends TesseraError {
  constructor(message: string) {
    super('config_invalid', message, 500, 'configuration');
  }
}

/** Key material cannot be imported, or does not fit the algorithm it is bound to. */
export class KeyImportError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('key_invalid', message, 500, 'configuration', undefined, options);
  }
}

// ---- token structure and signature (401 invalid_token) ----

/** The token is not a well-formed compact JWS. */
export class MalformedTokenError extends TesseraError {
  /** PyJWT's wording where it differs (the flask-jwt-extended profile answers with it). */
  readonly pyjwtMessage: string | undefined;
  constructor(message: string, parts?: ErrorTokenParts, pyjwtMessage?: string) {
    super('token_malformed', message, 401, 'invalid', parts);
    this.pyjwtMessage = pyjwtMessage;
  }
}

/** The token, or its header, is longer than the configured limit. */
export class TokenTooLargeError extends TesseraError {
  constructor(message = 'Token is too large') {
    super('token_too_large', message, 401, 'invalid');
  }
}

/** `alg` is missing, `none`, or not the algorithm the key is bound to. */
export class AlgorithmNotAllowedError extends TesseraError {
  constructor(message = 'The specified alg value is not allowed', parts?: ErrorTokenParts) {
    super('algorithm_not_allowed', message, 401, 'invalid', parts);
  }
}

/** No configured key has the token's `kid`. */
export class KeyNotFoundError extends TesseraError {
  constructor(message = 'No key matches the token', parts?: ErrorTokenParts) {
    super('key_not_found', message, 401, 'invalid', parts);
  }
}

/** The signature does not verify with the selected key. */
export class InvalidSignatureError extends TesseraError {
  constructor(parts?: ErrorTokenParts) {
    super('signature_invalid', 'Signature verification failed', 401, 'invalid', parts);
  }
}

/** A header parameter has the wrong type or value (`kid`, `typ`, `b64`). */
export class InvalidHeaderParameterError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts) {
    super('header_invalid', message, 401, 'invalid', parts);
  }
}

/** `crit` names an extension Tessera does not implement, or is itself malformed. */
export class UnsupportedCriticalHeaderError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts) {
    super('crit_unsupported', message, 401, 'invalid', parts);
  }
}

// ---- claims ----

/** `exp` has passed (leeway included). */
export class TokenExpiredError extends TesseraError {
  constructor(parts?: ErrorTokenParts, message = 'Token has expired') {
    super('token_expired', message, 401, 'expired', parts);
  }
}

/** `nbf` or `iat` lies in the future (beyond leeway). */
export class TokenNotYetValidError extends TesseraError {
  constructor(claim: 'nbf' | 'iat', parts?: ErrorTokenParts) {
    super('token_not_yet_valid', `The token is not yet valid (${claim})`, 401, 'invalid', parts);
  }
}

/** A registered claim has the wrong type. */
export class InvalidClaimError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts) {
    super('claim_invalid', message, 401, 'invalid', parts);
  }
}

/** A required claim is absent. */
export class MissingClaimError extends TesseraError {
  /** The claim that is missing. */
  readonly claim: string;
  constructor(claim: string, message = `Missing claim: ${claim}`, parts?: ErrorTokenParts) {
    super('claim_missing', message, 401, 'invalid', parts);
    this.claim = claim;
  }
}

/** `aud` does not contain a configured audience. */
export class InvalidAudienceError extends TesseraError {
  constructor(message = 'Invalid audience', parts?: ErrorTokenParts) {
    super('audience_invalid', message, 401, 'invalid', parts);
  }
}

/** `iss` is not the configured issuer. */
export class InvalidIssuerError extends TesseraError {
  constructor(parts?: ErrorTokenParts) {
    super('issuer_invalid', 'Invalid issuer', 401, 'invalid', parts);
  }
}

/** A refresh token at an access route, or the reverse. */
export class WrongTokenTypeError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts) {
    super('wrong_token_type', message, 401, 'invalid', parts);
  }
}

/** The route needs a fresh token (RFC 9470 step-up). */
export class FreshTokenRequiredError extends TesseraError {
  constructor(parts?: ErrorTokenParts) {
    super('fresh_token_required', 'Fresh token required', 401, 'needs_fresh', parts);
  }
}

/** The token's `jti` (or its user, or its refresh family) has been revoked. */
export class RevokedTokenError extends TesseraError {
  constructor(parts?: ErrorTokenParts) {
    super('token_revoked', 'Token has been revoked', 401, 'revoked', parts);
  }
}

/** A spent refresh token was presented again: its whole family is now revoked (RFC 9700 4.14). */
export class RefreshTokenReusedError extends TesseraError {
  constructor(parts?: ErrorTokenParts) {
    super('refresh_token_reused', 'Refresh token has already been used', 401, 'revoked', parts);
  }
}

/** The userLookup callback found no user for the token's identity. */
export class UserLookupError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts) {
    super('user_lookup_failed', message, 401, 'user_lookup', parts);
  }
}

/** The tokenVerification callback refused the token's claims. */
export class ClaimsVerificationError extends TesseraError {
  constructor(message = 'User claims verification failed', parts?: ErrorTokenParts) {
    super('claims_verification_failed', message, 403, 'claims_verification', parts);
  }
}

// ---- transport ----

/** No token in any configured location. */
export class NoAuthorizationError extends TesseraError {
  constructor(message: string) {
    super('authorization_missing', message, 401, 'unauthorized');
  }
}

/** The Authorization header is present but malformed. */
export class InvalidAuthorizationHeaderError extends TesseraError {
  constructor(message: string) {
    super('authorization_header_invalid', message, 400, 'invalid');
  }
}

/** The query parameter is present but lacks the configured prefix. */
export class InvalidQueryParamError extends TesseraError {
  constructor(message: string) {
    super('query_param_invalid', message, 400, 'invalid');
  }
}

/** A cookie token on an unsafe method came without the CSRF double-submit value. */
export class CsrfMissingError extends TesseraError {
  constructor() {
    super('csrf_missing', 'Missing CSRF token', 403, 'csrf');
  }
}

/** The CSRF double-submit value does not match the token's `csrf` claim. */
export class CsrfMismatchError extends TesseraError {
  constructor(parts?: ErrorTokenParts) {
    super('csrf_mismatch', 'CSRF double submit tokens do not match', 403, 'csrf', parts);
  }
}

/**
 * A token cookie was sent more than once in one request (cookie tossing: a
 * sibling domain can plant a second cookie of the same name), so which one is
 * the client's cannot be told. Standard profile only.
 */
export class AmbiguousCookieError extends TesseraError {
  constructor(name: string) {
    super('cookie_ambiguous', `Cookie "${name}" was sent more than once`, 400, 'invalid');
  }
}

/** The request body the token (or CSRF field) is read from is larger than the adapter's limit. */
export class BodyTooLargeError extends TesseraError {
  constructor(limit: number) {
    super('body_too_large', `Request body is larger than ${limit} bytes`, 413, 'invalid');
  }
}

/** The request body the token is read from cannot be parsed as its content type says. */
export class BodyInvalidError extends TesseraError {
  constructor(message = 'Request body is not valid JSON') {
    super('body_invalid', message, 400, 'invalid');
  }
}

// ---- token creation ----

/**
 * The identity a token is being created for cannot be one: empty, or longer
 * than a store can key a user by (255 UTF-8 bytes). Refused when the token is
 * created, so that a login never mints what the store would refuse later.
 */
export class InvalidIdentityError extends TesseraError {
  constructor(message: string) {
    super('identity_invalid', message, 400, 'invalid');
  }
}

// ---- infrastructure ----

/** The revocation store (or another dependency) could not be reached: fail closed. */
export class StoreUnavailableError extends TesseraError {
  constructor(message = 'Token revocation state is unavailable', options?: { cause?: unknown }) {
    super('store_unavailable', message, 503, 'unavailable', undefined, options);
  }
}

/** A remote JWKS could not be fetched and no earlier good copy is held. */
export class JwksUnavailableError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('jwks_unavailable', message, 503, 'unavailable', undefined, options);
  }
}

/** A JWKS document is not a valid key set. */
export class JwksInvalidError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('jwks_invalid', message, 503, 'unavailable', undefined, options);
  }
}
