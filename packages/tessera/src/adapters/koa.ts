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
import type { TesseraError } from '../errors.js';
import { createGuard, type GuardResult, type JwtContext, type JwtRequiredOptions } from '../http/guard.js';
import { AuthResponseError } from '../http/http-error.js';
import { createRefreshHandler, type RefreshHandlerOptions } from '../http/refresh.js';
import type { RequestLike } from '../http/request.js';
import { errorResponse } from '../http/responses.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { ResponseData } from '../manager/options.js';
import type { TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT, readNodeBody } from './body.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  bodyParserError,
  type CookieBindings,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  type Refusals,
  refusalError,
  refusals,
  requestHeader,
  tesseraErrorOf,
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
export interface KoaAuthOptions extends AuthErrorOptions<KoaContext> {
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
  /**
   * The refresh endpoint (see the Express adapter's `refresh` for the contract):
   * answers 200 with the new tokens (JSON, plus Set-Cookie in cookie mode), or
   * the profile's refusal.
   *
   * @example
   * ```ts
   * app.use(async (ctx, next) => (ctx.path === '/auth/refresh' ? refresh(ctx, next) : next()));
   * ```
   */
  refresh(options?: RefreshHandlerOptions): Koa.Middleware;
  /**
   * Error middleware, `app.use`d first: answers auth refusals thrown by the
   * routes after it (`errors: 'throw'`), Tessera errors, and bodies a co-body
   * parser (koa-bodyparser) refused, with the profile's answer, and rethrows
   * every other error. Without it, Koa's default handler
   * answers a refusal's status and headers with its message as text.
   *
   * @example
   * ```ts
   * app.use(auth.errorHandler());
   * ```
   */
  errorHandler(): Koa.Middleware;
}

/**
 * Bind a {@link TokenManager} to Koa.
 *
 * @example
 * ```ts
 * // The user type comes from the manager's: auth.getCurrentUser() is a User.
 * const auth = createKoaAuth(new TokenManager<User>({ secret }));
 * app.use(auth.jwtRequired());
 * app.use((ctx) => { ctx.body = { logged_in_as: ctx.state.jwt?.identity }; });
 * ```
 */
export function createKoaAuth<TUser>(
  manager: TokenManager<TUser>,
  options: KoaAuthOptions = {},
): KoaAuth<TUser> {
  refuseUnknownOptions(options, KOA_OPTIONS, 'createKoaAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createKoaAuth');
  const contexts = contextStore<TUser>();
  return {
    jwtRequired(routeOptions) {
      const guard = createGuard(manager, routeOptions);
      const proceed = (
        ctx: Koa.ParameterizedContext<JwtState<TUser>>,
        next: Koa.Next,
        result: GuardResult<TUser>,
      ): Promise<void> => {
        if (!result.ok) return refuse(refusal, ctx, result.error, result.response);
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
    refresh(handlerOptions) {
      const handler = createRefreshHandler(manager, handlerOptions);
      return async (ctx) => {
        const outcome = await handler(koaRequestLike(ctx, bodyLimit));
        if (!outcome.ok) return refuse(refusal, ctx, outcome.error, outcome.response);
        appendSetCookie(ctx, outcome.setCookies);
        respond(ctx, outcome.response);
      };
    },
    errorHandler() {
      return async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          const tessera = tesseraErrorOf(config, error, bodyParserError(error));
          if (tessera === undefined) throw error;
          // A thrown refusal already carries its answer, the app's hook included.
          respond(
            ctx,
            error instanceof AuthResponseError
              ? error.response
              : await refusal.answer(
                  tessera,
                  ctx,
                  await errorResponse(config, tessera, ctx.get('accept-language')),
                ),
          );
        }
      };
    },
    ...jwtAccessors<KoaContext, TUser>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

const KOA_OPTIONS = ['bodyLimit', ...AUTH_ERROR_OPTION_KEYS];

/** Answer a refusal after the app's hook: directly, or thrown for Koa's error handling. */
function refuse(
  refusal: Refusals<KoaContext>,
  ctx: KoaContext,
  error: TesseraError,
  response: ResponseData,
): Promise<void> {
  const settle = (answer: ResponseData): void => {
    // Koa's default handler answers its status, headers and (exposed) message.
    if (refusal.throws) throw refusalError(error, answer);
    respond(ctx, answer);
  };
  const answer = refusal.answer(error, ctx, response);
  if (answer instanceof Promise) return answer.then(settle);
  try {
    settle(answer);
    return Promise.resolve();
  } catch (thrown) {
    return Promise.reject(thrown);
  }
}

function respond(ctx: KoaContext, response: ResponseData): void {
  ctx.status = response.status;
  // Headers first: Koa only guesses a text Content-Type for a body when none is set.
  ctx.set({ ...response.headers });
  ctx.body = response.body;
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
