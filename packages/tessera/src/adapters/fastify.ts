/**
 * Fastify adapter (Fastify 5). The guard runs as a `preHandler` hook, after
 * Fastify has parsed the body, so the json location reads `request.body`.
 *
 * Typing `request.jwt`: this module does not augment Fastify's `FastifyRequest`
 * (a global augmentation would claim `jwt` exists on every request of every
 * app, with one user type for all managers). Read the context with the typed
 * `auth.getJwt(request)`; `request.jwt` holds the same value at run time, and
 * {@link FastifyJwtRequest} types it where you want the property.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createFastifyAuth } from 'tessera-auth/fastify';
 *
 * const auth = createFastifyAuth(manager);
 * const app = Fastify();
 * await app.register(auth.plugin);
 * app.get('/protected', { preHandler: auth.jwtRequired() }, async (request) => ({
 *   logged_in_as: auth.getJwtIdentity(request),
 * }));
 * ```
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { createGuard, type GuardResult, type JwtContext, type JwtRequiredOptions } from '../http/guard.js';
import type { RequestLike } from '../http/request.js';
import type { TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT, parseBodyText } from './body.js';
import {
  type CookieBindings,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  requestHeader,
} from './shared.js';

/** The `preHandler` hook returned by `jwtRequired()`. */
export type FastifyJwtHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
) => void;

/**
 * A request after the guard ran: `request.jwt` typed for your user type.
 *
 * @example
 * ```ts
 * const identity = (request as FastifyJwtRequest<User>).jwt?.identity;
 * ```
 */
export type FastifyJwtRequest<TUser = unknown> = FastifyRequest & { jwt: JwtContext<TUser> | null };

/** The Fastify bindings of one {@link TokenManager}. */
export interface FastifyAuth<TUser>
  extends CookieBindings<FastifyReply>,
    JwtAccessors<FastifyRequest, TUser> {
  /**
   * Decorates `request.jwt` (null until the guard runs) and `fastify.jwtRequired`.
   * Not encapsulated (like a fastify-plugin plugin): the decorations reach the
   * instance it is registered on, and registering it twice is harmless.
   *
   * @example
   * ```ts
   * await app.register(auth.plugin);
   * ```
   */
  plugin: FastifyPluginCallback;
  /**
   * A `preHandler` hook that refuses requests without a valid token.
   *
   * @example
   * ```ts
   * app.post('/refresh', { preHandler: auth.jwtRequired({ refresh: true }) }, handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): FastifyJwtHook;
}

// fastify-plugin's markers, set by hand so the package is not a dependency.
const SKIP_OVERRIDE = Symbol.for('skip-override');
const DISPLAY_NAME = Symbol.for('fastify.display-name');

/**
 * Bind a {@link TokenManager} to Fastify.
 *
 * @example
 * ```ts
 * const auth = createFastifyAuth<User>(manager);
 * app.get('/me', { preHandler: auth.jwtRequired() }, async (request) => auth.getCurrentUser(request));
 * ```
 */
export function createFastifyAuth<TUser>(manager: TokenManager<TUser>): FastifyAuth<TUser> {
  const config = manager.config;
  const contexts = contextStore<TUser>();

  const jwtRequired = (options?: JwtRequiredOptions): FastifyJwtHook => {
    const guard = createGuard(manager, options);
    const finish = (
      request: FastifyRequest,
      reply: FastifyReply,
      done: () => void,
      result: GuardResult<TUser>,
    ) => {
      if (!result.ok) {
        // Answered here: without done() the route handler does not run.
        const { status, headers, body } = result.response;
        reply.code(status).headers(headers).send(body);
        return;
      }
      contexts.set(request, result.jwt);
      (request as FastifyJwtRequest<TUser>).jwt = result.jwt;
      appendSetCookie(reply, result.setCookies);
      done();
    };
    // A callback-style hook: most requests are answered synchronously, and then no
    // promise is made at all. Errors that are not Tessera errors go to done(error),
    // so Fastify's error handler answers.
    return (request, reply, done) => {
      let outcome: GuardResult<TUser> | Promise<GuardResult<TUser>>;
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

  const plugin: FastifyPluginCallback = (fastify, _options, done) => {
    if (!fastify.hasRequestDecorator('jwt')) fastify.decorateRequest('jwt', null);
    if (!fastify.hasDecorator('jwtRequired')) fastify.decorate('jwtRequired', jwtRequired);
    // Fastify has no form parser and answers 415 to form posts, which would make the
    // CSRF form field (csrf.checkForm) unusable; add a bounded one unless the app has its own.
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
  Object.defineProperty(plugin, SKIP_OVERRIDE, { value: true });
  Object.defineProperty(plugin, DISPLAY_NAME, { value: 'tessera' });

  return {
    plugin,
    jwtRequired,
    ...jwtAccessors<FastifyRequest, TUser>(contexts),
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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// Fastify appends to an existing set-cookie header rather than replacing it.
function appendSetCookie(reply: FastifyReply, values: readonly string[]): void {
  if (values.length > 0) reply.header('set-cookie', [...values]);
}
