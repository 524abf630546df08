import { createServer } from 'node:http';
import express from 'express';
import express4 from 'express4';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createExpressAuth,
  type ExpressJwtRequest,
  type ExpressRequest,
} from '../../src/adapters/express.js';
import type { JwtContext } from '../../src/http/guard.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { adapterSuite, listenNode, SECRET, testManager, type User } from './scenarios.js';

/** The same app on Express 5 (default) or Express 4: the adapter supports both. */
function buildApp(createApp: () => express.Express = express) {
  const manager = testManager();
  const auth = createExpressAuth(manager);
  const app = createApp();
  const whoami = (req: express.Request, res: express.Response) => {
    res.json({ logged_in_as: auth.getJwtIdentity(req) });
  };
  app.get('/protected', auth.jwtRequired(), whoami);
  app.post('/protected', auth.jwtRequired(), whoami);
  app.get('/optional', auth.jwtRequired({ optional: true }), (req, res) => {
    res.json({ logged_in_as: auth.getJwt(req)?.identity ?? null });
  });
  app.post('/refresh', auth.jwtRequired({ refresh: true }), async (req, res) => {
    res.json({ access_token: await manager.createAccessToken({ identity: auth.getJwtIdentity(req) }) });
  });
  app.post('/json', auth.jwtRequired({ locations: ['json'] }), (req, res) => {
    res.json({ logged_in_as: auth.getJwtIdentity(req), body: req.body });
  });
  app.get('/user', auth.jwtRequired(), (req, res) => {
    res.json({ user: auth.getCurrentUser(req) });
  });
  app.get(
    '/app-cookie',
    (_req, res, next) => {
      res.cookie('app', '1');
      next();
    },
    auth.jwtRequired(),
    whoami,
  );
  app.post('/login/cookies', async (_req, res) => {
    res.cookie('theme', 'dark');
    auth.setAccessCookies(res, await manager.createAccessToken({ identity: 'alice' }));
    auth.setRefreshCookies(res, await manager.createRefreshToken({ identity: 'alice' }));
    res.json({ login: true });
  });
  app.post('/logout', (_req, res) => {
    auth.unsetJwtCookies(res);
    res.json({ logout: true });
  });
  return { app, auth };
}

adapterSuite('express', () => listenNode(createServer(buildApp().app)), { boundedBody: true });
adapterSuite('express 4', () => listenNode(createServer(buildApp(express4).app)), { boundedBody: true });

describe('express adapter specifics', () => {
  it('types getJwt, getCurrentUser and the context', () => {
    const { auth } = buildApp();
    expectTypeOf(auth.getJwt).returns.toEqualTypeOf<JwtContext<User> | null>();
    expectTypeOf(auth.getCurrentUser).returns.toEqualTypeOf<User | undefined>();
    const handler = (req: express.Request) => auth.getJwt(req)?.identity;
    expectTypeOf(handler).returns.toEqualTypeOf<unknown>();
  });

  it('sets req.jwt, typed through ExpressJwtRequest', async () => {
    const manager = testManager();
    const auth = createExpressAuth(manager);
    const app = express();
    app.get('/me', auth.jwtRequired({ optional: true }), (req, res) => {
      const jwt = (req as ExpressJwtRequest<User>).jwt;
      expectTypeOf(jwt).toEqualTypeOf<JwtContext<User> | null | undefined>();
      res.json({ identity: jwt?.identity ?? null, user: jwt?.user ?? null });
    });
    const server = await listenNode(createServer(app));
    try {
      const token = await manager.createAccessToken({ identity: 'frank' });
      const signedIn = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await signedIn.json()).toEqual({ identity: 'frank', user: { name: 'frank' } });
      const anonymous = await fetch(`${server.url}/me`);
      expect(await anonymous.json()).toEqual({ identity: null, user: null });
    } finally {
      await server.close();
    }
  });

  it('throws a clear error when the guard did not run', () => {
    const { auth } = buildApp();
    const req = { headers: {} } as ExpressRequest;
    expect(() => auth.getJwt(req)).toThrow(
      /getJwt\(\) was called on a request that jwtRequired\(\) did not run on/,
    );
  });

  it('uses req.body when express.json() already parsed it', async () => {
    const manager = testManager();
    const auth = createExpressAuth(manager);
    const app = express();
    app.use(express.json());
    app.post('/json', auth.jwtRequired({ locations: ['json'] }), (req, res) => {
      res.json({ logged_in_as: auth.getJwtIdentity(req), body: req.body });
    });
    const server = await listenNode(createServer(app));
    try {
      const token = await manager.createAccessToken({ identity: 'erin' });
      const response = await fetch(`${server.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token }),
      });
      expect(await response.json()).toEqual({ logged_in_as: 'erin', body: { access_token: token } });
    } finally {
      await server.close();
    }
  });

  it('reads a CSRF form field itself and leaves the parsed form for later parsers and handlers', async () => {
    const manager = new TokenManager({
      secret: SECRET,
      tokenLocation: ['cookies'],
      csrf: { checkForm: true },
    });
    const auth = createExpressAuth(manager);
    const app = express();
    app.post('/form', auth.jwtRequired(), express.urlencoded({ extended: false }), (req, res) => {
      res.json({ logged_in_as: auth.getJwtIdentity(req), body: req.body });
    });
    const server = await listenNode(createServer(app));
    try {
      const token = await manager.createAccessToken({ identity: 'frank' });
      const csrf = (await manager.decodeToken(token)).csrf as string;
      const response = await fetch(`${server.url}/form`, {
        method: 'POST',
        headers: { cookie: `access_token_cookie=${token}` },
        body: new URLSearchParams({ csrf_token: csrf, note: 'hi' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        logged_in_as: 'frank',
        body: { csrf_token: csrf, note: 'hi' },
      });
    } finally {
      await server.close();
    }
  });

  for (const [name, createApp] of [
    ['Express 5', express],
    ['Express 4', express4],
  ] as const) {
    it(`${name}: jwtRequired(options, handler) runs the handler with req.jwt; a required route answers an exempt OPTIONS with 204 itself; a rejected handler reaches the error middleware`, async () => {
      const manager = testManager();
      const auth = createExpressAuth(manager);
      const app = createApp();
      let ran = 0;
      app.all(
        '/me',
        auth.jwtRequired({}, (req, res) => {
          ran += 1;
          expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User>>();
          res.json({ identity: req.jwt.identity, user: req.jwt.user, plain: auth.getJwtIdentity(req) });
        }),
      );
      app.all(
        '/maybe',
        auth.jwtRequired({ optional: true }, (req, res) => {
          res.json({ identity: req.jwt?.identity ?? null });
        }),
      );
      app.get(
        '/fails',
        auth.jwtRequired({}, async () => {
          throw new Error('handler failed');
        }),
      );
      app.get(
        '/throws',
        auth.jwtRequired({}, () => {
          throw new Error('handler threw');
        }),
      );
      app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).json({ caught: error.message });
      });
      const server = await listenNode(createServer(app));
      try {
        const bearer = { authorization: `Bearer ${await manager.createAccessToken({ identity: 'frank' })}` };
        const signedIn = await fetch(`${server.url}/me`, { headers: bearer });
        expect(await signedIn.json()).toEqual({ identity: 'frank', user: { name: 'frank' }, plain: 'frank' });
        expect(ran).toBe(1);
        const missing = await fetch(`${server.url}/me`, { method: 'POST' });
        expect(missing.status).toBe(401);
        const preflight = await fetch(`${server.url}/me`, { method: 'OPTIONS' });
        expect(preflight.status).toBe(204);
        expect(await preflight.text()).toBe('');
        expect(ran).toBe(1);
        const optional = await fetch(`${server.url}/maybe`, { method: 'OPTIONS' });
        expect(optional.status).toBe(200);
        expect(await optional.json()).toEqual({ identity: null });
        for (const path of ['/fails', '/throws']) {
          const failed = await fetch(`${server.url}${path}`, { headers: bearer });
          expect(failed.status).toBe(500);
          expect(await failed.json()).toEqual({
            caught: path === '/fails' ? 'handler failed' : 'handler threw',
          });
        }
      } finally {
        await server.close();
      }
    });
  }
});
