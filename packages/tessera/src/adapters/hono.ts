/**
 * Hono adapter (Hono 4, any runtime: @hono/node-server, Bun, Deno, Workers,
 * `app.request()`). The context is the Hono variable `jwt`, typed through the
 * middleware's env, so `c.get('jwt')` is typed in the handlers after it.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createHonoAuth } from 'tessera-auth/hono';
 *
 * const auth = createHonoAuth(manager);
 * const app = new Hono();
 * app.get('/protected', auth.jwtRequired(), (c) => c.json({ logged_in_as: c.get('jwt')?.identity }));
 * ```
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { createGuard, type GuardResult, type JwtContext, type JwtRequiredOptions } from '../http/guard.js';
import { isFormContentType, isJsonContentType, type RequestLike } from '../http/request.js';
import type { TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import {
  type CookieBindings,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  type NodeHeaderSource,
  requestHeader,
} from './shared.js';

/**
 * The Hono env a guarded route sees: `c.get('jwt')` / `c.var.jwt`.
 *
 * @example
 * ```ts
 * const app = new Hono<JwtEnv<User>>();
 * ```
 */
export interface JwtEnv<TUser = unknown> {
  Variables: { jwt: JwtContext<TUser> | null };
}

/** The Hono bindings of one {@link TokenManager}. */
export interface HonoAuth<TUser> extends CookieBindings<Context>, JwtAccessors<Context, TUser> {
  /**
   * Middleware that refuses requests without a valid token and sets `c.var.jwt`.
   *
   * @example
   * ```ts
   * app.post('/refresh', auth.jwtRequired({ refresh: true }), handler);
   * ```
   */
  jwtRequired(options?: JwtRequiredOptions): MiddlewareHandler<JwtEnv<TUser>>;
}

/**
 * Bind a {@link TokenManager} to Hono.
 *
 * @example
 * ```ts
 * const auth = createHonoAuth<User>(manager);
 * app.get('/me', auth.jwtRequired(), (c) => c.json(c.get('jwt')?.user ?? null));
 * ```
 */
export function createHonoAuth<TUser>(manager: TokenManager<TUser>): HonoAuth<TUser> {
  const config = manager.config;
  const contexts = contextStore<TUser>();
  return {
    jwtRequired(options) {
      const guard = createGuard(manager, options);
      const proceed = (c: Context, next: Next, result: GuardResult<TUser>): ReturnType<MiddlewareHandler> => {
        if (!result.ok) {
          const { status, headers, body } = result.response;
          // c.body keeps headers the app set earlier (its cookies, CORS).
          return Promise.resolve(c.body(body, status as ContentfulStatusCode, { ...headers }));
        }
        contexts.set(c, result.jwt);
        c.set('jwt', result.jwt);
        if (result.setCookies.length === 0) return next();
        // After next(): a handler that returns a bare Response would drop headers prepared before it.
        return next().then(() => appendSetCookie(c, result.setCookies));
      };
      // Not an async function: when the guard answers synchronously (most requests)
      // the middleware hands on next()'s promise instead of wrapping it in another.
      // Errors that are not Tessera errors reject, and reach app.onError.
      return (c, next) => {
        const outcome = guard(honoRequestLike(c));
        if (outcome instanceof Promise) return outcome.then((result) => proceed(c, next, result));
        return proceed(c, next, outcome);
      };
    },
    ...jwtAccessors<Context, TUser>(contexts),
    ...cookieBindings(config, appendSetCookie),
  };
}

function honoRequestLike(c: Context): RequestLike {
  const incoming = nodeIncoming(c);
  return {
    // Under @hono/node-server the Node request is at hand: its method and raw header
    // lines need neither Hono's request object nor a Headers object, and repeated
    // lines join as in the Node adapters.
    method: incoming?.method ?? c.req.method,
    url: incoming?.url ?? c.req.url,
    header: incoming === undefined ? (name) => c.req.header(name) : (name) => requestHeader(incoming, name),
    // Hono caches the parsed body, so the handler can read it again.
    body: async () => {
      // Hono reads whole bodies; refuse announced oversize ones here (chunked
      // uploads are bounded by Hono's own bodyLimit middleware, if the app uses it).
      if (Number(c.req.header('content-length') ?? 0) > DEFAULT_BODY_LIMIT) return undefined;
      const type = c.req.header('content-type');
      if (isJsonContentType(type)) return c.req.json<unknown>();
      if (isFormContentType(type)) return c.req.parseBody();
      return undefined;
    },
  };
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

function appendSetCookie(c: Context, values: readonly string[]): void {
  for (const value of values) c.header('Set-Cookie', value, { append: true });
}
