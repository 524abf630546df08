/**
 * The real Python peers accept the service's tokens: a Flask-JWT-Extended app
 * (public key from the service's JWKS) in the flask-jwt-extended profile, and
 * a Django REST framework + SimpleJWT app (JWK_URL pointing at the service) in
 * the simplejwt profile. Both run on Debian's packages under /usr/bin/python3.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callPeer,
  type PythonPeer,
  pythonPeersAvailable,
  startDjangoPeer,
  startFlaskPeer,
} from '../../tessera/test/interop/peers.js';
import { ADMIN, call, login, startTestService, type TestService } from './support.js';

const peers = pythonPeersAvailable();
if (!peers.ok) {
  if (process.env.CI) throw new Error(`Python peers unavailable under CI: ${peers.reason}`);
  console.warn(`[server] skipping peer tests: ${peers.reason}`);
}

async function publicPem(base: string): Promise<string> {
  const jwks = await call(base, 'GET', '/.well-known/jwks.json');
  const [jwk] = jwks.body.keys as Record<string, string>[];
  return createPublicKey({ key: jwk!, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

describe.skipIf(!peers.ok)('Flask-JWT-Extended accepts tokens of the flask-jwt-extended profile', () => {
  let svc: TestService;
  let flask: PythonPeer;

  beforeAll(async () => {
    svc = await startTestService({ profile: 'flask-jwt-extended', signingAlgorithm: 'RS256' });
    flask = await startFlaskPeer({
      config: { JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: await publicPem(svc.base), JWT_SECRET_KEY: null },
    });
  }, 60_000);
  afterAll(async () => {
    await flask?.stop();
    await svc?.stop();
  });

  it('an access token signed in at the service opens the Flask route', async () => {
    const tokens = await login(svc.base, ADMIN.username, ADMIN.password);
    const res = await callPeer(`${flask.url}/protected`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      logged_in_as: ADMIN.username,
      claims: { type: 'access', roles: ['admin'] },
    });
    // The refresh token is a refresh token there too: refused where an access token is required.
    const wrongType = await callPeer(`${flask.url}/protected`, {
      headers: { authorization: `Bearer ${tokens.refresh_token}` },
    });
    expect(wrongType.status).toBe(422);
  });
});

describe.skipIf(!peers.ok)('SimpleJWT accepts tokens of the simplejwt profile through JWK_URL', () => {
  let svc: TestService;
  let django: PythonPeer;

  beforeAll(async () => {
    svc = await startTestService({ profile: 'simplejwt', signingAlgorithm: 'RS256' });
    django = await startDjangoPeer({
      simpleJwt: { ALGORITHM: 'RS256', JWK_URL: `${svc.base}/.well-known/jwks.json`, SIGNING_KEY: null },
    });
  }, 60_000);
  afterAll(async () => {
    await django?.stop();
    await svc?.stop();
  });

  it('access tokens from /api/token/ and /auth/login open the DRF view; refresh tokens do not', async () => {
    const pair = await call(svc.base, 'POST', '/api/token/', {
      json: { username: ADMIN.username, password: ADMIN.password },
    });
    expect(pair.status).toBe(200);
    const viaLogin = await login(svc.base, ADMIN.username, ADMIN.password);
    for (const token of [pair.body.access as string, viaLogin.access_token]) {
      const res = await callPeer(`${django.url}/api/protected/`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, res.text).toBe(200);
    }
    const refresh = await callPeer(`${django.url}/api/protected/`, {
      headers: { authorization: `Bearer ${pair.body.refresh as string}` },
    });
    expect(refresh.status).toBe(401);
    // The peer's own verify view takes the service's refresh token.
    const verify = await callPeer(`${django.url}/api/token/verify/`, {
      json: { token: pair.body.refresh as string },
    });
    expect(verify.status, verify.text).toBe(200);
  });
});
