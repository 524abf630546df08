/**
 * The SimpleJWT-shaped endpoints with SimpleJWT's request and response shapes,
 * on a service in the default profile (they have their own manager) and in the
 * simplejwt profile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  call,
  claims,
  login,
  sameSecondCutoff,
  startTestService,
  type TestService,
} from './support.js';

let svc: TestService;
let base = '';

beforeAll(async () => {
  svc = await startTestService();
  base = svc.base;
});
afterAll(async () => {
  await svc.stop();
});

describe('SimpleJWT endpoints', () => {
  it('obtain, refresh (rotating), verify and blacklist with SimpleJWT shapes', async () => {
    const obtain = await call(base, 'POST', '/api/token/', {
      json: { username: ADMIN.username, password: ADMIN.password },
    });
    expect(obtain.status).toBe(200);
    expect(obtain.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(obtain.body).sort()).toEqual(['access', 'refresh']);
    const { access, refresh } = obtain.body as { access: string; refresh: string };
    expect(claims(access)).toMatchObject({ token_type: 'access', user_id: 1, roles: ['admin'] });

    expect(await call(base, 'POST', '/api/token/verify/', { json: { token: access } })).toMatchObject({
      status: 200,
      body: {},
    });
    const refreshed = await call(base, 'POST', '/api/token/refresh/', { json: { refresh } });
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body).sort()).toEqual(['access', 'refresh']);
    // The old refresh token was blacklisted by the rotation.
    const again = await call(base, 'POST', '/api/token/refresh/', { json: { refresh } });
    expect(again).toMatchObject({
      status: 401,
      body: { code: 'token_not_valid', detail: 'Token is blacklisted' },
    });

    const next = refreshed.body.refresh as string;
    expect(await call(base, 'POST', '/api/token/blacklist/', { json: { refresh: next } })).toMatchObject({
      status: 200,
      body: {},
    });
    expect((await call(base, 'POST', '/api/token/refresh/', { json: { refresh: next } })).status).toBe(401);
  });

  it('answers bad input as SimpleJWT does', async () => {
    expect(await call(base, 'POST', '/api/token/', { json: {} })).toMatchObject({
      status: 400,
      body: { username: ['This field is required.'], password: ['This field is required.'] },
    });
    expect(
      await call(base, 'POST', '/api/token/', { json: { username: ADMIN.username, password: 'wrong-one' } }),
    ).toMatchObject({
      status: 401,
      body: { detail: 'No active account found with the given credentials' },
    });
    expect(await call(base, 'POST', '/api/token/verify/', { json: { token: 'x.y.z' } })).toMatchObject({
      status: 401,
      body: { code: 'token_not_valid' },
    });
    expect((await call(base, 'POST', '/api/token/refresh/', { raw: '{"refresh":' })).status).toBe(400);
    expect((await call(base, 'GET', '/api/token/')).status).toBe(405);
    expect(
      (await call(base, 'POST', '/api/token/', { raw: 'x', headers: { 'content-type': 'text/plain' } }))
        .status,
    ).toBe(415);
    const form = await call(base, 'POST', '/api/token/', {
      form: { username: ADMIN.username, password: ADMIN.password },
    });
    expect(form.status).toBe(200);
  });

  it('in the simplejwt profile, the Flask-shaped endpoints issue SimpleJWT tokens too', async () => {
    const other = await startTestService({ profile: 'simplejwt' });
    try {
      const login = await call(other.base, 'POST', '/auth/login', {
        json: { username: ADMIN.username, password: ADMIN.password },
      });
      expect(login.status).toBe(200);
      const token = login.body.access_token as string;
      expect(claims(token)).toMatchObject({ token_type: 'access', user_id: 1 });
      expect((await call(other.base, 'GET', '/auth/me', { token })).body).toMatchObject({
        username: ADMIN.username,
      });
      const pair = await call(other.base, 'POST', '/api/token/', {
        json: { username: ADMIN.username, password: ADMIN.password },
      });
      expect((await call(other.base, 'GET', '/auth/me', { token: pair.body.access as string })).status).toBe(
        200,
      );
    } finally {
      await other.stop();
    }
  });

  it.each(['logout-all', 'password'] as const)(
    '%s ends /api/token/ tokens issued in its second, and spares those issued after it',
    async (via) => {
      const admin = await login(base, ADMIN.username, ADMIN.password);
      const result = await sameSecondCutoff(base, admin.access_token, `same-${via}`, via);
      expect(result.sameSecond).toBe(true);
      // verify access, verify refresh, refresh: blacklisted before, accepted after.
      expect(result.before).toEqual([400, 400, 401]);
      expect(result.after).toEqual([200, 200, 200]);
    },
  );
});
