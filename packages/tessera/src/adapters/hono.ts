/**
 * Hono adapter (Hono 4, any runtime: @hono/node-server, Bun, Deno, Workers,
 * `app.request()`). The context is the Hono variable `jwt`, typed through the
 * middleware's env, so `c.get('jwt')` is typed in the handlers after it:
 * non-null on a required route, `| null` with `optional: true`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createHonoAuth } from 'tessera-auth/hono';
 *
 * const auth = createHonoAuth(manager);
 * const app = new Hono();
 * app.get('/protected', auth.jwtRequired(), (c) => c.json({ logged_in_as: c.get('jwt').identity }));
 * ```
 */
import type { Context, ErrorHandler, Handler, MiddlewareHandler, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BodyInvalidError, BodyTooLargeError, type TesseraError } from '../errors.js';
import {
  createGuard,
  type GuardResult,
  type JwtContext,
  type JwtRequiredOptions,
  type RouteJwt,
} from '../http/guard.js';
import { createRefreshHandler, type RefreshHandlerOptions } from '../http/refresh.js';
import { isFormContentType, isJsonContentType, type RequestLike } from '../http/request.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { ResponseData } from '../manager/options.js';
import type { NoClaims, TokenManager } from '../manager/token-manager.js';
import { announcedTooLarge, DEFAULT_BODY_LIMIT, parsableContentType, readWebBody } from './body.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  type CookieBindings,
  caughtResponse,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  type NodeHeaderSource,
  type Refusals,
  refusals,
  requestHeader,
  tesseraErrorOf,
} from './shared.js';

/** Options of {@link createHonoAuth}. */
export interface HonoAuthOptions extends AuthErrorOptions<Context> {
  /**
   * The most bytes read from a request body when the route looks for the token
   * in the JSON body (or a CSRF form field); larger bodies answer 413. Default 1 MiB.
   */
  bodyLimit?: number;
}

/**
 * The Hono env a guarded route sees: `c.get('jwt')` / `c.var.jwt`, `| null` as on
 * an optional route (the middleware's own env is narrower on a required route).
 *
 * @example
 * ```ts
 * const app = new Hono<JwtEnv<User>>();
 * ```
 */
export interface JwtEnv<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown> {
  Variables: { jwt: JwtContext<TUser, TClaims, TIdentity> | null };
}

/** The env of a route behind `jwtRequired(options)`: `jwt` as the options make it. */
export interface RouteJwtEnv<TJwt> {
  Variables: { jwt: TJwt };
}

/**
 * The middleware `jwtRequired(options)` returns. On a route or a group, the
 * handlers after it see `c.get('jwt')` as the options make it; called by hand
 * from another middleware (`guard(c, next)`), it takes any context.
 */
export interface HonoJwtMiddleware<TJwt> {
  /** By hand, from any context: the variables there are the app's own. */
  (c: Context, next: Next): ReturnType<MiddlewareHandler>;
  // Last: TypeScript infers the route's env from the last signature.
  /** As Hono's routing sees it: the env it hands on. */
  (c: Context<RouteJwtEnv<TJwt>, string>, next: Next): ReturnType<MiddlewareHandler>;
}

/** The handler `jwtRequired(options, handler)` runs: it sees `c.get('jwt')` typed as the options make it. */
export type JwtHandler<
  TJwt,
  TResponse extends Response | Promise<Response> = Response | Promise<Response>,
> = (c: Context<RouteJwtEnv<TJwt>, string>, next: Next) => TResponse;

/** Options without `optional`: a required route. */
// biome-ignore lint/complexity/noBannedTypes: the empty options object, as `jwtRequired()` gets it.
type NoOptions = {};

/** The Hono bindings of one {@link TokenManager}. */
export interface HonoAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>
  extends CookieBindings<Context>,
    JwtAccessors<Context, TUser, TClaims, TIdentity> {
  /**
   * Middleware that refuses requests without a valid token and sets `c.var.jwt`:
   * typed non-null on a required route, `| null` with `optional: true`. An
   * `OPTIONS` request the guard lets through without a token (CORS preflights) is
   * answered 204, without a body, on a required route (the handlers after the
   * middleware do not run); on an optional route they run with `jwt` null.
   *
   * @example
   * ```ts
   * app.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired<const TOptions extends JwtRequiredOptions = NoOptions>(
    options?: TOptions,
  ): HonoJwtMiddleware<RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>>>;
  /**
   * A route's handler behind the guard, in one handler: the checks and answers of
   * the middleware form, then `handler` with `c.get('jwt')` typed as the options
   * make it (the Express adapter's `jwtRequired(options, handler)`). Hono answers a
   * route of a single handler without its middleware chain (no `compose`, and no
   * promise when the guard and the handler answer synchronously), so this costs
   * less per request than the middleware in front of the same handler; middleware
   * the app adds before it still runs. An exempt `OPTIONS` request (CORS
   * preflights) is answered 204 on a required route without running `handler`.
   *
   * @example
   * ```ts
   * app.get('/me', auth.jwtRequired({}, (c) => c.json({ user: c.get('jwt').user })));
   * ```
   */
  jwtRequired<const TOptions extends JwtRequiredOptions, TResponse extends Response | Promise<Response>>(
    options: TOptions,
    handler: JwtHandler<RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>>, TResponse>,
  ): Handler;
  /** The handler form with a handler written for the app's {@link JwtEnv} (`jwt` typed `| null`). */
  jwtRequired<TResponse extends Response | Promise<Response>>(
    options: JwtRequiredOptions,
    handler: (c: Context<JwtEnv<TUser, TClaims, TIdentity>, string>, next: Next) => TResponse,
  ): Handler;
  /**
   * The refresh endpoint (see the Express adapter's `refresh` for the contract):
   * answers 200 with the new tokens (JSON, plus Set-Cookie in cookie mode), or
   * the profile's refusal.
   *
   * @example
   * ```ts
   * app.post('/auth/refresh', auth.refresh());
   * ```
   */
  refresh(options?: RefreshHandlerOptions): Handler;
  /**
   * An `app.onError` handler: answers auth refusals (`errors: 'throw'`: an
   * `HTTPException` carrying the answer, its `cause` the Tessera error) and
   * Tessera errors with the profile's answer; any other `HTTPException` with its
   * own response; anything else as Hono's default does (logged, bare 500).
   *
   * @example
   * ```ts
   * app.onError(auth.errorHandler);
   * ```
   */
  errorHandler: ErrorHandler;
}

/**
 * Bind a {@link TokenManager} to Hono.
 *
 * @example
 * ```ts
 * // The user type comes from the manager's: auth.getCurrentUser() is a User.
 * const auth = createHonoAuth(new TokenManager<User>({ secret }));
 * app.get('/me', auth.jwtRequired(), (c) => c.json(c.get('jwt')?.user ?? null));
 * ```
 */
export function createHonoAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: HonoAuthOptions = {},
): HonoAuth<TUser, TClaims, TIdentity> {
  refuseUnknownOptions(options, HONO_OPTIONS, 'createHonoAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createHonoAuth');
  const contexts = contextStore<TUser, TClaims, TIdentity>();
  type Jwt = JwtContext<TUser, TClaims, TIdentity> | null;
  return {
    // One implementation behind every overload: the env and the handler's types are
    // the interface's, from the options' type.
    jwtRequired: ((
      routeOptions?: JwtRequiredOptions,
      handler?: JwtHandler<Jwt>,
    ): HonoJwtMiddleware<Jwt> | Handler => {
      const guard = createGuard(manager, routeOptions);
      const optional = routeOptions?.optional === true;
      const proceed = (
        c: Context<RouteJwtEnv<Jwt>>,
        next: Next,
        result: GuardResult<TUser, TClaims, TIdentity>,
      ): ReturnType<MiddlewareHandler> | Response => {
        if (!result.ok) return refuse(refusal, c, result.error, result.response);
        // The guard's OPTIONS exemption: a required route's handlers never see a null context.
        // The middleware's own type promises a promise (it can be called by hand).
        if (result.jwt === null && !optional)
          return handler === undefined ? Promise.resolve(c.body(null, 204)) : c.body(null, 204);
        contexts.set(c, result.jwt);
        c.set('jwt', result.jwt);
        const { setCookies } = result;
        if (handler !== undefined) {
          const answer = handler(c, next);
          if (setCookies.length === 0) return answer;
          return answer instanceof Promise
            ? answer.then((response) => withSetCookie(c, response, setCookies))
            : withSetCookie(c, answer, setCookies);
        }
        if (setCookies.length === 0) return next();
        // After next(): a handler that returns a bare Response would drop headers prepared before it.
        return next().then(() => appendSetCookie(c, setCookies));
      };
      // Not an async function: when the guard answers synchronously (most requests)
      // the middleware hands on next()'s promise instead of wrapping it in another,
      // and the handler form answers with the handler's own result.
      // Errors that are not Tessera errors reject, and reach app.onError.
      return (c: Context<RouteJwtEnv<Jwt>>, next: Next) => {
        const outcome = guard(honoRequestLike(c, bodyLimit));
        if (outcome instanceof Promise) return outcome.then((result) => proceed(c, next, result));
        return proceed(c, next, outcome);
      };
    }) as HonoAuth<TUser, TClaims, TIdentity>['jwtRequired'],
    refresh(handlerOptions) {
      const handler = createRefreshHandler(manager, handlerOptions);
      return async (c) => {
        const outcome = await handler(honoRequestLike(c, bodyLimit));
        if (!outcome.ok) return refuse(refusal, c, outcome.error, outcome.response);
        appendSetCookie(c, outcome.setCookies);
        return respond(c, outcome.response);
      };
    },
    errorHandler: async (error, c) => {
      if (error instanceof HTTPException) return error.getResponse();
      const tessera = tesseraErrorOf(config, error, { parseFailed: false, tooLarge: undefined });
      if (tessera === undefined) {
        // Hono's own default for an error that is not an HTTPException.
        console.error(error);
        return c.text('Internal Server Error', 500);
      }
      return respond(
        c,
        await caughtResponse(config, refusal, error, tessera, c, c.req.header('accept-language')),
      );
    },
    ...jwtAccessors<Context, TUser, TClaims, TIdentity>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

const HONO_OPTIONS = ['bodyLimit', ...AUTH_ERROR_OPTION_KEYS];

/** Answer a refusal after the app's hook: directly, or as an HTTPException for app.onError. */
async function refuse(
  refusal: Refusals<Context>,
  c: Context,
  error: TesseraError,
  response: ResponseData,
): Promise<Response> {
  const answer = await refusal.answer(error, c, response);
  if (refusal.throws) {
    const res = new Response(answer.body, { status: answer.status, headers: answer.headers });
    throw new HTTPException(answer.status as ContentfulStatusCode, {
      res,
      message: error.message,
      cause: error,
    });
  }
  return respond(c, answer);
}

// c.body keeps headers the app set earlier (its cookies, CORS).
function respond(c: Context, response: ResponseData): Response {
  return c.body(response.body, response.status as ContentfulStatusCode, { ...response.headers });
}

function honoRequestLike(c: Context, bodyLimit: number): RequestLike {
  const incoming = nodeIncoming(c);
  let body: Promise<unknown> | undefined;
  return {
    // Under @hono/node-server the Node request is at hand: its method and raw header
    // lines need neither Hono's request object nor a Headers object, and repeated
    // lines join as in the Node adapters.
    method: incoming?.method ?? c.req.method,
    url: incoming?.url ?? c.req.url,
    header: incoming === undefined ? (name) => c.req.header(name) : (name) => requestHeader(incoming, name),
    body: () => {
      body ??= honoBody(c, bodyLimit);
      return body;
    },
  };
}

async function honoBody(c: Context, limit: number): Promise<unknown> {
  if (announcedTooLarge(c.req.header('content-length'), limit)) throw new BodyTooLargeError(limit);
  const type = c.req.header('content-type');
  // A bounded read of a clone, so the handler can still read the body (c.req.json()).
  if (parsableContentType(type) && !c.req.raw.bodyUsed)
    return readWebBody(c.req.raw.clone().body, type, limit);
  try {
    // Already read by the app (a validator): Hono's cached copy.
    if (isJsonContentType(type)) return await c.req.json<unknown>();
    if (isFormContentType(type)) return await c.req.parseBody();
  } catch {
    throw new BodyInvalidError();
  }
  return undefined;
}

/** What the guard reads of Node's IncomingMessage. */
type NodeIncoming = NodeHeaderSource & { readonly method?: string; readonly url?: string };

/** The IncomingMessage @hono/node-server documents as `c.env.incoming`, when there is one. */
function nodeIncoming(c: Context): NodeIncoming | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  const incoming: unknown = env.incoming;
  if (typeof incoming !== 'object' || incoming === null || !('rawHeaders' in incoming)) return undefined;
  return Array.isArray(incoming.rawHeaders) ? (incoming as NodeIncoming) : undefined;
}

/** A handler's response with the guard's cookies added, whether it came from `c` or was built bare. */
function withSetCookie(c: Context, response: Response, values: readonly string[]): Response {
  c.res = response;
  appendSetCookie(c, values);
  return c.res;
}

function appendSetCookie(c: Context, values: readonly string[]): void {
  for (const value of values) c.header('Set-Cookie', value, { append: true });
}
