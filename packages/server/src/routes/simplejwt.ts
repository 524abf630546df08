/**
 * SimpleJWT's endpoints with its request and response shapes, so a client
 * written for djangorestframework-simplejwt works unchanged: `/api/token/`,
 * `/api/token/refresh/`, `/api/token/verify/`, `/api/token/blacklist/`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Hono } from 'hono';
import { createSimpleJwtViews, type RequestLike, type View } from 'tessera-auth';
import { isFormContentType, isJsonContentType } from 'tessera-auth/core';
import type { Origin } from '../accounts.js';
import type { AppEnv, ServiceContext } from '../context.js';
import { NO_STORE, sendResponseData } from '../http.js';
import { TokenSubject } from '../users.js';
import { origin } from './auth.js';

/** A Hono request as the library's neutral request; the body is read once, JSON or urlencoded. */
export function requestLike(c: Context): RequestLike {
  let body: Promise<unknown> | undefined;
  return {
    method: c.req.method,
    url: c.req.url,
    header: (name) => c.req.header(name),
    body: () => {
      body ??= (async () => {
        const type = c.req.header('content-type');
        const text = await c.req.text();
        if (isJsonContentType(type)) return JSON.parse(text) as unknown;
        if (isFormContentType(type)) return Object.fromEntries(new URLSearchParams(text));
        return undefined;
      })();
      return body;
    },
  };
}

export function simpleJwtRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  // The obtain view calls authenticate(username, password) only; the request's origin
  // (address for throttling, device for the audit) travels beside it.
  const requestOrigin = new AsyncLocalStorage<Origin>();
  const views = createSimpleJwtViews(ctx.simpleJwt, {
    authenticate: async (username, password) => {
      const from = requestOrigin.getStore() ?? { address: 'unknown', userAgent: '' };
      const user = await ctx.accounts.authenticate(username, password, from);
      return user === undefined ? null : new TokenSubject(user);
    },
  });
  const routes: [string, View][] = [
    ['/api/token/', views.tokenObtainPair],
    ['/api/token/refresh/', views.tokenRefresh],
    ['/api/token/verify/', views.tokenVerify],
    ['/api/token/blacklist/', views.tokenBlacklist],
  ];
  for (const [path, view] of routes) {
    app.post(path, async (c) => {
      const answer = await requestOrigin.run(origin(c, ctx), () => view(requestLike(c)));
      return sendResponseData(c, { ...answer, headers: { ...answer.headers, ...NO_STORE } });
    });
  }
}
