/**
 * The conformance apps of test/conformance/apps.ts on the Hono and Fetch
 * adapters, built from Web-standard parts only, for Bun, Deno and workerd. One
 * handler serves many apps: the first path segment names the app (adapter ×
 * profile × row config) and is cut off before the app sees the request, so
 * every app answers at the routes the table names. `POST /__revoked` hands the
 * jtis the Node side put in its blocklist to the tokenInBlocklist callback.
 */
import { Hono } from 'hono';
import { type JwtContext, type JwtRequiredOptions, type TesseraError, TokenManager } from 'tessera-auth/core';
import { createFetchAuth } from 'tessera-auth/fetch';
import { createHonoAuth, type JwtEnv } from 'tessera-auth/hono';
import type { ConfigOverrides, Profile, RouteName } from '../conformance/scenarios.js';

/** One app: which adapter, under which profile and row config. */
export interface ConformanceAppSpec {
  readonly id: string;
  readonly adapter: 'hono' | 'fetch';
  readonly profile: Profile;
  readonly config: ConfigOverrides;
}

export interface ConformanceServerConfig {
  readonly secret: string;
  readonly now: number;
  readonly apps: readonly ConformanceAppSpec[];
}

interface TestUser {
  readonly id: unknown;
}

type Handler = (request: Request) => Promise<Response>;

// The same routes, answers and callbacks as test/conformance/apps.ts and driver.ts.
const GUARDED_ROUTES: ReadonlyArray<readonly [RouteName, JwtRequiredOptions]> = [
  ['/protected', {}],
  ['/optional', { optional: true }],
  ['/fresh', { fresh: true }],
  ['/refresh', { refresh: true }],
  ['/no-type-check', { verifyType: false }],
  ['/skip-revocation', { skipRevocationCheck: true }],
  ['/headers-only', { locations: ['headers'] }],
  ['/cookies-only', { locations: ['cookies'] }],
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const LOGIN_ANSWER = { login: true };
const LOGOUT_ANSWER = { logout: true };
const LOGOUT_ROUTE = '/auth/logout';
const JSON_HEADERS = { 'content-type': 'application/json' };

function routeAnswer(jwt: JwtContext<TestUser> | null | undefined): Record<string, unknown> {
  return { identity: jwt?.identity ?? null, claims: jwt?.payload ?? null, location: jwt?.location ?? null };
}

function hookedAnswer(
  error: TesseraError,
  path: string,
  response: { status: number; headers: Readonly<Record<string, string | readonly string[]>> },
) {
  return {
    status: response.status,
    headers: { ...response.headers, 'x-hooked': error.code },
    body: JSON.stringify({ hooked: error.code, path }),
  };
}

function buildManager(
  config: ConformanceServerConfig,
  app: ConformanceAppSpec,
  revoked: ReadonlySet<string>,
): TokenManager<TestUser> {
  return new TokenManager<TestUser>({
    ...app.config,
    profile: app.profile,
    secret: config.secret,
    now: () => config.now,
    callbacks: {
      tokenInBlocklist: (_header, payload) => typeof payload.jti === 'string' && revoked.has(payload.jti),
      userLookup: (_header, payload) => {
        const sub: unknown = payload.sub;
        const ghost = typeof sub === 'object' && sub !== null && (sub as { ghost?: unknown }).ghost === true;
        return sub === 'ghost' || sub === 42 || ghost ? null : { id: sub };
      },
      tokenVerification: (_header, payload) => payload.deny !== true,
    },
  });
}

async function loginTokens(manager: TokenManager<TestUser>): Promise<{ access: string; refresh: string }> {
  const access = await manager.createAccessToken({ identity: 'alice', fresh: true });
  const refresh = await manager.createRefreshToken({ identity: 'alice' });
  return { access, refresh };
}

function honoApp(manager: TokenManager<TestUser>): Handler {
  const auth = createHonoAuth(manager);
  const app = new Hono<JwtEnv<TestUser>>();
  for (const [path, options] of GUARDED_ROUTES) {
    app.on(METHODS, path, auth.jwtRequired(options), (c) => c.json(routeAnswer(c.get('jwt'))));
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
  const hooked = createHonoAuth(manager, {
    onError: (error, c, response) => hookedAnswer(error, c.req.path, response),
  });
  app.post('/hooked/refresh', hooked.refresh());
  app.get('/hooked/protected', hooked.jwtRequired(), (c) => c.json(routeAnswer(c.get('jwt'))));
  return async (request) => app.fetch(request);
}

function fetchApp(manager: TokenManager<TestUser>): Handler {
  const auth = createFetchAuth(manager);
  const handlers = new Map<string, Handler>(
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
  const hooked = createFetchAuth(manager, {
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

/** The one handler serving every app of `config` under `/<app id>`. */
export function conformanceServer(config: ConformanceServerConfig): Handler {
  const revoked = new Set<string>();
  const apps = new Map<string, Handler>();
  for (const spec of config.apps) {
    const manager = buildManager(config, spec, revoked);
    apps.set(spec.id, spec.adapter === 'hono' ? honoApp(manager) : fetchApp(manager));
  }
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/__revoked' && request.method === 'POST') {
      for (const jti of (await request.json()) as string[]) revoked.add(jti);
      return new Response(null, { status: 204 });
    }
    const slash = url.pathname.indexOf('/', 1);
    const id = url.pathname.slice(1, slash === -1 ? undefined : slash);
    const app = apps.get(id);
    if (app === undefined) return new Response('no such app', { status: 404 });
    url.pathname = slash === -1 ? '/' : url.pathname.slice(slash);
    return app(new Request(url, request));
  };
}
