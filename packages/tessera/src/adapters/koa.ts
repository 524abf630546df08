/**
 * Koa adapter (Koa 2.15+ and 3). The context is `ctx.state.jwt`, typed through
 * the middleware's state type ({@link JwtState}).
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { createKoaAuth } from 'tessera-auth/koa';
 *
 * const auth = createKoaAuth(manager);
 * const app = new Koa();
 * const protectedRoute = auth.jwtRequired();
 * app.use(async (ctx, next) => (ctx.path === '/protected' ? protectedRoute(ctx, next) : next()));
 * ```
 */
import type Koa from 'koa';
import { createGuard, type GuardResult, type JwtContext, type JwtRequiredOptions } from '../http/guard.js';
import type { RequestLike } from '../http/request.js';
import type { TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT, readNodeBody } from './body.js';
import {
  type CookieBindings,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  requestHeader,
} from './shared.js';

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
export interface KoaAuth<TUser> extends CookieBindings<KoaContext>, JwtAccessors<KoaContext, TUser> {
  /**
   * Middleware that refuses requests without a valid token and sets `ctx.state.jwt`.
   *
   * @example
   * ```ts
   * router.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): Koa.Middleware<JwtState<TUser>>;
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
      const proceed = (
        ctx: Koa.ParameterizedContext<JwtState<TUser>>,
        next: Koa.Next,
        result: GuardResult<TUser>,
      ): Promise<void> => {
        if (!result.ok) {
          const { status, headers, body } = result.response;
          ctx.status = status;
          // Headers first: Koa only guesses a text Content-Type for a body when none is set.
          ctx.set({ ...headers });
          ctx.body = body;
          return Promise.resolve();
        }
        contexts.set(ctx, result.jwt);
        ctx.state.jwt = result.jwt;
        appendSetCookie(ctx, result.setCookies);
        return next();
      };
      // Not an async function: when the guard answers synchronously (most requests)
      // the middleware hands on next()'s promise instead of wrapping it in another.
      // Errors that are not Tessera errors reject, and reach Koa's error handling.
      return (ctx, next) => {
        const outcome = guard(koaRequestLike(ctx, bodyLimit));
        if (outcome instanceof Promise) return outcome.then((result) => proceed(ctx, next, result));
        return proceed(ctx, next, outcome);
      };
    },
    ...jwtAccessors<KoaContext, TUser>(contexts),
    ...cookieBindings(config, appendSetCookie),
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
