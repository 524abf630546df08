/**
 * Fastify adapter (Fastify 5). The guard runs as a `preHandler` hook, after
 * Fastify has parsed the body, so the json location reads `request.body`.
 *
 * Typing `request.jwt`: this module does not augment Fastify's `FastifyRequest`
 * (a global augmentation would claim `jwt` exists on every request of every
 * app, with one user type for all managers). The handler form,
 * `auth.jwtRequired(options, handler)`, types it for its route: non-null unless
 * the route is optional. Behind the `preHandler` form, read the context with
 * `auth.getJwt(request)`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createFastifyAuth } from 'tessera-auth/fastify';
 *
 * const auth = createFastifyAuth(manager);
 * const app = Fastify();
 * await app.register(auth.plugin);
 * app.get('/protected', auth.jwtRequired({}, async (request) => ({
 *   logged_in_as: request.jwt.identity,
 * })));
 * ```
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
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
import { DEFAULT_BODY_LIMIT, parseBodyText } from './body.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  type CookieBindings,
  caughtResponse,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  refusalError,
  refusals,
  requestHeader,
  tesseraErrorOf,
} from './shared.js';

/** Options of {@link createFastifyAuth}. */
export type FastifyAuthOptions = AuthErrorOptions<FastifyRequest>;

/** A route handler, as `app.post(path, handler)` takes it. */
export type FastifyRouteHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** An error handler, as `app.setErrorHandler()` and a route's `errorHandler` take it. */
export type FastifyErrorHandler = (error: unknown, request: FastifyRequest, reply: FastifyReply) => void;

/** The `preHandler` hook returned by `jwtRequired()`. */
export type FastifyJwtHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
) => void;

/**
 * A request after the `preHandler` guard ran: `request.jwt` typed for your manager.
 *
 * @example
 * ```ts
 * const identity = (request as FastifyJwtRequest<User>).jwt?.identity;
 * ```
 */
export type FastifyJwtRequest<
  TUser = unknown,
  TClaims extends object = NoClaims,
  TIdentity = unknown,
> = FastifyRequest & { jwt: JwtContext<TUser, TClaims, TIdentity> | null };

/**
 * The route handler `jwtRequired(options, handler)` returns: it runs the guard,
 * then the handler (as `this`, the Fastify instance).
 */
export type FastifyJwtRoute<TRequest, TReply> = (
  this: FastifyInstance,
  request: TRequest,
  reply: TReply,
) => Promise<unknown>;

/** The Fastify bindings of one {@link TokenManager}. */
export interface FastifyAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>
  extends CookieBindings<FastifyReply>,
    JwtAccessors<FastifyRequest, TUser, TClaims, TIdentity> {
  /**
   * Decorates `request.jwt` (null until the guard runs) and `fastify.jwtRequired`.
   * Not encapsulated (like a fastify-plugin plugin): the decorations reach the
   * instance it is registered on, and registering it twice is harmless. It adds
   * no content-type parser: see {@link FastifyAuth.formParser}.
   *
   * @example
   * ```ts
   * await app.register(auth.plugin);
   * ```
   */
  plugin: FastifyPluginCallback;
  /**
   * A `preHandler` hook that refuses requests without a valid token. The route's
   * handler reads the token with `auth.getJwt(request)` (`| null`: the hook lets
   * an `OPTIONS` request through with a null context).
   *
   * @example
   * ```ts
   * app.post('/refresh', { preHandler: auth.jwtRequired({ refresh: true }) }, handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): FastifyJwtHook;
  /**
   * A route handler behind the guard: `handler` runs with `request.jwt` set and
   * typed, non-null unless the options say `optional: true`, and `request` keeps
   * Fastify's `FastifyRequest` with the route's generics (`app.get<{ Params: ... }>`).
   * An `OPTIONS` request the guard lets through without a token (CORS
   * preflights) is answered 204, without a body, on a required route instead of
   * reaching `handler`; an optional route runs `handler` with `request.jwt` null.
   *
   * @example
   * ```ts
   * app.get('/me', auth.jwtRequired({}, async (request) => ({ logged_in_as: request.jwt.identity })));
   * ```
   */
  jwtRequired<
    const TOptions extends JwtRequiredOptions,
    TRequest extends FastifyRequest = FastifyRequest,
    TReply extends FastifyReply = FastifyReply,
  >(
    options: TOptions,
    handler: (
      this: FastifyInstance,
      request: TRequest & { jwt: RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>> },
      reply: TReply,
    ) => unknown,
  ): FastifyJwtRoute<TRequest, TReply>;
  /**
   * A bounded `application/x-www-form-urlencoded` parser (Fastify has none and
   * answers 415), for routes that take the CSRF value from a form field
   * (`csrf.checkForm`). Register it in the scope of those routes: it reaches
   * that scope and its children only, never sibling scopes, and steps aside
   * when the scope already has a form parser.
   *
   * @example
   * ```ts
   * await app.register(async (forms) => {
   *   await forms.register(auth.formParser);
   *   forms.post('/account/delete', { preHandler: auth.jwtRequired() }, handler);
   * });
   * ```
   */
  formParser: FastifyPluginCallback;
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
  refresh(options?: RefreshHandlerOptions): FastifyRouteHandler;
  /**
   * An error handler for `app.setErrorHandler` (or a route's `errorHandler`):
   * answers auth refusals (`errors: 'throw'`) and the bodies Fastify's parser
   * refused (unparsable JSON: 400 `body_invalid`; over `bodyLimit`: 413
   * `body_too_large`) with the profile's answer, and sends every other error on
   * to the parent error handler.
   *
   * @example
   * ```ts
   * app.setErrorHandler(auth.errorHandler);
   * ```
   */
  errorHandler: FastifyErrorHandler;
}

// fastify-plugin's markers, set by hand so the package is not a dependency.
const SKIP_OVERRIDE = Symbol.for('skip-override');
const DISPLAY_NAME = Symbol.for('fastify.display-name');

/**
 * Bind a {@link TokenManager} to Fastify.
 *
 * @example
 * ```ts
 * // The user type comes from the manager's: auth.getCurrentUser() is a User.
 * const auth = createFastifyAuth(new TokenManager<User>({ secret }));
 * app.get('/me', { preHandler: auth.jwtRequired() }, async (request) => auth.getCurrentUser(request));
 * ```
 */
export function createFastifyAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: FastifyAuthOptions = {},
): FastifyAuth<TUser, TClaims, TIdentity> {
  refuseUnknownOptions(options, AUTH_ERROR_OPTION_KEYS, 'createFastifyAuth options');
  const config = manager.config;
  const refusal = refusals(options, 'createFastifyAuth');
  const contexts = contextStore<TUser, TClaims, TIdentity>();
  type Result = GuardResult<TUser, TClaims, TIdentity>;
  type Jwt = JwtContext<TUser, TClaims, TIdentity> | null;

  const hook = (options?: JwtRequiredOptions): FastifyJwtHook => {
    const guard = createGuard(manager, options);
    const finish = (
      request: FastifyRequest,
      reply: FastifyReply,
      done: (error?: Error) => void,
      result: Result,
    ) => {
      if (!result.ok) {
        const respond = (answer: ResponseData): void => {
          if (refusal.throws) done(refusalError(result.error, answer));
          // Answered here: without done() the route handler does not run.
          else send(reply, answer);
        };
        const answer = refusal.answer(result.error, request, result.response);
        if (answer instanceof Promise) answer.then(respond, (error: unknown) => done(asError(error)));
        else respond(answer);
        return;
      }
      contexts.set(request, result.jwt);
      (request as FastifyJwtRequest<TUser, TClaims, TIdentity>).jwt = result.jwt;
      appendSetCookie(reply, result.setCookies);
      done();
    };
    // A callback-style hook: most requests are answered synchronously, and then no
    // promise is made at all. Errors that are not Tessera errors go to done(error),
    // so Fastify's error handler answers.
    return (request, reply, done) => {
      let outcome: Result | Promise<Result>;
      try {
        outcome = guard(fastifyRequestLike(request));
      } catch (error) {
        done(asError(error));
        return;
      }
      if (outcome instanceof Promise) {
        outcome.then(
          (result) => finish(request, reply, done, result),
          (error: unknown) => done(asError(error)),
        );
      } else finish(request, reply, done, outcome);
    };
  };

  // The handler form: the guard and the handler in one route handler, so the handler
  // can be typed with the route's context.
  const route = (
    options: JwtRequiredOptions,
    handler: (this: FastifyInstance, request: FastifyRequest & { jwt: Jwt }, reply: FastifyReply) => unknown,
  ): FastifyJwtRoute<FastifyRequest, FastifyReply> => {
    const guard = createGuard(manager, options);
    const optional = options.optional === true;
    return async function (this: FastifyInstance, request, reply) {
      const outcome = guard(fastifyRequestLike(request));
      const result = outcome instanceof Promise ? await outcome : outcome;
      if (!result.ok) {
        const answer = await refusal.answer(result.error, request, result.response);
        if (refusal.throws) throw refusalError(result.error, answer);
        return send(reply, answer);
      }
      contexts.set(request, result.jwt);
      const typed = request as FastifyRequest & { jwt: Jwt };
      typed.jwt = result.jwt;
      // The guard's OPTIONS exemption: a required route's handler never sees a null context.
      if (result.jwt === null && !optional) return reply.code(204).send();
      appendSetCookie(reply, result.setCookies);
      return handler.call(this, typed, reply);
    };
  };

  const jwtRequired = ((options?: JwtRequiredOptions, handler?: Parameters<typeof route>[1]) =>
    handler === undefined ? hook(options) : route(options ?? {}, handler)) as FastifyAuth<
    TUser,
    TClaims,
    TIdentity
  >['jwtRequired'];

  const plugin: FastifyPluginCallback = (fastify, _options, done) => {
    if (!fastify.hasRequestDecorator('jwt')) fastify.decorateRequest('jwt', null);
    if (!fastify.hasDecorator('jwtRequired')) fastify.decorate('jwtRequired', jwtRequired);
    done();
  };
  Object.defineProperty(plugin, SKIP_OVERRIDE, { value: true });
  Object.defineProperty(plugin, DISPLAY_NAME, { value: 'tessera' });

  // Skip-override too, so it lands in the scope that registers it (not a child of
  // it), and encapsulation keeps it out of that scope's parents and siblings.
  const formParser: FastifyPluginCallback = (fastify, _options, done) => {
    if (!fastify.hasContentTypeParser('application/x-www-form-urlencoded')) {
      fastify.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: DEFAULT_BODY_LIMIT },
        (_request, text, parsed) =>
          parsed(null, parseBodyText(String(text), 'application/x-www-form-urlencoded')),
      );
    }
    done();
  };
  Object.defineProperty(formParser, SKIP_OVERRIDE, { value: true });
  Object.defineProperty(formParser, DISPLAY_NAME, { value: 'tessera-form-parser' });

  const refresh = (handlerOptions?: RefreshHandlerOptions): FastifyRouteHandler => {
    const handler = createRefreshHandler(manager, handlerOptions);
    return async (request, reply) => {
      const outcome = await handler(fastifyRequestLike(request));
      if (outcome.ok) {
        appendSetCookie(reply, outcome.setCookies);
        return send(reply, outcome.response);
      }
      const answer = await refusal.answer(outcome.error, request, outcome.response);
      if (refusal.throws) throw refusalError(outcome.error, answer);
      return send(reply, answer);
    };
  };

  const errorHandler: FastifyErrorHandler = (error, request, reply) => {
    const tessera = tesseraErrorOf(config, error, fastifyBodyError(error, request));
    // Sending an error from an error handler hands it to the parent error handler.
    if (tessera === undefined) return void reply.send(error);
    caughtResponse(config, refusal, error, tessera, request, request.headers['accept-language']).then(
      (response) => send(reply, response),
      (failure: unknown) => reply.send(asError(failure)),
    );
  };

  return {
    plugin,
    formParser,
    refresh,
    errorHandler,
    jwtRequired,
    ...jwtAccessors<FastifyRequest, TUser, TClaims, TIdentity>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

function fastifyRequestLike(request: FastifyRequest): RequestLike {
  return {
    method: request.method,
    url: request.url,
    header: (name) => requestHeader(request.raw, name),
    body: () => request.body,
  };
}

function send(reply: FastifyReply, response: ResponseData): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

// Fastify's own body errors, by their stable codes.
function fastifyBodyError(
  error: unknown,
  request: FastifyRequest,
): { parseFailed: boolean; tooLarge: number | undefined } {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return {
    parseFailed: code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY',
    tooLarge: code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? request.routeOptions.bodyLimit : undefined,
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// Fastify appends to an existing set-cookie header rather than replacing it.
function appendSetCookie(reply: FastifyReply, values: readonly string[]): void {
  if (values.length > 0) reply.header('set-cookie', [...values]);
}
