/**
 * The HTTP application: middleware (security headers, CORS allowlist, body
 * limit, 405s, request logs) around the route modules, and one error handler
 * that turns every failure into a JSON answer: a 4xx for bad input, 503 when a
 * store is down, never a crash.
 */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { StoreUnavailableError, TesseraError } from 'tessera-auth';
import { errorResponse } from 'tessera-auth/core';
import type { AppEnv, ServiceContext } from './context.js';
import { errorBody, HttpError, requestHeader } from './http.js';
import { adminRoutes } from './routes/admin.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authRoutes } from './routes/auth.js';
import { consoleRoutes } from './routes/console.js';
import { consoleApiRoutes, reuseAuditMiddleware } from './routes/console-api.js';
import { metaRoutes } from './routes/meta.js';
import { oauthRoutes } from './routes/oauth.js';
import { simpleJwtRoutes } from './routes/simplejwt.js';

/** Largest CSV accepted by POST /admin/import. */
const IMPORT_MAX_BYTES = 32 * 1024 * 1024;

/**
 * The body a request announces (RFC 9112 section 6): `chunked` under a
 * Transfer-Encoding, else its Content-Length (an unreadable one counts as
 * larger than any limit), else none.
 */
function announcedLength(c: Context<AppEnv>): number | 'none' | 'chunked' {
  if (requestHeader(c, 'transfer-encoding') !== undefined) return 'chunked';
  const length = requestHeader(c, 'content-length');
  if (length === undefined) return 'none';
  return /^\d{1,15}$/.test(length) ? Number(length) : Number.POSITIVE_INFINITY;
}

/** Counts requests in flight, so shutdown can wait for them. */
export interface InFlight {
  count: number;
}

export function createApp(ctx: ServiceContext, inFlight: InFlight): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const https = ctx.config.publicUrl?.startsWith('https:') ?? false;

  app.use('*', async (c, next) => {
    inFlight.count++;
    const started = performance.now();
    try {
      await next();
    } finally {
      inFlight.count--;
      // Method, path and status only: no query string (tokens may travel there), no header, no body.
      ctx.log.info(
        {
          method: c.req.method,
          path: c.req.path.slice(0, 200),
          status: c.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  });

  app.use('*', async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('x-content-type-options', 'nosniff');
    h.set('x-frame-options', 'DENY');
    h.set('referrer-policy', 'no-referrer');
    h.set('cross-origin-opener-policy', 'same-origin');
    if (!h.has('content-security-policy'))
      h.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    if (https) h.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });

  if (ctx.config.corsOrigins.length > 0) {
    const allowed = new Set(ctx.config.corsOrigins);
    app.use(
      '*',
      cors({
        origin: (origin) => (allowed.has(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
        allowHeaders: ['Authorization', 'Content-Type', 'X-CSRF-TOKEN'],
        credentials: true,
        maxAge: 600,
      }),
    );
  }

  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) => c.json(errorBody('body_too_large', `The body is larger than ${maxSize} bytes`), 413),
    });
  const bodyLimitDefault = limit(ctx.config.maxBodyBytes);
  // User imports are the one large body (CSV of many users; admins only).
  const bodyLimitImport = limit(IMPORT_MAX_BYTES);
  app.use('*', (c, next) => {
    const max = c.req.path === '/admin/import' ? IMPORT_MAX_BYTES : ctx.config.maxBodyBytes;
    // A request without a body, or with its length announced (Node's parser holds the body to it), is
    // judged from its headers: asking hono's bodyLimit would build the full web Request (an
    // AbortController, a stream) on every request, the largest cost of a GET /auth/me after the
    // database. A chunked body is counted as it arrives, by bodyLimit.
    const length = announcedLength(c);
    if (length === 'none') return next();
    if (length !== 'chunked') {
      if (length <= max) return next();
      return Promise.resolve(
        c.json(errorBody('body_too_large', `The body is larger than ${max} bytes`), 413),
      );
    }
    return max === IMPORT_MAX_BYTES ? bodyLimitImport(c, next) : bodyLimitDefault(c, next);
  });
  app.use(
    '*',
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json(errorBody('method_not_allowed', 'Method not allowed'), 405, { allow: methods.join(', ') }),
    }),
  );

  reuseAuditMiddleware(app, ctx);
  metaRoutes(app, ctx);
  authRoutes(app, ctx);
  apiKeyRoutes(app, ctx);
  simpleJwtRoutes(app, ctx);
  oauthRoutes(app, ctx);
  adminRoutes(app, ctx);
  consoleApiRoutes(app, ctx);
  consoleRoutes(app, ctx);

  app.notFound((c) => c.json(errorBody('not_found', 'Not found'), 404));

  app.onError(async (error, c) => {
    if (error instanceof HttpError) {
      return c.json(errorBody(error.code, error.message, error.extra), error.status, error.headers);
    }
    if (error instanceof TesseraError && error.kind !== 'configuration') {
      // A store that cannot be reached (the throttle's, the token store's) is an operator's concern: logged.
      if (error instanceof StoreUnavailableError) {
        const cause = error.cause instanceof Error ? error.cause.message : undefined;
        ctx.log.error(
          { err: { name: error.name, message: error.message, cause }, storeDown: true },
          'store unavailable',
        );
      }
      const answer = await errorResponse(ctx.manager.config, error, c.req.header('accept-language'));
      return c.body(answer.body, answer.status as ContentfulStatusCode, { ...answer.headers });
    }
    // A body that is not what its Content-Type says, read by a library: the client's mistake.
    if (error instanceof SyntaxError)
      return c.json(errorBody('invalid_json', 'The body is not valid JSON'), 400);
    // A driver error while a store is down is the store's, not a bug: 503, as the library's stores answer.
    const storeDown = await ctx.stores.check(1000).then(
      () => false,
      () => true,
    );
    // Name and message only: never a header, a body or a token.
    ctx.log.error({ err: { name: error.name, message: error.message }, storeDown }, 'request failed');
    if (storeDown) {
      return c.json(errorBody('store_unavailable', 'A store cannot be reached; try again later'), 503);
    }
    return c.json(errorBody('internal_error', 'Internal error'), 500);
  });

  return app;
}
