/**
 * Express adapter (Express 4 and 5). Written against Node's own
 * `IncomingMessage`/`ServerResponse`, which every Express request and
 * response extends, so this module needs neither Express nor its types.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { TokenManager } from 'tessera-auth';
 * import { createExpressAuth } from 'tessera-auth/express';
 *
 * const auth = createExpressAuth(new TokenManager({ secret: process.env.JWT_SECRET }));
 * const app = express();
 * app.get('/protected', auth.jwtRequired(), (req, res) => {
 *   res.json({ logged_in_as: auth.getJwtIdentity(req) });
 * });
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  appendSetCookie,
  bodyParserError,
  type CookieBindings,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  nodeHeader,
  type Refusals,
  refusalError,
  refusals,
  requestHeader,
  tesseraErrorOf,
} from './shared.js';

/** What the adapter reads from an Express request (an Express 4 or 5 `Request` is one). */
export type ExpressRequest = IncomingMessage & {
  /** Set by a body parser, or by this adapter when it had to read the body itself. */
  body?: unknown;
  /** The URL before mounting stripped a prefix from `url`. */
  originalUrl?: string;
};

/**
 * A request after `jwtRequired()` ran: `req.jwt` typed for your user type, without
 * augmenting Express's global types (cast where you read it, or use `getJwt(req)`).
 *
 * @example
 * ```ts
 * app.get('/me', auth.jwtRequired(), (req, res) => {
 *   res.json((req as ExpressJwtRequest<User>).jwt?.identity);
 * });
 * ```
 */
export type ExpressJwtRequest<TUser = unknown> = ExpressRequest & { jwt?: JwtContext<TUser> | null };

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
export interface ExpressAuth<TUser>
  extends CookieBindings<ExpressResponse>,
    JwtAccessors<ExpressRequest, TUser> {
  /**
   * Middleware that refuses requests without a valid token (Flask-JWT-Extended's
   * `@jwt_required()`), answering with the manager's error response.
   *
   * @example
   * ```ts
   * app.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): RequestHandler;
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
export function createExpressAuth<TUser>(
  manager: TokenManager<TUser>,
  options: ExpressAuthOptions = {},
): ExpressAuth<TUser> {
  refuseUnknownOptions(options, EXPRESS_OPTIONS, 'createExpressAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createExpressAuth');
  const contexts = contextStore<TUser>();
  return {
    jwtRequired(routeOptions) {
      const guard = createGuard(manager, routeOptions);
      const handle = (
        req: ExpressRequest,
        res: ExpressResponse,
        next: ExpressNext,
        result: GuardResult<TUser>,
      ) => {
        if (!result.ok) return refuse(refusal, result.error, result.response, req, res, next);
        contexts.set(req, result.jwt);
        (req as ExpressJwtRequest<TUser>).jwt = result.jwt;
        appendSetCookie(res, result.setCookies);
        next();
      };
      return (req, res, next) => {
        let outcome: GuardResult<TUser> | Promise<GuardResult<TUser>>;
        try {
          outcome = guard(expressRequestLike(req, bodyLimit));
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
    },
    refresh(handlerOptions) {
      const handler = createRefreshHandler(manager, handlerOptions);
      return (req, res, next) => {
        handler(expressRequestLike(req, bodyLimit)).then((outcome) => {
          if (!outcome.ok) return refuse(refusal, outcome.error, outcome.response, req, res, next);
          appendSetCookie(res, outcome.setCookies);
          writeResponse(res, outcome.response);
        }, next);
      };
    },
    errorHandler() {
      return (error, req, res, next) => {
        const tessera = tesseraErrorOf(config, error, bodyParserError(error));
        if (tessera === undefined || res.headersSent) return next(error);
        // A refusal passed to next() already carries its answer, the app's hook included.
        const base =
          error instanceof AuthResponseError
            ? Promise.resolve(error.response)
            : errorResponse(config, tessera, req.headers['accept-language']).then((response) =>
                refusal.answer(tessera, req, response),
              );
        base.then((response) => writeResponse(res, response), next);
      };
    },
    ...jwtAccessors<ExpressRequest, TUser>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

const EXPRESS_OPTIONS = ['bodyLimit', ...AUTH_ERROR_OPTION_KEYS];

/** Answer a refusal after the app's hook: directly, or into Express's error handling. */
function refuse<TRequest extends ExpressRequest>(
  refusal: Refusals<TRequest>,
  error: TesseraError,
  response: ResponseData,
  req: TRequest,
  res: ExpressResponse,
  next: ExpressNext,
): void {
  const send = (answer: ResponseData) =>
    refusal.throws ? next(refusalError(error, answer)) : writeResponse(res, answer);
  const answer = refusal.answer(error, req, response);
  if (answer instanceof Promise) answer.then(send, next);
  else send(answer);
}

function expressRequestLike(req: ExpressRequest, bodyLimit: number): RequestLike {
  let body: Promise<unknown> | undefined;
  return {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '/',
    header: (name) => requestHeader(req, name),
    body() {
      if (req.body !== undefined) return req.body;
      body ??= readNodeBody(req, nodeHeader(req.headers, 'content-type'), bodyLimit).then((parsed) => {
        // Later handlers see the body as if a parser had run: the stream is spent now.
        if (parsed !== undefined) req.body = parsed;
        return parsed;
      });
      return body;
    },
  };
}

function writeResponse(res: ServerResponse, response: ResponseData): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.end(response.body);
}
