import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createHonoAuth, type JwtEnv } from '../../src/adapters/hono.js';
import type { JwtContext } from '../../src/http/guard.js';
import { adapterSuite, type Started, testManager, type User } from './scenarios.js';

function buildApp() {
  const manager = testManager();
  const auth = createHonoAuth(manager);
  const app = new Hono();
  const whoami = (c: Context<JwtEnv<User>>) => c.json({ logged_in_as: c.get('jwt')?.identity });
  app.get('/protected', auth.jwtRequired(), whoami);
  app.post('/protected', auth.jwtRequired(), whoami);
  app.get('/optional', auth.jwtRequired({ optional: true }), (c) =>
    c.json({ logged_in_as: auth.getJwt(c)?.identity ?? null }),
  );
  app.post('/refresh', auth.jwtRequired({ refresh: true }), async (c) =>
    c.json({ access_token: await manager.createAccessToken({ identity: c.var.jwt?.identity }) }),
  );
  app.post('/json', auth.jwtRequired({ locations: ['json'] }), async (c) =>
    c.json({ logged_in_as: c.var.jwt?.identity, body: await c.req.json() }),
  );
  app.get('/user', auth.jwtRequired(), (c) => c.json({ user: c.var.jwt?.user }));
  app.get(
    '/app-cookie',
    async (c, next) => {
      setCookie(c, 'app', '1');
      await next();
    },
    auth.jwtRequired(),
    whoami,
  );
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

function start(): Promise<Started> {
  const { app } = buildApp();
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

adapterSuite('hono', start, { boundedBody: true });

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
