/**
 * Koa adapter (Koa 2.15+ and 3). The context is `ctx.state.jwt`, typed through
 * the middleware's state type: non-null behind a required route's middleware,
 * `| null` with `optional: true`.
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
import {
  createGuard,
  type GuardResult,
  type JwtContext,
  type JwtRequiredOptions,
  type RouteJwt,
} from '../http/guard.js';
import { createRefreshHandler, type RefreshHandlerOptions } from '../http/refresh.js';
import type { RequestLike } from '../http/request.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { ResponseData } from '../manager/options.js';
import type { NoClaims, TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT, readNodeBody } from './body.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  bodyParserError,
  type CookieBindings,
  caughtResponse,
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
 * The state a guarded route sees: `ctx.state.jwt` (`| null` as on an optional
 * route; the middleware's own state is narrower on a required route).
 *
 * @example
 * ```ts
 * router.get('/me', auth.jwtRequired({ optional: true }), (ctx: Koa.ParameterizedContext<JwtState<User>>) => {
 *   ctx.body = ctx.state.jwt?.user ?? null;
 * });
 * ```
 */
export interface JwtState<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown> {
  jwt: JwtContext<TUser, TClaims, TIdentity> | null;
}

/** The state behind `jwtRequired(options)`: `jwt` as the options make it. */
export interface RouteJwtState<TJwt> {
  jwt: TJwt;
}

/**
 * The middleware `jwtRequired(options)` returns. Composed with `app.use(...)` (or a
 * router), the middleware after it sees `ctx.state.jwt` as the options make it;
 * called by hand from a dispatcher (`guard(ctx, next)`), it takes any context.
 */
export interface KoaJwtMiddleware<TJwt> {
  /** By hand, from any context: the state there is the app's own. */
  (ctx: KoaContext, next: Koa.Next): Promise<void>;
  // Last: TypeScript infers `use`'s new state from the last signature.
  /** As Koa's `use` and routers see it: the state it hands on. */
  (ctx: Koa.ParameterizedContext<RouteJwtState<TJwt>>, next: Koa.Next): Promise<void>;
}

// Options without `optional`: a required route.
// biome-ignore lint/complexity/noBannedTypes: the empty options object, as `jwtRequired()` gets it.
type NoOptions = {};

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
export interface KoaAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>
  extends CookieBindings<KoaContext>,
    JwtAccessors<KoaContext, TUser, TClaims, TIdentity> {
  /**
   * Middleware that refuses requests without a valid token and sets
   * `ctx.state.jwt`: typed non-null on a required route, `| null` with
   * `optional: true`. An `OPTIONS` request the guard lets through without a
   * token (CORS preflights) is answered 204, without a body, on a required route
   * (the middleware after it does not run); on an optional route it runs with
   * `jwt` null.
   *
   * @example
   * ```ts
   * router.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired<const TOptions extends JwtRequiredOptions = NoOptions>(
    options?: TOptions,
  ): KoaJwtMiddleware<RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>>>;
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
 * app.use((ctx) => { ctx.body = { logged_in_as: ctx.state.jwt.identity }; });
 * ```
 */
export function createKoaAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: KoaAuthOptions = {},
): KoaAuth<TUser, TClaims, TIdentity> {
  refuseUnknownOptions(options, KOA_OPTIONS, 'createKoaAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createKoaAuth');
  const contexts = contextStore<TUser, TClaims, TIdentity>();
  type Jwt = JwtContext<TUser, TClaims, TIdentity> | null;
  return {
    // One implementation: the middleware's state is the interface's, from the options' type.
    jwtRequired: ((routeOptions?: JwtRequiredOptions): KoaJwtMiddleware<Jwt> => {
      const guard = createGuard(manager, routeOptions);
      const optional = routeOptions?.optional === true;
      const proceed = (
        ctx: KoaContext,
        next: Koa.Next,
        result: GuardResult<TUser, TClaims, TIdentity>,
      ): Promise<void> => {
        if (!result.ok) return refuse(refusal, ctx, result.error, result.response);
        // The guard's OPTIONS exemption: the middleware after a required route's never sees a null context.
        if (result.jwt === null && !optional) {
          ctx.status = 204;
          return Promise.resolve();
        }
        contexts.set(ctx, result.jwt);
        (ctx.state as RouteJwtState<Jwt>).jwt = result.jwt;
        appendSetCookie(ctx, result.setCookies);
        return next();
      };
      // Not an async function: when the guard answers synchronously (most requests)
      // the middleware hands on next()'s promise instead of wrapping it in another.
      // Errors that are not Tessera errors reject, and reach Koa's error handling.
      return (ctx: KoaContext, next: Koa.Next) => {
        const outcome = guard(koaRequestLike(ctx, bodyLimit));
        if (outcome instanceof Promise) return outcome.then((result) => proceed(ctx, next, result));
        return proceed(ctx, next, outcome);
      };
    }) as KoaAuth<TUser, TClaims, TIdentity>['jwtRequired'],
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
          respond(
            ctx,
            await caughtResponse(config, refusal, error, tessera, ctx, ctx.get('accept-language')),
          );
        }
      };
    },
    ...jwtAccessors<KoaContext, TUser, TClaims, TIdentity>(contexts),
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
