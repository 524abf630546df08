/**
 * The refresh handler's rows of the conformance table, run over real HTTP on
 * the guard itself and on every adapter, in both profiles: every adapter
 * must give the same answer to the same refresh request, and a refusal must be
 * the profile's (status, body, `WWW-Authenticate`), as a guarded route's is.
 * Rows are sequences (log in, refresh, replay...), so they live here rather
 * than in the one-request table of scenarios.ts. The store is the memory store
 * with `graceSeconds: 0`, so a replay is reuse at once.
 */
import { getCsrfToken, MemoryStore, TokenManager } from 'tessera-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPS, type AppName, type RunningApp, type TestUser } from './apps.js';
import { PROFILES, type Profile } from './scenarios.js';

const SECRET = 'conformance-refresh-secret-of-at-least-32-bytes';
const NOW = Math.floor(Date.now() / 1000);
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function buildManager(profile: Profile): TokenManager<TestUser> {
  return new TokenManager<TestUser>({
    profile,
    secret: SECRET,
    now: () => NOW,
    store: new MemoryStore(),
    rotation: { enabled: true, graceSeconds: 0 },
    tokenLocation: ['headers', 'cookies', 'json'],
  });
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

/** What one profile answers for a refusal. */
interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly msg: string;
  /** The standard profile's challenge; the flask profile sends none. */
  readonly challenge: string | null;
}

const REFUSALS: Readonly<Record<string, Readonly<Record<Profile, Refusal>>>> = {
  reused: {
    standard: {
      status: 401,
      code: 'refresh_token_reused',
      msg: 'This refresh token was already used; its session has been revoked',
      challenge: `Bearer error="invalid_token", error_description="This refresh token was already used; its session has been revoked"`,
    },
    'flask-jwt-extended': {
      status: 401,
      code: 'refresh_token_reused',
      msg: 'Refresh token has already been used',
      challenge: null,
    },
  },
  revoked: {
    standard: {
      status: 401,
      code: 'token_revoked',
      msg: 'The token has been revoked',
      challenge: 'Bearer error="invalid_token", error_description="The token has been revoked"',
    },
    'flask-jwt-extended': {
      status: 401,
      code: 'token_revoked',
      msg: 'Token has been revoked',
      challenge: null,
    },
  },
  wrongType: {
    standard: {
      status: 401,
      code: 'wrong_token_type',
      msg: 'This endpoint accepts only refresh tokens',
      challenge:
        'Bearer error="invalid_token", error_description="This endpoint accepts only refresh tokens"',
    },
    'flask-jwt-extended': {
      status: 422,
      code: 'wrong_token_type',
      msg: 'Only refresh tokens are allowed',
      challenge: null,
    },
  },
  csrfMismatch: {
    standard: {
      status: 403,
      code: 'csrf_mismatch',
      msg: "The CSRF token does not match the token's csrf claim",
      challenge: null,
    },
    'flask-jwt-extended': {
      status: 401,
      code: 'csrf_mismatch',
      msg: 'CSRF double submit tokens do not match',
      challenge: null,
    },
  },
  csrfMissing: {
    standard: { status: 403, code: 'csrf_missing', msg: 'The CSRF token is missing', challenge: null },
    'flask-jwt-extended': { status: 401, code: 'csrf_missing', msg: 'Missing CSRF token', challenge: null },
  },
};

const MISSING_MSG =
  'Missing JWT in headers, cookies or json (Missing Authorization Header; ' +
  'Missing cookie "refresh_token_cookie"; Invalid content-type. Must be application/json.)';

function expectRefusal(answer: Answer, profile: Profile, r: Refusal, where: string): void {
  const context = `${where}: ${answer.status} ${answer.text}`;
  expect(answer.status, context).toBe(r.status);
  expect(answer.headers.get('content-type')?.split(';')[0], context).toBe('application/json');
  expect(answer.headers.get('www-authenticate'), context).toBe(r.challenge);
  expect(answer.headers.getSetCookie(), context).toEqual([]);
  if (profile === 'standard') expect(answer.text, context).toBe(JSON.stringify({ msg: r.msg, code: r.code }));
  else expect(answer.text, context).toBe(`${JSON.stringify({ msg: r.msg })}\n`);
}

async function call(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<Answer> {
  const headers = { ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(new URL(path, base), { method: init.method ?? 'POST', headers, body });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function refreshCookie(token: string, csrf = getCsrfToken(token) ?? ''): Record<string, string> {
  return { cookie: `refresh_token_cookie=${token}`, 'x-csrf-token': csrf };
}

for (const appName of Object.keys(APPS) as AppName[]) {
  for (const profile of PROFILES) {
    describe(`${appName} / ${profile}: refresh handler`, () => {
      let app: RunningApp;
      let manager: TokenManager<TestUser>;
      const where = (row: string) => `${appName} / ${profile} / ${row}`;
      const login = () => manager.createTokenPair({ identity: 'alice' });

      beforeAll(async () => {
        manager = buildManager(profile);
        app = await APPS[appName](manager);
      });
      afterAll(() => app.close());

      it('R01 refresh token in the Authorization header: 200 with the new pair, which works and refreshes on', async () => {
        const pair = await login();
        const answer = await call(app.url, '/auth/refresh', { headers: bearer(pair.refreshToken) });
        expect(answer.status, where('R01')).toBe(200);
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.headers.getSetCookie()).toEqual([]);
        const body = JSON.parse(answer.text) as { access_token: string; refresh_token: string };
        expect(Object.keys(body).sort()).toEqual(['access_token', 'refresh_token']);
        expect(body.access_token).toMatch(JWT);
        expect(body.refresh_token).toMatch(JWT);
        const claims = await manager.decodeToken(body.refresh_token);
        expect(claims.fam).toBe(pair.familyId);
        const protectedAnswer = await call(app.url, '/protected', {
          method: 'GET',
          headers: bearer(body.access_token),
        });
        expect(protectedAnswer.status).toBe(200);
        expect(JSON.parse(protectedAnswer.text)).toMatchObject({ identity: 'alice', location: 'headers' });
        const again = await call(app.url, '/auth/refresh', { headers: bearer(body.refresh_token) });
        expect(again.status, where('R01 again')).toBe(200);
      });

      it('R02 refresh cookie with its CSRF header: 200, new access and refresh cookies', async () => {
        const pair = await login();
        const answer = await call(app.url, '/auth/refresh', { headers: refreshCookie(pair.refreshToken) });
        expect(answer.status, where(`R02 ${answer.text}`)).toBe(200);
        const body = JSON.parse(answer.text) as {
          refreshed: boolean;
          access_csrf: string;
          refresh_csrf: string;
        };
        expect(body.refreshed).toBe(true);
        const cookies = answer.headers.getSetCookie();
        const names = cookies.map((line) => line.split('=', 1)[0]);
        expect(names).toEqual([
          'access_token_cookie',
          'csrf_access_token',
          'refresh_token_cookie',
          'csrf_refresh_token',
        ]);
        const value = (name: string) =>
          cookies
            .find((line) => line.startsWith(`${name}=`))!
            .split(';')[0]!
            .slice(name.length + 1);
        expect(getCsrfToken(value('access_token_cookie'))).toBe(body.access_csrf);
        expect(value('csrf_access_token')).toBe(body.access_csrf);
        expect(getCsrfToken(value('refresh_token_cookie'))).toBe(body.refresh_csrf);
        const refreshLine = cookies[2]!;
        expect(refreshLine).toContain(profile === 'standard' ? 'Path=/auth/refresh' : 'Path=/');
        expect(refreshLine).toContain('HttpOnly');
        // The new access cookie signs in; the new refresh cookie refreshes again.
        const me = await call(app.url, '/protected', {
          method: 'GET',
          headers: { cookie: `access_token_cookie=${value('access_token_cookie')}` },
        });
        expect(me.status).toBe(200);
        expect(JSON.parse(me.text)).toMatchObject({ identity: 'alice', location: 'cookies' });
        const again = await call(app.url, '/auth/refresh', {
          headers: refreshCookie(value('refresh_token_cookie')),
        });
        expect(again.status, where('R02 again')).toBe(200);
      });

      it('R03 refresh token in the JSON body: 200 with the new pair', async () => {
        const pair = await login();
        const answer = await call(app.url, '/auth/refresh', { json: { refresh_token: pair.refreshToken } });
        expect(answer.status, where(`R03 ${answer.text}`)).toBe(200);
        const body = JSON.parse(answer.text) as { access_token: string; refresh_token: string };
        expect(body.access_token).toMatch(JWT);
        expect(body.refresh_token).toMatch(JWT);
      });

      it('R04 a spent refresh token replayed after the grace window: reuse, and the family is revoked', async () => {
        const pair = await login();
        const first = await call(app.url, '/auth/refresh', { headers: bearer(pair.refreshToken) });
        expect(first.status).toBe(200);
        const successor = (JSON.parse(first.text) as { refresh_token: string }).refresh_token;
        const replay = await call(app.url, '/auth/refresh', { headers: bearer(pair.refreshToken) });
        expectRefusal(replay, profile, REFUSALS.reused![profile], where('R04 replay'));
        // RFC 9700 4.14: the whole family dies, the legitimate successor included.
        const after = await call(app.url, '/auth/refresh', { headers: bearer(successor) });
        expectRefusal(after, profile, REFUSALS.revoked![profile], where('R04 successor'));
      });

      it('R05 after logout: the session refresh token is revoked', async () => {
        const pair = await login();
        const out = await call(app.url, '/auth/logout', { headers: bearer(pair.accessToken) });
        expect(out.status, where(`R05 logout ${out.text}`)).toBe(200);
        const answer = await call(app.url, '/auth/refresh', { headers: bearer(pair.refreshToken) });
        expectRefusal(answer, profile, REFUSALS.revoked![profile], where('R05'));
      });

      it('R06 an access token at the refresh handler: wrong token type', async () => {
        const pair = await login();
        const answer = await call(app.url, '/auth/refresh', { headers: bearer(pair.accessToken) });
        expectRefusal(answer, profile, REFUSALS.wrongType![profile], where('R06'));
      });

      it('R07 no token anywhere: 401 authorization_missing', async () => {
        const answer = await call(app.url, '/auth/refresh');
        expectRefusal(
          answer,
          profile,
          {
            status: 401,
            code: 'authorization_missing',
            msg:
              profile === 'standard'
                ? 'No token was found in the request (looked in: headers, cookies, json)'
                : MISSING_MSG,
            challenge: profile === 'standard' ? 'Bearer' : null,
          },
          where('R07'),
        );
      });

      it('R08 refresh cookie with a wrong CSRF value, or none: the profile CSRF refusal', async () => {
        const pair = await login();
        const other = await login();
        const wrong = await call(app.url, '/auth/refresh', {
          headers: refreshCookie(pair.refreshToken, getCsrfToken(other.refreshToken)),
        });
        expectRefusal(wrong, profile, REFUSALS.csrfMismatch![profile], where('R08 mismatch'));
        const none = await call(app.url, '/auth/refresh', {
          headers: { cookie: `refresh_token_cookie=${pair.refreshToken}` },
        });
        expectRefusal(none, profile, REFUSALS.csrfMissing![profile], where('R08 missing'));
        // The refused token was not spent: it still refreshes.
        const ok = await call(app.url, '/auth/refresh', { headers: refreshCookie(pair.refreshToken) });
        expect(ok.status).toBe(200);
      });

      // The reference app is the guard without an adapter: no hook to bind.
      if (appName !== 'reference') {
        it('R09 the error hook sees the error and the framework request, and replaces the answer', async () => {
          const pair = await login();
          await call(app.url, '/auth/refresh', { headers: bearer(pair.refreshToken) });
          const replay = await call(app.url, '/hooked/refresh', { headers: bearer(pair.refreshToken) });
          const profileAnswer = REFUSALS.reused![profile];
          expect(replay.status).toBe(profileAnswer.status);
          expect(replay.headers.get('x-hooked')).toBe('refresh_token_reused');
          expect(JSON.parse(replay.text)).toEqual({
            hooked: 'refresh_token_reused',
            path: '/hooked/refresh',
          });
          const guarded = await call(app.url, '/hooked/protected', { method: 'GET' });
          expect(guarded.status).toBe(401);
          expect(guarded.headers.get('x-hooked')).toBe('authorization_missing');
          expect(JSON.parse(guarded.text)).toEqual({
            hooked: 'authorization_missing',
            path: '/hooked/protected',
          });
        });
      }
    });
  }
}
