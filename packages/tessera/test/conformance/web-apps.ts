/**
 * The conformance app's routes, answers and callbacks, and its builds on the two
 * Web-standard adapters (Hono, Fetch), from Web-standard parts only: the one
 * definition that apps.ts serves in Node and test/runtimes/conformance-app.ts
 * serves on Bun, Deno, Node 22/24 and workerd. The adapter factories are handed
 * in, so that apps.ts can keep importing each adapter lazily (a broken adapter
 * fails its own suite, loudly, and leaves the others running).
 */
import { Hono } from 'hono';
import type { createFetchAuth } from '../../src/adapters/fetch.js';
import type { createHonoAuth, JwtEnv } from '../../src/adapters/hono.js';
import type { TesseraError } from '../../src/errors.js';
import type { JwtContext, JwtRequiredOptions } from '../../src/http/guard.js';
import type { ResponseData, TokenManagerOptions } from '../../src/manager/options.js';
import type { TokenManager } from '../../src/manager/token-manager.js';
import type { RouteName } from './scenarios.js';

/** What the test user lookup returns. */
export interface TestUser {
  readonly id: unknown;
}

/** The guarded routes and what each requires. */
export const GUARDED_ROUTES: ReadonlyArray<readonly [RouteName, JwtRequiredOptions]> = [
  ['/protected', {}],
  ['/optional', { optional: true }],
  ['/fresh', { fresh: true }],
  ['/refresh', { refresh: true }],
  ['/no-type-check', { verifyType: false }],
  ['/skip-revocation', { skipRevocationCheck: true }],
  ['/headers-only', { locations: ['headers'] }],
  ['/cookies-only', { locations: ['cookies'] }],
];

/** Methods every guarded route answers. */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What a guarded route answers. */
export function routeAnswer(jwt: JwtContext<TestUser> | null | undefined): Record<string, unknown> {
  return { identity: jwt?.identity ?? null, claims: jwt?.payload ?? null, location: jwt?.location ?? null };
}

export const LOGIN_ANSWER = { login: true };
export const LOGOUT_ANSWER = { logout: true };
export const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * The session routes every app also serves: POST /auth/refresh (the adapter's
 * refresh handler), POST /auth/logout (jwtRequired, then manager.logout), and
 * /hooked/refresh and /hooked/protected on a second binding built with
 * {@link hookedAnswer} as its onError hook.
 */
export const LOGOUT_ROUTE = '/auth/logout';

/** The tokens `/login/cookies` sets: a fresh access token and a refresh token for alice. */
export async function loginTokens(
  manager: TokenManager<TestUser>,
): Promise<{ access: string; refresh: string }> {
  const access = await manager.createAccessToken({ identity: 'alice', fresh: true });
  const refresh = await manager.createRefreshToken({ identity: 'alice' });
  return { access, refresh };
}

/**
 * The onError hook of the /hooked routes: a replacement answer naming the error
 * and the path the framework's own request object reports.
 */
export function hookedAnswer(error: TesseraError, path: string, response: ResponseData): ResponseData {
  return {
    status: response.status,
    headers: { ...response.headers, 'x-hooked': error.code },
    body: JSON.stringify({ hooked: error.code, path }),
  };
}

/**
 * The callbacks of every conformance manager: `tokenInBlocklist` answers from
 * `revoked` (the jtis a row revoked), `userLookup` finds no user for the
 * subjects `ghost`, 42 and `{ ghost: true }`, `tokenVerification` refuses a
 * token with `deny: true`.
 */
export function conformanceCallbacks(
  revoked: ReadonlySet<string>,
): NonNullable<TokenManagerOptions<TestUser>['callbacks']> {
  return {
    tokenInBlocklist: (_header, payload) => typeof payload.jti === 'string' && revoked.has(payload.jti),
    userLookup: (_header, payload) => {
      const sub: unknown = payload.sub;
      const ghost = typeof sub === 'object' && sub !== null && (sub as { ghost?: unknown }).ghost === true;
      return sub === 'ghost' || sub === 42 || ghost ? null : { id: sub };
    },
    tokenVerification: (_header, payload) => payload.deny !== true,
  };
}

/** The conformance app on the Hono adapter. */
export function honoConformanceApp(
  manager: TokenManager<TestUser>,
  createAuth: typeof createHonoAuth,
): Hono<JwtEnv<TestUser>> {
  const auth = createAuth(manager);
  const app = new Hono<JwtEnv<TestUser>>();
  for (const [path, options] of GUARDED_ROUTES) {
    app.on([...METHODS], path, auth.jwtRequired(options), (c) => c.json(routeAnswer(c.get('jwt'))));
  }
  app.post('/login/cookies', async (c) => {
    const { access, refresh } = await loginTokens(manager);
    auth.setAccessCookies(c, access);
    auth.setRefreshCookies(c, refresh);
    return c.json(LOGIN_ANSWER);
  });
  app.post('/logout', (c) => {
    auth.unsetJwtCookies(c);
    return c.json(LOGOUT_ANSWER);
  });
  app.post('/auth/refresh', auth.refresh());
  app.post(LOGOUT_ROUTE, auth.jwtRequired(), async (c) => {
    await manager.logout(c.get('jwt')!.payload);
    auth.unsetJwtCookies(c);
    return c.json(LOGOUT_ANSWER);
  });
  const hooked = createAuth(manager, {
    onError: (error, c, response) => hookedAnswer(error, c.req.path, response),
  });
  app.post('/hooked/refresh', hooked.refresh());
  app.get('/hooked/protected', hooked.jwtRequired(), (c) => c.json(routeAnswer(c.get('jwt'))));
  return app;
}

/** The conformance app on the Fetch adapter: one handler, dispatching on the path. */
export function fetchConformanceHandler(
  manager: TokenManager<TestUser>,
  createAuth: typeof createFetchAuth,
): (request: Request) => Promise<Response> {
  const auth = createAuth(manager);
  const handlers = new Map<string, (request: Request) => Promise<Response>>(
    GUARDED_ROUTES.map(([path, options]) => [
      path,
      auth.jwtRequired(options, (_request, jwt) => Response.json(routeAnswer(jwt))),
    ]),
  );
  handlers.set('/login/cookies', async (request) => {
    if (request.method !== 'POST') return new Response('not found', { status: 404 });
    const { access, refresh } = await loginTokens(manager);
    const headers = new Headers(JSON_HEADERS);
    auth.setAccessCookies(headers, access);
    auth.setRefreshCookies(headers, refresh);
    return new Response(JSON.stringify(LOGIN_ANSWER), { status: 200, headers });
  });
  handlers.set('/logout', async (request) => {
    if (request.method !== 'POST') return new Response('not found', { status: 404 });
    const headers = new Headers(JSON_HEADERS);
    auth.unsetJwtCookies(headers);
    return new Response(JSON.stringify(LOGOUT_ANSWER), { status: 200, headers });
  });
  handlers.set('/auth/refresh', auth.refresh());
  handlers.set(
    LOGOUT_ROUTE,
    auth.jwtRequired(undefined, async (_request, jwt) => {
      await manager.logout(jwt!.payload);
      const headers = new Headers(JSON_HEADERS);
      auth.unsetJwtCookies(headers);
      return new Response(JSON.stringify(LOGOUT_ANSWER), { status: 200, headers });
    }),
  );
  const hooked = createAuth(manager, {
    onError: (error, request, response) => hookedAnswer(error, new URL(request.url).pathname, response),
  });
  handlers.set('/hooked/refresh', hooked.refresh());
  handlers.set(
    '/hooked/protected',
    hooked.jwtRequired(undefined, (_request, jwt) => Response.json(routeAnswer(jwt))),
  );
  return async (request) => {
    const handler = handlers.get(new URL(request.url).pathname);
    return handler === undefined ? new Response('not found', { status: 404 }) : handler(request);
  };
}
