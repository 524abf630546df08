/**
 * Errors to HTTP answers, per profile:
 * - `standard`: RFC 6750 statuses and `WWW-Authenticate`, body `{ msg, code }`;
 * - `flask-jwt-extended`: its statuses (422 for invalid tokens) and `{"msg": ...}\n`;
 * - `simplejwt`: DRF's `{"detail", "code", "messages"}` and `Bearer realm="api"`.
 * Each error kind's answer can be replaced by an error handler.
 */
import { type ErrorCode, MalformedTokenError, type TesseraError } from '../errors.js';
import type { ResolvedConfig } from '../manager/config.js';
import type { ResponseData } from '../manager/options.js';

const JSON_TYPE = 'application/json';

/** The answer for `error` under the manager's profile, after its error handler (if any). */
export async function errorResponse(
  config: ResolvedConfig<unknown>,
  error: TesseraError,
): Promise<ResponseData> {
  const base = defaultErrorResponse(config, error);
  const handler = error.kind === 'configuration' ? undefined : config.errorHandlers[error.kind];
  return handler === undefined ? base : handler(error, base);
}

/** The profile's default answer for `error`. */
export function defaultErrorResponse(config: ResolvedConfig<unknown>, error: TesseraError): ResponseData {
  switch (config.profile.name) {
    case 'flask-jwt-extended':
      return flaskResponse(config, error);
    case 'simplejwt':
      return simpleJwtResponse(error);
    default:
      return standardResponse(config, error);
  }
}

/** A JSON answer. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): ResponseData {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

function standardResponse(config: ResolvedConfig<unknown>, error: TesseraError): ResponseData {
  const headers: Record<string, string> = {};
  const challenge = bearerChallenge(error);
  if (challenge !== undefined) {
    const scheme = config.transport.headerType || 'Bearer';
    headers['www-authenticate'] = challenge === '' ? scheme : `${scheme} ${challenge}`;
  }
  const status = error.kind === 'configuration' ? 500 : error.status;
  return jsonResponse(
    status,
    { [config.transport.errorMessageKey]: error.message, code: error.code },
    headers,
  );
}

// RFC 6750 section 3: no error code when the request carried no credentials;
// invalid_request for a malformed request; invalid_token for a bad token;
// insufficient_scope for a token without what the route needs; RFC 9470 for step-up.
function bearerChallenge(error: TesseraError): string | undefined {
  // An oversize body is not about credentials (RFC 9110 15.5.14).
  if (error.code === 'body_too_large') return undefined;
  switch (error.kind) {
    case 'unauthorized':
      return '';
    case 'needs_fresh':
      return describe('insufficient_user_authentication', challengeDescription(error));
    case 'claims_verification':
      return describe('insufficient_scope', challengeDescription(error));
    case 'csrf':
    case 'unavailable':
    case 'configuration':
      return undefined;
    default:
      return describe(
        error.status === 400 ? 'invalid_request' : 'invalid_token',
        challengeDescription(error),
      );
  }
}

/**
 * Messages of these codes quote what the token carried (its `kid`, a `crit` name,
 * the identity it names): the challenge says what failed without repeating any of
 * it, so a client's text is never reflected into a response header. The body keeps
 * the full message (JSON-escaped, and the Python profiles' texts are pinned).
 */
const TOKEN_FREE_DESCRIPTIONS: Readonly<Partial<Record<ErrorCode, string>>> = {
  key_not_found: 'No key matches the token',
  crit_unsupported: 'Unsupported critical extension',
  user_lookup_failed: 'Error loading the user',
};

/** The `error_description` for `error`: its message unless the message quotes the token. */
function challengeDescription(error: TesseraError): string {
  return TOKEN_FREE_DESCRIPTIONS[error.code] ?? error.message;
}

function describe(code: string, message: string): string {
  // error_description allows %x20-21 / %x23-5B / %x5D-7E only (RFC 6750 section 3).
  const safe = message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'").slice(0, 200);
  return `error="${code}", error_description="${safe}"`;
}

const FLASK_STATUS: Readonly<Record<string, number>> = {
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

function flaskResponse(config: ResolvedConfig<unknown>, error: TesseraError): ResponseData {
  // jsonify: compact, keys sorted, trailing newline.
  const message =
    error instanceof MalformedTokenError ? (error.pyjwtMessage ?? error.message) : error.message;
  const body = `${JSON.stringify({ [config.transport.errorMessageKey]: message })}\n`;
  // Not token errors: Werkzeug's own statuses for a body it refuses.
  const status = BODY_STATUS[error.code] ?? FLASK_STATUS[error.kind] ?? 422;
  return { status, headers: { 'content-type': JSON_TYPE }, body };
}

const BODY_STATUS: Readonly<Record<string, number>> = { body_too_large: 413, body_invalid: 400 };

const SIMPLEJWT_TOKEN_MESSAGES = new Set([
  'Token has wrong type',
  'Token has no type',
  "Token has no 'exp' claim",
  'Token has no id',
  'Token is blacklisted',
]);

function simpleJwtResponse(error: TesseraError): ResponseData {
  const challenge = { 'www-authenticate': 'Bearer realm="api"' };
  switch (error.code) {
    case 'authorization_missing':
      return jsonResponse(401, { detail: 'Authentication credentials were not provided.' }, challenge);
    case 'authorization_header_invalid':
      return jsonResponse(401, { detail: error.message, code: 'bad_authorization_header' }, challenge);
    case 'user_lookup_failed':
      return jsonResponse(401, { detail: 'User not found', code: 'user_not_found' }, challenge);
    case 'claims_verification_failed':
      return jsonResponse(403, { detail: 'You do not have permission to perform this action.' });
    case 'store_unavailable':
      return jsonResponse(503, { detail: error.message, code: error.code });
    case 'body_too_large':
      return jsonResponse(413, { detail: error.message, code: error.code });
    case 'body_invalid':
      return jsonResponse(400, { detail: 'JSON parse error' });
    case 'claim_missing':
      if (error.message === 'Token contained no recognizable user identification') {
        return jsonResponse(401, { detail: error.message, code: 'token_not_valid' }, challenge);
      }
      break;
  }
  let message = 'Token is invalid or expired';
  if (SIMPLEJWT_TOKEN_MESSAGES.has(error.message)) message = error.message;
  else if (error.code === 'token_revoked' || error.code === 'refresh_token_reused')
    message = 'Token is blacklisted';
  return jsonResponse(
    401,
    {
      detail: 'Given token not valid for any token type',
      code: 'token_not_valid',
      messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
    },
    challenge,
  );
}
