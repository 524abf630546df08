/**
 * Two-way compatibility with the REAL Flask-JWT-Extended 4.4.4 (docs/reference/python-peers.md
 * section 3), through the peer app in ./peers/flask_peer.py:
 *
 * 1. tokens Flask mints verify in Tessera with the same identity and claims;
 * 2. tokens Tessera mints (flask-jwt-extended profile) pass Flask's protected
 *    routes, in headers and in cookies with the CSRF double submit, and are laid
 *    out like Flask's own (payload key order, header bytes, Set-Cookie lines);
 * 3. a Tessera app on Express configured like the Flask peer answers the same
 *    request with the same status and the same body bytes (a table of cases);
 * 4. RS256 and ES256 tokens cross the boundary both ways.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressAuth } from '../../src/adapters/express.js';
import { setAccessCookies, setRefreshCookies } from '../../src/http/cookies.js';
import type { TokenManagerOptions } from '../../src/manager/options.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import {
  callPeer,
  type FlaskJwtConfig,
  generatePemKeyPair,
  type JsonValue,
  PEER_HS_SECRET,
  type PythonPeer,
  startFlaskPeer,
} from './peers.js';
import {
  bearer,
  bodyObject,
  type Claims,
  cookieHeader,
  cookieValue,
  field,
  forge,
  gatePeers,
  type Listening,
  listen,
  nowSeconds,
  parseSetCookie,
  part,
  partText,
  payloadKeys,
  peers,
  pyJsonify,
  stopAll,
  tamperSignature,
} from './support.js';

gatePeers('Flask-JWT-Extended interop');

const ALICE = { username: 'alice', password: 'alice-password' };
const HS256_HEADER = '{"alg":"HS256","typ":"JWT"}';
const HEADERS_AND_COOKIES: FlaskJwtConfig = { JWT_TOKEN_LOCATION: ['headers', 'cookies'] };
const AUD_ISS: FlaskJwtConfig = {
  JWT_ENCODE_AUDIENCE: 'peer-aud',
  JWT_DECODE_AUDIENCE: 'peer-aud',
  JWT_ENCODE_ISSUER: 'peer-iss',
  JWT_DECODE_ISSUER: 'peer-iss',
};

// ---------------------------------------------------------------------------------------
// A Tessera app configured like the Flask peer (same secret, locations, CSRF, callbacks).

/** What the user lookup returns (the Flask peer returns `{"username": identity}`). */
interface FlaskUser {
  readonly username: unknown;
}

/** The Flask peer's user table, as far as tokens are concerned. */
const FLASK_USERS = new Map<string, { active: boolean; claims: Claims }>([
  ['alice', { active: true, claims: { role: 'admin' } }],
  ['bob', { active: true, claims: {} }],
  ['mallory', { active: false, claims: {} }],
]);

/** The Flask peer's loaders, as Tessera callbacks. */
function flaskLikeOptions(
  blocklist: ReadonlySet<string>,
  extra: Partial<TokenManagerOptions<FlaskUser>> = {},
): TokenManagerOptions<FlaskUser> {
  return {
    profile: 'flask-jwt-extended',
    secret: PEER_HS_SECRET,
    ...extra,
    callbacks: {
      additionalClaims: (identity) =>
        typeof identity === 'string' ? { ...FLASK_USERS.get(identity)?.claims } : {},
      tokenInBlocklist: (_header, payload) => typeof payload.jti === 'string' && blocklist.has(payload.jti),
      tokenVerification: (_header, payload) => payload.deny !== true,
      userLookup: (_header, payload) => {
        const identity = payload.sub;
        if (identity === 'ghost') return null;
        const user = typeof identity === 'string' ? FLASK_USERS.get(identity) : undefined;
        if (user !== undefined) return user.active ? { username: identity } : null;
        return { username: identity };
      },
    },
  };
}

/** The Tessera twin of a Flask peer. */
interface Twin extends Listening {
  readonly manager: TokenManager<FlaskUser>;
  readonly blocklist: Set<string>;
}

/** Serves the Flask peer's routes with Tessera on Express, answering with `jsonify` bytes. */
async function startTwin(extra: Partial<TokenManagerOptions<FlaskUser>>): Promise<Twin> {
  const blocklist = new Set<string>();
  const manager = new TokenManager<FlaskUser>(flaskLikeOptions(blocklist, extra));
  const auth = createExpressAuth(manager);
  const app = express();
  const jsonify = (res: express.Response, body: unknown) => {
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json');
    res.end(pyJsonify(body));
  };
  const whoami = (req: express.Request, res: express.Response) => {
    const jwt = auth.getJwt(req);
    jsonify(res, { logged_in_as: jwt?.identity ?? null, claims: jwt?.payload ?? {} });
  };
  app.get('/protected', auth.jwtRequired(), whoami);
  app.post('/protected', auth.jwtRequired(), whoami);
  app.get('/optional', auth.jwtRequired({ optional: true }), whoami);
  app.post('/fresh', auth.jwtRequired({ fresh: true }), whoami);
  app.post('/refresh', auth.jwtRequired({ refresh: true }), async (req, res) => {
    const identity = auth.getJwtIdentity(req);
    jsonify(res, { access_token: await manager.createAccessToken({ identity, fresh: false }) });
  });
  const running = await listen(createServer(app));
  return { ...running, manager, blocklist };
}

async function mint(flask: PythonPeer, body: Record<string, JsonValue>): Promise<string> {
  const res = await callPeer(`${flask.url}/mint`, { json: body });
  expect(res.status, res.text).toBe(200);
  return field(res.body, 'token');
}

async function login(flask: PythonPeer): Promise<{ access: string; refresh: string }> {
  const res = await callPeer(`${flask.url}/login`, { json: ALICE });
  expect(res.status, res.text).toBe(200);
  return { access: field(res.body, 'access_token'), refresh: field(res.body, 'refresh_token') };
}

/** A Flask-shaped payload valid for 10 minutes; `undefined` members are dropped. */
function flaskPayload(overrides: Record<string, unknown> = {}): Claims {
  const now = nowSeconds();
  const payload: Claims = {
    fresh: false,
    iat: now,
    jti: randomUUID(),
    type: 'access',
    sub: 'bob',
    nbf: now,
    exp: now + 600,
    ...overrides,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return payload;
}

/** An HS256 token over the shared secret. */
function hs(
  payload: Claims | JsonValue[] | string,
  header: Claims | string = { alg: 'HS256', typ: 'JWT' },
): string {
  return forge(header, payload, { secret: PEER_HS_SECRET });
}

// ---------------------------------------------------------------------------------------
// The comparison table.

interface Kit {
  readonly flask: PythonPeer;
  readonly twin: Twin;
}

interface FlaskCase {
  readonly name: string;
  readonly method?: 'GET' | 'POST';
  readonly path?: string;
  /** Flask's status, pinned so that a row cannot pass with both sides equally broken. */
  readonly status: number;
  /** The request headers (tokens are built per run: they expire). */
  readonly headers: (kit: Kit) => Record<string, string> | Promise<Record<string, string>>;
  /** Flask crashes (500): Tessera must answer a 4xx instead. */
  readonly flaskCrashes?: true;
  /**
   * Tessera is deliberately stricter about the token's encoding: same status and
   * content type, but its message names the real problem (the reason is given here).
   */
  readonly stricterEncoding?: string;
  /**
   * A `crit` case: PyJWT checks `crit` only with Debian's CVE-2026-32597 patch
   * (2.6.0-1+deb12u1, docs/reference/python-peers.md 1). With the patch both sides must agree;
   * without it Flask accepts the token and Tessera must refuse it with this message.
   */
  readonly critMessage?: string;
}

let critWarned = false;

async function compareFlask(kit: Kit, row: FlaskCase): Promise<void> {
  const headers = await row.headers(kit);
  const request = { method: row.method ?? 'GET', headers };
  const path = row.path ?? '/protected';
  const [theirs, ours] = await Promise.all([
    callPeer(`${kit.flask.url}${path}`, request),
    callPeer(`${kit.twin.url}${path}`, request),
  ]);
  if (row.critMessage !== undefined && theirs.status === 200) {
    if (!critWarned) {
      critWarned = true;
      console.warn(
        '[interop] the installed PyJWT ignores `crit` (python3-jwt without the deb12u1 patch); ' +
          'crit rows check that Tessera refuses those tokens with the patched wording',
      );
    }
    expect([ours.status, ours.text]).toEqual([422, `${JSON.stringify({ msg: row.critMessage })}\n`]);
    return;
  }
  expect(theirs.status, `Flask answered ${theirs.status}: ${theirs.text.slice(0, 300)}`).toBe(row.status);
  if (row.stricterEncoding !== undefined) {
    expect(ours.status, ours.text).toBe(theirs.status);
    expect(ours.headers.get('content-type')).toBe(theirs.headers.get('content-type'));
    return;
  }
  if (row.flaskCrashes) {
    expect(ours.status, ours.text).toBeGreaterThanOrEqual(400);
    expect(ours.status, ours.text).toBeLessThan(500);
    return;
  }
  expect(
    { status: ours.status, body: ours.text },
    `Flask ${theirs.status} ${JSON.stringify(theirs.text)} | Tessera ${ours.status} ${JSON.stringify(ours.text)}`,
  ).toEqual({ status: theirs.status, body: theirs.text });
  expect(ours.headers.get('content-type')).toBe(theirs.headers.get('content-type'));
  expect(ours.headers.get('www-authenticate')).toBe(theirs.headers.get('www-authenticate'));
}

const cookieOf = async (kit: Kit, token: string) => {
  const lines = setAccessCookies(kit.twin.manager.config, token);
  return { cookie: cookieHeader(lines), csrf: cookieValue(lines, 'csrf_access_token') };
};

const tesseraAccess = (kit: Kit, identity: unknown = 'bob', fresh = false) =>
  kit.twin.manager.createAccessToken({ identity, fresh });

async function revokedAccess(kit: Kit, fresh: boolean): Promise<string> {
  const token = await tesseraAccess(kit, 'bob', fresh);
  const jti = String(part(token, 1).jti);
  const res = await callPeer(`${kit.flask.url}/revoke`, { json: { jti } });
  expect(res.status).toBe(200);
  kit.twin.blocklist.add(jti);
  return token;
}

const expiredPast = () => nowSeconds() - 60;
const future = () => nowSeconds() + 3600;

const FLASK_CASES: readonly FlaskCase[] = [
  // Accepted tokens: same claims, same jsonify bytes.
  {
    name: 'valid Tessera access token',
    status: 200,
    headers: async (k) => bearer(await tesseraAccess(k, 'alice')),
  },
  {
    name: 'valid Flask access token (/login)',
    status: 200,
    headers: async (k) => bearer((await login(k.flask)).access),
  },
  { name: 'numeric identity', status: 200, headers: () => bearer(hs(flaskPayload({ sub: 42 }))) },
  {
    name: 'object identity (nested keys sorted by jsonify)',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ sub: { z: 1, id: 7, a: { y: 2, b: [3] } } }))),
  },
  {
    name: 'null identity is present (only absence is refused)',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ sub: null }))),
  },
  { name: 'no exp (F68)', status: 200, headers: () => bearer(hs(flaskPayload({ exp: undefined }))) },
  {
    name: 'unknown type counts as access (F74)',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ type: 'foo' }))),
  },
  {
    name: 'aud while no audience is configured (F76)',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ aud: 'x' }))),
  },
  {
    name: 'exp as an integer string (int())',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ exp: String(future()) }))),
  },
  {
    name: 'fractional exp (int() truncates)',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ exp: future() + 0.5 }))),
  },
  {
    name: 'non-ASCII claim (jsonify escapes it)',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ name: 'Zoë → 東京' }))),
  },
  {
    name: 'kid header no key declares (PyJWT ignores kid with one key)',
    status: 200,
    headers: () => bearer(hs(flaskPayload(), { alg: 'HS256', kid: 'key-2024', typ: 'JWT' })),
  },
  {
    name: 'minimal token {"sub"} (F70): claims get type/fresh/jti defaults',
    status: 200,
    headers: () => bearer(hs({ sub: 'bob' })),
  },
  // Missing or malformed credentials.
  {
    name: 'no token at all',
    status: 401,
    headers: () => ({}),
  },
  { name: 'empty Authorization header', status: 401, headers: () => ({ authorization: '' }) },
  { name: 'Authorization of commas only', status: 401, headers: () => ({ authorization: ',,,' }) },
  { name: '`Bearer` alone (F39)', status: 422, headers: () => ({ authorization: 'Bearer' }) },
  { name: '`Bearer a b` (F40)', status: 422, headers: () => ({ authorization: 'Bearer a b' }) },
  {
    name: 'lowercase `bearer` (F38)',
    status: 401,
    headers: () => ({ authorization: `bearer ${hs(flaskPayload())}` }),
  },
  { name: 'other scheme (F37)', status: 401, headers: () => ({ authorization: 'Basic YWxpY2U6cHc=' }) },
  {
    name: 'Basic then Bearer in one header (F41)',
    status: 200,
    headers: () => ({ authorization: `Basic YWxpY2U6cHc=, Bearer ${hs(flaskPayload())}` }),
  },
  {
    name: 'two Bearer credentials (F42)',
    status: 401,
    headers: () => ({ authorization: `Bearer ${hs(flaskPayload())}, Bearer ${hs(flaskPayload())}` }),
  },
  {
    name: 'spaces after Bearer (F43)',
    status: 200,
    headers: () => ({ authorization: `Bearer    ${hs(flaskPayload())}` }),
  },
  {
    name: '`Bearer x, , y` crashes Flask (F44); Tessera answers 4xx',
    status: 500,
    flaskCrashes: true,
    headers: () => ({ authorization: 'Bearer x, , y' }),
  },
  { name: "'garbage' (F52)", status: 422, headers: () => bearer('garbage') },
  { name: "'a.b.c' (F53)", status: 422, headers: () => bearer('a.b.c') },
  { name: 'header not JSON (F54)', status: 422, headers: () => bearer(hs(flaskPayload(), '<header/>')) },
  {
    name: 'header not JSON but starting like a JSON literal (`nope`)',
    status: 422,
    headers: () => bearer(hs(flaskPayload(), 'nope')),
  },
  { name: 'header JSON but not an object', status: 422, headers: () => bearer(hs(flaskPayload(), '[1,2]')) },
  { name: 'payload not JSON, signed (F55)', status: 422, headers: () => bearer(hs('<payload/>')) },
  { name: 'payload a JSON array (F56)', status: 422, headers: () => bearer(hs([1, 2])) },
  {
    name: 'signature with characters outside base64url',
    stricterEncoding:
      'PyJWT drops non-alphabet characters before decoding (then the signature fails); Tessera refuses the encoding',
    status: 422,
    headers: () => bearer(`${hs(flaskPayload()).slice(0, -4)}!!!!`),
  },
  // Signature and algorithm.
  { name: 'bad signature (F57)', status: 422, headers: () => bearer(tamperSignature(hs(flaskPayload()))) },
  {
    name: 'alg none (F60)',
    status: 422,
    headers: () => bearer(forge({ alg: 'none', typ: 'JWT' }, flaskPayload(), { signature: '' })),
  },
  {
    name: 'HS512 with the shared secret (F59)',
    status: 422,
    headers: () => bearer(hs(flaskPayload(), { alg: 'HS512', typ: 'JWT' })),
  },
  {
    name: 'RS256 header at an HMAC service (F61)',
    status: 422,
    headers: () => bearer(forge({ alg: 'RS256', typ: 'JWT' }, flaskPayload(), { signature: 'c2lnbmF0dXJl' })),
  },
  { name: 'no alg in the header', status: 422, headers: () => bearer(hs(flaskPayload(), { typ: 'JWT' })) },
  // Time claims.
  { name: 'expired (F63)', status: 401, headers: () => bearer(hs(flaskPayload({ exp: expiredPast() }))) },
  {
    name: 'expired and bad signature (F62)',
    status: 422,
    headers: () => bearer(tamperSignature(hs(flaskPayload({ exp: expiredPast() })))),
  },
  {
    name: 'nbf in the future (F65)',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ nbf: future() }))),
  },
  {
    name: 'expired token without sub: the re-decode with allow_expired reports the missing identity',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ sub: undefined, exp: expiredPast() }))),
  },
  {
    name: 'iat in the future (F66)',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ iat: future() }))),
  },
  { name: 'exp not an integer (F67)', status: 422, headers: () => bearer(hs(flaskPayload({ exp: 'soon' }))) },
  {
    name: 'exp null crashes Flask (PyJWT catches only ValueError); Tessera answers 4xx',
    status: 500,
    flaskCrashes: true,
    headers: () => bearer(hs(flaskPayload({ exp: null }))),
  },
  {
    name: 'exp true (int(True) = 1: long expired)',
    status: 401,
    headers: () => bearer(hs(flaskPayload({ exp: true }))),
  },
  { name: 'iat not an integer (F88)', status: 422, headers: () => bearer(hs(flaskPayload({ iat: 'then' }))) },
  {
    name: 'nbf not an integer (F89)',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ nbf: 'later' }))),
  },
  {
    name: 'iat null crashes Flask (PyJWT TypeError); Tessera answers 4xx',
    status: 500,
    flaskCrashes: true,
    headers: () => bearer(hs(flaskPayload({ iat: null }))),
  },
  // Header parameters.
  {
    name: 'kid not a string (F77)',
    status: 422,
    headers: () => bearer(hs(flaskPayload(), { alg: 'HS256', kid: 7, typ: 'JWT' })),
  },
  {
    name: 'crit with an unsupported extension (F91)',
    status: 422,
    critMessage: 'Unsupported critical extension: foo',
    headers: () => bearer(hs(flaskPayload(), { alg: 'HS256', crit: ['foo'], foo: 1, typ: 'JWT' })),
  },
  {
    name: 'crit empty list',
    status: 422,
    critMessage: "Invalid 'crit' header: must be a non-empty list",
    headers: () => bearer(hs(flaskPayload(), { alg: 'HS256', crit: [], typ: 'JWT' })),
  },
  {
    name: 'crit with a non-string value',
    status: 422,
    critMessage: "Invalid 'crit' header: values must be strings",
    headers: () => bearer(hs(flaskPayload(), { alg: 'HS256', crit: [1], typ: 'JWT' })),
  },
  // Identity and type.
  {
    name: 'missing sub: a SimpleJWT-shaped token (F69)',
    status: 422,
    headers: () =>
      bearer(
        hs({
          token_type: 'access',
          exp: future(),
          iat: nowSeconds(),
          jti: randomUUID().replaceAll('-', ''),
          user_id: 1,
        }),
      ),
  },
  {
    name: 'refresh token at an access route (F29)',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ type: 'refresh' }))),
  },
  {
    name: 'access token at the refresh route (F30)',
    method: 'POST',
    path: '/refresh',
    status: 422,
    headers: async (k) => bearer(await tesseraAccess(k)),
  },
  {
    name: 'unknown type at the refresh route (F75)',
    method: 'POST',
    path: '/refresh',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ type: 'foo' }))),
  },
  {
    name: 'expired refresh token at an access route: expiry first (F94)',
    status: 401,
    headers: () => bearer(hs(flaskPayload({ type: 'refresh', exp: expiredPast() }))),
  },
  // Freshness and revocation.
  {
    name: 'revoked access token (F32)',
    status: 401,
    headers: async (k) => bearer(await revokedAccess(k, true)),
  },
  {
    name: 'revoked refresh token at the refresh route (F34)',
    method: 'POST',
    path: '/refresh',
    status: 401,
    headers: async (k) => {
      const token = await k.twin.manager.createRefreshToken({ identity: 'bob' });
      const jti = String(part(token, 1).jti);
      await callPeer(`${k.flask.url}/revoke`, { json: { jti } });
      k.twin.blocklist.add(jti);
      return bearer(token);
    },
  },
  {
    name: 'fresh token required (F24)',
    method: 'POST',
    path: '/fresh',
    status: 401,
    headers: async (k) => bearer(await tesseraAccess(k)),
  },
  {
    name: 'fresh timestamp in the past (F25)',
    method: 'POST',
    path: '/fresh',
    status: 401,
    headers: () => bearer(hs(flaskPayload({ fresh: nowSeconds() - 5 }))),
  },
  {
    name: 'fresh timestamp in the future',
    method: 'POST',
    path: '/fresh',
    status: 200,
    headers: () => bearer(hs(flaskPayload({ fresh: future() }))),
  },
  {
    name: 'fresh token',
    method: 'POST',
    path: '/fresh',
    status: 200,
    headers: async (k) => bearer(await tesseraAccess(k, 'bob', true)),
  },
  {
    name: 'revoked non-fresh token at /fresh: freshness first (F95)',
    method: 'POST',
    path: '/fresh',
    status: 401,
    headers: async (k) => bearer(await revokedAccess(k, false)),
  },
  // Callbacks.
  {
    name: 'user lookup failure: ghost (F71)',
    status: 401,
    headers: () => bearer(hs(flaskPayload({ sub: 'ghost' }))),
  },
  {
    name: 'user lookup failure: inactive mallory',
    status: 401,
    headers: () => bearer(hs(flaskPayload({ sub: 'mallory' }))),
  },
  {
    name: 'claims verification failure (F73)',
    status: 400,
    headers: () => bearer(hs(flaskPayload({ deny: true }))),
  },
  {
    name: 'deny on a refresh token at an access route: type first (F96)',
    status: 422,
    headers: () => bearer(hs(flaskPayload({ type: 'refresh', deny: true }))),
  },
  {
    name: 'deny for ghost: claims verification before user lookup (F97)',
    status: 400,
    headers: () => bearer(hs(flaskPayload({ sub: 'ghost', deny: true }))),
  },
  // Cookies and CSRF.
  {
    name: 'cookie token on GET needs no CSRF (F08)',
    status: 200,
    headers: async (k) => ({ cookie: (await cookieOf(k, await tesseraAccess(k))).cookie }),
  },
  {
    name: 'cookie token on POST without CSRF (F10)',
    method: 'POST',
    status: 401,
    headers: async (k) => ({ cookie: (await cookieOf(k, await tesseraAccess(k))).cookie }),
  },
  {
    name: 'cookie token on POST with a wrong CSRF value (F11)',
    method: 'POST',
    status: 401,
    headers: async (k) => ({
      cookie: (await cookieOf(k, await tesseraAccess(k))).cookie,
      'x-csrf-token': 'nope',
    }),
  },
  {
    name: 'cookie token on POST with the CSRF value (F09)',
    method: 'POST',
    status: 200,
    headers: async (k) => {
      const { cookie, csrf } = await cookieOf(k, await tesseraAccess(k));
      return { cookie, 'x-csrf-token': csrf };
    },
  },
  {
    name: 'cookie token without a csrf claim, CSRF header sent (F13)',
    method: 'POST',
    status: 422,
    headers: () => ({ cookie: `access_token_cookie=${hs(flaskPayload())}`, 'x-csrf-token': 'abc' }),
  },
  {
    name: 'expired cookie token without CSRF: CSRF first (F93)',
    method: 'POST',
    status: 401,
    headers: () => ({
      cookie: `access_token_cookie=${hs(flaskPayload({ csrf: 'c1', exp: expiredPast() }))}`,
    }),
  },
  {
    name: 'expired cookie token with a wrong CSRF value: mismatch beats expiry (F92)',
    method: 'POST',
    status: 401,
    headers: () => ({
      cookie: `access_token_cookie=${hs(flaskPayload({ csrf: 'c1', exp: expiredPast() }))}`,
      'x-csrf-token': 'c2',
    }),
  },
  {
    name: 'expired cookie token with the right CSRF value',
    method: 'POST',
    status: 401,
    headers: () => ({
      cookie: `access_token_cookie=${hs(flaskPayload({ csrf: 'c1', exp: expiredPast() }))}`,
      'x-csrf-token': 'c1',
    }),
  },
  {
    name: 'bad Authorization header beats a valid cookie (F45)',
    status: 422,
    headers: async (k) => ({
      authorization: 'Bearer a b',
      cookie: (await cookieOf(k, await tesseraAccess(k))).cookie,
    }),
  },
  {
    name: 'other scheme falls through to a valid cookie',
    status: 200,
    headers: async (k) => ({
      authorization: 'Basic eHl6',
      cookie: (await cookieOf(k, await tesseraAccess(k))).cookie,
    }),
  },
  {
    name: 'refresh cookie at /refresh with the access CSRF value (F16)',
    method: 'POST',
    path: '/refresh',
    status: 401,
    headers: async (k) => {
      const pair = await k.twin.manager.createTokenPair({ identity: 'bob' });
      const lines = [
        ...setAccessCookies(k.twin.manager.config, pair.accessToken),
        ...setRefreshCookies(k.twin.manager.config, pair.refreshToken),
      ];
      return { cookie: cookieHeader(lines), 'x-csrf-token': cookieValue(lines, 'csrf_access_token') };
    },
  },
  // Optional routes.
  { name: 'optional route without a token', path: '/optional', status: 200, headers: () => ({}) },
  {
    name: 'optional route with a garbage token (F20)',
    path: '/optional',
    status: 422,
    headers: () => bearer('garbage'),
  },
  {
    name: 'optional route with an expired token',
    path: '/optional',
    status: 401,
    headers: () => bearer(hs(flaskPayload({ exp: expiredPast() }))),
  },
];

/** Headers-only peers with JWT_DECODE_AUDIENCE / JWT_DECODE_ISSUER set. */
const withAudIss = (overrides: Record<string, unknown>) =>
  flaskPayload({ aud: 'peer-aud', iss: 'peer-iss', ...overrides });

const AUD_ISS_CASES: readonly FlaskCase[] = [
  { name: 'matching aud and iss', status: 200, headers: () => bearer(hs(withAudIss({}))) },
  {
    name: 'Tessera token (aud/iss from config)',
    status: 200,
    headers: async (k) => bearer(await tesseraAccess(k)),
  },
  {
    name: 'aud list containing the audience (AF05)',
    status: 200,
    headers: () => bearer(hs(withAudIss({ aud: ['x', 'peer-aud'] }))),
  },
  { name: 'aud missing (AF03)', status: 422, headers: () => bearer(hs(withAudIss({ aud: undefined }))) },
  { name: 'aud mismatch (AF04)', status: 422, headers: () => bearer(hs(withAudIss({ aud: 'other' }))) },
  {
    name: 'aud list without the audience',
    status: 422,
    headers: () => bearer(hs(withAudIss({ aud: ['x', 'y'] }))),
  },
  { name: 'aud a number (AF09)', status: 422, headers: () => bearer(hs(withAudIss({ aud: 5 }))) },
  {
    name: 'aud list with a non-string',
    status: 422,
    headers: () => bearer(hs(withAudIss({ aud: ['peer-aud', 5] }))),
  },
  { name: 'iss missing (AF06)', status: 422, headers: () => bearer(hs(withAudIss({ iss: undefined }))) },
  { name: 'iss mismatch (AF07)', status: 422, headers: () => bearer(hs(withAudIss({ iss: 'other' }))) },
  { name: 'iss a number', status: 422, headers: () => bearer(hs(withAudIss({ iss: 5 }))) },
  {
    name: 'iss and aud both wrong: issuer first (AF08)',
    status: 422,
    headers: () => bearer(hs(withAudIss({ iss: 'x', aud: 'y' }))),
  },
  {
    name: 'expired with a wrong aud: the re-decode with allow_expired reports the audience',
    status: 422,
    headers: () => bearer(hs(withAudIss({ aud: 'y', exp: expiredPast() }))),
  },
  {
    name: 'expired with a wrong iss: the re-decode with allow_expired reports the issuer',
    status: 422,
    headers: () => bearer(hs(withAudIss({ iss: 'x', exp: expiredPast() }))),
  },
  {
    name: 'expired with matching aud and iss',
    status: 401,
    headers: () => bearer(hs(withAudIss({ exp: expiredPast() }))),
  },
];

// ---------------------------------------------------------------------------------------

describe.skipIf(!peers.ok)('Flask-JWT-Extended ⇄ Tessera, HS256, headers + cookies', () => {
  let flask: PythonPeer;
  let twin: Twin;
  beforeAll(async () => {
    [flask, twin] = await Promise.all([
      startFlaskPeer({ config: HEADERS_AND_COOKIES }),
      startTwin({ tokenLocation: ['headers', 'cookies'] }),
    ]);
  });
  afterAll(() => stopAll(flask, twin));

  describe('1. Flask-minted tokens verify in Tessera', () => {
    it('fresh access token from /login: same identity and claims, passes a fresh requirement', async () => {
      const { access } = await login(flask);
      const verified = await twin.manager.verifyToken(access, { fresh: true });
      expect(verified.identity).toBe('alice');
      expect(verified.payload).toEqual(part(access, 1));
      expect(verified.payload).toMatchObject({ fresh: true, type: 'access', role: 'admin' });
      expect(verified.header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(verified.user).toEqual({ username: 'alice' });
    });

    it('non-fresh access token: accepted, refused where freshness is required', async () => {
      const token = await mint(flask, { identity: 'bob', fresh: false });
      const verified = await twin.manager.verifyToken(token);
      expect(verified.identity).toBe('bob');
      expect(verified.payload.fresh).toBe(false);
      await expect(twin.manager.verifyToken(token, { fresh: true })).rejects.toMatchObject({
        code: 'fresh_token_required',
        message: 'Fresh token required',
      });
    });

    it('fresh as a timestamp (fresh=timedelta): fresh while in the future, not once past (Q7)', async () => {
      const future = await mint(flask, { identity: 'bob', fresh: 300 });
      expect(typeof part(future, 1).fresh).toBe('number');
      await expect(twin.manager.verifyToken(future, { fresh: true })).resolves.toMatchObject({
        identity: 'bob',
      });
      const past = await mint(flask, { identity: 'bob', fresh: -30 });
      await expect(twin.manager.verifyToken(past, { fresh: true })).rejects.toMatchObject({
        code: 'fresh_token_required',
      });
    });

    it('refresh token: verifies as a refresh token, refused as an access token', async () => {
      const { refresh } = await login(flask);
      const verified = await twin.manager.verifyToken(refresh, { refresh: true });
      expect(verified.identity).toBe('alice');
      expect(verified.payload).toEqual(part(refresh, 1));
      expect(verified.payload).toMatchObject({ type: 'refresh', fresh: false });
      await expect(twin.manager.verifyToken(refresh)).rejects.toMatchObject({
        code: 'wrong_token_type',
        message: 'Only non-refresh tokens are allowed',
      });
    });

    it('Tessera refreshTokens() exchanges a Flask refresh token; Flask accepts the new access token', async () => {
      const { refresh } = await login(flask);
      const { accessToken } = await twin.manager.refreshTokens(refresh);
      expect(part(accessToken, 1)).toMatchObject({
        sub: 'alice',
        fresh: false,
        type: 'access',
        role: 'admin',
      });
      const res = await callPeer(`${flask.url}/protected`, { headers: bearer(accessToken) });
      expect(res.status, res.text).toBe(200);
      expect(bodyObject(res).logged_in_as).toBe('alice');
    });

    it('additional claims and headers survive, whatever their JSON type', async () => {
      const extra = {
        roles: ['reader', 'writer'],
        org: { id: 7, name: 'Acme' },
        level: 3,
        beta: true,
        note: null,
      };
      const token = await mint(flask, {
        identity: 'bob',
        additional_claims: extra,
        additional_headers: { region: 'eu' },
      });
      const verified = await twin.manager.verifyToken(token);
      expect(verified.payload).toMatchObject(extra);
      expect(verified.header).toEqual({ alg: 'HS256', region: 'eu', typ: 'JWT' });
    });

    it('numeric and object identities come back as the same JSON values (F90)', async () => {
      const numeric = await twin.manager.verifyToken(await mint(flask, { identity: 42 }));
      expect(numeric.identity).toBe(42);
      const object = { id: 7, tenant: 'acme', groups: ['a', 'b'] };
      const structured = await twin.manager.verifyToken(await mint(flask, { identity: object }));
      expect(structured.identity).toEqual(object);
      expect(structured.user).toEqual({ username: object });
    });

    it('without exp (F68): the flask profile accepts it, the standard profile refuses it (claim_missing)', async () => {
      const token = await mint(flask, { identity: 'bob', expires_delta_seconds: false });
      expect(part(token, 1)).not.toHaveProperty('exp');
      await expect(twin.manager.verifyToken(token)).resolves.toMatchObject({ identity: 'bob' });
      const standard = new TokenManager({ secret: PEER_HS_SECRET });
      await expect(standard.verifyToken(token)).rejects.toMatchObject({ code: 'claim_missing' });
    });

    it('expired (F63): Tessera reports token_expired "Token has expired"', async () => {
      const token = await mint(flask, { identity: 'bob', expires_delta_seconds: -10 });
      await expect(twin.manager.verifyToken(token)).rejects.toMatchObject({
        code: 'token_expired',
        message: 'Token has expired',
      });
    });

    it('a kid header set through additional_headers does not stop verification (PyJWT ignores kid)', async () => {
      const token = await mint(flask, { identity: 'bob', additional_headers: { kid: 'flask-key-2024' } });
      const check = await callPeer(`${flask.url}/protected`, { headers: bearer(token) });
      expect(check.status, check.text).toBe(200);
      await expect(twin.manager.verifyToken(token)).resolves.toMatchObject({ identity: 'bob' });
    });

    it('a Flask token at a Tessera simplejwt manager fails with "Token has no type" (docs/reference/python-peers.md 6)', async () => {
      const { access } = await login(flask);
      const simplejwt = new TokenManager({ profile: 'simplejwt', secret: PEER_HS_SECRET });
      await expect(simplejwt.verifyToken(access)).rejects.toMatchObject({
        code: 'wrong_token_type',
        message: 'Token has no type',
      });
    });
  });

  describe('2. Tessera-minted tokens pass Flask', () => {
    it('a fresh access token at /protected and /fresh: Flask sees the same identity and claims', async () => {
      const token = await twin.manager.createAccessToken({ identity: 'alice', fresh: true });
      for (const path of ['/protected', '/fresh']) {
        const res = await callPeer(`${flask.url}${path}`, { method: 'POST', headers: bearer(token) });
        expect(res.status, `${path}: ${res.text}`).toBe(200);
        expect(res.body).toEqual({ logged_in_as: 'alice', claims: part(token, 1) });
      }
    });

    it('a non-fresh access token: /protected 200, /fresh 401 Fresh token required', async () => {
      const token = await twin.manager.createAccessToken({ identity: 'bob' });
      expect((await callPeer(`${flask.url}/protected`, { headers: bearer(token) })).status).toBe(200);
      const res = await callPeer(`${flask.url}/fresh`, { method: 'POST', headers: bearer(token) });
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"msg":"Fresh token required"}\n');
    });

    it('a refresh token at /refresh gives a non-fresh access token that Tessera verifies', async () => {
      const refresh = await twin.manager.createRefreshToken({ identity: 'alice' });
      const res = await callPeer(`${flask.url}/refresh`, { method: 'POST', headers: bearer(refresh) });
      expect(res.status, res.text).toBe(200);
      const access = field(res.body, 'access_token');
      const verified = await twin.manager.verifyToken(access);
      expect(verified.identity).toBe('alice');
      expect(verified.payload).toMatchObject({ fresh: false, type: 'access', role: 'admin' });
    });

    it('numeric and object identities, custom claims, and no exp reach Flask unchanged', async () => {
      const cases: [unknown, Record<string, unknown> | undefined][] = [
        [42, undefined],
        [
          { id: 7, tenant: 'acme' },
          { scopes: ['read'], limits: { rpm: 60 } },
        ],
      ];
      for (const [identity, additionalClaims] of cases) {
        const token = await twin.manager.createAccessToken({ identity, additionalClaims });
        const res = await callPeer(`${flask.url}/protected`, { headers: bearer(token) });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({ logged_in_as: identity, claims: part(token, 1) });
      }
      const noExp = await twin.manager.createAccessToken({ identity: 'bob', expiresIn: false });
      expect(part(noExp, 1)).not.toHaveProperty('exp');
      expect((await callPeer(`${flask.url}/protected`, { headers: bearer(noExp) })).status).toBe(200);
    });

    it('cookies from setAccessCookies/setRefreshCookies work at Flask, with the CSRF double submit', async () => {
      const config = twin.manager.config;
      const pair = await twin.manager.createTokenPair({ identity: 'alice' });
      const accessLines = setAccessCookies(config, pair.accessToken);
      const refreshLines = setRefreshCookies(config, pair.refreshToken);
      const cookie = cookieHeader([...accessLines, ...refreshLines]);
      const accessCsrf = cookieValue(accessLines, 'csrf_access_token');
      const refreshCsrf = cookieValue(refreshLines, 'csrf_refresh_token');
      expect(accessCsrf).toBe(part(pair.accessToken, 1).csrf);

      const get = await callPeer(`${flask.url}/protected`, { headers: { cookie } });
      expect(get.status, get.text).toBe(200);
      expect(bodyObject(get).logged_in_as).toBe('alice');

      const noCsrf = await callPeer(`${flask.url}/protected`, { method: 'POST', headers: { cookie } });
      expect([noCsrf.status, noCsrf.text]).toEqual([401, '{"msg":"Missing CSRF token"}\n']);

      const withCsrf = await callPeer(`${flask.url}/protected`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': accessCsrf },
      });
      expect(withCsrf.status, withCsrf.text).toBe(200);

      const wrongCsrf = await callPeer(`${flask.url}/refresh`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': accessCsrf },
      });
      expect([wrongCsrf.status, wrongCsrf.text]).toEqual([
        401,
        '{"msg":"CSRF double submit tokens do not match"}\n',
      ]);

      // Flask's /refresh/cookies answers with Flask-made cookies: they work at Tessera too.
      const refreshed = await callPeer(`${flask.url}/refresh/cookies`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': refreshCsrf },
      });
      expect(refreshed.status, refreshed.text).toBe(200);
      const flaskLines = refreshed.headers.getSetCookie();
      const back = await callPeer(`${twin.url}/protected`, {
        method: 'POST',
        headers: {
          cookie: cookieHeader(flaskLines),
          'x-csrf-token': cookieValue(flaskLines, 'csrf_access_token'),
        },
      });
      expect(back.status, back.text).toBe(200);
      expect(bodyObject(back).logged_in_as).toBe('alice');
    });

    it('Set-Cookie lines have the same names, attributes and order as Flask /login/cookies (F07)', async () => {
      const res = await callPeer(`${flask.url}/login/cookies`, { json: ALICE });
      expect(res.status).toBe(200);
      const pair = await twin.manager.createTokenPair({ identity: 'alice' });
      const ours = [
        ...setAccessCookies(twin.manager.config, pair.accessToken),
        ...setRefreshCookies(twin.manager.config, pair.refreshToken),
      ];
      const shape = (lines: readonly string[]) =>
        lines.map(parseSetCookie).map(({ name, attributes }) => [name, ...attributes].join('; '));
      expect(shape(ours)).toEqual(shape(res.headers.getSetCookie()));
      expect(shape(ours)).toEqual([
        'access_token_cookie; HttpOnly; Path=/',
        'csrf_access_token; Path=/',
        'refresh_token_cookie; HttpOnly; Path=/',
        'csrf_refresh_token; Path=/',
      ]);
    });

    it('layout: payload key order and header bytes equal a Flask-minted token (access, refresh, refreshed)', async () => {
      const flaskPair = await login(flask);
      const ours = await twin.manager.createTokenPair({ identity: 'alice' });
      expect(payloadKeys(ours.accessToken)).toEqual(payloadKeys(flaskPair.access));
      expect(payloadKeys(ours.refreshToken)).toEqual(payloadKeys(flaskPair.refresh));
      expect(payloadKeys(ours.accessToken)).toEqual([
        'fresh',
        'iat',
        'jti',
        'type',
        'sub',
        'nbf',
        'csrf',
        'exp',
        'role',
      ]);
      for (const token of [ours.accessToken, ours.refreshToken, flaskPair.access, flaskPair.refresh]) {
        expect(partText(token, 0)).toBe(HS256_HEADER);
        expect(token.split('.')[0]).toBe(flaskPair.access.split('.')[0]);
      }
      // Values follow Flask's conventions too: uuid4 jti with dashes, nbf = iat, 15 min / 30 days.
      const access = part(ours.accessToken, 1);
      expect(access.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(access.nbf).toBe(access.iat);
      expect(Number(access.exp) - Number(access.iat)).toBe(900);
      const refresh = part(ours.refreshToken, 1);
      expect(Number(refresh.exp) - Number(refresh.iat)).toBe(30 * 86_400);

      const flaskRefreshed = await callPeer(`${flask.url}/refresh`, {
        method: 'POST',
        headers: bearer(flaskPair.refresh),
      });
      const ourRefreshed = await twin.manager.refreshTokens(ours.refreshToken);
      expect(payloadKeys(ourRefreshed.accessToken)).toEqual(
        payloadKeys(field(flaskRefreshed.body, 'access_token')),
      );
    });
  });

  describe('3. same request, same answer (Flask peer vs Tessera on Express)', () => {
    const context = (): Kit => ({ flask, twin });
    for (const row of FLASK_CASES) {
      it(`${row.method ?? 'GET'} ${row.path ?? '/protected'}: ${row.name}`, async () => {
        await compareFlask(context(), row);
      });
    }
  });
});

describe.skipIf(!peers.ok)('Flask-JWT-Extended ⇄ Tessera, audience and issuer configured', () => {
  let flask: PythonPeer;
  let twin: Twin;
  beforeAll(async () => {
    [flask, twin] = await Promise.all([
      startFlaskPeer({ config: AUD_ISS }),
      startTwin({ audience: 'peer-aud', issuer: 'peer-iss' }),
    ]);
  });
  afterAll(() => stopAll(flask, twin));

  it('Flask tokens with aud/iss verify in Tessera; another audience is refused; none configured accepts (F76)', async () => {
    const { access } = await login(flask);
    expect(part(access, 1)).toMatchObject({ aud: 'peer-aud', iss: 'peer-iss' });
    await expect(twin.manager.verifyToken(access)).resolves.toMatchObject({ identity: 'alice' });
    const other = new TokenManager({
      profile: 'flask-jwt-extended',
      secret: PEER_HS_SECRET,
      decodeAudience: 'other',
    });
    await expect(other.verifyToken(access)).rejects.toMatchObject({
      code: 'audience_invalid',
      message: 'Invalid audience',
    });
    const none = new TokenManager({ profile: 'flask-jwt-extended', secret: PEER_HS_SECRET });
    await expect(none.verifyToken(access)).resolves.toMatchObject({ identity: 'alice' });
  });

  it('Tessera tokens with aud/iss pass Flask; layout equals Flask aud/iss tokens', async () => {
    const token = await twin.manager.createAccessToken({ identity: 'alice', fresh: true });
    const res = await callPeer(`${flask.url}/fresh`, { method: 'POST', headers: bearer(token) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ logged_in_as: 'alice', claims: part(token, 1) });
    const { access } = await login(flask);
    expect(payloadKeys(token)).toEqual(payloadKeys(access));
    expect(payloadKeys(token)).toEqual([
      'fresh',
      'iat',
      'jti',
      'type',
      'sub',
      'nbf',
      'aud',
      'iss',
      'exp',
      'role',
    ]);
  });

  describe('same request, same answer', () => {
    const context = (): Kit => ({ flask, twin });
    for (const row of AUD_ISS_CASES) {
      it(`${row.method ?? 'GET'} ${row.path ?? '/protected'}: ${row.name}`, async () => {
        await compareFlask(context(), row);
      });
    }
  });
});

describe.skipIf(!peers.ok)('Flask-JWT-Extended ⇄ Tessera, RS256 and ES256', () => {
  const algorithms = ['RS256', 'ES256'] as const;
  const keys = { RS256: generatePemKeyPair('RS256'), ES256: generatePemKeyPair('ES256') };
  const started = new Map<string, PythonPeer>();
  beforeAll(async () => {
    const list = await Promise.all(
      algorithms.map((alg) =>
        startFlaskPeer({
          config: {
            JWT_ALGORITHM: alg,
            JWT_PRIVATE_KEY: keys[alg].privateKey,
            JWT_PUBLIC_KEY: keys[alg].publicKey,
          },
        }),
      ),
    );
    for (const [index, alg] of algorithms.entries()) started.set(alg, list[index]!);
  });
  afterAll(() => stopAll(...started.values()));

  for (const alg of algorithms) {
    const peer = () => started.get(alg)!;

    it(`${alg}: Flask signs, Tessera verifies with the public key`, async () => {
      const { access, refresh } = await login(peer());
      expect(part(access, 0)).toEqual({ alg, typ: 'JWT' });
      const verifier = new TokenManager({
        profile: 'flask-jwt-extended',
        algorithm: alg,
        publicKey: keys[alg].publicKey,
      });
      const verified = await verifier.verifyToken(access, { fresh: true });
      expect(verified.identity).toBe('alice');
      expect(verified.payload).toEqual(part(access, 1));
      await expect(verifier.verifyToken(refresh, { refresh: true })).resolves.toMatchObject({
        identity: 'alice',
      });
      const stranger = generatePemKeyPair(alg);
      const wrongKey = new TokenManager({
        profile: 'flask-jwt-extended',
        algorithm: alg,
        publicKey: stranger.publicKey,
      });
      await expect(wrongKey.verifyToken(access)).rejects.toMatchObject({ code: 'signature_invalid' });
    });

    it(`${alg}: Tessera signs, Flask verifies (/protected, /fresh, /refresh)`, async () => {
      const signer = new TokenManager({
        profile: 'flask-jwt-extended',
        algorithm: alg,
        privateKey: keys[alg].privateKey,
      });
      const pair = await signer.createTokenPair({ identity: 'alice' });
      expect(partText(pair.accessToken, 0)).toBe(`{"alg":"${alg}","typ":"JWT"}`);
      for (const path of ['/protected', '/fresh']) {
        const res = await callPeer(`${peer().url}${path}`, {
          method: 'POST',
          headers: bearer(pair.accessToken),
        });
        expect(res.status, `${path}: ${res.text}`).toBe(200);
        expect(res.body).toEqual({ logged_in_as: 'alice', claims: part(pair.accessToken, 1) });
      }
      const refreshed = await callPeer(`${peer().url}/refresh`, {
        method: 'POST',
        headers: bearer(pair.refreshToken),
      });
      expect(refreshed.status, refreshed.text).toBe(200);
      await expect(signer.verifyToken(field(refreshed.body, 'access_token'))).resolves.toMatchObject({
        identity: 'alice',
      });
    });

    it(`${alg}: a token signed with another key, or HS256 keyed with the public PEM, is refused by both`, async () => {
      const verifier = new TokenManager({
        profile: 'flask-jwt-extended',
        algorithm: alg,
        publicKey: keys[alg].publicKey,
      });
      const stranger = new TokenManager({
        profile: 'flask-jwt-extended',
        algorithm: alg,
        privateKey: generatePemKeyPair(alg).privateKey,
      });
      const forged = await stranger.createAccessToken({ identity: 'alice' });
      const confused = forge({ alg: 'HS256', typ: 'JWT' }, flaskPayload({ sub: 'alice' }), {
        secret: keys[alg].publicKey,
      });
      const expected: [string, string][] = [
        [forged, 'Signature verification failed'],
        [confused, 'The specified alg value is not allowed'],
      ];
      for (const [token, msg] of expected) {
        const res = await callPeer(`${peer().url}/protected`, { headers: bearer(token) });
        expect([res.status, res.body]).toEqual([422, { msg }]);
        await expect(verifier.verifyToken(token)).rejects.toThrow();
      }
    });
  }
});
