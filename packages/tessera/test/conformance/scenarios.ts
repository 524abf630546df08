/**
 * The conformance table: one row per request scenario, with the answer expected
 * from every adapter in the `standard` profile and in the `flask-jwt-extended`
 * profile. `pyCase` names the observed Flask-JWT-Extended case of
 * docs/reference/python-peers.md (sections 3.5-3.7) the row reproduces.
 *
 * Rows are plain data. Strings in a request may use these placeholders:
 * - `$token`: the row's token (see {@link TokenRecipe});
 * - `$csrf`: the `csrf` claim of the row's token;
 * - `$access-csrf`: the `csrf` claim of a second, freshly minted access token.
 * Claim values written `@now`, `@now+N` or `@now-N` are seconds relative to the
 * manager's fixed clock. Expected Set-Cookie values may use `<jwt>`, `<uuid>` and
 * `<date>` for the parts that change from run to run.
 */
import type { TokenManagerOptions } from '../../src/manager/options.js';

/** The two profiles every row is run under. */
export type Profile = 'standard' | 'flask-jwt-extended';
export const PROFILES: readonly Profile[] = ['standard', 'flask-jwt-extended'];

/** The routes every conformance app serves (see apps.ts). */
export type RouteName =
  | '/protected'
  | '/optional'
  | '/fresh'
  | '/refresh'
  | '/no-type-check'
  | '/skip-revocation'
  | '/headers-only'
  | '/cookies-only'
  | '/login/cookies'
  | '/logout';

/** Manager options a row may override (keys, clock and callbacks belong to the harness). */
export type ConfigOverrides = Omit<TokenManagerOptions, 'profile' | 'secret' | 'now' | 'callbacks' | 'keys'>;

/** How a row's token is made. */
export interface TokenRecipe {
  /** A literal token: nothing is minted. */
  readonly raw?: string;
  /** Default `access`. */
  readonly kind?: 'access' | 'refresh';
  /** Default `alice`. */
  readonly identity?: string | number;
  /** `true`/`false`, or seconds during which the token is fresh (access only). */
  readonly fresh?: boolean | number;
  /** Lifetime in seconds, or false for no `exp`. */
  readonly expiresIn?: number | false;
  /** Claims to add or override (`@now±N` for times). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Claims to remove after minting. */
  readonly omit?: readonly string[];
  /** Header parameters to add. */
  readonly header?: Readonly<Record<string, unknown>>;
  /**
   * Re-sign with something else than the manager's key: another HS256 secret, a
   * HS512 or RS256 key, `none` (any spelling), or `tamper`: keep the signature and
   * change the payload.
   */
  readonly signWith?: 'other-secret' | 'HS512' | 'RS256' | 'none' | 'NoNe' | 'tamper';
  /** Sign this text as the payload, as is (with the manager's key). */
  readonly payloadText?: string;
  /** Put the token's jti in the blocklist. */
  readonly revoked?: boolean;
}

/** The request a row sends. */
export interface RequestSpec {
  /** Default GET. */
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  readonly headers?: Readonly<Record<string, string>>;
  /** Headers sent as separate header lines, repeated names included (sent with node:http). */
  readonly headerLines?: ReadonlyArray<readonly [string, string]>;
  readonly cookies?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  /** A JSON body (sent as application/json). */
  readonly json?: unknown;
  /** A urlencoded form body. */
  readonly form?: Readonly<Record<string, string>>;
  /** A body sent as is with this content type. */
  readonly raw?: { readonly contentType: string; readonly body: string };
  readonly token?: TokenRecipe;
}

/** What one profile must answer. */
export interface ProfileExpectation {
  readonly status: number;
  /** The exact response body text. */
  readonly body?: string;
  /** A subset of the JSON body (success answers of the apps). */
  readonly json?: Readonly<Record<string, unknown>>;
  /** Response headers; null means the header must be absent. */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** The exact Set-Cookie list, in order (empty when not given). */
  readonly setCookies?: readonly string[];
  /** A subset of the claims of the first token set in a cookie (implicit refresh). */
  readonly cookieClaims?: Readonly<Record<string, unknown>>;
  /** The answer must come within this many milliseconds. */
  readonly maxMs?: number;
}

/** One scenario. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** The docs/reference/python-peers.md case this reproduces (or is derived from). */
  readonly pyCase?: string;
  readonly config?: ConfigOverrides;
  readonly route: RouteName;
  readonly request: RequestSpec;
  readonly expect: {
    readonly standard: ProfileExpectation;
    readonly 'flask-jwt-extended': ProfileExpectation;
  };
  /**
   * Where a framework answers before any route hook can run (its own body parser),
   * the row states that framework's status and why; it must still be a 4xx.
   */
  readonly frameworkAnswers?: Readonly<
    Partial<Record<string, { readonly status: number; readonly reason: string }>>
  >;
}

// ---------------------------------------------------------------------------
// Expectation builders. Standard profile: RFC 6750 statuses and challenges,
// body {"msg", "code"}; flask profile: docs/reference/python-peers.md 3.6, body {"msg"} + "\n".

type Both = Scenario['expect'];

const JSON_TYPE = 'application/json';

function stdBody(msg: string, code: string): string {
  return JSON.stringify({ msg: plain(msg), code });
}

function flaskBody(msg: string): string {
  return `${JSON.stringify({ msg })}\n`;
}

/** RFC 6750 error_description: quotes and backslashes are not allowed in it. */
function description(message: string): string {
  return message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'").slice(0, 200);
}

function challenge(code: string, message: string, scheme = 'Bearer'): string {
  return `${scheme} error="${code}", error_description="${description(plain(message))}"`;
}

/**
 * The standard profile's plain English for each Python text a row expects
 * (src/messages/en.ts); the flask-jwt-extended profile answers the Python text.
 */
const PLAIN: Readonly<Record<string, string>> = {
  'Missing Authorization Header': 'The Authorization header is missing',
  "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'":
    'The Authorization header must carry exactly one Bearer token',
  "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'":
    'The Authorization header must read "Bearer <token>"',
  'Not enough segments': 'The token must have three parts separated by dots',
  'Missing X-Auth-Token Header': 'The X-Auth-Token header is missing',
  "Bad Authorization header. Expected 'Authorization: <JWT>'":
    'The Authorization header must hold the token alone',
  'Token is too large': 'The token is too large',
  'Invalid header padding': 'The token header is not valid base64url',
  'Invalid header string: Expecting value: line 1 column 1 (char 0)':
    'The token header is not a valid JSON object',
  'Invalid payload string: Expecting value: line 1 column 1 (char 0)':
    'The token payload is not a valid JSON object',
  'Invalid payload string: must be a json object': 'The token payload is not a valid JSON object',
  'Signature verification failed': "The token's signature does not verify",
  'The specified alg value is not allowed': "The token's algorithm is not allowed",
  'Key ID header parameter must be a string': 'The key ID (kid) in the token header must be a string',
  'Unsupported critical extension: foo': 'The token needs an extension (crit) that is not supported',
  "Invalid 'crit' header: must be a non-empty list":
    'The crit parameter in the token header must be a non-empty list of names',
  'Token has expired': 'The token has expired',
  'The token is not yet valid (nbf)': 'The token is not valid yet (nbf is in the future)',
  'The token is not yet valid (iat)': 'The token is not valid yet (iat is in the future)',
  'Expiration Time claim (exp) must be a number.': 'The exp claim must be a number',
  'Issued At claim (iat) must be a number.': 'The iat claim must be a number',
  'Not Before claim (nbf) must be a number.': 'The nbf claim must be a number',
  'Token is missing the "exp" claim': 'The token has no exp claim',
  'Missing claim: sub': 'The token has no sub claim',
  'Subject (sub) must be a string': 'The sub claim must be a string',
  'Only access tokens are allowed': 'This endpoint accepts only access tokens',
  'Only non-refresh tokens are allowed': 'A refresh token cannot be used here',
  'Only refresh tokens are allowed': 'This endpoint accepts only refresh tokens',
  'Token type header (typ) is not accepted': 'The token type (typ header) is not accepted',
  'JWT ID (jti) must be a string': 'The jti claim must be a string',
  'Token has been revoked': 'The token has been revoked',
  'Fresh token required': 'This endpoint needs a fresh token: sign in again',
  'Error loading the user ghost': 'No user was found for this token',
  'User claims verification failed': "The token's claims were refused",
  'Missing CSRF token': 'The CSRF token is missing',
  'Token is missing the "aud" claim': 'The token has no aud claim',
  'Invalid audience': 'The token is not meant for this audience (aud)',
  'Invalid claim format in token': 'The aud claim must be a string or a list of strings',
  'Token is missing the "iss" claim': 'The token has no iss claim',
  'Invalid issuer': "The token's issuer (iss) is not accepted",
  'Missing cookie "access_token_cookie"': 'The access_token_cookie cookie is missing',
  'CSRF double submit tokens do not match': "The CSRF token does not match the token's csrf claim",
  'Missing claim: csrf': 'The token has no csrf claim',
  'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")':
    'No token was found in the request (looked in: headers, cookies)',
  'Cookie "access_token_cookie" was sent more than once':
    'The access_token_cookie cookie was sent more than once',
  'Cookie "refresh_token_cookie" was sent more than once':
    'The refresh_token_cookie cookie was sent more than once',
  "Missing 'jwt' query paramater": 'The jwt query parameter is missing',
  "Invalid value for query parameter 'jwt'. Expected the value to start with 'Bearer '":
    'The jwt query parameter must start with "Bearer "',
  'Invalid content-type. Must be application/json.':
    'The request body must be JSON (content-type: application/json)',
  'Missing "access_token" key in json data.': 'The JSON body has no access_token field',
  'Request body is not valid JSON': 'The request body is not valid JSON',
  'Missing "refresh_token" key in json data.': 'The JSON body has no refresh_token field',
  'Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; Missing cookie "access_token_cookie"; Missing \'jwt\' query paramater; Invalid content-type. Must be application/json.)':
    'No token was found in the request (looked in: headers, cookies, query_string, json)',
  'Request body is larger than 1048576 bytes': 'The request body is larger than 1048576 bytes',
  'Missing JWT in headers, cookies or json (Missing Authorization Header; Missing cookie "refresh_token_cookie"; Invalid content-type. Must be application/json.)':
    'No token was found in the request (looked in: headers, cookies, json)',
};

function plain(python: string): string {
  return PLAIN[python] ?? python;
}

function flask(status: number, msg: string): ProfileExpectation {
  return { status, body: flaskBody(msg), headers: { 'content-type': JSON_TYPE, 'www-authenticate': null } };
}

function standard(
  status: number,
  msg: string,
  code: string,
  wwwAuthenticate: string | null,
): ProfileExpectation {
  return {
    status,
    body: stdBody(msg, code),
    headers: { 'content-type': JSON_TYPE, 'www-authenticate': wwwAuthenticate },
  };
}

/** No token found (NoAuthorizationError): 401 in both, bare challenge in standard. */
function missing(msg: string, scheme = 'Bearer'): Both {
  return {
    standard: standard(401, msg, 'authorization_missing', scheme),
    'flask-jwt-extended': flask(401, msg),
  };
}

/** A bad token: 401 invalid_token (standard), 422 (flask). */
function invalid(msg: string, code: string, standardMsg = msg): Both {
  return {
    standard: standard(401, standardMsg, code, challenge('invalid_token', standardMsg)),
    'flask-jwt-extended': flask(422, msg),
  };
}

/**
 * A bad token whose message quotes the token (a crit name, an identity): the
 * standard challenge carries a fixed description instead, never token text.
 */
function invalidQuoting(msg: string, code: string, description: string): Both {
  return {
    standard: standard(401, msg, code, challenge('invalid_token', description)),
    'flask-jwt-extended': flask(422, msg),
  };
}

/** A malformed request (header, query prefix): 400 invalid_request (standard), 422 (flask). */
function badRequest(msg: string, code: string): Both {
  return {
    standard: standard(400, msg, code, challenge('invalid_request', msg)),
    'flask-jwt-extended': flask(422, msg),
  };
}

/** Failures Flask answers with 401 and the standard profile with 401 invalid_token. */
function tokenRefused(msg: string, code: string): Both {
  return {
    standard: standard(401, msg, code, challenge('invalid_token', msg)),
    'flask-jwt-extended': flask(401, msg),
  };
}

const expired = (): Both => tokenRefused('Token has expired', 'token_expired');
const revoked = (): Both => tokenRefused('Token has been revoked', 'token_revoked');
// The identity comes from the token: the standard challenge does not repeat it.
const lookupFailed = (id: string): Both => ({
  standard: standard(
    401,
    `Error loading the user ${id}`,
    'user_lookup_failed',
    challenge('invalid_token', 'No user was found for this token'),
  ),
  'flask-jwt-extended': flask(401, `Error loading the user ${id}`),
});

function needsFresh(): Both {
  const msg = 'Fresh token required';
  return {
    standard: standard(401, msg, 'fresh_token_required', challenge('insufficient_user_authentication', msg)),
    'flask-jwt-extended': flask(401, msg),
  };
}

function claimsFailed(): Both {
  const msg = 'User claims verification failed';
  return {
    standard: standard(403, msg, 'claims_verification_failed', challenge('insufficient_scope', msg)),
    'flask-jwt-extended': flask(400, msg),
  };
}

function csrf(msg: string, code: string): Both {
  return { standard: standard(403, msg, code, null), 'flask-jwt-extended': flask(401, msg) };
}

const csrfMissing = (): Both => csrf('Missing CSRF token', 'csrf_missing');
const csrfMismatch = (): Both => csrf('CSRF double submit tokens do not match', 'csrf_mismatch');

/** 200 from the route, with (a subset of) its JSON answer. */
function okStd(json: Record<string, unknown>, setCookies?: readonly string[]): ProfileExpectation {
  return { status: 200, json, ...(setCookies === undefined ? {} : { setCookies }) };
}

function ok(json: Record<string, unknown>): Both {
  return { standard: okStd(json), 'flask-jwt-extended': okStd(json) };
}

const alice = (location: string): Both => ok({ identity: 'alice', location });

/** 204, no body: an exempted OPTIONS request on a required route. */
const NO_CONTENT: Both = {
  standard: { status: 204, body: '' },
  'flask-jwt-extended': { status: 204, body: '' },
};

// ---------------------------------------------------------------------------
// Building blocks of requests.

const BEARER = { Authorization: 'Bearer $token' };
const ACCESS_COOKIE = { access_token_cookie: '$token' };
const REFRESH_COOKIE = { refresh_token_cookie: '$token' };
const CSRF_HEADER = { 'X-CSRF-TOKEN': '$csrf' };
const MISSING_TYPE =
  "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'";
const BAD_HEADER = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'";
const NOT_ALLOWED = 'The specified alg value is not allowed';

const COOKIES: ConfigOverrides = { tokenLocation: ['cookies'] };
const HEADERS_COOKIES: ConfigOverrides = { tokenLocation: ['headers', 'cookies'] };
const QUERY: ConfigOverrides = { tokenLocation: ['query_string'] };
const JSON_LOC: ConfigOverrides = { tokenLocation: ['json'] };
const ALL: ConfigOverrides = { tokenLocation: ['headers', 'cookies', 'query_string', 'json'] };

const EXPIRED_CLAIMS = { iat: '@now-7200', nbf: '@now-7200', exp: '@now-3600' };

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

const HS_HEADER = b64('{"alg":"HS256","typ":"JWT"}');

// Expected cookie lines (Werkzeug attribute order: Domain, Expires, Max-Age, Secure, HttpOnly, Path, SameSite).
const EPOCH = 'Expires=Thu, 01 Jan 1970 00:00:00 GMT';
const FLASK_LOGIN = [
  'access_token_cookie=<jwt>; HttpOnly; Path=/',
  'csrf_access_token=<uuid>; Path=/',
  'refresh_token_cookie=<jwt>; HttpOnly; Path=/',
  'csrf_refresh_token=<uuid>; Path=/',
];
const STD_LOGIN = [
  'access_token_cookie=<jwt>; Secure; HttpOnly; Path=/; SameSite=Lax',
  'csrf_access_token=<uuid>; Secure; Path=/; SameSite=Lax',
  'refresh_token_cookie=<jwt>; Secure; HttpOnly; Path=/auth/refresh; SameSite=Lax',
  'csrf_refresh_token=<uuid>; Secure; Path=/; SameSite=Lax',
];
const LOGIN_BODY = { login: true };

// ---------------------------------------------------------------------------

export const SCENARIOS: readonly Scenario[] = [
  // ---- headers -------------------------------------------------------------
  {
    id: 'H01',
    title: 'valid access token in Authorization: Bearer',
    route: '/protected',
    request: { headers: BEARER, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H02',
    title: 'no Authorization header',
    pyCase: 'F36',
    route: '/protected',
    request: {},
    expect: missing('Missing Authorization Header'),
  },
  {
    id: 'H03',
    title: 'another scheme (Basic)',
    pyCase: 'F37',
    route: '/protected',
    request: { headers: { Authorization: 'Basic YWxpY2U6cHc=' } },
    expect: missing(MISSING_TYPE),
  },
  {
    id: 'H04',
    title: 'lowercase bearer: accepted per RFC 7235 (standard), refused by Flask',
    pyCase: 'F38',
    route: '/protected',
    request: { headers: { Authorization: 'bearer $token' }, token: {} },
    expect: { standard: okStd({ identity: 'alice' }), 'flask-jwt-extended': flask(401, MISSING_TYPE) },
  },
  {
    id: 'H05',
    title: 'two Bearer credentials in one header',
    pyCase: 'F42',
    route: '/protected',
    request: { headers: { Authorization: 'Bearer $token, Bearer $token' }, token: {} },
    expect: missing(MISSING_TYPE),
  },
  {
    id: 'H05b',
    title: 'two Authorization header lines: seen joined, as two Bearer values',
    pyCase: 'F42',
    route: '/protected',
    request: {
      headerLines: [
        ['Authorization', 'Bearer $token'],
        ['Authorization', 'Bearer garbage'],
      ],
      token: {},
    },
    // Werkzeug joins repeated headers with ","; RequestLike.header() promises the same join.
    expect: missing(MISSING_TYPE),
  },
  {
    id: 'H06',
    title: '"Bearer" without a token',
    pyCase: 'F39',
    route: '/protected',
    request: { headers: { Authorization: 'Bearer' } },
    expect: badRequest(BAD_HEADER, 'authorization_header_invalid'),
  },
  {
    id: 'H07',
    title: '"Bearer a b": two words after the scheme',
    pyCase: 'F40',
    route: '/protected',
    request: { headers: { Authorization: 'Bearer a b' } },
    expect: badRequest(BAD_HEADER, 'authorization_header_invalid'),
  },
  {
    id: 'H08',
    title: 'Bearer credential after a Basic one',
    pyCase: 'F41',
    route: '/protected',
    request: { headers: { Authorization: 'Basic xyz, Bearer $token' }, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H09',
    title: 'several spaces between scheme and token',
    pyCase: 'F43',
    route: '/protected',
    request: { headers: { Authorization: 'Bearer    $token' }, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H10',
    title: '"Bearer x, , y" (Flask: 500 IndexError) is a 4xx',
    pyCase: 'F44',
    route: '/protected',
    request: { headers: { Authorization: 'Bearer x, , y' } },
    expect: invalid('Not enough segments', 'token_malformed'),
  },
  {
    id: 'H11',
    title: 'custom header name',
    config: { headerName: 'X-Auth-Token' },
    route: '/protected',
    request: { headers: { 'X-Auth-Token': 'Bearer $token' }, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H12',
    title: 'custom header name: Authorization is not read',
    config: { headerName: 'X-Auth-Token' },
    route: '/protected',
    request: { headers: BEARER, token: {} },
    expect: missing('Missing X-Auth-Token Header'),
  },
  {
    id: 'H13',
    title: 'empty header type: the bare token',
    config: { headerType: '' },
    route: '/protected',
    request: { headers: { Authorization: '$token' }, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H14',
    title: 'empty header type: "Bearer <jwt>" is malformed',
    config: { headerType: '' },
    route: '/protected',
    request: { headers: BEARER, token: {} },
    expect: badRequest(
      "Bad Authorization header. Expected 'Authorization: <JWT>'",
      'authorization_header_invalid',
    ),
  },
  {
    id: 'H15',
    title: 'custom header type JWT',
    config: { headerType: 'JWT' },
    route: '/protected',
    request: { headers: { Authorization: 'JWT $token' }, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H16',
    title: 'custom header type: the challenge names it',
    config: { headerType: 'JWT' },
    route: '/protected',
    request: {},
    expect: missing('Missing Authorization Header', 'JWT'),
  },
  {
    id: 'H17',
    title: 'token over 8 KiB is refused before decoding, fast',
    route: '/protected',
    request: { headers: { Authorization: `Bearer ${HS_HEADER}.${'A'.repeat(9000)}.sig` } },
    expect: (() => {
      const e = invalid('Token is too large', 'token_too_large');
      return {
        standard: { ...e.standard, maxMs: 1000 },
        'flask-jwt-extended': { ...e['flask-jwt-extended'], maxMs: 1000 },
      };
    })(),
  },
  {
    id: 'H18',
    title:
      'OPTIONS is exempt: no token needed; a required route answers 204 itself (its handler is typed non-null)',
    pyCase: 'F51',
    route: '/protected',
    request: { method: 'OPTIONS' },
    expect: NO_CONTENT,
  },
  {
    id: 'H19',
    title: 'OPTIONS is exempt: a garbage token is not even read',
    pyCase: 'F51',
    route: '/protected',
    request: { method: 'OPTIONS', headers: { Authorization: 'Bearer a b' } },
    expect: NO_CONTENT,
  },
  {
    id: 'H20',
    title: 'header token on POST needs no CSRF value',
    config: HEADERS_COOKIES,
    route: '/protected',
    request: { method: 'POST', headers: BEARER, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'H21',
    title: 'OPTIONS is exempt: an optional route runs its handler with a null context',
    pyCase: 'F51',
    route: '/optional',
    request: { method: 'OPTIONS' },
    expect: ok({ identity: null, location: null }),
  },
  {
    id: 'H22',
    title: 'OPTIONS on a fresh-only route: 204 too, the handler does not run',
    route: '/fresh',
    request: { method: 'OPTIONS', headers: BEARER, token: {} },
    expect: NO_CONTENT,
  },

  // ---- malformed and foreign tokens ---------------------------------------------------
  {
    id: 'T01',
    title: 'one segment',
    pyCase: 'F52',
    route: '/protected',
    request: { headers: BEARER, token: { raw: 'garbage' } },
    expect: invalid('Not enough segments', 'token_malformed'),
  },
  {
    id: 'T02',
    title: 'a.b.c',
    pyCase: 'F53',
    route: '/protected',
    request: { headers: BEARER, token: { raw: 'a.b.c' } },
    expect: invalid('Invalid header padding', 'token_malformed'),
  },
  {
    id: 'T03',
    title: 'header segment is not JSON',
    pyCase: 'F54',
    route: '/protected',
    request: { headers: BEARER, token: { raw: `${b64('garbage')}.${b64('{"sub":"alice"}')}.c2ln` } },
    expect: invalid('Invalid header string: Expecting value: line 1 column 1 (char 0)', 'token_malformed'),
  },
  {
    id: 'T04',
    title: 'payload segment is not JSON (valid signature)',
    pyCase: 'F55',
    route: '/protected',
    request: { headers: BEARER, token: { payloadText: 'garbage' } },
    expect: invalid('Invalid payload string: Expecting value: line 1 column 1 (char 0)', 'token_malformed'),
  },
  {
    id: 'T05',
    title: 'payload is JSON but not an object',
    pyCase: 'F56',
    route: '/protected',
    request: { headers: BEARER, token: { payloadText: '["alice"]' } },
    expect: invalid('Invalid payload string: must be a json object', 'token_malformed'),
  },
  {
    id: 'T06',
    title: 'signed with another secret',
    pyCase: 'F57',
    route: '/protected',
    request: { headers: BEARER, token: { signWith: 'other-secret' } },
    expect: invalid('Signature verification failed', 'signature_invalid'),
  },
  {
    id: 'T07',
    title: 'payload tampered after signing',
    pyCase: 'F58',
    route: '/protected',
    request: { headers: BEARER, token: { signWith: 'tamper' } },
    expect: invalid('Signature verification failed', 'signature_invalid'),
  },
  {
    id: 'T08',
    title: 'alg HS512 where HS256 is configured',
    pyCase: 'F59',
    route: '/protected',
    request: { headers: BEARER, token: { signWith: 'HS512' } },
    expect: invalid(NOT_ALLOWED, 'algorithm_not_allowed', 'Algorithm HS512 is not allowed for this key'),
  },
  {
    id: 'T09',
    title: 'alg none',
    pyCase: 'F60',
    route: '/protected',
    request: { headers: BEARER, token: { signWith: 'none' } },
    expect: invalid(NOT_ALLOWED, 'algorithm_not_allowed'),
  },
  {
    id: 'T10',
    title: 'alg RS256 (a real RSA signature)',
    pyCase: 'F61',
    route: '/protected',
    request: { headers: BEARER, token: { signWith: 'RS256' } },
    expect: invalid(NOT_ALLOWED, 'algorithm_not_allowed', 'Algorithm RS256 is not allowed for this key'),
  },
  {
    id: 'T11',
    title: 'alg "NoNe": none in any spelling',
    pyCase: 'F60',
    route: '/protected',
    request: { headers: BEARER, token: { signWith: 'NoNe' } },
    expect: invalid(NOT_ALLOWED, 'algorithm_not_allowed'),
  },
  {
    id: 'T12',
    title: 'expired and badly signed: the signature is reported',
    pyCase: 'F62',
    route: '/protected',
    request: { headers: BEARER, token: { claims: EXPIRED_CLAIMS, signWith: 'other-secret' } },
    expect: invalid('Signature verification failed', 'signature_invalid'),
  },
  {
    id: 'T13',
    title: 'kid header is not a string',
    pyCase: 'F77',
    route: '/protected',
    request: { headers: BEARER, token: { header: { kid: 5 } } },
    expect: invalid('Key ID header parameter must be a string', 'header_invalid'),
  },
  {
    id: 'T14',
    title: 'crit names an unsupported extension',
    pyCase: 'F91',
    route: '/protected',
    request: { headers: BEARER, token: { header: { crit: ['foo'], foo: 1 } } },
    expect: invalidQuoting(
      'Unsupported critical extension: foo',
      'crit_unsupported',
      'The token needs an extension (crit) that is not supported',
    ),
  },
  {
    id: 'T15',
    title: 'crit is an empty list',
    pyCase: 'F91',
    route: '/protected',
    request: { headers: BEARER, token: { header: { crit: [] } } },
    expect: invalidQuoting(
      "Invalid 'crit' header: must be a non-empty list",
      'crit_unsupported',
      'The crit parameter in the token header must be a non-empty list of names',
    ),
  },
  {
    id: 'T16',
    title: 'five segments (JWE) where a JWS is expected',
    route: '/protected',
    request: { headers: BEARER, token: { raw: `${HS_HEADER}.YQ.YQ.YQ.YQ` } },
    expect: {
      standard: invalid('Encrypted tokens (JWE) are not accepted', 'token_malformed').standard,
      // PyJWT 2.6 splits once from the right and once from the left: the payload
      // segment "YQ.YQ.YQ" is not base64url.
      'flask-jwt-extended': flask(422, 'Invalid payload padding'),
    },
  },

  // ---- claims ----------------------------------------------------------------
  {
    id: 'C01',
    title: 'expired access token',
    pyCase: 'F63',
    route: '/protected',
    request: { headers: BEARER, token: { claims: EXPIRED_CLAIMS } },
    expect: expired(),
  },
  {
    id: 'C02',
    title: 'expired refresh token at the refresh route',
    pyCase: 'F64',
    route: '/refresh',
    request: { headers: BEARER, token: { kind: 'refresh', claims: EXPIRED_CLAIMS } },
    expect: expired(),
  },
  {
    id: 'C03',
    title: 'expired refresh token at an access route: expiry before type',
    pyCase: 'F94',
    route: '/protected',
    request: { headers: BEARER, token: { kind: 'refresh', claims: EXPIRED_CLAIMS } },
    expect: expired(),
  },
  {
    id: 'C04',
    title: 'exp == now counts as expired',
    pyCase: 'F80',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: '@now-60', nbf: '@now-60', exp: '@now' } } },
    expect: expired(),
  },
  {
    id: 'C05',
    title: 'nbf in the future',
    pyCase: 'F65',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { nbf: '@now+3600' } } },
    expect: invalid('The token is not yet valid (nbf)', 'token_not_yet_valid'),
  },
  {
    id: 'C06',
    title: 'iat in the future (checked before nbf)',
    pyCase: 'F66',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: '@now+3600', nbf: '@now+3600' } } },
    expect: invalid('The token is not yet valid (iat)', 'token_not_yet_valid'),
  },
  {
    id: 'C07',
    title: 'exp is not a number',
    pyCase: 'F67',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { exp: 'tomorrow' } } },
    expect: {
      standard: invalid('Expiration Time claim (exp) must be a number.', 'claim_invalid').standard,
      'flask-jwt-extended': flask(422, 'Expiration Time claim (exp) must be an integer.'),
    },
  },
  {
    id: 'C08',
    title: 'iat is not a number',
    pyCase: 'F88',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: 'today' } } },
    expect: {
      standard: invalid('Issued At claim (iat) must be a number.', 'claim_invalid').standard,
      'flask-jwt-extended': flask(422, 'Issued At claim (iat) must be an integer.'),
    },
  },
  {
    id: 'C09',
    title: 'nbf is not a number',
    pyCase: 'F89',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { nbf: 'today' } } },
    expect: {
      standard: invalid('Not Before claim (nbf) must be a number.', 'claim_invalid').standard,
      'flask-jwt-extended': flask(422, 'Not Before claim (nbf) must be an integer.'),
    },
  },
  {
    id: 'C10',
    title: 'no exp: Flask accepts it, the standard profile requires exp',
    pyCase: 'F68',
    route: '/protected',
    request: { headers: BEARER, token: { expiresIn: false } },
    expect: {
      standard: invalid('Token is missing the "exp" claim', 'claim_missing').standard,
      'flask-jwt-extended': okStd({ identity: 'alice' }),
    },
  },
  {
    id: 'C11',
    title: 'minimal token {"sub":"alice"}',
    pyCase: 'F70',
    route: '/protected',
    request: { headers: BEARER, token: { omit: ['iat', 'nbf', 'exp', 'jti', 'type', 'fresh'] } },
    expect: {
      standard: invalid('Token is missing the "exp" claim', 'claim_missing').standard,
      'flask-jwt-extended': okStd({ identity: 'alice', claims: { sub: 'alice' } }),
    },
  },
  {
    id: 'C12',
    title: 'identity claim missing',
    pyCase: 'F69',
    route: '/protected',
    request: { headers: BEARER, token: { omit: ['sub'] } },
    expect: invalid('Missing claim: sub', 'claim_missing'),
  },
  {
    id: 'C13',
    title: 'a SimpleJWT-shaped token (user_id, token_type)',
    pyCase: 'F78',
    route: '/protected',
    request: {
      headers: BEARER,
      token: { omit: ['sub', 'type', 'fresh', 'nbf'], claims: { token_type: 'access', user_id: 1 } },
    },
    expect: invalid('Missing claim: sub', 'claim_missing'),
  },
  {
    id: 'C14',
    title: 'non-string identity: Flask accepts it, RFC 7519 sub must be a string',
    pyCase: 'F90',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { sub: { id: 7 } } } },
    expect: {
      standard: invalid('Subject (sub) must be a string', 'claim_invalid').standard,
      'flask-jwt-extended': okStd({ identity: { id: 7 } }),
    },
  },
  {
    id: 'C15',
    title: 'unknown type "foo" at an access route',
    pyCase: 'F74',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { type: 'foo' } } },
    expect: {
      standard: invalid('Only access tokens are allowed', 'wrong_token_type').standard,
      'flask-jwt-extended': okStd({ identity: 'alice' }),
    },
  },
  {
    id: 'C16',
    title: 'refresh token at an access route',
    pyCase: 'F29',
    route: '/protected',
    request: { headers: BEARER, token: { kind: 'refresh' } },
    expect: invalid('Only non-refresh tokens are allowed', 'wrong_token_type'),
  },
  {
    id: 'C17',
    title: 'access token at the refresh route',
    pyCase: 'F30',
    route: '/refresh',
    request: { headers: BEARER, token: {} },
    expect: invalid('Only refresh tokens are allowed', 'wrong_token_type'),
  },
  {
    id: 'C18',
    title: 'type "foo" at the refresh route',
    pyCase: 'F75',
    route: '/refresh',
    request: { headers: BEARER, token: { claims: { type: 'foo' } } },
    expect: invalid('Only refresh tokens are allowed', 'wrong_token_type'),
  },
  {
    id: 'C19',
    title: 'refresh token at the refresh route',
    route: '/refresh',
    request: { headers: BEARER, token: { kind: 'refresh' } },
    expect: ok({ identity: 'alice', location: 'headers', claims: { type: 'refresh' } }),
  },
  {
    id: 'C20',
    title: 'verifyType false: a refresh token at an access route',
    route: '/no-type-check',
    request: { headers: BEARER, token: { kind: 'refresh' } },
    expect: ok({ identity: 'alice', claims: { type: 'refresh' } }),
  },
  {
    id: 'C21',
    title: 'typ header "foo": refused by the standard profile only',
    route: '/protected',
    request: { headers: BEARER, token: { header: { typ: 'foo' } } },
    expect: {
      standard: invalid('Token type header (typ) is not accepted', 'header_invalid').standard,
      'flask-jwt-extended': okStd({ identity: 'alice' }),
    },
  },
  {
    id: 'C22',
    title: 'aud present but no audience configured: ignored',
    pyCase: 'F76',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { aud: 'somebody-else' } } },
    expect: alice('headers'),
  },
  {
    id: 'C23',
    title: 'jti is not a string',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { jti: 12 } } },
    expect: {
      standard: invalid('JWT ID (jti) must be a string', 'claim_invalid').standard,
      'flask-jwt-extended': okStd({ identity: 'alice' }),
    },
  },
  {
    id: 'C24',
    title: 'float exp/iat/nbf: PyJWT 2.6 truncates with int(), RFC 7519 allows NumericDate fractions',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: '@now-0.5', nbf: '@now-0.5', exp: '@now+600.5' } } },
    expect: alice('headers'),
  },
  {
    id: 'C25',
    title: 'nbf == now is valid',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { nbf: '@now' } } },
    expect: alice('headers'),
  },
  {
    id: 'C26',
    title: 'leeway 60: expired 30 s ago is still accepted',
    config: { leeway: 60 },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: '@now-600', nbf: '@now-600', exp: '@now-30' } } },
    expect: alice('headers'),
  },
  {
    id: 'C27',
    title: 'leeway 60: expired 90 s ago is refused',
    config: { leeway: 60 },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: '@now-600', nbf: '@now-600', exp: '@now-90' } } },
    expect: expired(),
  },
  {
    id: 'C28',
    title: 'leeway 60: iat 30 s in the future is accepted',
    config: { leeway: 60 },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iat: '@now+30', nbf: '@now+30' } } },
    expect: alice('headers'),
  },

  // ---- revocation, freshness, callbacks ---------------------------------------------
  {
    id: 'R01',
    title: 'revoked access token',
    pyCase: 'F32',
    route: '/protected',
    request: { headers: BEARER, token: { revoked: true } },
    expect: revoked(),
  },
  {
    id: 'R02',
    title: 'revoked refresh token at the refresh route',
    pyCase: 'F34',
    route: '/refresh',
    request: { headers: BEARER, token: { kind: 'refresh', revoked: true } },
    expect: revoked(),
  },
  {
    id: 'R03',
    title: 'skipRevocationCheck: a revoked token passes',
    route: '/skip-revocation',
    request: { headers: BEARER, token: { revoked: true } },
    expect: alice('headers'),
  },
  {
    id: 'R04',
    title: 'fresh route, fresh:false',
    pyCase: 'F24',
    route: '/fresh',
    request: { headers: BEARER, token: { fresh: false } },
    expect: needsFresh(),
  },
  {
    id: 'R05',
    title: 'fresh route, fresh:true',
    route: '/fresh',
    request: { headers: BEARER, token: { fresh: true } },
    expect: alice('headers'),
  },
  {
    id: 'R06',
    title: 'fresh route, numeric fresh in the past',
    pyCase: 'F25',
    route: '/fresh',
    request: { headers: BEARER, token: { claims: { fresh: '@now-60' } } },
    expect: needsFresh(),
  },
  {
    id: 'R07',
    title: 'fresh route, numeric fresh in the future (fresh for 10 minutes)',
    route: '/fresh',
    request: { headers: BEARER, token: { fresh: 600 } },
    expect: alice('headers'),
  },
  {
    id: 'R08',
    title: 'revoked and not fresh at a fresh route: freshness first',
    pyCase: 'F95',
    route: '/fresh',
    request: { headers: BEARER, token: { fresh: false, revoked: true } },
    expect: needsFresh(),
  },
  {
    id: 'R09',
    title: 'refresh token at a fresh route: type before freshness',
    route: '/fresh',
    request: { headers: BEARER, token: { kind: 'refresh' } },
    expect: invalid('Only non-refresh tokens are allowed', 'wrong_token_type'),
  },
  {
    id: 'R10',
    title: 'user lookup finds nobody',
    pyCase: 'F71',
    route: '/protected',
    request: { headers: BEARER, token: { identity: 'ghost' } },
    expect: lookupFailed('ghost'),
  },
  {
    id: 'R11',
    title: 'numeric sub 42 that the user lookup does not know',
    pyCase: 'F72',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { sub: 42 } } },
    expect: {
      standard: invalid('Subject (sub) must be a string', 'claim_invalid').standard,
      'flask-jwt-extended': flask(401, 'Error loading the user 42'),
    },
  },
  {
    id: 'R12',
    title: 'identity 42 minted: kept numeric (flask), stringified (standard)',
    pyCase: 'F72',
    route: '/protected',
    request: { headers: BEARER, token: { identity: 42 } },
    expect: {
      standard: okStd({ identity: '42' }),
      'flask-jwt-extended': flask(401, 'Error loading the user 42'),
    },
  },
  {
    id: 'R13',
    title: 'claims verification refuses the token',
    pyCase: 'F73',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { deny: true } } },
    expect: claimsFailed(),
  },
  {
    id: 'R14',
    title: 'refresh token with denied claims at an access route: type first',
    pyCase: 'F96',
    route: '/protected',
    request: { headers: BEARER, token: { kind: 'refresh', claims: { deny: true } } },
    expect: invalid('Only non-refresh tokens are allowed', 'wrong_token_type'),
  },
  {
    id: 'R15',
    title: 'unknown user with denied claims: claims verification first',
    pyCase: 'F97',
    route: '/protected',
    request: { headers: BEARER, token: { identity: 'ghost', claims: { deny: true } } },
    expect: claimsFailed(),
  },
  {
    id: 'R16',
    title: 'revoked with denied claims: revocation first',
    route: '/protected',
    request: { headers: BEARER, token: { revoked: true, claims: { deny: true } } },
    expect: revoked(),
  },
  {
    id: 'R17',
    title: 'user lookup failure for an object identity: formatted with Python str()',
    pyCase: 'F71',
    route: '/protected',
    request: { headers: BEARER, token: { claims: { sub: { ghost: true, id: 7 } } } },
    expect: {
      standard: invalid('Subject (sub) must be a string', 'claim_invalid').standard,
      'flask-jwt-extended': flask(401, "Error loading the user {'ghost': True, 'id': 7}"),
    },
  },

  // ---- optional --------------------------------------------------------------
  {
    id: 'O01',
    title: 'optional route without a token',
    route: '/optional',
    request: {},
    expect: ok({ identity: null, location: null }),
  },
  {
    id: 'O02',
    title: 'optional route with a valid token',
    route: '/optional',
    request: { headers: BEARER, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'O03',
    title: 'optional route with a garbage token: still refused',
    pyCase: 'F20',
    route: '/optional',
    request: { headers: BEARER, token: { raw: 'garbage' } },
    expect: invalid('Not enough segments', 'token_malformed'),
  },
  {
    id: 'O04',
    title: 'optional route with an expired token: still refused',
    pyCase: 'F20',
    route: '/optional',
    request: { headers: BEARER, token: { claims: EXPIRED_CLAIMS } },
    expect: expired(),
  },
  {
    id: 'O05',
    title: 'optional route with a malformed header: still refused',
    route: '/optional',
    request: { headers: { Authorization: 'Bearer a b' } },
    expect: badRequest(BAD_HEADER, 'authorization_header_invalid'),
  },
  {
    id: 'O06',
    title: 'optional route, cookie on POST without CSRF: not swallowed',
    config: COOKIES,
    route: '/optional',
    request: { method: 'POST', cookies: ACCESS_COOKIE, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'O07',
    title: 'optional route with another scheme: "missing", so swallowed',
    route: '/optional',
    request: { headers: { Authorization: 'Basic YWxpY2U6cHc=' } },
    expect: ok({ identity: null, location: null }),
  },
  {
    id: 'O08',
    title: 'custom error message key',
    config: { errorMessageKey: 'message' },
    route: '/protected',
    request: {},
    expect: {
      standard: {
        status: 401,
        body: JSON.stringify({
          message: 'The Authorization header is missing',
          code: 'authorization_missing',
        }),
        headers: { 'www-authenticate': 'Bearer' },
      },
      'flask-jwt-extended': {
        status: 401,
        body: `${JSON.stringify({ message: 'Missing Authorization Header' })}\n`,
        headers: { 'www-authenticate': null },
      },
    },
  },

  // ---- audience and issuer -----------------------------------------------------
  {
    id: 'A01',
    title: 'audience configured, token without aud',
    pyCase: 'AF03',
    config: { decodeAudience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: {} },
    expect: invalid('Token is missing the "aud" claim', 'claim_missing'),
  },
  {
    id: 'A02',
    title: 'audience mismatch',
    pyCase: 'AF04',
    config: { decodeAudience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { aud: 'other-api' } } },
    expect: invalid('Invalid audience', 'audience_invalid'),
  },
  {
    id: 'A03',
    title: 'aud neither a string nor a list of strings',
    pyCase: 'AF09',
    config: { decodeAudience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { aud: 42 } } },
    expect: invalid('Invalid claim format in token', 'audience_invalid'),
  },
  {
    id: 'A04',
    title: 'aud list containing the audience',
    pyCase: 'AF05',
    config: { decodeAudience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { aud: ['x', 'tessera-api'] } } },
    expect: alice('headers'),
  },
  {
    id: 'A05',
    title: 'issuer configured, token without iss',
    pyCase: 'AF06',
    config: { decodeIssuer: 'tessera' },
    route: '/protected',
    request: { headers: BEARER, token: {} },
    expect: invalid('Token is missing the "iss" claim', 'claim_missing'),
  },
  {
    id: 'A06',
    title: 'issuer mismatch',
    pyCase: 'AF07',
    config: { decodeIssuer: 'tessera' },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iss: 'someone-else' } } },
    expect: invalid('Invalid issuer', 'issuer_invalid'),
  },
  {
    id: 'A07',
    title: 'issuer and audience both wrong: issuer first',
    pyCase: 'AF08',
    config: { decodeIssuer: 'tessera', decodeAudience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { iss: 'someone-else', aud: 'other-api' } } },
    expect: invalid('Invalid issuer', 'issuer_invalid'),
  },
  {
    id: 'A08',
    title: 'issuer and audience configured: minted tokens carry both',
    config: { issuer: 'tessera', audience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: {} },
    expect: ok({ identity: 'alice', claims: { iss: 'tessera', aud: 'tessera-api' } }),
  },
  {
    id: 'A09',
    title: 'aud list without the audience',
    pyCase: 'AF04',
    config: { decodeAudience: 'tessera-api' },
    route: '/protected',
    request: { headers: BEARER, token: { claims: { aud: ['x', 'y'] } } },
    expect: invalid('Invalid audience', 'audience_invalid'),
  },

  // ---- cookies and CSRF -------------------------------------------------------------
  {
    id: 'K01',
    title: 'GET with the access cookie, no CSRF needed',
    pyCase: 'F08',
    config: COOKIES,
    route: '/protected',
    request: { cookies: ACCESS_COOKIE, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K02',
    title: 'cookie missing',
    pyCase: 'F46',
    config: COOKIES,
    route: '/protected',
    request: {},
    expect: missing('Missing cookie "access_token_cookie"'),
  },
  {
    id: 'K03',
    title: 'POST with the cookie, no CSRF header',
    pyCase: 'F10',
    config: COOKIES,
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K04',
    title: 'POST with the cookie and the matching CSRF header',
    pyCase: 'F09',
    config: COOKIES,
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, headers: CSRF_HEADER, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K05',
    title: 'PUT without CSRF',
    config: COOKIES,
    route: '/protected',
    request: { method: 'PUT', cookies: ACCESS_COOKIE, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K06',
    title: 'PATCH without CSRF',
    config: COOKIES,
    route: '/protected',
    request: { method: 'PATCH', cookies: ACCESS_COOKIE, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K07',
    title: 'DELETE without CSRF',
    config: COOKIES,
    route: '/protected',
    request: { method: 'DELETE', cookies: ACCESS_COOKIE, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K08',
    title: 'PUT with CSRF',
    config: COOKIES,
    route: '/protected',
    request: { method: 'PUT', cookies: ACCESS_COOKIE, headers: CSRF_HEADER, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K09',
    title: 'PATCH with CSRF',
    config: COOKIES,
    route: '/protected',
    request: { method: 'PATCH', cookies: ACCESS_COOKIE, headers: CSRF_HEADER, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K10',
    title: 'DELETE with CSRF',
    config: COOKIES,
    route: '/protected',
    request: { method: 'DELETE', cookies: ACCESS_COOKIE, headers: CSRF_HEADER, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K11',
    title: 'POST with a wrong CSRF value',
    pyCase: 'F11',
    config: COOKIES,
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, headers: { 'X-CSRF-TOKEN': 'wrong' }, token: {} },
    expect: csrfMismatch(),
  },
  {
    id: 'K12',
    title: 'CSRF header but the cookie token has no csrf claim',
    pyCase: 'F13',
    config: COOKIES,
    route: '/protected',
    request: {
      method: 'POST',
      cookies: ACCESS_COOKIE,
      headers: { 'X-CSRF-TOKEN': 'x' },
      token: { omit: ['csrf'] },
    },
    expect: invalid('Missing claim: csrf', 'claim_missing'),
  },
  {
    id: 'K13',
    title: 'CSRF in a form field is ignored without checkForm',
    pyCase: 'F14',
    config: COOKIES,
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, form: { csrf_token: '$csrf' }, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K14',
    title: 'CSRF in a form field with checkForm',
    config: { ...COOKIES, csrf: { checkForm: true } },
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, form: { csrf_token: '$csrf' }, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K15',
    title: 'wrong CSRF form field with checkForm',
    config: { ...COOKIES, csrf: { checkForm: true } },
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, form: { csrf_token: 'wrong' }, token: {} },
    expect: csrfMismatch(),
  },
  {
    id: 'K16',
    title: 'refresh cookie with the refresh CSRF value',
    pyCase: 'F15',
    config: COOKIES,
    route: '/refresh',
    request: { method: 'POST', cookies: REFRESH_COOKIE, headers: CSRF_HEADER, token: { kind: 'refresh' } },
    expect: ok({ identity: 'alice', location: 'cookies', claims: { type: 'refresh' } }),
  },
  {
    id: 'K17',
    title: 'refresh cookie with the access CSRF value',
    pyCase: 'F16',
    config: COOKIES,
    route: '/refresh',
    request: {
      method: 'POST',
      cookies: REFRESH_COOKIE,
      headers: { 'X-CSRF-TOKEN': '$access-csrf' },
      token: { kind: 'refresh' },
    },
    expect: csrfMismatch(),
  },
  {
    id: 'K18',
    title: 'expired cookie token with a wrong CSRF value: CSRF reported',
    pyCase: 'F92',
    config: COOKIES,
    route: '/protected',
    request: {
      method: 'POST',
      cookies: ACCESS_COOKIE,
      headers: { 'X-CSRF-TOKEN': 'wrong' },
      token: { claims: EXPIRED_CLAIMS },
    },
    expect: csrfMismatch(),
  },
  {
    id: 'K19',
    title: 'expired cookie token without CSRF: missing CSRF beats expiry',
    pyCase: 'F93',
    config: COOKIES,
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, token: { claims: EXPIRED_CLAIMS } },
    expect: csrfMissing(),
  },
  {
    id: 'K20',
    title: 'expired cookie token with the right CSRF value',
    config: COOKIES,
    route: '/protected',
    request: {
      method: 'POST',
      cookies: ACCESS_COOKIE,
      headers: CSRF_HEADER,
      token: { claims: EXPIRED_CLAIMS },
    },
    expect: expired(),
  },
  {
    id: 'K21',
    title: 'refresh cookie on GET needs no CSRF',
    config: COOKIES,
    route: '/refresh',
    request: { cookies: REFRESH_COOKIE, token: { kind: 'refresh' } },
    expect: ok({ identity: 'alice', location: 'cookies' }),
  },
  {
    id: 'K22',
    title: 'refresh cookie on POST without CSRF',
    config: COOKIES,
    route: '/refresh',
    request: { method: 'POST', cookies: REFRESH_COOKIE, token: { kind: 'refresh' } },
    expect: csrfMissing(),
  },
  {
    id: 'K23',
    title: 'CSRF protection off',
    config: { ...COOKIES, csrf: { protect: false } },
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K24',
    title: 'custom CSRF header name',
    config: { ...COOKIES, csrf: { accessHeaderName: 'X-XSRF-TOKEN' } },
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, headers: { 'X-XSRF-TOKEN': '$csrf' }, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K25',
    title: 'headers then cookies: a garbage header beats a valid cookie',
    pyCase: 'F45',
    config: HEADERS_COOKIES,
    route: '/protected',
    request: { headers: { Authorization: 'Bearer garbage' }, cookies: ACCESS_COOKIE, token: {} },
    expect: invalid('Not enough segments', 'token_malformed'),
  },
  {
    id: 'K26',
    title: 'headers then cookies: no header, cookie used',
    config: HEADERS_COOKIES,
    route: '/protected',
    request: { cookies: ACCESS_COOKIE, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K27',
    title: 'cookies then headers: missing CSRF is final, the valid header is not tried',
    config: { tokenLocation: ['cookies', 'headers'] },
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, headers: BEARER, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K28',
    title: 'headers and cookies, neither sent',
    config: HEADERS_COOKIES,
    route: '/protected',
    request: {},
    expect: missing(
      'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")',
    ),
  },
  {
    id: 'K29',
    title: 'route locations [headers] under a cookies config: header token accepted',
    config: COOKIES,
    route: '/headers-only',
    request: { headers: BEARER, token: {} },
    expect: alice('headers'),
  },
  {
    id: 'K30',
    title: 'route locations [headers]: a cookie is not read',
    config: HEADERS_COOKIES,
    route: '/headers-only',
    request: { cookies: ACCESS_COOKIE, token: {} },
    expect: missing('Missing Authorization Header'),
  },
  {
    id: 'K31',
    title: 'route locations [cookies]: a header token is not read',
    route: '/cookies-only',
    request: { headers: BEARER, token: {} },
    expect: missing('Missing cookie "access_token_cookie"'),
  },
  {
    id: 'K32',
    title: 'route locations [cookies] under a headers-only config: GET with a cookie',
    route: '/cookies-only',
    request: { cookies: ACCESS_COOKIE, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K33',
    title: 'route locations [cookies] under a headers-only config: POST without CSRF is a CSRF hole',
    route: '/cookies-only',
    request: { method: 'POST', cookies: ACCESS_COOKIE, token: {} },
    expect: {
      // Flask only protects cookies when "cookies" is in JWT_TOKEN_LOCATION; the
      // standard profile must not accept a cookie-borne token on POST unprotected.
      standard: csrfMissing().standard,
      'flask-jwt-extended': okStd({ identity: 'alice', location: 'cookies' }),
    },
  },
  {
    id: 'K34',
    title: 'custom CSRF methods: GET needs the double-submit value',
    config: { ...COOKIES, csrf: { methods: ['GET'] } },
    route: '/protected',
    request: { cookies: ACCESS_COOKIE, token: {} },
    expect: csrfMissing(),
  },
  {
    id: 'K35',
    title: 'custom CSRF methods: POST no longer needs it',
    config: { ...COOKIES, csrf: { methods: ['GET'] } },
    route: '/protected',
    request: { method: 'POST', cookies: ACCESS_COOKIE, token: {} },
    expect: alice('cookies'),
  },
  {
    id: 'K36',
    title: 'expired refresh cookie with the access CSRF value: CSRF reported',
    pyCase: 'F92',
    config: COOKIES,
    route: '/refresh',
    request: {
      method: 'POST',
      cookies: REFRESH_COOKIE,
      headers: { 'X-CSRF-TOKEN': '$access-csrf' },
      token: { kind: 'refresh', claims: EXPIRED_CLAIMS },
    },
    expect: csrfMismatch(),
  },
  {
    id: 'K37',
    title: 'CSRF form field on the refresh route with checkForm',
    config: { ...COOKIES, csrf: { checkForm: true } },
    route: '/refresh',
    request: {
      method: 'POST',
      cookies: REFRESH_COOKIE,
      form: { csrf_token: '$csrf' },
      token: { kind: 'refresh' },
    },
    expect: ok({ identity: 'alice', location: 'cookies' }),
  },
  {
    id: 'K38',
    title: 'the access cookie twice (cookie tossing): refused in standard, the first one in flask',
    config: COOKIES,
    route: '/protected',
    request: { headers: { cookie: 'access_token_cookie=$token; access_token_cookie=planted' }, token: {} },
    expect: {
      standard: standard(
        400,
        'Cookie "access_token_cookie" was sent more than once',
        'cookie_ambiguous',
        challenge('invalid_request', 'Cookie "access_token_cookie" was sent more than once'),
      ),
      // Werkzeug's request.cookies.get() takes the first of repeated cookies.
      'flask-jwt-extended': okStd({ identity: 'alice', location: 'cookies' }),
    },
  },
  {
    id: 'K39',
    title:
      'the refresh cookie twice, the planted one first: refused in standard, the planted one read in flask',
    config: COOKIES,
    route: '/refresh',
    request: {
      method: 'POST',
      headers: {
        cookie: 'refresh_token_cookie=planted; refresh_token_cookie=$token',
        'X-CSRF-TOKEN': '$csrf',
      },
      token: { kind: 'refresh' },
    },
    expect: {
      standard: standard(
        400,
        'Cookie "refresh_token_cookie" was sent more than once',
        'cookie_ambiguous',
        challenge('invalid_request', 'Cookie "refresh_token_cookie" was sent more than once'),
      ),
      'flask-jwt-extended': flask(422, 'Not enough segments'),
    },
  },
  {
    id: 'K40',
    title: 'another cookie whose name ends like the token cookie is no duplicate',
    config: COOKIES,
    route: '/protected',
    request: { headers: { cookie: 'x_access_token_cookie=other; access_token_cookie=$token' }, token: {} },
    expect: alice('cookies'),
  },

  // ---- query string ----------------------------------------------------------------
  {
    id: 'Q01',
    title: 'token in the query string',
    config: QUERY,
    route: '/protected',
    request: { query: { jwt: '$token' }, token: {} },
    expect: alice('query_string'),
  },
  {
    id: 'Q02',
    title: 'query parameter missing ("paramater" sic)',
    pyCase: 'F47',
    config: QUERY,
    route: '/protected',
    request: {},
    expect: missing("Missing 'jwt' query paramater"),
  },
  {
    id: 'Q03',
    title: 'query value with the configured prefix',
    config: { ...QUERY, queryStringValuePrefix: 'Bearer ' },
    route: '/protected',
    request: { query: { jwt: 'Bearer $token' }, token: {} },
    expect: alice('query_string'),
  },
  {
    id: 'Q04',
    title: 'query value without the configured prefix',
    config: { ...QUERY, queryStringValuePrefix: 'Bearer ' },
    route: '/protected',
    request: { query: { jwt: '$token' }, token: {} },
    expect: badRequest(
      "Invalid value for query parameter 'jwt'. Expected the value to start with 'Bearer '",
      'query_param_invalid',
    ),
  },
  {
    id: 'Q05',
    title: 'custom query parameter name',
    config: { ...QUERY, queryStringName: 'token' },
    route: '/protected',
    request: { query: { token: '$token', jwt: 'garbage' }, token: {} },
    expect: alice('query_string'),
  },

  // ---- JSON body ---------------------------------------------------------------------
  {
    id: 'J01',
    title: 'access token in the JSON body',
    config: JSON_LOC,
    route: '/protected',
    request: { method: 'POST', json: { access_token: '$token' }, token: {} },
    expect: alice('json'),
  },
  {
    id: 'J02',
    title: 'body is not JSON',
    pyCase: 'F48',
    config: JSON_LOC,
    route: '/protected',
    request: { method: 'POST', raw: { contentType: 'text/plain', body: 'access_token' }, token: {} },
    expect: missing('Invalid content-type. Must be application/json.'),
  },
  {
    id: 'J03',
    title: 'JSON body without the key',
    pyCase: 'F49',
    config: JSON_LOC,
    route: '/protected',
    request: { method: 'POST', json: { token: '$token' }, token: {} },
    expect: missing('Missing "access_token" key in json data.'),
  },
  {
    id: 'J04',
    title: 'JSON content type, unparsable body',
    pyCase: 'F50',
    config: JSON_LOC,
    route: '/protected',
    request: { method: 'POST', raw: { contentType: 'application/json', body: '{"access_token":' } },
    // Fastify's own parser refuses it before any hook runs; the app installs auth.errorHandler.
    expect: {
      standard: standard(
        400,
        'Request body is not valid JSON',
        'body_invalid',
        challenge('invalid_request', 'Request body is not valid JSON'),
      ),
      'flask-jwt-extended': missing('Missing "access_token" key in json data.')['flask-jwt-extended'],
    },
  },
  {
    id: 'J05',
    title: 'refresh token under refresh_token at the refresh route',
    config: JSON_LOC,
    route: '/refresh',
    request: { method: 'POST', json: { refresh_token: '$token' }, token: { kind: 'refresh' } },
    expect: ok({ identity: 'alice', location: 'json' }),
  },
  {
    id: 'J06',
    title: 'refresh route reads refresh_token, not access_token',
    config: JSON_LOC,
    route: '/refresh',
    request: { method: 'POST', json: { access_token: '$token' }, token: { kind: 'refresh' } },
    expect: missing('Missing "refresh_token" key in json data.'),
  },
  {
    id: 'J07',
    title: 'custom JSON key',
    config: { ...JSON_LOC, jsonKey: 'jwt' },
    route: '/protected',
    request: { method: 'POST', json: { jwt: '$token' }, token: {} },
    expect: alice('json'),
  },
  {
    id: 'J08',
    title: 'all four locations, no token anywhere',
    pyCase: 'F35',
    config: ALL,
    route: '/protected',
    request: {},
    expect: missing(
      'Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; ' +
        `Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; ` +
        'Invalid content-type. Must be application/json.)',
    ),
  },
  {
    id: 'J09',
    title: 'all four locations, token in the JSON body',
    config: ALL,
    route: '/protected',
    request: { method: 'POST', json: { access_token: '$token' }, token: {} },
    expect: alice('json'),
  },
  {
    id: 'J10',
    title: 'JSON body over the 1 MiB limit: 413 at once, in every adapter',
    config: JSON_LOC,
    route: '/protected',
    request: {
      method: 'POST',
      raw: {
        contentType: 'application/json',
        body: `{"access_token":"x","pad":"${'x'.repeat(1024 * 1024)}"}`,
      },
    },
    expect: {
      standard: {
        status: 413,
        body: stdBody('Request body is larger than 1048576 bytes', 'body_too_large'),
        headers: { 'content-type': JSON_TYPE, 'www-authenticate': null },
      },
      'flask-jwt-extended': { ...flask(413, 'Request body is larger than 1048576 bytes') },
    },
  },

  // ---- Set-Cookie ------------------------------------------------------------------------
  {
    id: 'S01',
    title: 'login sets access, CSRF, refresh and CSRF cookies, in order',
    pyCase: 'F07',
    config: HEADERS_COOKIES,
    route: '/login/cookies',
    request: { method: 'POST' },
    expect: {
      standard: okStd(LOGIN_BODY, STD_LOGIN),
      'flask-jwt-extended': okStd(LOGIN_BODY, FLASK_LOGIN),
    },
  },
  {
    id: 'S02',
    title: 'logout clears the four cookies',
    pyCase: 'F17',
    config: HEADERS_COOKIES,
    route: '/logout',
    request: { method: 'POST' },
    expect: {
      standard: okStd({ logout: true }, [
        `access_token_cookie=; ${EPOCH}; Secure; HttpOnly; Path=/; SameSite=Lax`,
        `csrf_access_token=; ${EPOCH}; Secure; Path=/; SameSite=Lax`,
        `refresh_token_cookie=; ${EPOCH}; Secure; HttpOnly; Path=/auth/refresh; SameSite=Lax`,
        `csrf_refresh_token=; ${EPOCH}; Secure; Path=/; SameSite=Lax`,
      ]),
      'flask-jwt-extended': okStd({ logout: true }, [
        `access_token_cookie=; ${EPOCH}; HttpOnly; Path=/`,
        `csrf_access_token=; ${EPOCH}; Path=/`,
        `refresh_token_cookie=; ${EPOCH}; HttpOnly; Path=/`,
        `csrf_refresh_token=; ${EPOCH}; Path=/`,
      ]),
    },
  },
  {
    id: 'S03',
    title: 'login without CSRF cookies (csrf.inCookies false)',
    config: { ...HEADERS_COOKIES, csrf: { inCookies: false } },
    route: '/login/cookies',
    request: { method: 'POST' },
    expect: {
      standard: okStd(LOGIN_BODY, [STD_LOGIN[0]!, STD_LOGIN[2]!]),
      'flask-jwt-extended': okStd(LOGIN_BODY, [FLASK_LOGIN[0]!, FLASK_LOGIN[2]!]),
    },
  },
  {
    id: 'S04',
    title: 'persistent cookies (session false)',
    config: { ...HEADERS_COOKIES, cookies: { session: false } },
    route: '/login/cookies',
    request: { method: 'POST' },
    expect: {
      standard: okStd(LOGIN_BODY, [
        'access_token_cookie=<jwt>; Expires=<date>; Max-Age=900; Secure; HttpOnly; Path=/; SameSite=Lax',
        'csrf_access_token=<uuid>; Expires=<date>; Max-Age=900; Secure; Path=/; SameSite=Lax',
        'refresh_token_cookie=<jwt>; Expires=<date>; Max-Age=2592000; Secure; HttpOnly; Path=/auth/refresh; SameSite=Lax',
        'csrf_refresh_token=<uuid>; Expires=<date>; Max-Age=2592000; Secure; Path=/; SameSite=Lax',
      ]),
      'flask-jwt-extended': okStd(LOGIN_BODY, [
        'access_token_cookie=<jwt>; Expires=<date>; Max-Age=31540000; HttpOnly; Path=/',
        'csrf_access_token=<uuid>; Expires=<date>; Max-Age=31540000; Path=/',
        'refresh_token_cookie=<jwt>; Expires=<date>; Max-Age=31540000; HttpOnly; Path=/',
        'csrf_refresh_token=<uuid>; Expires=<date>; Max-Age=31540000; Path=/',
      ]),
    },
  },
  {
    id: 'S05',
    title: '__Host- prefixed cookies',
    config: { ...HEADERS_COOKIES, cookies: { hostPrefix: true } },
    route: '/login/cookies',
    request: { method: 'POST' },
    expect: {
      standard: okStd(
        LOGIN_BODY,
        // __Host- cookies must have Path=/: the refresh cookie leaves its /auth/refresh default.
        STD_LOGIN.map((line) => `__Host-${line.replace('Path=/auth/refresh', 'Path=/')}`),
      ),
      'flask-jwt-extended': okStd(LOGIN_BODY, [
        '__Host-access_token_cookie=<jwt>; Secure; HttpOnly; Path=/',
        '__Host-csrf_access_token=<uuid>; Secure; Path=/',
        '__Host-refresh_token_cookie=<jwt>; Secure; HttpOnly; Path=/',
        '__Host-csrf_refresh_token=<uuid>; Secure; Path=/',
      ]),
    },
  },
  {
    id: 'S06',
    title: 'cookie domain, Secure and SameSite=Strict',
    config: { ...HEADERS_COOKIES, cookies: { domain: 'example.test', secure: true, sameSite: 'Strict' } },
    route: '/login/cookies',
    request: { method: 'POST' },
    expect: (() => {
      const lines = [
        'access_token_cookie=<jwt>; Domain=example.test; Secure; HttpOnly; Path=/; SameSite=Strict',
        'csrf_access_token=<uuid>; Domain=example.test; Secure; Path=/; SameSite=Strict',
        'refresh_token_cookie=<jwt>; Domain=example.test; Secure; HttpOnly; Path=/auth/refresh; SameSite=Strict',
        'csrf_refresh_token=<uuid>; Domain=example.test; Secure; Path=/; SameSite=Strict',
      ];
      const flaskLines = lines.map((line) => line.replace('Path=/auth/refresh', 'Path=/'));
      return { standard: okStd(LOGIN_BODY, lines), 'flask-jwt-extended': okStd(LOGIN_BODY, flaskLines) };
    })(),
  },
  {
    id: 'S07',
    title: 'implicit refresh: a cookie expiring within the window is re-issued',
    config: { ...COOKIES, cookies: { implicitRefresh: 300 } },
    route: '/protected',
    request: { cookies: ACCESS_COOKIE, token: { expiresIn: 60 } },
    expect: {
      standard: okStd({ identity: 'alice', location: 'cookies' }, [STD_LOGIN[0]!, STD_LOGIN[1]!]),
      'flask-jwt-extended': okStd({ identity: 'alice', location: 'cookies' }, [
        FLASK_LOGIN[0]!,
        FLASK_LOGIN[1]!,
      ]),
    },
  },
  {
    id: 'S08',
    title: 'implicit refresh: a cookie far from expiry is left alone',
    config: { ...COOKIES, cookies: { implicitRefresh: 300 } },
    route: '/protected',
    request: { cookies: ACCESS_COOKIE, token: { expiresIn: 3600 } },
    expect: alice('cookies'),
  },
  {
    id: 'S09',
    title: 'implicit refresh applies to cookies only, not to header tokens',
    config: { ...HEADERS_COOKIES, cookies: { implicitRefresh: 300 } },
    route: '/protected',
    request: { headers: BEARER, token: { expiresIn: 60 } },
    expect: alice('headers'),
  },
  {
    id: 'S10',
    title: 'implicit refresh keeps custom claims',
    config: { ...COOKIES, cookies: { implicitRefresh: 300 } },
    route: '/protected',
    request: { cookies: ACCESS_COOKIE, token: { expiresIn: 60, claims: { role: 'admin' } } },
    expect: {
      standard: {
        ...okStd({ identity: 'alice', claims: { role: 'admin' } }, [STD_LOGIN[0]!, STD_LOGIN[1]!]),
        cookieClaims: { sub: 'alice', role: 'admin', type: 'access', exp: '@now+900' },
      },
      'flask-jwt-extended': {
        ...okStd({ identity: 'alice', claims: { role: 'admin' } }, [FLASK_LOGIN[0]!, FLASK_LOGIN[1]!]),
        cookieClaims: { sub: 'alice', role: 'admin', type: 'access', exp: '@now+900' },
      },
    },
  },
];
