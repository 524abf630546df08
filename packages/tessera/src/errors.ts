/**
 * Every failure Tessera reports is a {@link TesseraError} with a stable `code`.
 *
 * `code` is the contract; programs branch on it. Each error names the catalog
 * message that describes it (`messageKey`, `messageParams`): `message` reads
 * that message in plain English, and answers in the standard profile read it
 * in the request's language (src/messages). `pythonMessage` keeps the Python
 * peers' wording (Flask-JWT-Extended, PyJWT, SimpleJWT), which the Python
 * profiles answer byte for byte and show as `message`.
 * `status` is the HTTP status of the default (`standard`, RFC 6750) profile;
 * other profiles map `code` to their own statuses.
 */
import { englishMessage, type MessageKey, type MessageParams } from './messages/catalog.js';

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

/** Which catalog message describes an error (default: its code's), and its placeholders' values. */
export interface MessageDetail {
  readonly key?: MessageKey;
  readonly params?: MessageParams;
}

/** How a {@link TesseraError} is built beyond its code, text, status and kind. */
export interface TesseraErrorOptions {
  readonly cause?: unknown;
  /** The catalog message: a refinement key and placeholder values. */
  readonly detail?: MessageDetail;
  /**
   * `message` as given instead of the catalog's English: for errors about the
   * server (configuration, stores), whose details are for its developers only.
   */
  readonly message?: string;
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
  /** The catalog message describing the failure: the code, or a refinement such as `token_malformed.segments`. */
  readonly messageKey: MessageKey;
  /** Values for the message's placeholders (names and limits Tessera chose, never token text). */
  readonly messageParams: MessageParams | undefined;
  /**
   * The Python peers' wording (Flask-JWT-Extended, PyJWT, SimpleJWT): what the
   * `flask-jwt-extended` and `simplejwt` profiles answer, and their `message`.
   */
  readonly pythonMessage: string;

  /**
   * @param pythonMessage - the Python peers' text; `message` is the catalog's
   *   English for `options.detail` (or the code) unless `options.message` is given.
   */
  constructor(
    code: ErrorCode,
    pythonMessage: string,
    status: number,
    kind: ErrorKind,
    parts?: ErrorTokenParts,
    options?: TesseraErrorOptions,
  ) {
    const key = options?.detail?.key ?? code;
    const params = options?.detail?.params;
    super(
      options?.message ?? englishMessage(key, params),
      options !== undefined && 'cause' in options ? { cause: options.cause } : undefined,
    );
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.kind = kind;
    this.jwtHeader = parts?.header;
    this.jwtPayload = parts?.payload;
    this.messageKey = key;
    this.messageParams = params;
    this.pythonMessage = pythonMessage;
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
    super('config_invalid', message, 500, 'configuration', undefined, { message });
  }
}

/** Key material cannot be imported, or does not fit the algorithm it is bound to. */
export class KeyImportError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('key_invalid', message, 500, 'configuration', undefined, { ...options, message });
  }
}

// ---- token structure and signature (401 invalid_token) ----

/** The token is not a well-formed compact JWS. */
export class MalformedTokenError extends TesseraError {
  /** @param message - PyJWT's wording (the Python profiles answer with it). */
  constructor(message: string, parts?: ErrorTokenParts, detail?: MessageDetail) {
    super('token_malformed', message, 401, 'invalid', parts, { detail });
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
  constructor(
    message = 'The specified alg value is not allowed',
    parts?: ErrorTokenParts,
    detail?: MessageDetail,
  ) {
    super('algorithm_not_allowed', message, 401, 'invalid', parts, { detail });
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
  constructor(message: string, parts?: ErrorTokenParts, detail?: MessageDetail) {
    super('header_invalid', message, 401, 'invalid', parts, { detail });
  }
}

/** `crit` names an extension Tessera does not implement, or is itself malformed. */
export class UnsupportedCriticalHeaderError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts, detail?: MessageDetail) {
    super('crit_unsupported', message, 401, 'invalid', parts, { detail });
  }
}

// ---- claims ----

/** `exp` has passed (leeway included). */
export class TokenExpiredError extends TesseraError {
  constructor(parts?: ErrorTokenParts, message = 'Token has expired', detail?: MessageDetail) {
    super('token_expired', message, 401, 'expired', parts, { detail });
  }
}

/** `nbf` or `iat` lies in the future (beyond leeway). */
export class TokenNotYetValidError extends TesseraError {
  constructor(claim: 'nbf' | 'iat', parts?: ErrorTokenParts) {
    super('token_not_yet_valid', `The token is not yet valid (${claim})`, 401, 'invalid', parts, {
      detail: { params: { claim } },
    });
  }
}

/** A registered claim has the wrong type. */
export class InvalidClaimError extends TesseraError {
  constructor(message: string, parts?: ErrorTokenParts, detail?: MessageDetail) {
    super('claim_invalid', message, 401, 'invalid', parts, { detail });
  }
}

/** A required claim is absent. */
export class MissingClaimError extends TesseraError {
  /** The claim that is missing. */
  readonly claim: string;
  constructor(claim: string, message = `Missing claim: ${claim}`, parts?: ErrorTokenParts) {
    super('claim_missing', message, 401, 'invalid', parts, { detail: { params: { claim } } });
    this.claim = claim;
  }
}

/** `aud` does not contain a configured audience. */
export class InvalidAudienceError extends TesseraError {
  constructor(message = 'Invalid audience', parts?: ErrorTokenParts, detail?: MessageDetail) {
    super('audience_invalid', message, 401, 'invalid', parts, { detail });
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
  constructor(message: string, parts?: ErrorTokenParts, detail?: MessageDetail) {
    super('wrong_token_type', message, 401, 'invalid', parts, { detail });
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
  constructor(message: string, detail?: MessageDetail) {
    super('authorization_missing', message, 401, 'unauthorized', undefined, { detail });
  }
}

/** The Authorization header is present but malformed. */
export class InvalidAuthorizationHeaderError extends TesseraError {
  constructor(message: string, detail?: MessageDetail) {
    super('authorization_header_invalid', message, 400, 'invalid', undefined, { detail });
  }
}

/** The query parameter is present but lacks the configured prefix. */
export class InvalidQueryParamError extends TesseraError {
  constructor(message: string, detail?: MessageDetail) {
    super('query_param_invalid', message, 400, 'invalid', undefined, { detail });
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
    super('cookie_ambiguous', `Cookie "${name}" was sent more than once`, 400, 'invalid', undefined, {
      detail: { params: { cookie: name } },
    });
  }
}

/** The request body the token (or CSRF field) is read from is larger than the adapter's limit. */
export class BodyTooLargeError extends TesseraError {
  constructor(limit: number) {
    super('body_too_large', `Request body is larger than ${limit} bytes`, 413, 'invalid', undefined, {
      detail: { params: { limit } },
    });
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
    super('identity_invalid', message, 400, 'invalid', undefined, { message });
  }
}

// ---- infrastructure ----
// Their messages are for the server's developers (which store, which URL); an
// answer says only the catalog's sentence in the standard profile.

/** The revocation store (or another dependency) could not be reached: fail closed. */
export class StoreUnavailableError extends TesseraError {
  constructor(message = 'Token revocation state is unavailable', options?: { cause?: unknown }) {
    super('store_unavailable', message, 503, 'unavailable', undefined, { ...options, message });
  }
}

/** A remote JWKS could not be fetched and no earlier good copy is held. */
export class JwksUnavailableError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('jwks_unavailable', message, 503, 'unavailable', undefined, { ...options, message });
  }
}

/** A JWKS document is not a valid key set. */
export class JwksInvalidError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('jwks_invalid', message, 503, 'unavailable', undefined, { ...options, message });
  }
}
