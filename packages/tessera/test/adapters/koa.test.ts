import { createServer } from 'node:http';
import Koa from 'koa';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createKoaAuth, type JwtState, type KoaContext, type RouteJwtState } from '../../src/adapters/koa.js';
import type { JwtContext } from '../../src/http/guard.js';
import { adapterSuite, listenNode, testManager, type User } from './scenarios.js';

type Route = (ctx: Koa.ParameterizedContext<JwtState<User>>) => void | Promise<void>;

// The state a required route's middleware hands on (an optional route's and the
// handlers below take a wider one, so they fit the chain too).
type ChainState = RouteJwtState<JwtContext<User>>;

/** A tiny router so the test needs no @koa/router: method + path → middleware chain. */
function route(method: string, path: string, ...chain: Koa.Middleware<ChainState>[]) {
  return (ctx: Koa.ParameterizedContext<ChainState>, next: Koa.Next) => {
    if (ctx.method !== method || ctx.path !== path) return next();
    const run = (i: number): Promise<void> => Promise.resolve(chain[i]?.(ctx, () => run(i + 1)));
    return run(0);
  };
}
const handler =
  (fn: Route): Koa.Middleware<JwtState<User>> =>
  async (ctx) => {
    await fn(ctx);
  };

function buildApp() {
  const manager = testManager();
  const auth = createKoaAuth(manager);
  const app = new Koa<JwtState<User>>();
  app.silent = true;
  const whoami = handler((ctx) => {
    ctx.body = { logged_in_as: ctx.state.jwt?.identity };
  });
  app.use(route('GET', '/protected', auth.jwtRequired(), whoami));
  app.use(route('POST', '/protected', auth.jwtRequired(), whoami));
  app.use(
    route(
      'GET',
      '/optional',
      auth.jwtRequired({ optional: true }),
      handler((ctx) => {
        ctx.body = { logged_in_as: auth.getJwt(ctx)?.identity ?? null };
      }),
    ),
  );
  app.use(
    route(
      'POST',
      '/refresh',
      auth.jwtRequired({ refresh: true }),
      handler(async (ctx) => {
        ctx.body = { access_token: await manager.createAccessToken({ identity: ctx.state.jwt?.identity }) };
      }),
    ),
  );
  app.use(
    route(
      'POST',
      '/json',
      auth.jwtRequired({ locations: ['json'] }),
      handler((ctx) => {
        ctx.body = { logged_in_as: ctx.state.jwt?.identity, body: (ctx.request as { body?: unknown }).body };
      }),
    ),
  );
  app.use(
    route(
      'GET',
      '/user',
      auth.jwtRequired(),
      handler((ctx) => {
        ctx.body = { user: ctx.state.jwt?.user };
      }),
    ),
  );
  app.use(
    route(
      'GET',
      '/app-cookie',
      async (ctx, next) => {
        ctx.cookies.set('app', '1', { httpOnly: false });
        await next();
      },
      auth.jwtRequired(),
      whoami,
    ),
  );
  app.use(
    route(
      'POST',
      '/login/cookies',
      handler(async (ctx) => {
        ctx.cookies.set('theme', 'dark', { httpOnly: false });
        auth.setAccessCookies(ctx, await manager.createAccessToken({ identity: 'alice' }));
        auth.setRefreshCookies(ctx, await manager.createRefreshToken({ identity: 'alice' }));
        ctx.body = { login: true };
      }),
    ),
  );
  app.use(
    route(
      'POST',
      '/logout',
      handler((ctx) => {
        auth.unsetJwtCookies(ctx);
        ctx.body = { logout: true };
      }),
    ),
  );
  return { app, auth };
}

adapterSuite('koa', () => listenNode(createServer(buildApp().app.callback())), { boundedBody: true });

describe('koa adapter specifics', () => {
  it('types ctx.state.jwt and getJwt', () => {
    const { auth } = buildApp();
    expectTypeOf(auth.getJwt).returns.toEqualTypeOf<JwtContext<User> | null>();
    const middleware: Koa.Middleware<JwtState<User>> = (ctx) => {
      expectTypeOf(ctx.state.jwt?.user).toEqualTypeOf<User | undefined>();
    };
    expect(typeof middleware).toBe('function');
  });

  it('throws a clear error when the guard did not run', () => {
    const { auth } = buildApp();
    expect(() => auth.getJwt({} as KoaContext)).toThrow(/jwtRequired\(\) did not run/);
  });
});
