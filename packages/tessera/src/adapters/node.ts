/**
 * Adapter for plain `node:http` (and `node:https`) servers: handlers of the
 * `(req, res)` shape `createServer` takes, with no framework in between. It
 * imports nothing from Node at run time (types only): it works on the request
 * and response objects Node hands it.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { TokenManager } from 'tessera-auth';
 * import { createNodeAuth } from 'tessera-auth/node';
 *
 * const auth = createNodeAuth(new TokenManager({ secret: process.env.JWT_SECRET }));
 * const me = auth.jwtRequired({}, (req, res) => {
 *   res.setHeader('content-type', 'application/json');
 *   res.end(JSON.stringify({ logged_in_as: req.jwt.identity }));
 * });
 * createServer((req, res) => (req.url === '/me' ? me(req, res) : res.writeHead(404).end())).listen(3000);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, type TesseraError } from '../errors.js';
import {
  createGuard,
  type GuardResult,
  type JwtContext,
  type JwtRequiredOptions,
  type RouteJwt,
} from '../http/guard.js';
import type { AuthResponseError } from '../http/http-error.js';
import { createRefreshHandler, type RefreshHandlerOptions } from '../http/refresh.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { ResponseData } from '../manager/options.js';
import type { NoClaims, TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { answerRefusal, type NodeRequest, nodeRequestLike, writeNodeResponse } from './node-request.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  appendSetCookie,
  type CookieBindings,
  caughtResponse,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  refusals,
  requestHeader,
  tesseraErrorOf,
} from './shared.js';

/**
 * The request a guarded handler receives: Node's `IncomingMessage` with `jwt`,
 * non-null on a required route, and `body` when the guard had to read the body
 * (the json location, a CSRF form field): the stream is spent then.
 */
export type NodeJwtRequest<TJwt> = IncomingMessage & { jwt: TJwt; body?: unknown };

/** What `createServer` takes, and what every handler of this adapter is. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A handler behind `jwtRequired`. `TJwt` is what the route's options make it:
 * non-null on a required route, `| null` on an optional one. Whatever it
 * returns is ignored, except a promise, whose rejection goes to `onServerError`.
 */
export type NodeJwtHandler<TJwt> = (req: NodeJwtRequest<TJwt>, res: ServerResponse) => unknown;

/**
 * Called with an error that is not Tessera's to answer: a handler or a manager
 * callback that threw or rejected. The response may be half-written
 * (`res.headersSent`).
 */
export type NodeServerErrorHandler = (error: unknown, req: IncomingMessage, res: ServerResponse) => void;

/** Options of {@link createNodeAuth}. */
export interface NodeAuthOptions extends AuthErrorOptions<IncomingMessage> {
  /**
   * The most bytes read from a request body when the route looks for the token
   * in the JSON body (or a CSRF form field). Larger bodies answer 413
   * `body_too_large`. Default 1 MiB.
   */
  bodyLimit?: number;
  /**
   * What a handler's or a callback's error becomes (see
   * {@link NodeServerErrorHandler}): a plain `node:http` server would otherwise
   * crash on the throw, or leave the request hanging on the rejection. With
   * `errors: 'throw'`, Tessera's errors come here too: refusals as an
   * {@link AuthResponseError} carrying their answer, and errors such as a store
   * that is down. Default: Tessera's errors get the profile's answer (as with
   * `errors: 'respond'`); any other is printed with `console.error` and answered
   * 500 `{"msg":"Internal Server Error"}`, or the connection is closed when the
   * headers were already sent.
   */
  onServerError?: NodeServerErrorHandler;
}

/** The `node:http` bindings of one {@link TokenManager}. */
export interface NodeAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>
  extends CookieBindings<ServerResponse>,
    JwtAccessors<IncomingMessage, TUser, TClaims, TIdentity> {
  /**
   * A handler behind the guard (Flask-JWT-Extended's `@jwt_required()`): a refused
   * request gets the manager's error response; otherwise `handler` runs with
   * `req.jwt` set and typed, non-null unless the options say `optional: true`, and
   * implicit-refresh cookies already on `res`. An `OPTIONS` request the guard lets
   * through without a token (CORS preflights) is answered 204, without a body, on
   * a required route instead of reaching `handler`. When nothing has to wait (the
   * token in a header or a cookie, a local key, no store, no callbacks) the handler
   * runs in the same turn as the request, without a promise.
   *
   * @example
   * ```ts
   * const refreshOnly = auth.jwtRequired({ refresh: true }, (req, res) => {
   *   res.end(String(req.jwt.identity));
   * });
   * ```
   */
  jwtRequired<const TOptions extends JwtRequiredOptions | undefined>(
    options: TOptions,
    handler: NodeJwtHandler<RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>>>,
  ): NodeHandler;
  /**
   * Run the guard on a request and return its verdict, for handlers that write
   * their own answers (`writeResponse(res, result.response)` answers a refusal
   * as `jwtRequired` would, without the `onError` hook). Nothing is stored on the
   * request: `getJwt` is for `jwtRequired`'s handlers.
   *
   * @example
   * ```ts
   * const result = await auth.verify(req);
   * if (!result.ok) return writeResponse(res, result.response);
   * ```
   */
  verify(req: IncomingMessage, options?: JwtRequiredOptions): Promise<GuardResult<TUser, TClaims, TIdentity>>;
  /**
   * The refresh endpoint (see the Express adapter's `refresh` for the contract):
   * answers 200 with the new tokens (JSON, plus Set-Cookie in cookie mode), or
   * the profile's refusal.
   *
   * @example
   * ```ts
   * const refresh = auth.refresh();
   * createServer((req, res) => (req.url === '/auth/refresh' ? refresh(req, res) : other(req, res)));
   * ```
   */
  refresh(options?: RefreshHandlerOptions): NodeHandler;
}

/**
 * Bind a {@link TokenManager} to `node:http` handlers.
 *
 * @example
 * ```ts
 * // The user type comes from the manager's: req.jwt.user is a User.
 * const auth = createNodeAuth(new TokenManager<User>({ secret }));
 * ```
 */
export function createNodeAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: NodeAuthOptions = {},
): NodeAuth<TUser, TClaims, TIdentity> {
  refuseUnknownOptions(options, NODE_OPTIONS, 'createNodeAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createNodeAuth');
  const contexts = contextStore<TUser, TClaims, TIdentity>();
  const defaultGuard = createGuard(manager);
  type Result = GuardResult<TUser, TClaims, TIdentity>;
  type Jwt = JwtContext<TUser, TClaims, TIdentity> | null;

  // The default onServerError, and the answer to Tessera's errors in 'respond' mode:
  // what every adapter's error handler does, then a 500 for the rest.
  const answerError: NodeServerErrorHandler = (error, req, res) => {
    const tessera = tesseraErrorOf(config, error, NOT_A_PARSER_ERROR);
    if (tessera === undefined) return serverError(error, res);
    if (res.headersSent) return void res.destroy();
    caughtResponse(config, refusal, error, tessera, req, requestHeader(req, 'accept-language')).then(
      (response) => writeNodeResponse(res, response),
      (thrown: unknown) => serverError(thrown, res),
    );
  };
  const onServerError = options.onServerError ?? answerError;
  if (typeof onServerError !== 'function') {
    throw new ConfigError('createNodeAuth: onServerError must be a function');
  }
  // An error on its way out. Never throws.
  const fail = (error: unknown, req: IncomingMessage, res: ServerResponse): void => {
    // In 'respond' mode Tessera answers its own errors; the app's handler gets the rest.
    const own = !refusal.throws && tesseraErrorOf(config, error, NOT_A_PARSER_ERROR) !== undefined;
    try {
      (own ? answerError : onServerError)(error, req, res);
    } catch (thrown) {
      serverError(thrown, res);
    }
  };
  const refuse = (error: TesseraError, response: ResponseData, req: IncomingMessage, res: ServerResponse) =>
    answerRefusal(refusal, error, response, req, res, (thrown) => fail(thrown, req, res));

  const jwtRequired = (
    routeOptions: JwtRequiredOptions | undefined,
    handler: NodeJwtHandler<Jwt>,
  ): NodeHandler => {
    if (typeof handler !== 'function') {
      throw new ConfigError('createNodeAuth: jwtRequired(options, handler) needs a handler function');
    }
    const guard = createGuard(manager, routeOptions);
    const optional = routeOptions?.optional === true;
    const handle = (req: IncomingMessage, res: ServerResponse, result: Result) => {
      if (!result.ok) return refuse(result.error, result.response, req, res);
      // The guard's OPTIONS exemption: a required route's handler never sees a null context.
      if (result.jwt === null && !optional) {
        res.statusCode = 204;
        return void res.end();
      }
      contexts.set(req, result.jwt);
      const request = req as NodeJwtRequest<Jwt>;
      request.jwt = result.jwt;
      appendSetCookie(res, result.setCookies);
      let returned: unknown;
      try {
        returned = handler(request, res);
      } catch (error) {
        return fail(error, req, res);
      }
      if (returned instanceof Promise) returned.then(undefined, (error: unknown) => fail(error, req, res));
    };
    return (req, res) => {
      let outcome: Result | Promise<Result>;
      try {
        outcome = guard(nodeRequestLike(req as NodeRequest, bodyLimit));
      } catch (error) {
        return fail(error, req, res);
      }
      // Most requests are answered synchronously: no promise, no extra turn of the loop.
      if (outcome instanceof Promise) {
        outcome.then(
          (result) => handle(req, res, result),
          (error: unknown) => fail(error, req, res),
        );
      } else {
        handle(req, res, outcome);
      }
    };
  };

  return {
    // One implementation: the handler's type is the interface's, from the options' type.
    jwtRequired: jwtRequired as NodeAuth<TUser, TClaims, TIdentity>['jwtRequired'],
    verify: async (req, routeOptions) =>
      (routeOptions === undefined ? defaultGuard : createGuard(manager, routeOptions))(
        nodeRequestLike(req as NodeRequest, bodyLimit),
      ),
    refresh(handlerOptions) {
      const handler = createRefreshHandler(manager, handlerOptions);
      return (req, res) => {
        let outcome: ReturnType<typeof handler>;
        try {
          outcome = handler(nodeRequestLike(req as NodeRequest, bodyLimit));
        } catch (error) {
          return fail(error, req, res);
        }
        outcome.then(
          (result) => {
            if (!result.ok) return refuse(result.error, result.response, req, res);
            appendSetCookie(res, result.setCookies);
            writeNodeResponse(res, result.response);
          },
          (error: unknown) => fail(error, req, res),
        );
      };
    },
    ...jwtAccessors<IncomingMessage, TUser, TClaims, TIdentity>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

/**
 * Write an answer (status, headers, body) to a Node response and end it: a
 * refusal from {@link NodeAuth.verify}, or an {@link AuthResponseError}'s.
 *
 * @example
 * ```ts
 * const result = await auth.verify(req);
 * if (!result.ok) return writeResponse(res, result.response);
 * ```
 */
export function writeResponse(res: ServerResponse, response: ResponseData): void {
  writeNodeResponse(res, response);
}

const NODE_OPTIONS = ['bodyLimit', 'onServerError', ...AUTH_ERROR_OPTION_KEYS];

const NOT_A_PARSER_ERROR = { parseFailed: false, tooLarge: undefined };

const SERVER_ERROR_BODY = JSON.stringify({ msg: 'Internal Server Error' });

// An error nobody answers: printed, and a 500 (or the connection closed mid-answer).
function serverError(error: unknown, res: ServerResponse): void {
  console.error(error);
  if (res.headersSent) return void res.destroy();
  res.statusCode = 500;
  res.setHeader('content-type', 'application/json');
  res.end(SERVER_ERROR_BODY);
}
