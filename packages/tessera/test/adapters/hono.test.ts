import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createHonoAuth, type JwtEnv } from '../../src/adapters/hono.js';
import type { JwtContext } from '../../src/http/guard.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { adapterSuite, SECRET, type Started, testManager, type User } from './scenarios.js';

/**
 * The scenario app, its routes guarded by the middleware in front of the handler or
 * by `auth.jwtRequired(options, handler)`: both forms must answer every scenario alike.
 */
function buildApp(form: 'middleware' | 'handler' = 'middleware') {
  const manager = testManager();
  const auth = createHonoAuth(manager);
  const app = new Hono();
  const whoami = (c: Context<JwtEnv<User>>) => c.json({ logged_in_as: c.get('jwt')?.identity });
  const refresh = async (c: Context<JwtEnv<User>>) =>
    c.json({ access_token: await manager.createAccessToken({ identity: c.var.jwt?.identity }) });
  const json = async (c: Context<JwtEnv<User>>) =>
    c.json({ logged_in_as: c.var.jwt?.identity, body: await c.req.json() });
  const optional = (c: Context) => c.json({ logged_in_as: auth.getJwt(c)?.identity ?? null });
  const user = (c: Context<JwtEnv<User>>) => c.json({ user: c.var.jwt?.user });
  const appCookie: MiddlewareHandler = async (c, next) => {
    setCookie(c, 'app', '1');
    await next();
  };
  if (form === 'middleware') {
    app.get('/protected', auth.jwtRequired(), whoami);
    app.post('/protected', auth.jwtRequired(), whoami);
    app.get('/optional', auth.jwtRequired({ optional: true }), optional);
    app.post('/refresh', auth.jwtRequired({ refresh: true }), refresh);
    app.post('/json', auth.jwtRequired({ locations: ['json'] }), json);
    app.get('/user', auth.jwtRequired(), user);
    app.get('/app-cookie', appCookie, auth.jwtRequired(), whoami);
  } else {
    app.get('/protected', auth.jwtRequired({}, whoami));
    app.post('/protected', auth.jwtRequired({}, whoami));
    app.get('/optional', auth.jwtRequired({ optional: true }, optional));
    app.post('/refresh', auth.jwtRequired({ refresh: true }, refresh));
    app.post('/json', auth.jwtRequired({ locations: ['json'] }, json));
    app.get('/user', auth.jwtRequired({}, user));
    app.get('/app-cookie', appCookie, auth.jwtRequired({}, whoami));
  }
  app.post('/login/cookies', async (c) => {
    setCookie(c, 'theme', 'dark');
    auth.setAccessCookies(c, await manager.createAccessToken({ identity: 'alice' }));
    auth.setRefreshCookies(c, await manager.createRefreshToken({ identity: 'alice' }));
    return c.json({ login: true });
  });
  app.post('/logout', (c) => {
    auth.unsetJwtCookies(c);
    return c.json({ logout: true });
  });
  app.onError((_error, c) => c.text('Internal Server Error', 500));
  return { app, auth, manager };
}

function start(form: 'middleware' | 'handler' = 'middleware'): Promise<Started> {
  const { app } = buildApp(form);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as Server).closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

adapterSuite('hono', () => start('middleware'), { boundedBody: true });
adapterSuite('hono (jwtRequired(options, handler))', () => start('handler'), { boundedBody: true });

describe('hono adapter specifics', () => {
  it('types the jwt variable and getJwt', () => {
    const { auth } = buildApp();
    expectTypeOf(auth.getJwt).returns.toEqualTypeOf<JwtContext<User> | null>();
    const app = new Hono();
    app.get('/typed', auth.jwtRequired(), (c) => {
      expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User>>();
      expectTypeOf(c.var.jwt.user).toEqualTypeOf<User>();
      return c.text('ok');
    });
    app.get('/typed-optional', auth.jwtRequired({ optional: true }), (c) => {
      expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User> | null>();
      expectTypeOf(c.var.jwt?.user).toEqualTypeOf<User | undefined>();
      return c.text('ok');
    });
  });

  it('works with app.request() (no server)', async () => {
    const { app, manager } = buildApp();
    const token = await manager.createAccessToken({ identity: 'alice' });
    const ok = await app.request('/protected', { headers: { authorization: `Bearer ${token}` } });
    expect(await ok.json()).toEqual({ logged_in_as: 'alice' });
    const missing = await app.request('/protected');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('adds implicit-refresh cookies to a bare Response returned by the handler', async () => {
    const manager = testManager();
    const auth = createHonoAuth(manager);
    const app = new Hono();
    app.get('/bare', auth.jwtRequired(), () => new Response('ok', { headers: { 'set-cookie': 'own=1' } }));
    const token = await manager.createAccessToken({ identity: 'alice' });
    const response = await app.request('/bare', { headers: { cookie: `access_token_cookie=${token}` } });
    expect(await response.text()).toBe('ok');
    expect(response.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual([
      'own',
      'access_token_cookie',
      'csrf_access_token',
    ]);
  });

  it('keeps cookies the app set before the guard on a refusal', async () => {
    const manager = testManager();
    const auth = createHonoAuth(manager);
    const app = new Hono();
    app.use(async (c, next) => {
      deleteCookie(c, 'old');
      await next();
    });
    app.get('/p', auth.jwtRequired(), (c) => c.text('ok'));
    const response = await app.request('/p');
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual(['old']);
  });

  it('jwtRequired(options, handler): typed jwt, OPTIONS, implicit-refresh cookies, errors to onError', async () => {
    const manager = testManager();
    const auth = createHonoAuth(manager);
    const app = new Hono();
    let ran = 0;
    app.all(
      '/me',
      auth.jwtRequired({}, (c) => {
        ran += 1;
        expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User>>();
        return c.json({ identity: c.get('jwt').identity, user: c.var.jwt.user });
      }),
    );
    app.all(
      '/maybe',
      auth.jwtRequired({ optional: true }, (c) => {
        expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User> | null>();
        return c.json({ identity: c.get('jwt')?.identity ?? null });
      }),
    );
    app.get(
      '/bare',
      auth.jwtRequired({}, () => new Response('ok', { headers: { 'set-cookie': 'own=1' } })),
    );
    app.get(
      '/later',
      auth.jwtRequired({}, async (c) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return c.text('later');
      }),
    );
    app.get(
      '/throws',
      auth.jwtRequired({}, () => {
        throw new Error('handler threw');
      }),
    );
    app.get(
      '/rejects',
      auth.jwtRequired({}, async () => {
        throw new Error('handler rejected');
      }),
    );
    const middleware = auth.jwtRequired();
    const returned: unknown[] = [];
    app.all('/by-hand', (c, next) => {
      const answer = middleware(c, next);
      returned.push(answer);
      return answer;
    });
    app.onError((error, c) => c.json({ caught: error.message }, 500));
    const token = await manager.createAccessToken({ identity: 'frank' });
    const bearer = { authorization: `Bearer ${token}` };

    const me = await app.request('/me', { headers: bearer });
    expect(await me.json()).toEqual({ identity: 'frank', user: { name: 'frank' } });
    expect(ran).toBe(1);
    const missing = await app.request('/me', { method: 'POST' });
    expect(missing.status).toBe(401);
    const preflight = await app.request('/me', { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(await preflight.text()).toBe('');
    expect(ran).toBe(1);
    expect(await (await app.request('/maybe', { method: 'OPTIONS' })).json()).toEqual({ identity: null });
    // The middleware form called by hand keeps its promise on every path, the preflight's too.
    expect((await app.request('/by-hand', { method: 'OPTIONS' })).status).toBe(204);
    expect((await app.request('/by-hand')).status).toBe(401);
    expect(returned).toHaveLength(2);
    for (const answer of returned) expect(answer).toBeInstanceOf(Promise);

    // A cookie token near expiry gets new cookies, on a bare Response and on a late one.
    const cookie = { cookie: `access_token_cookie=${token}` };
    const bare = await app.request('/bare', { headers: cookie });
    expect(await bare.text()).toBe('ok');
    expect(bare.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual([
      'own',
      'access_token_cookie',
      'csrf_access_token',
    ]);
    const later = await app.request('/later', { headers: cookie });
    expect(await later.text()).toBe('later');
    expect(later.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual([
      'access_token_cookie',
      'csrf_access_token',
    ]);

    expect(await (await app.request('/throws', { headers: bearer })).json()).toEqual({
      caught: 'handler threw',
    });
    expect(await (await app.request('/rejects', { headers: bearer })).json()).toEqual({
      caught: 'handler rejected',
    });
  });

  it('jwtRequired(options, handler) answers without a promise when the guard and the handler are synchronous', async () => {
    // What the form is for: Hono hands a single handler's Response straight back. (A
    // manager with no callback, store or remote keys verifies synchronously.)
    const manager = new TokenManager({ secret: SECRET });
    const auth = createHonoAuth(manager);
    const app = new Hono();
    const whoami = (c: Context<JwtEnv>) => c.json({ logged_in_as: c.get('jwt')?.identity });
    app.get('/handler', auth.jwtRequired({}, whoami));
    app.get('/middleware', auth.jwtRequired(), whoami);
    const token = await manager.createAccessToken({ identity: 'alice' });
    const request = (path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
      app.fetch(new Request(`http://local${path}`, { headers }));
    const answer = request('/handler');
    expect(answer).toBeInstanceOf(Response);
    expect(await (answer as Response).json()).toEqual({ logged_in_as: 'alice' });
    expect((await request('/handler', {})).status).toBe(401);
    // The middleware form goes through Hono's chain: a promise.
    const chained = request('/middleware');
    expect(chained).toBeInstanceOf(Promise);
    expect(await (await chained).json()).toEqual({ logged_in_as: 'alice' });
  });

  it('throws a clear error when the guard did not run', async () => {
    const { auth } = buildApp();
    const app = new Hono();
    let message = '';
    app.get('/x', (c) => {
      try {
        auth.getJwt(c);
      } catch (error) {
        message = (error as Error).message;
      }
      return c.text('ok');
    });
    await app.request('/x');
    expect(message).toMatch(/jwtRequired\(\) did not run/);
  });
});
