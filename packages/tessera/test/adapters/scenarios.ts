/**
 * The behaviour every adapter test app must show, over real HTTP. Each
 * <framework>.test.ts builds the same routes with its framework and runs
 * {@link adapterSuite} against them:
 *
 * - GET/POST /protected        jwtRequired()                          → { logged_in_as }
 * - GET /optional              jwtRequired({ optional: true })        → { logged_in_as: identity ?? null }
 * - POST /refresh              jwtRequired({ refresh: true })         → { access_token }
 * - POST /json                 jwtRequired({ locations: ['json'] })   → { logged_in_as, body } (body re-read by the handler)
 * - GET /user                  jwtRequired()                          → { user: getCurrentUser }
 * - GET /app-cookie            app sets `app=1` before the guard      → { logged_in_as }
 * - POST /login/cookies        app sets `theme=dark`, then access and refresh cookies for 'alice'
 * - POST /logout               unsetJwtCookies
 * The framework's own error handler answers 500 with a body that has no `code`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/manager/token-manager.js';

export const SECRET = 'tessera-adapter-tests-secret-0123456789';

/** The user type the apps' userLookup returns. */
export interface User {
  readonly name: string;
}

/** The manager every adapter test app uses. */
export function testManager(): TokenManager<User> {
  return new TokenManager<User>({
    secret: SECRET,
    tokenLocation: ['headers', 'cookies'],
    // Access tokens live 15 minutes: every cookie request re-issues the cookie,
    // which exercises the adapters' implicit-refresh path.
    cookies: { implicitRefresh: '1h' },
    callbacks: {
      userLookup: (_header, payload) => ({ name: String(payload.sub) }),
      tokenVerification: (_header, payload) => {
        if (payload.sub === 'boom') throw new Error('callback crashed');
        return true;
      },
    },
  });
}

/** A started test server. */
export interface Started {
  readonly url: string;
  close(): Promise<void>;
}

export interface SuiteOptions {
  /** The adapter reads the body itself with the default 1 MiB bound. */
  readonly boundedBody?: boolean;
}

/** Every Set-Cookie value of a response. */
export function setCookies(response: Response): string[] {
  return response.headers.getSetCookie();
}

/** name=value of a Set-Cookie, by cookie name. */
export function cookieValue(response: Response, name: string): string | undefined {
  const line = setCookies(response).find((c) => c.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';', 1)[0];
}

export function adapterSuite(name: string, start: () => Promise<Started>, options: SuiteOptions = {}): void {
  describe(`${name} adapter over HTTP`, () => {
    const manager = testManager();
    let server: Started;
    let url: string;
    const bearer = async (identity = 'alice') => ({
      authorization: `Bearer ${await manager.createAccessToken({ identity })}`,
    });

    beforeAll(async () => {
      server = await start();
      url = server.url;
    });
    afterAll(async () => {
      await server?.close();
    });

    it('answers a protected route with a valid bearer token', async () => {
      const response = await fetch(`${url}/protected`, { headers: await bearer() });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ logged_in_as: 'alice' });
    });

    it('refuses a missing token with 401, {msg, code} and WWW-Authenticate: Bearer', async () => {
      const response = await fetch(`${url}/protected`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        msg: 'No token was found in the request (looked in: headers, cookies)',
        code: 'authorization_missing',
      });
    });

    it('refuses a tampered token with invalid_token', async () => {
      const { authorization } = await bearer();
      const response = await fetch(`${url}/protected`, { headers: { authorization: `${authorization}x` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect((await response.json()).code).toBe('signature_invalid');
    });

    it('lets an optional route through with and without a token', async () => {
      const without = await fetch(`${url}/optional`);
      expect(without.status).toBe(200);
      expect(await without.json()).toEqual({ logged_in_as: null });
      const withToken = await fetch(`${url}/optional`, { headers: await bearer('bob') });
      expect(await withToken.json()).toEqual({ logged_in_as: 'bob' });
      const bad = await fetch(`${url}/optional`, { headers: { authorization: 'Bearer nope' } });
      expect(bad.status).toBe(401);
    });

    it('passes the userLookup result through', async () => {
      const response = await fetch(`${url}/user`, { headers: await bearer('carol') });
      expect(await response.json()).toEqual({ user: { name: 'carol' } });
    });

    it('accepts only refresh tokens on the refresh route', async () => {
      const access = await fetch(`${url}/refresh`, { method: 'POST', headers: await bearer() });
      expect(access.status).toBe(401);
      expect((await access.json()).code).toBe('wrong_token_type');
      const refreshToken = await manager.createRefreshToken({ identity: 'alice' });
      const refreshed = await fetch(`${url}/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${refreshToken}` },
      });
      expect(refreshed.status).toBe(200);
      const { access_token } = (await refreshed.json()) as { access_token: string };
      const again = await fetch(`${url}/protected`, { headers: { authorization: `Bearer ${access_token}` } });
      expect(await again.json()).toEqual({ logged_in_as: 'alice' });
      // A refresh token is not an access token.
      const misuse = await fetch(`${url}/protected`, {
        headers: { authorization: `Bearer ${refreshToken}` },
      });
      expect(misuse.status).toBe(401);
    });

    it('logs in with cookies, keeps app cookies, and enforces CSRF on POST', async () => {
      const login = await fetch(`${url}/login/cookies`, { method: 'POST' });
      expect(login.status).toBe(200);
      const names = setCookies(login).map((c) => c.split('=', 1)[0]);
      expect(names).toEqual([
        'theme',
        'access_token_cookie',
        'csrf_access_token',
        'refresh_token_cookie',
        'csrf_refresh_token',
      ]);
      const access = cookieValue(login, 'access_token_cookie')!;
      const csrf = cookieValue(login, 'csrf_access_token')!;
      expect(setCookies(login).find((c) => c.startsWith('access_token_cookie='))).toMatch(/; HttpOnly/);
      const cookie = `access_token_cookie=${access}; csrf_access_token=${csrf}`;

      const get = await fetch(`${url}/protected`, { headers: { cookie } });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ logged_in_as: 'alice' });

      const post = await fetch(`${url}/protected`, { method: 'POST', headers: { cookie } });
      expect(post.status).toBe(403);
      expect(await post.json()).toEqual({ msg: 'The CSRF token is missing', code: 'csrf_missing' });

      const wrong = await fetch(`${url}/protected`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': 'not-the-value' },
      });
      expect(wrong.status).toBe(403);
      expect((await wrong.json()).code).toBe('csrf_mismatch');

      const ok = await fetch(`${url}/protected`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ logged_in_as: 'alice' });
    });

    it('re-issues the access cookie (implicit refresh) without dropping cookies the app set', async () => {
      const token = await manager.createAccessToken({ identity: 'alice' });
      const response = await fetch(`${url}/app-cookie`, {
        headers: { cookie: `access_token_cookie=${token}` },
      });
      expect(response.status).toBe(200);
      const names = setCookies(response).map((c) => c.split('=', 1)[0]);
      expect(names).toEqual(['app', 'access_token_cookie', 'csrf_access_token']);
      const fresh = cookieValue(response, 'access_token_cookie')!;
      expect((await manager.decodeToken(fresh)).sub).toBe('alice');
    });

    it('clears the token cookies on logout', async () => {
      const response = await fetch(`${url}/logout`, { method: 'POST' });
      expect(response.status).toBe(200);
      const cleared = setCookies(response);
      expect(cleared.map((c) => c.split('=', 1)[0])).toEqual([
        'access_token_cookie',
        'csrf_access_token',
        'refresh_token_cookie',
        'csrf_refresh_token',
      ]);
      for (const c of cleared) expect(c).toMatch(/^[a-z_]+=; Expires=Thu, 01 Jan 1970 00:00:00 GMT;/);
    });

    it('finds the token in a JSON body, and the handler can still read the body', async () => {
      const token = await manager.createAccessToken({ identity: 'dave' });
      const sent = { access_token: token, note: 'hello' };
      const response = await fetch(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sent),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ logged_in_as: 'dave', body: sent });

      const notJson = await fetch(`${url}/json`, { method: 'POST', body: 'x' });
      expect(notJson.status).toBe(401);
      expect((await notJson.json()).msg).toBe(
        'The request body must be JSON (content-type: application/json)',
      );

      const missingKey = await fetch(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ other: 1 }),
      });
      expect(missingKey.status).toBe(401);
      expect((await missingKey.json()).msg).toBe('The JSON body has no access_token field');
    });

    if (options.boundedBody) {
      it('answers a JSON body over 1 MiB with 413 body_too_large, and the connection still works', async () => {
        const token = await manager.createAccessToken({ identity: 'dave' });
        const response = await fetch(`${url}/json`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ access_token: token, pad: 'x'.repeat(1024 * 1024) }),
        });
        expect(response.status).toBe(413);
        expect(await response.json()).toEqual({
          msg: 'The request body is larger than 1048576 bytes',
          code: 'body_too_large',
        });
        // The connection is still usable afterwards.
        const next = await fetch(`${url}/protected`, { headers: await bearer() });
        expect(next.status).toBe(200);
      });
    }

    it("hands a callback's plain Error to the framework's error handling (500, not a Tessera body)", async () => {
      const response = await fetch(`${url}/protected`, { headers: await bearer('boom') });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).not.toContain('"code"');
    });
  });
}

/** Listen on 127.0.0.1, ephemeral port, and describe how to stop. */
export async function listenNode(server: import('node:http').Server): Promise<Started> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
