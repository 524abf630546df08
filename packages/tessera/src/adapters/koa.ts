/**
 * Koa adapter (Koa 2.15+ and 3). The context is `ctx.state.jwt`, typed through
 * the middleware's state type ({@link JwtState}).
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { createKoaAuth } from 'tessera/koa';
 *
 * const auth = createKoaAuth(manager);
 * const app = new Koa();
 * const protectedRoute = auth.jwtRequired();
 * app.use(async (ctx, next) => (ctx.path === '/protected' ? protectedRoute(ctx, next) : next()));
 * ```
 */
import type Koa from 'koa';
import {
  type CookieCallOptions,
  setAccessCookies,
  setRefreshCookies,
  unsetAccessCookies,
  unsetJwtCookies,
  unsetRefreshCookies,
} from '../http/cookies.js';
import { createGuard, type JwtContext, type JwtRequiredOptions } from '../http/guard.js';
import type { RequestLike } from '../http/request.js';
import type { TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT, readNodeBody } from './body.js';
import { contextStore, requestHeader } from './shared.js';

/**
 * The state a guarded route sees: `ctx.state.jwt`.
 *
 * @example
 * ```ts
 * router.get('/me', auth.jwtRequired(), (ctx: Koa.ParameterizedContext<JwtState<User>>) => {
 *   ctx.body = ctx.state.jwt?.user;
 * });
 * ```
 */
export interface JwtState<TUser = unknown> {
  jwt: JwtContext<TUser> | null;
}

/** Any Koa context (whatever its state), as the helpers accept it. */
export type KoaContext = Koa.ParameterizedContext<unknown>;

/** Options of {@link createKoaAuth}. */
export interface KoaAuthOptions {
  /**
   * The most bytes read from a request body when no body parser ran and the
   * route looks for the token in the JSON body (or a CSRF form field).
   * Larger bodies count as unparsable. Default 1 MiB.
   */
  bodyLimit?: number;
}

/** The Koa bindings of one {@link TokenManager}. */
export interface KoaAuth<TUser> {
  /**
   * Middleware that refuses requests without a valid token and sets `ctx.state.jwt`.
   *
   * @example
   * ```ts
   * router.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): Koa.Middleware<JwtState<TUser>>;
  /**
   * The verified token of this request; null on an optional route without one.
   * Throws when `jwtRequired()` did not run for the request.
   *
   * @example
   * ```ts
   * ctx.body = { logged_in_as: auth.getJwt(ctx)?.identity };
   * ```
   */
  getJwt(ctx: KoaContext): JwtContext<TUser> | null;
  /**
   * Add the access cookie (and its CSRF cookie), keeping cookies already set.
   *
   * @example
   * ```ts
   * auth.setAccessCookies(ctx, accessToken);
   * ```
   */
  setAccessCookies(ctx: KoaContext, token: string, options?: CookieCallOptions): void;
  /**
   * Add the refresh cookie (and its CSRF cookie).
   *
   * @example
   * ```ts
   * auth.setRefreshCookies(ctx, refreshToken);
   * ```
   */
  setRefreshCookies(ctx: KoaContext, token: string, options?: CookieCallOptions): void;
  /**
   * Clear every token cookie (logout).
   *
   * @example
   * ```ts
   * auth.unsetJwtCookies(ctx);
   * ```
   */
  unsetJwtCookies(ctx: KoaContext, options?: { domain?: string }): void;
  /**
   * Clear the access cookies only.
   *
   * @example
   * ```ts
   * auth.unsetAccessCookies(ctx);
   * ```
   */
  unsetAccessCookies(ctx: KoaContext, options?: { domain?: string }): void;
  /**
   * Clear the refresh cookies only.
   *
   * @example
   * ```ts
   * auth.unsetRefreshCookies(ctx);
   * ```
   */
  unsetRefreshCookies(ctx: KoaContext, options?: { domain?: string }): void;
}

/**
 * Bind a {@link TokenManager} to Koa.
 *
 * @example
 * ```ts
 * const auth = createKoaAuth<User>(manager);
 * app.use(auth.jwtRequired());
 * app.use((ctx) => { ctx.body = { logged_in_as: ctx.state.jwt?.identity }; });
 * ```
 */
export function createKoaAuth<TUser>(
  manager: TokenManager<TUser>,
  options: KoaAuthOptions = {},
): KoaAuth<TUser> {
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const contexts = contextStore<TUser>();
  return {
    jwtRequired(routeOptions) {
      const guard = createGuard(manager, routeOptions);
      // Errors that are not Tessera errors propagate to Koa's error handling.
      return async (ctx, next) => {
        const result = await guard(koaRequestLike(ctx, bodyLimit));
        if (!result.ok) {
          const { status, headers, body } = result.response;
          ctx.status = status;
          // Headers first: Koa only guesses a text Content-Type for a body when none is set.
          ctx.set({ ...headers });
          ctx.body = body;
          return;
        }
        contexts.set(ctx, result.jwt);
        ctx.state.jwt = result.jwt;
        appendSetCookie(ctx, result.setCookies);
        await next();
      };
    },
    getJwt: (ctx) => contexts.get(ctx, 'getJwt()'),
    setAccessCookies: (ctx, token, o) => appendSetCookie(ctx, setAccessCookies(config, token, o)),
    setRefreshCookies: (ctx, token, o) => appendSetCookie(ctx, setRefreshCookies(config, token, o)),
    unsetJwtCookies: (ctx, o) => appendSetCookie(ctx, unsetJwtCookies(config, o)),
    unsetAccessCookies: (ctx, o) => appendSetCookie(ctx, unsetAccessCookies(config, o)),
    unsetRefreshCookies: (ctx, o) => appendSetCookie(ctx, unsetRefreshCookies(config, o)),
  };
}

// koa-bodyparser and @koa/bodyparser put the parsed body here; Koa's own types do not declare it.
type RequestWithBody = { body?: unknown };

function koaRequestLike(ctx: KoaContext, bodyLimit: number): RequestLike {
  const request = ctx.request as typeof ctx.request & RequestWithBody;
  let body: Promise<unknown> | undefined;
  return {
    method: ctx.method,
    url: ctx.originalUrl,
    header: (name) => requestHeader(ctx.req, name),
    body() {
      if (request.body !== undefined) return request.body;
      body ??= readNodeBody(ctx.req, ctx.get('content-type') || undefined, bodyLimit).then((parsed) => {
        // Later middleware sees the body as if a parser had run: the stream is spent now.
        if (parsed !== undefined) request.body = parsed;
        return parsed;
      });
      return body;
    },
  };
}

// ctx.append keeps the Set-Cookie values already there.
function appendSetCookie(ctx: KoaContext, values: readonly string[]): void {
  if (values.length > 0) ctx.append('Set-Cookie', [...values]);
}
