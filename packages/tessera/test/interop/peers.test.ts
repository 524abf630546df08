/**
 * Smoke suite for the Python peer fixtures: proves that the Flask-JWT-Extended and
 * SimpleJWT apps started by `peers.ts` reproduce the reference behaviour recorded in
 * docs/reference/python-peers.md (case ids in test names). Tessera itself is not involved here.
 */
import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callPeer,
  generatePemKeyPair,
  PEER_USERS,
  type PemKeyPair,
  type PythonPeer,
  pythonPeersAvailable,
  startDjangoPeer,
  startFlaskPeer,
} from './peers.js';

const availability = pythonPeersAvailable();

if (!availability.ok) {
  if (process.env.CI) {
    it('Python peers are available (required when CI is set)', () => {
      expect.fail(availability.reason);
    });
  } else {
    console.warn(`[interop] skipping the Python peer smoke suite: ${availability.reason}`);
  }
}

type Claims = Record<string, unknown>;

function segment(token: string, index: 0 | 1): Claims {
  const part = token.split('.')[index];
  if (part === undefined) throw new Error(`token has no segment ${index}`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Claims;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function field(body: unknown, name: string): string {
  if (typeof body === 'object' && body !== null && name in body) {
    const value = (body as Record<string, unknown>)[name];
    if (typeof value === 'string') return value;
  }
  throw new Error(`response has no string "${name}": ${JSON.stringify(body)}`);
}

/** Stops every peer given, ignoring the ones that failed to start. */
async function stopAll(peers: (PythonPeer | undefined)[]): Promise<void> {
  await Promise.all(peers.map((peer) => peer?.stop()));
}

const alice = { username: PEER_USERS.alice.username, password: PEER_USERS.alice.password };

describe.skipIf(!availability.ok)('Flask-JWT-Extended peer', () => {
  describe('HS256, headers only (defaults)', () => {
    let peer: PythonPeer;
    beforeAll(async () => {
      peer = await startFlaskPeer();
    });
    afterAll(() => stopAll([peer]));

    async function login(): Promise<{ access: string; refresh: string }> {
      const res = await callPeer(`${peer.url}/login`, { json: alice });
      expect(res.status).toBe(200);
      return { access: field(res.body, 'access_token'), refresh: field(res.body, 'refresh_token') };
    }

    async function mint(json: Record<string, string | number | boolean | Claims>): Promise<string> {
      const res = await callPeer(`${peer.url}/mint`, { json: json as Record<string, never> });
      expect(res.status).toBe(200);
      return field(res.body, 'token');
    }

    it('login -> /protected 200 with the library token layout', async () => {
      const { access, refresh } = await login();
      expect(segment(access, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(Object.keys(segment(access, 1))).toEqual([
        'fresh',
        'iat',
        'jti',
        'type',
        'sub',
        'nbf',
        'exp',
        'role',
      ]);
      expect(segment(refresh, 1)).toMatchObject({ type: 'refresh', fresh: false, sub: 'alice' });

      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(access) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        logged_in_as: 'alice',
        claims: { type: 'access', fresh: true, sub: 'alice', role: 'admin' },
      });
    });

    it('bad credentials and inactive users cannot log in', async () => {
      const wrong = await callPeer(`${peer.url}/login`, { json: { username: 'alice', password: 'nope' } });
      expect(wrong.status).toBe(401);
      const inactive = await callPeer(`${peer.url}/login`, {
        json: { username: 'mallory', password: PEER_USERS.mallory.password },
      });
      expect(inactive.status).toBe(401);
    });

    it('F36 missing header -> 401, jsonify body with trailing newline', async () => {
      const res = await callPeer(`${peer.url}/protected`);
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"msg":"Missing Authorization Header"}\n');
      expect(res.headers.get('www-authenticate')).toBeNull();
    });

    it('F40 `Bearer a b` -> 422', async () => {
      const res = await callPeer(`${peer.url}/protected`, { headers: { authorization: 'Bearer a b' } });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ msg: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'" });
    });

    it('F52 garbage token -> 422 Not enough segments', async () => {
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer('garbage') });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ msg: 'Not enough segments' });
    });

    it('F29 refresh token at /protected -> 422', async () => {
      const { refresh } = await login();
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(refresh) });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ msg: 'Only non-refresh tokens are allowed' });
    });

    it('F30 access token at /refresh -> 422; refresh token -> new non-fresh access token', async () => {
      const { access, refresh } = await login();
      const wrong = await callPeer(`${peer.url}/refresh`, { method: 'POST', headers: bearer(access) });
      expect(wrong.status).toBe(422);
      expect(wrong.body).toEqual({ msg: 'Only refresh tokens are allowed' });

      const res = await callPeer(`${peer.url}/refresh`, { method: 'POST', headers: bearer(refresh) });
      expect(res.status).toBe(200);
      const renewed = field(res.body, 'access_token');
      expect(segment(renewed, 1)).toMatchObject({
        type: 'access',
        fresh: false,
        sub: 'alice',
        role: 'admin',
      });

      // F24: a non-fresh token at a fresh-only route; the login token is fresh.
      const stale = await callPeer(`${peer.url}/fresh`, { method: 'POST', headers: bearer(renewed) });
      expect(stale.status).toBe(401);
      expect(stale.body).toEqual({ msg: 'Fresh token required' });
      const fresh = await callPeer(`${peer.url}/fresh`, { method: 'POST', headers: bearer(access) });
      expect(fresh.status).toBe(200);
    });

    it('F63/F80 expired token -> 401 Token has expired (route and /decode)', async () => {
      const expired = await mint({ identity: 'alice', expires_delta_seconds: -10 });
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(expired) });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ msg: 'Token has expired' });
      const decoded = await callPeer(`${peer.url}/decode`, { json: { token: expired } });
      expect(decoded.status).toBe(401);
      expect(decoded.body).toEqual({ msg: 'Token has expired' });
    });

    it('F68 /mint with expires_delta_seconds=false gives a token without exp that is accepted', async () => {
      const token = await mint({ identity: 'bob', expires_delta_seconds: false });
      expect(segment(token, 1)).not.toHaveProperty('exp');
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(token) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ logged_in_as: 'bob' });
    });

    it('F32 revoked jti -> 401 Token has been revoked', async () => {
      const { access } = await login();
      const jti = segment(access, 1).jti;
      expect(typeof jti).toBe('string');
      const revoke = await callPeer(`${peer.url}/revoke`, { json: { jti: jti as string } });
      expect(revoke.status).toBe(200);
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(access) });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ msg: 'Token has been revoked' });
    });

    it('F71/F73 user lookup ("ghost") and claims verification ({deny: true}) failures', async () => {
      const ghost = await mint({ identity: 'ghost' });
      const lookup = await callPeer(`${peer.url}/protected`, { headers: bearer(ghost) });
      expect(lookup.status).toBe(401);
      expect(lookup.body).toEqual({ msg: 'Error loading the user ghost' });

      const denied = await mint({ identity: 'alice', additional_claims: { deny: true } });
      const verification = await callPeer(`${peer.url}/protected`, { headers: bearer(denied) });
      expect(verification.status).toBe(400);
      expect(verification.body).toEqual({ msg: 'User claims verification failed' });
    });

    it('/optional without a token -> 200 with no identity; /decode returns the claims', async () => {
      const res = await callPeer(`${peer.url}/optional`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ logged_in_as: null, claims: {} });

      const { access } = await login();
      const decoded = await callPeer(`${peer.url}/decode`, { json: { token: access } });
      expect(decoded.status).toBe(200);
      expect(decoded.body).toEqual(segment(access, 1));
    });
  });

  describe('cookies with CSRF double submit', () => {
    let peer: PythonPeer;
    beforeAll(async () => {
      peer = await startFlaskPeer({ config: { JWT_TOKEN_LOCATION: ['headers', 'cookies'] } });
    });
    afterAll(() => stopAll([peer]));

    it('F07-F11 cookie login, GET without CSRF, POST without/with/wrong X-CSRF-TOKEN, F17 logout', async () => {
      const login = await callPeer(`${peer.url}/login/cookies`, { json: alice });
      expect(login.status).toBe(200);
      const setCookies = login.headers.getSetCookie();
      expect(setCookies.map((line) => line.split('=')[0])).toEqual([
        'access_token_cookie',
        'csrf_access_token',
        'refresh_token_cookie',
        'csrf_refresh_token',
      ]);
      expect(setCookies[0]).toMatch(/; HttpOnly; Path=\/$/);
      expect(setCookies[1]).toMatch(/; Path=\/$/);

      const jar = new Map(
        setCookies.map((line) => {
          const pair = line.split(';')[0] ?? '';
          const eq = pair.indexOf('=');
          return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
        }),
      );
      const access = jar.get('access_token_cookie') ?? '';
      const csrf = jar.get('csrf_access_token') ?? '';
      expect(segment(access, 1).csrf).toBe(csrf);
      const cookie = `access_token_cookie=${access}`;

      const get = await callPeer(`${peer.url}/protected`, { headers: { cookie } });
      expect(get.status).toBe(200);

      const missing = await callPeer(`${peer.url}/protected`, { method: 'POST', headers: { cookie } });
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ msg: 'Missing CSRF token' });

      const wrong = await callPeer(`${peer.url}/protected`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': jar.get('csrf_refresh_token') ?? '' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ msg: 'CSRF double submit tokens do not match' });

      const ok = await callPeer(`${peer.url}/protected`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ logged_in_as: 'alice' });

      const logout = await callPeer(`${peer.url}/logout`, { method: 'POST' });
      expect(logout.status).toBe(200);
      expect(logout.headers.getSetCookie()).toEqual([
        'access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/',
        'csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/',
        'refresh_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/',
        'csrf_refresh_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/',
      ]);
    });
  });

  describe('asymmetric algorithms', () => {
    const rsa = generatePemKeyPair('RS256');
    const ec = generatePemKeyPair('ES256');
    let rs: PythonPeer | undefined;
    let es: PythonPeer | undefined;
    beforeAll(async () => {
      [rs, es] = await Promise.all([
        startFlaskPeer({
          config: {
            JWT_ALGORITHM: 'RS256',
            JWT_PRIVATE_KEY: rsa.privateKey,
            JWT_PUBLIC_KEY: rsa.publicKey,
            JWT_ENCODE_AUDIENCE: 'peer-aud',
            JWT_DECODE_AUDIENCE: 'peer-aud',
            JWT_ENCODE_ISSUER: 'peer-iss',
            JWT_DECODE_ISSUER: 'peer-iss',
          },
        }),
        startFlaskPeer({
          config: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: ec.privateKey, JWT_PUBLIC_KEY: ec.publicKey },
        }),
      ]);
    });
    afterAll(() => stopAll([rs, es]));

    async function roundTrip(peer: PythonPeer, alg: string, keys: PemKeyPair): Promise<string> {
      const login = await callPeer(`${peer.url}/login`, { json: alice });
      expect(login.status).toBe(200);
      const access = field(login.body, 'access_token');
      expect(segment(access, 0)).toEqual({ alg, typ: 'JWT' });
      // The signature is made with the key we passed in (JWS ECDSA signatures are raw r||s).
      const [h, p, s] = access.split('.') as [string, string, string];
      const ok = verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key: createPublicKey(keys.publicKey), dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      );
      expect(ok).toBe(true);
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(access) });
      expect(res.status).toBe(200);
      return access;
    }

    it('RS256 with audience and issuer: login -> protected 200; AF04 wrong aud -> 422', async () => {
      const peer = rs!;
      const access = await roundTrip(peer, 'RS256', rsa);
      expect(segment(access, 1)).toMatchObject({ aud: 'peer-aud', iss: 'peer-iss' });

      const mint = await callPeer(`${peer.url}/mint`, {
        json: { identity: 'alice', additional_claims: { aud: 'someone-else' } },
      });
      const res = await callPeer(`${peer.url}/protected`, { headers: bearer(field(mint.body, 'token')) });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ msg: 'Invalid audience' });
    });

    it('ES256: login -> protected 200', async () => {
      await roundTrip(es!, 'ES256', ec);
    });
  });
});

describe.skipIf(!availability.ok)('SimpleJWT peer', () => {
  const invalidEnvelope = (message: string) => ({
    detail: 'Given token not valid for any token type',
    code: 'token_not_valid',
    messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
  });

  describe('HS256, rotation + blacklist', () => {
    let peer: PythonPeer;
    beforeAll(async () => {
      peer = await startDjangoPeer({
        simpleJwt: { ROTATE_REFRESH_TOKENS: true, BLACKLIST_AFTER_ROTATION: true },
      });
    });
    afterAll(() => stopAll([peer]));

    async function obtain(): Promise<{ access: string; refresh: string }> {
      const res = await callPeer(`${peer.url}/api/token/`, { json: alice });
      expect(res.status).toBe(200);
      return { access: field(res.body, 'access'), refresh: field(res.body, 'refresh') };
    }

    it('obtain pair -> protected 200 with the library token layout', async () => {
      const { access, refresh } = await obtain();
      expect(segment(access, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(Object.keys(segment(access, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id']);
      expect(segment(refresh, 1)).toMatchObject({ token_type: 'refresh', user_id: 1 });
      expect(segment(access, 1).jti).toMatch(/^[0-9a-f]{32}$/);

      const res = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(access) });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user_id: 1, username: 'alice', claims: segment(access, 1) });
    });

    it('D03 inactive user cannot obtain; D09 no header -> 401 with WWW-Authenticate', async () => {
      const inactive = await callPeer(`${peer.url}/api/token/`, {
        json: { username: 'mallory', password: PEER_USERS.mallory.password },
      });
      expect(inactive.status).toBe(401);
      expect(inactive.text).toBe('{"detail":"No active account found with the given credentials"}');

      const none = await callPeer(`${peer.url}/api/protected/`);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ detail: 'Authentication credentials were not provided.' });
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });

    it('D20 refresh token used as access -> 401 wrong-type envelope', async () => {
      const { refresh } = await obtain();
      const res = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(refresh) });
      expect(res.status).toBe(401);
      expect(res.text).toBe(JSON.stringify(invalidEnvelope('Token has wrong type')));
    });

    it('refresh with rotation; D37 reusing the rotated-out refresh -> 401 blacklisted; D45 verify -> 400', async () => {
      const { refresh } = await obtain();
      const rotated = await callPeer(`${peer.url}/api/token/refresh/`, { json: { refresh } });
      expect(rotated.status).toBe(200);
      const newAccess = field(rotated.body, 'access');
      const newRefresh = field(rotated.body, 'refresh');
      expect(segment(newRefresh, 1).jti).not.toBe(segment(refresh, 1).jti);
      // Q8: the new access token carries the refresh token's iat.
      expect(segment(newAccess, 1).iat).toBe(segment(refresh, 1).iat);

      const reuse = await callPeer(`${peer.url}/api/token/refresh/`, { json: { refresh } });
      expect(reuse.status).toBe(401);
      expect(reuse.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });

      const verifyOld = await callPeer(`${peer.url}/api/token/verify/`, { json: { token: refresh } });
      expect(verifyOld.status).toBe(400);
      expect(verifyOld.body).toEqual({ non_field_errors: ['Token is blacklisted'] });

      const verifyNew = await callPeer(`${peer.url}/api/token/verify/`, { json: { token: newAccess } });
      expect(verifyNew.status).toBe(200);
      expect(verifyNew.body).toEqual({});

      const protectedRes = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(newAccess) });
      expect(protectedRes.status).toBe(200);
    });

    it('D52 blacklist endpoint, then refresh -> 401 blacklisted', async () => {
      const { refresh } = await obtain();
      const blacklist = await callPeer(`${peer.url}/api/token/blacklist/`, { json: { refresh } });
      expect(blacklist.status).toBe(200);
      expect(blacklist.body).toEqual({});
      const res = await callPeer(`${peer.url}/api/token/refresh/`, { json: { refresh } });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
    });

    it('/mint: expired (D17), unknown user (D27), no exp (D23); D35 IsAdminUser', async () => {
      const mint = async (json: Record<string, number | string | Record<string, null>>) => {
        const res = await callPeer(`${peer.url}/mint/`, { json });
        expect(res.status).toBe(200);
        return field(res.body, 'token');
      };
      const expired = await mint({ user_id: 1, lifetime_seconds: -10 });
      const e = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(expired) });
      expect(e.status).toBe(401);
      expect(e.body).toEqual(invalidEnvelope('Token is invalid or expired'));

      const unknown = await mint({ user_id: 999 });
      const u = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(unknown) });
      expect(u.status).toBe(401);
      expect(u.body).toEqual({ detail: 'User not found', code: 'user_not_found' });

      const noExp = await mint({ user_id: 1, claims: { exp: null } });
      const n = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(noExp) });
      expect(n.status).toBe(401);
      expect(n.body).toEqual(invalidEnvelope("Token has no 'exp' claim"));

      const { access } = await obtain();
      const forbidden = await callPeer(`${peer.url}/api/admin-only/`, { headers: bearer(access) });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual({ detail: 'You do not have permission to perform this action.' });
      const admin = await callPeer(`${peer.url}/api/token/`, {
        json: { username: 'admin', password: PEER_USERS.admin.password },
      });
      const allowed = await callPeer(`${peer.url}/api/admin-only/`, {
        headers: bearer(field(admin.body, 'access')),
      });
      expect(allowed.status).toBe(200);
      expect(allowed.body).toMatchObject({ user_id: 3, username: 'admin' });
    });

    it('D68-D76 DRF auth token: obtain (stable key), `Token <key>`, case-insensitive keyword, errors', async () => {
      const first = await callPeer(`${peer.url}/api/auth-token/`, { json: alice });
      expect(first.status).toBe(200);
      const key = field(first.body, 'token');
      expect(key).toMatch(/^[0-9a-f]{40}$/);
      const second = await callPeer(`${peer.url}/api/auth-token/`, { json: alice });
      expect(field(second.body, 'token')).toBe(key);

      const ok = await callPeer(`${peer.url}/api/token-protected/`, {
        headers: { authorization: `Token ${key}` },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ user_id: 1, username: 'alice' });
      const lower = await callPeer(`${peer.url}/api/token-protected/`, {
        headers: { authorization: `token ${key}` },
      });
      expect(lower.status).toBe(200);

      const bad = await callPeer(`${peer.url}/api/auth-token/`, {
        json: { username: 'alice', password: 'x' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ non_field_errors: ['Unable to log in with provided credentials.'] });
      const unknown = await callPeer(`${peer.url}/api/token-protected/`, {
        headers: { authorization: `Token ${'0'.repeat(40)}` },
      });
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual({ detail: 'Invalid token.' });
      expect(unknown.headers.get('www-authenticate')).toBe('Token');
    });
  });

  describe('sliding tokens', () => {
    let peer: PythonPeer;
    beforeAll(async () => {
      peer = await startDjangoPeer({ simpleJwt: { AUTH_TOKEN_CLASSES: ['sliding'] } });
    });
    afterAll(() => stopAll([peer]));

    it('obtain sliding -> protected 200; refresh keeps jti and refresh_exp', async () => {
      const obtained = await callPeer(`${peer.url}/api/token/sliding/`, { json: alice });
      expect(obtained.status).toBe(200);
      const token = field(obtained.body, 'token');
      const claims = segment(token, 1);
      expect(Object.keys(claims)).toEqual(['token_type', 'exp', 'iat', 'jti', 'refresh_exp', 'user_id']);

      const res = await callPeer(`${peer.url}/api/protected/`, { headers: bearer(token) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ user_id: 1, claims: { token_type: 'sliding' } });

      const refreshed = await callPeer(`${peer.url}/api/token/sliding/refresh/`, { json: { token } });
      expect(refreshed.status).toBe(200);
      const next = segment(field(refreshed.body, 'token'), 1);
      expect(next.jti).toBe(claims.jti);
      expect(next.refresh_exp).toBe(claims.refresh_exp);
    });

    it('D66 access token at sliding refresh -> 401 wrong type', async () => {
      const mint = await callPeer(`${peer.url}/mint/`, { json: { user_id: 1, kind: 'access' } });
      const res = await callPeer(`${peer.url}/api/token/sliding/refresh/`, {
        json: { token: field(mint.body, 'token') },
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    });
  });

  describe('RS256 verified through JWK_URL (no VERIFYING_KEY)', () => {
    const keys = generatePemKeyPair('RS256');
    const kid = 'interop-key-1';
    let jwks: Server;
    let peer: PythonPeer | undefined;
    beforeAll(async () => {
      const jwk = {
        ...createPublicKey(keys.publicKey).export({ format: 'jwk' }),
        kid,
        alg: 'RS256',
        use: 'sig',
      };
      jwks = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      const { port } = jwks.address() as AddressInfo;
      peer = await startDjangoPeer({
        simpleJwt: { ALGORITHM: 'RS256', JWK_URL: `http://127.0.0.1:${port}/jwks.json`, SIGNING_KEY: null },
      });
    });
    afterAll(async () => {
      await stopAll([peer]);
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    });

    function signRs256(header: Claims, payload: Claims): string {
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(
        JSON.stringify(payload),
      ).toString('base64url')}`;
      const signature = sign('sha256', Buffer.from(input), createPrivateKey(keys.privateKey));
      return `${input}.${signature.toString('base64url')}`;
    }

    it('a token signed outside Python with a kid from the JWKS is accepted; unknown kid is not', async () => {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        token_type: 'access',
        exp: now + 60,
        iat: now,
        jti: randomUUID().replaceAll('-', ''),
        user_id: 1,
      };
      const good = signRs256({ alg: 'RS256', typ: 'JWT', kid }, payload);
      const res = await callPeer(`${peer!.url}/api/protected/`, { headers: bearer(good) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ user_id: 1, username: 'alice' });

      const otherKid = signRs256({ alg: 'RS256', typ: 'JWT', kid: 'not-published' }, payload);
      const bad = await callPeer(`${peer!.url}/api/protected/`, { headers: bearer(otherKid) });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual(invalidEnvelope('Token is invalid or expired'));
    });
  });
});
