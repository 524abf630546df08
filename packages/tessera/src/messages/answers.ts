/**
 * The three ways a profile answers an error, each a function a profile object
 * holds (src/tokens/profile.ts):
 * - {@link rfc6750Answer} (standard): RFC 6750 statuses and `WWW-Authenticate`,
 *   body `{ msg, code }` with the catalog's message in the request's language;
 * - {@link flaskAnswer}: Flask-JWT-Extended's statuses (422 for invalid tokens)
 *   and jsonify's `{"msg": ...}\n` with the Python text;
 * - {@link simpleJwtAnswer}: DRF's `{"detail", "code", "messages"}` and
 *   `Bearer realm="api"`, with SimpleJWT's texts ({@link simpleJwtTokenMessage}).
 */
import type { ErrorCode, ErrorKind, TesseraError } from '../errors.js';
import type { ResolvedConfig } from '../manager/config.js';
import type { ResponseData } from '../manager/options.js';
import { ENGLISH_MESSAGES } from './messages.js';

/** What an answer is built from besides the error. */
export interface AnswerContext {
  readonly config: ResolvedConfig<unknown>;
  /** The request's Accept-Language header, when the request is known. */
  readonly acceptLanguage?: string | undefined;
}

/** A profile's default answer to an error (before the app's error handlers). */
export type ErrorAnswer = (error: TesseraError, context: AnswerContext) => ResponseData;

const JSON_TYPE = 'application/json';

/** A JSON answer. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): ResponseData {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** The standard profile's answer: RFC 6750, and the catalog's words. */
export const rfc6750Answer: ErrorAnswer = (error, { config, acceptLanguage }) => {
  const messages = config.messages ?? ENGLISH_MESSAGES;
  const headers: Record<string, string> = {};
  const challenge = bearerChallenge(error, messages.english(error.messageKey, error.messageParams));
  if (challenge !== undefined) {
    const scheme = config.transport.headerType || 'Bearer';
    headers['www-authenticate'] = challenge === '' ? scheme : `${scheme} ${challenge}`;
  }
  const status = error.kind === 'configuration' ? 500 : error.status;
  const message = messages.text(error.messageKey, error.messageParams, acceptLanguage);
  if (messages.locale === 'accept-language') headers.vary = 'Accept-Language';
  return jsonResponse(status, { [config.transport.errorMessageKey]: message, code: error.code }, headers);
};

// RFC 6750 section 3: no error code when the request carried no credentials;
// invalid_request for a malformed request; invalid_token for a bad token;
// insufficient_scope for a token without what the route needs; RFC 9470 for step-up.
// The description is the English text (never the token's own), ASCII only: it is for
// developers (RFC 6750 3), and a header cannot carry the other languages' characters.
function bearerChallenge(error: TesseraError, description: string): string | undefined {
  // An oversize body is not about credentials (RFC 9110 15.5.14).
  if (error.code === 'body_too_large') return undefined;
  switch (error.kind) {
    case 'unauthorized':
      return '';
    case 'needs_fresh':
      return describe('insufficient_user_authentication', description);
    case 'claims_verification':
      return describe('insufficient_scope', description);
    case 'csrf':
    case 'unavailable':
    case 'configuration':
      return undefined;
    default:
      return describe(error.status === 400 ? 'invalid_request' : 'invalid_token', description);
  }
}

function describe(code: string, message: string): string {
  // error_description allows %x20-21 / %x23-5B / %x5D-7E only (RFC 6750 section 3).
  const safe = message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'").slice(0, 200);
  return `error="${code}", error_description="${safe}"`;
}

const FLASK_STATUS: Readonly<Record<ErrorKind, number>> = {
  unauthorized: 401,
  csrf: 401,
  expired: 401,
  needs_fresh: 401,
  revoked: 401,
  user_lookup: 401,
  claims_verification: 400,
  invalid: 422,
  unavailable: 503,
  configuration: 500,
};

// Not token errors: Werkzeug's own statuses for a body it refuses.
const BODY_STATUS: Readonly<Partial<Record<ErrorCode, number>>> = { body_too_large: 413, body_invalid: 400 };

/** Flask-JWT-Extended's answer: its statuses, jsonify's body (compact, trailing newline), the Python text. */
export const flaskAnswer: ErrorAnswer = (error, { config }) => {
  const body = `${JSON.stringify({ [config.transport.errorMessageKey]: error.pythonMessage })}\n`;
  const status = BODY_STATUS[error.code] ?? FLASK_STATUS[error.kind] ?? 422;
  return { status, headers: { 'content-type': JSON_TYPE }, body };
};

/**
 * SimpleJWT's messages a refused token keeps; any other token failure reads
 * "Token is invalid or expired", and a revoked one "Token is blacklisted". The
 * one table behind both the guard's answers and the SimpleJWT views.
 */
const SIMPLEJWT_KEPT_MESSAGES: ReadonlySet<string> = new Set([
  'Token has wrong type',
  'Token has no type',
  "Token has no 'exp' claim",
  'Token has no id',
  "Token has no 'refresh_exp' claim",
  "Token 'refresh_exp' claim has expired",
]);

/** SimpleJWT's message for a refused token (its `messages[].message`, or a view's `detail`). */
export function simpleJwtTokenMessage(error: TesseraError): string {
  if (SIMPLEJWT_KEPT_MESSAGES.has(error.pythonMessage)) return error.pythonMessage;
  if (error.code === 'token_revoked' || error.code === 'refresh_token_reused') return 'Token is blacklisted';
  return 'Token is invalid or expired';
}

/** DRF's `WWW-Authenticate` for SimpleJWT's authentication class. */
export const SIMPLEJWT_CHALLENGE: Readonly<Record<string, string>> = Object.freeze({
  'www-authenticate': 'Bearer realm="api"',
});

/** SimpleJWT's answer (JWTAuthentication under DRF). */
export const simpleJwtAnswer: ErrorAnswer = (error) => {
  const challenge = SIMPLEJWT_CHALLENGE;
  switch (error.code) {
    case 'authorization_missing':
      return jsonResponse(401, { detail: 'Authentication credentials were not provided.' }, challenge);
    case 'authorization_header_invalid':
      return jsonResponse(401, { detail: error.pythonMessage, code: 'bad_authorization_header' }, challenge);
    case 'user_lookup_failed':
      return jsonResponse(401, { detail: 'User not found', code: 'user_not_found' }, challenge);
    case 'claims_verification_failed':
      return jsonResponse(403, { detail: 'You do not have permission to perform this action.' });
    case 'store_unavailable':
      return jsonResponse(503, { detail: error.pythonMessage, code: error.code });
    case 'body_too_large':
      return jsonResponse(413, { detail: error.pythonMessage, code: error.code });
    case 'body_invalid':
      return jsonResponse(400, { detail: 'JSON parse error' });
    case 'claim_missing':
      if (error.pythonMessage === 'Token contained no recognizable user identification') {
        return jsonResponse(401, { detail: error.pythonMessage, code: 'token_not_valid' }, challenge);
      }
      break;
  }
  return jsonResponse(
    401,
    {
      detail: 'Given token not valid for any token type',
      code: 'token_not_valid',
      messages: [{ token_class: 'AccessToken', token_type: 'access', message: simpleJwtTokenMessage(error) }],
    },
    challenge,
  );
};
