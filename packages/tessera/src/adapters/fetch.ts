/**
 * Adapter for any runtime that answers a web `Request` with a `Response`:
 * Next.js route handlers, Bun.serve, Deno.serve, Workers-style handlers.
 * No Node import at load time, so it runs where `node:http` does not exist;
 * {@link serveFetch} loads `node:http` only when called.
 *
 * @example
 * ```ts
 * import { createFetchAuth } from 'tessera-auth/fetch';
 *
 * const auth = createFetchAuth(manager);
 * export const GET = auth.jwtRequired({}, (request, jwt) =>
 *   Response.json({ logged_in_as: jwt.identity }),
 * );
 * ```
 */
import type { Server } from 'node:http';
import { BodyTooLargeError, type TesseraError } from '../errors.js';
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
import { announcedTooLarge, DEFAULT_BODY_LIMIT, readWebBody } from './body.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  type CookieBindings,
  cookieBindings,
  type Refusals,
  refusalError,
  refusals,
} from './shared.js';

/**
 * A handler behind `jwtRequired`: the request and its verified token. `TJwt` is
 * what the route's options make it: non-null on a required route, `| null` on
 * an optional one (the default here, for options not known at compile time).
 */
export type FetchJwtHandler<
  TUser = unknown,
  TClaims extends object = NoClaims,
  TIdentity = unknown,
  TJwt = JwtContext<TUser, TClaims, TIdentity> | null,
> = (request: Request, jwt: TJwt) => Response | Promise<Response>;

/**
 * Options of {@link createFetchAuth}. With `errors: 'throw'` a refusal rejects
 * the handler's promise with an `AuthResponseError` (status, headers, body),
 * for the runtime's or your wrapper's error handling.
 */
export interface FetchAuthOptions extends AuthErrorOptions<Request> {
  /**
   * The most bytes read from a body for the json location or a CSRF form field;
   * larger bodies answer 413 as soon as that is known. Default 1 MiB.
   */
  bodyLimit?: number;
}

/** The fetch-style bindings of one {@link TokenManager}. */
export interface FetchAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>
  extends CookieBindings<Headers> {
  /**
   * Run the guard on a request and return its verdict, for handlers that
   * compose their own responses.
   *
   * @example
   * ```ts
   * const result = await auth.verify(request);
   * if (!result.ok) return new Response(result.response.body, result.response);
   * ```
   */
  verify(request: Request, options?: JwtRequiredOptions): Promise<GuardResult<TUser, TClaims, TIdentity>>;
  /**
   * Wrap a handler: refused requests get the manager's error response, and
   * implicit-refresh cookies are added to the handler's response. The handler's
   * `jwt` is non-null unless the options say `optional: true`. An `OPTIONS`
   * request the guard lets through without a token (CORS preflights) is answered
   * 204, without a body, on a required route instead of reaching the handler; an
   * optional route runs the handler with `jwt` null.
   *
   * @example
   * ```ts
   * const handler = auth.jwtRequired({ fresh: true }, (request, jwt) => Response.json(jwt.payload));
   * ```
   */
  jwtRequired<const TOptions extends JwtRequiredOptions | undefined>(
    options: TOptions,
    handler: FetchJwtHandler<
      TUser,
      TClaims,
      TIdentity,
      RouteJwt<TOptions, JwtContext<TUser, TClaims, TIdentity>>
    >,
  ): (request: Request) => Promise<Response>;
  /**
   * The refresh endpoint (see the Express adapter's `refresh` for the contract):
   * answers 200 with the new tokens (JSON, plus Set-Cookie in cookie mode), or
   * the profile's refusal.
   *
   * @example
   * ```ts
   * export const POST = auth.refresh(); // app/auth/refresh/route.ts
   * ```
   */
  refresh(options?: RefreshHandlerOptions): (request: Request) => Promise<Response>;
}

/**
 * Bind a {@link TokenManager} to fetch-style handlers.
 *
 * @example
 * ```ts
 * // The user type comes from the manager's: auth.getCurrentUser() is a User.
 * const auth = createFetchAuth(new TokenManager<User>({ secret }));
 * Bun.serve({ fetch: auth.jwtRequired({}, (req, jwt) => Response.json(jwt.user)) });
 * ```
 */
export function createFetchAuth<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: FetchAuthOptions = {},
): FetchAuth<TUser, TClaims, TIdentity> {
  refuseUnknownOptions(options, FETCH_OPTIONS, 'createFetchAuth options');
  const config = manager.config;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const refusal = refusals(options, 'createFetchAuth');
  // verify() without options, the common call, reuses one guard.
  const defaultGuard = createGuard(manager);
  return {
    verify: async (request, routeOptions) =>
      (routeOptions === undefined ? defaultGuard : createGuard(manager, routeOptions))(
        toRequestLike(request, bodyLimit),
      ),
    // One implementation: the handler's type is the interface's, from the options' type.
    jwtRequired: ((
      routeOptions: JwtRequiredOptions | undefined,
      handler: FetchJwtHandler<TUser, TClaims, TIdentity>,
    ) => {
      const guard = createGuard(manager, routeOptions);
      const optional = routeOptions?.optional === true;
      // Errors that are not Tessera errors reject: the runtime's error handling answers.
      return async (request: Request) => {
        const outcome = guard(toRequestLike(request, bodyLimit));
        const result = outcome instanceof Promise ? await outcome : outcome;
        if (!result.ok) return refuse(refusal, request, result.error, result.response);
        // The guard's OPTIONS exemption: a required route's handler never sees a null context.
        if (result.jwt === null && !optional) return new Response(null, { status: 204 });
        const response = await handler(request, result.jwt);
        return withSetCookies(response, result.setCookies);
      };
    }) as FetchAuth<TUser, TClaims, TIdentity>['jwtRequired'],
    refresh(handlerOptions) {
      const handler = createRefreshHandler(manager, handlerOptions);
      return async (request) => {
        const outcome = await handler(toRequestLike(request, bodyLimit));
        if (!outcome.ok) return refuse(refusal, request, outcome.error, outcome.response);
        const response = toResponse(outcome.response);
        append(response.headers, outcome.setCookies);
        return response;
      };
    },
    ...cookieBindings(config, append),
  };
}

const FETCH_OPTIONS = ['bodyLimit', ...AUTH_ERROR_OPTION_KEYS];

async function refuse(
  refusal: Refusals<Request>,
  request: Request,
  error: TesseraError,
  response: ResponseData,
): Promise<Response> {
  const answer = await refusal.answer(error, request, response);
  if (refusal.throws) throw refusalError(error, answer);
  return toResponse(answer);
}

function toResponse({ status, headers, body }: ResponseData): Response {
  return new Response(body, { status, headers });
}

/**
 * The http layer's view of a web Request. The body is read from a clone,
 * bounded by `bodyLimit`, so the handler can still read the original.
 *
 * @example
 * ```ts
 * const jwt = await verifyJwtInRequest(manager, toRequestLike(request));
 * ```
 */
export function toRequestLike(request: Request, bodyLimit = DEFAULT_BODY_LIMIT): RequestLike {
  let body: Promise<unknown> | undefined;
  return {
    method: request.method,
    url: request.url,
    header: (name) => request.headers.get(name) ?? undefined,
    body() {
      if (body !== undefined) return body;
      if (announcedTooLarge(request.headers.get('content-length'), bodyLimit)) {
        body = Promise.reject(new BodyTooLargeError(bodyLimit));
      } else if (request.bodyUsed || request.body === null) {
        body = Promise.resolve(undefined);
      } else {
        body = readWebBody(request.clone().body, request.headers.get('content-type') ?? undefined, bodyLimit);
      }
      return body;
    },
  };
}

function append(headers: Headers, values: readonly string[]): void {
  for (const value of values) headers.append('set-cookie', value);
}

function withSetCookies(response: Response, values: readonly string[]): Response {
  if (values.length === 0) return response;
  try {
    append(response.headers, values);
    return response;
  } catch {
    // Immutable headers (Response.redirect, a proxied fetch() response): copy, then add.
    const copy = new Response(response.body, response);
    append(copy.headers, values);
    return copy;
  }
}

const SERVE_OPTIONS = ['port', 'hostname', 'onError'];

type NodeRequest = import('node:http').IncomingMessage;
type ReadableModule = typeof import('node:stream').Readable;

/** The web Request for a Node request; throws when no URL can be built from its Host and target. */
function toWebRequest(req: NodeRequest, hostname: string, Readable: ReadableModule): Request {
  // Concatenated, not resolved against a base: a target like `//other/x` stays a path.
  const url = new URL(`http://${req.headers.host ?? hostname}${req.url ?? '/'}`);
  const headers = new Headers();
  // headersDistinct, not headers: Node keeps only the first of repeated Authorization
  // lines there, where the Fetch API (and RequestLike) joins them with ', '.
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values === undefined) continue;
    // Cookie lines combine with '; ' (RFC 9113 8.2.3), as Node's own record has them.
    if (name === 'cookie') headers.set(name, values.join('; '));
    else for (const value of values) headers.append(name, value);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    // Node's fetch needs this to accept a streamed request body.
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** A running {@link serveFetch} server. */
export interface FetchServer {
  /** The Node server. */
  readonly server: Server;
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Stop listening and close idle connections. */
  close(): Promise<void>;
}

/**
 * Serve a fetch-style handler with `node:http`, for Node users and tests.
 * Minimal by design (no HTTP/2, no trailers); a framework's server is the
 * better choice for production.
 *
 * @example
 * ```ts
 * const { url } = await serveFetch(handler, { port: 3000, hostname: '127.0.0.1' });
 * ```
 */
export async function serveFetch(
  handler: (request: Request) => Response | Promise<Response>,
  options: {
    port?: number;
    hostname?: string;
    /** Called with an error the handler threw (the client gets a bare 500). Default console.error. */
    onError?: (error: unknown) => void;
  } = {},
): Promise<FetchServer> {
  refuseUnknownOptions(options, SERVE_OPTIONS, 'serveFetch options');
  const { createServer } = await import('node:http');
  const { Readable } = await import('node:stream');
  const hostname = options.hostname ?? '127.0.0.1';
  const onError = options.onError ?? console.error;
  const server = createServer((req, res) => {
    let request: Request;
    try {
      request = toWebRequest(req, hostname, Readable);
    } catch {
      // A Host header (or target) no URL can be built from: the client's mistake, never a crash.
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('Bad Request');
      return;
    }
    Promise.resolve()
      .then(() => handler(request))
      .then(async (response) => {
        res.statusCode = response.status;
        const cookies = response.headers.getSetCookie();
        response.headers.forEach((value, name) => {
          if (name !== 'set-cookie') res.setHeader(name, value);
        });
        if (cookies.length > 0) res.setHeader('set-cookie', cookies);
        // Answered before the body was read (a 413, a refusal): the rest of it is not
        // wanted, and the connection cannot be reused until it has arrived.
        if (!req.complete) res.setHeader('connection', 'close');
        if (response.body === null) return void res.end();
        const reader = response.body.getReader();
        for (let next = await reader.read(); !next.done; next = await reader.read()) res.write(next.value);
        res.end();
      })
      .catch((error: unknown) => {
        // An unhandled error is a server bug: log it, never the request, and answer a bare 500.
        onError(error);
        if (res.headersSent) return void res.destroy();
        res.statusCode = 500;
        res.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, hostname, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 3000);
  return {
    server,
    port,
    url: `http://${hostname}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
