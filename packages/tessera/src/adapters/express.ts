/**
 * Express adapter (Express 4 and 5). Written against Node's own
 * `IncomingMessage`/`ServerResponse`, which every Express request and
 * response extends, so this module needs no Express at run time; the handler
 * form of `jwtRequired` takes its request and response types from
 * `@types/express`, so that `req` and `res` are Express's own.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { TokenManager } from 'tessera-auth';
 * import { createExpressAuth } from 'tessera-auth/express';
 *
 * const auth = createExpressAuth(new TokenManager({ secret: process.env.JWT_SECRET }));
 * const app = express();
 * app.get('/protected', auth.jwtRequired({}, (req, res) => {
 *   res.json({ logged_in_as: req.jwt.identity });
 * }));
 * ```
 */
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import {
  createGuard,
  type GuardResult,
  type JwtContext,
  type JwtRequiredOptions,
  type RouteJwt,
} from '../http/guard.js';
import { createRefreshHandler, type RefreshHandlerOptions } from '../http/refresh.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { NoClaims, TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { answerRefusal, type NodeRequest, nodeRequestLike, writeNodeResponse } from './node-request.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  appendSetCookie,
  bodyParserError,
  type CookieBindings,
  caughtResponse,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  refusals,
  tesseraErrorOf,
} from './shared.js';

/** What the adapter reads from an Express request (an Express 4 or 5 `Request` is one). */
export type ExpressRequest = NodeRequest;

/**
 * A request after the plain `jwtRequired()` middleware ran: `req.jwt` typed for
 * your manager, without augmenting Express's global types. The handler form,
 * `jwtRequired(options, handler)`, types `req.jwt` without this.
 */
export type ExpressJwtRequest<
  TUser = unknown,
  TClaims extends object = NoClaims,
  TIdentity = unknown,
> = ExpressRequest & { jwt?: JwtContext<TUser, TClaims, TIdentity> | null };

/**
 * The request of a `jwtRequired(options, handler)` handler: Express's own
 * `Request` with `jwt`, non-null on a required route. Annotate a handler's
 * `req` with it to type the route parameters:
 * `(req: ExpressJwtHandlerRequest<JwtContext<User>, { id: string }>) => ...`.
 */
export type ExpressJwtHandlerRequest<
  TJwt,
  TParams = Request['params'],
  TReqBody = Request['body'],
  TQuery = Request['query'],
> = Request<TParams, unknown, TReqBody, TQuery> & { jwt: TJwt };

/** What the adapter writes to: an Express `Response` is a Node `ServerResponse`. */
export type ExpressResponse = ServerResponse;

/** Express's `next`. */
export type ExpressNext = (error?: unknown) => void;

/** An Express middleware, as `app.use`/`app.get` accept it. */
export type RequestHandler = (req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void;

/** An Express error-handling middleware (four parameters: Express tells them apart by that). */
export type ErrorRequestHandler = (
  error: unknown,
  req: ExpressRequest,
  res: ExpressResponse,
  next: ExpressNext,
) => void;

/** Options of {@link createExpressAuth}. */
export interface ExpressAuthOptions extends AuthErrorOptions<ExpressRequest> {
  /**
   * The most bytes read from a request body when no body parser ran and the
   * route looks for the token in the JSON body (or a CSRF form field).
   * Larger bodies count as unparsable. Default 1 MiB.
   */
  bodyLimit?: number;
}

/** The Express bindings of one {@link TokenManager}. */
export interface ExpressAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>
  extends CookieBindings<ExpressResponse>,
    JwtAccessors<ExpressRequest, TUser, TClaims, TIdentity> {
  /**
   * Middleware that refuses requests without a valid token (Flask-JWT-Extended's
   * `@jwt_required()`), answering with the manager's error response. The handlers
   * after it read the token with `auth.getJwt(req)` (`| null`: this form lets an
   * `OPTIONS` request through with a null context, and `next()` cannot know
   * whether the route is optional).
   *
   * @example
   * ```ts
   * app.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): RequestHandler;
  /**
   * A route handler behind the guard: `handler` runs with `req.jwt` set and typed,
   * non-null unless the options say `optional: true`, and `req` and `res` are
   * Express's `Request` and `Response` (annotate `req` as
   * `Request<{ id: string }> & { jwt: ... }` for typed route parameters: a call
   * wrapped in `app.get` does not receive them). An `OPTIONS` request the guard lets
   * through without a token (CORS preflights) is answered 204, without a body,
   * on a required route instead of reaching `handler`; an optional route runs
   * `handler` with `req.jwt` null. A promise `handler` returns that rejects goes to
   * `next(error)`, in Express 4 as in 5.
   *
   * @example
   * ```ts
   * app.get('/me', auth.jwtRequired({}, (req, res) => {
   *   res.json({ logged_in_as: req.jwt.identity });
   * }));
   * ```
   */
  jwtRequired<
    const TOptions extends JwtRequiredOptions,
    TParams = Request['params'],
    TReqBody = Request['body'],
    TQuery = Request['query'],
    TResponse extends Response = Response,
  >(
    options: TOptions,
    handler: (
      req: ExpressJwtHandlerRequest<
        RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>>,
        TParams,
        TReqBody,
        TQuery
      >,
      res: TResponse,
      next: NextFunction,
    ) => unknown,
  ): (req: Request, res: Response, next: NextFunction) => void;
  /**
   * The refresh endpoint: finds the refresh token in the configured locations
   * (cookies with their CSRF value included), rotates it, and answers 200 with
   * the new tokens (a `RefreshBody`: JSON, plus Set-Cookie in cookie mode), or
   * the profile's refusal. Mount it where the refresh cookie's path points
   * (`/auth/refresh` by default in the standard profile).
   *
   * @example
   * ```ts
   * app.post('/auth/refresh', express.json(), auth.refresh());
   * ```
   */
  refresh(options?: RefreshHandlerOptions): RequestHandler;
  /**
   * Error middleware, installed after the routes: answers auth refusals passed
   * to `next(err)` (`errors: 'throw'`) and bodies `express.json()` refused
   * (unparsable: 400 `body_invalid`; too large: 413 `body_too_large`) with the
   * profile's answer, and hands every other error on.
   *
   * @example
   * ```ts
   * app.use(express.json());
   * // ...routes...
   * app.use(auth.errorHandler());
   * ```
   */
  errorHandler(): ErrorRequestHandler;
}

/**
 * Bind a {@link TokenManager} to Express.
 *
 * @example
 * ```ts
 * // The user type comes from the manager's: auth.getCurrentUser() is a User.
 * const auth = createExpressAuth(new TokenManager<User>({ secret }));
 * app.get('/me', auth.jwtRequired(), (req, res) => res.json(auth.getCurrentUser(req)));
 * ```
 */
export function createExpressAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: ExpressAuthOptions = {},
): ExpressAuth<TUser, TClaims, TIdentity> {
  refuseUnknownOptions(options, EXPRESS_OPTIONS, 'createExpressAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createExpressAuth');
  const contexts = contextStore<TUser, TClaims, TIdentity>();
  type Result = GuardResult<TUser, TClaims, TIdentity>;
  type Jwt = JwtContext<TUser, TClaims, TIdentity> | null;
  const jwtRequired = (
    routeOptions?: JwtRequiredOptions,
    handler?: (req: ExpressRequest & { jwt: Jwt }, res: ExpressResponse, next: ExpressNext) => unknown,
  ): RequestHandler => {
    const guard = createGuard(manager, routeOptions);
    const optional = routeOptions?.optional === true;
    const handle = (req: ExpressRequest, res: ExpressResponse, next: ExpressNext, result: Result) => {
      if (!result.ok) return answerRefusal(refusal, result.error, result.response, req, res, next);
      contexts.set(req, result.jwt);
      (req as ExpressJwtRequest<TUser, TClaims, TIdentity>).jwt = result.jwt;
      appendSetCookie(res, result.setCookies);
      if (handler === undefined) return next();
      // The guard's OPTIONS exemption: a required route's handler never sees a null context.
      if (result.jwt === null && !optional) return endWithoutContent(res);
      runHandler(handler, req as ExpressRequest & { jwt: Jwt }, res, next);
    };
    return (req, res, next) => {
      let outcome: Result | Promise<Result>;
      try {
        outcome = guard(nodeRequestLike(req, bodyLimit));
      } catch (error) {
        // Not a Tessera error (a callback crashed): the app's error handler decides.
        return next(error);
      }
      // Most requests are answered synchronously: no promise, no extra turn of the loop.
      if (outcome instanceof Promise) {
        outcome.then(
          (result) => handle(req, res, next, result),
          (error: unknown) => next(error),
        );
      } else {
        handle(req, res, next, outcome);
      }
    };
  };
  return {
    // One implementation behind both overloads: the handler form's types are the
    // interface's, checked at the call site.
    jwtRequired: jwtRequired as ExpressAuth<TUser, TClaims, TIdentity>['jwtRequired'],
    refresh(handlerOptions) {
      const handler = createRefreshHandler(manager, handlerOptions);
      return (req, res, next) => {
        handler(nodeRequestLike(req, bodyLimit)).then((outcome) => {
          if (!outcome.ok) return answerRefusal(refusal, outcome.error, outcome.response, req, res, next);
          appendSetCookie(res, outcome.setCookies);
          writeNodeResponse(res, outcome.response);
        }, next);
      };
    },
    errorHandler() {
      return (error, req, res, next) => {
        const tessera = tesseraErrorOf(config, error, bodyParserError(error));
        if (tessera === undefined || res.headersSent) return next(error);
        caughtResponse(config, refusal, error, tessera, req, req.headers['accept-language']).then(
          (response) => writeNodeResponse(res, response),
          next,
        );
      };
    },
    ...jwtAccessors<ExpressRequest, TUser, TClaims, TIdentity>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

const EXPRESS_OPTIONS = ['bodyLimit', ...AUTH_ERROR_OPTION_KEYS];

// Express 4 does not catch a handler's rejected promise; Express 5 would, but only
// from a handler it calls itself.
function runHandler<TRequest>(
  handler: (req: TRequest, res: ExpressResponse, next: ExpressNext) => unknown,
  req: TRequest,
  res: ExpressResponse,
  next: ExpressNext,
): void {
  let result: unknown;
  try {
    result = handler(req, res, next);
  } catch (error) {
    next(error);
    return;
  }
  if (result instanceof Promise) result.then(undefined, next);
}

// 204 without a body: an exempted OPTIONS request on a required route.
function endWithoutContent(res: ServerResponse): void {
  res.statusCode = 204;
  res.end();
}
