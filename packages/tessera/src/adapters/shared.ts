/**
 * Pieces every adapter repeats: the per-request context store and Node header
 * access. Internal to the adapters (no subpath export).
 */
import type { ServerResponse } from 'node:http';
import { BodyInvalidError, BodyTooLargeError, ConfigError, TesseraError } from '../errors.js';
import {
  type CookieCallOptions,
  setAccessCookies,
  setRefreshCookies,
  unsetAccessCookies,
  unsetJwtCookies,
  unsetRefreshCookies,
} from '../http/cookies.js';
import type { JwtContext } from '../http/guard.js';
import { AuthResponseError } from '../http/http-error.js';
import { missingJsonKey } from '../http/locate.js';
import { errorResponse } from '../http/responses.js';
import type { ResolvedConfig } from '../manager/config.js';
import type { ResponseData } from '../manager/options.js';
import type { NoClaims } from '../manager/types.js';
import { inProfileWords } from '../tokens/profile.js';

/** Where an adapter keeps each request's verdict, keyed by its request object. */
export interface ContextStore<TUser, TClaims extends object = NoClaims, TIdentity = unknown> {
  set(key: object, jwt: JwtContext<TUser, TClaims, TIdentity> | null): void;
  /** The context, or throws when the guard never ran for `key`. */
  get(key: object, accessor: string): JwtContext<TUser, TClaims, TIdentity> | null;
}

/**
 * A typed per-request store: a property under a symbol private to this store.
 * No declaration merging, no collision with other middleware (or with a second
 * manager's adapter), invisible to JSON and `for...in`, and gone with its request.
 * Not a WeakMap: its entries are ephemerons the collector traces one by one,
 * which cost about 0.7 µs per request on the Fastify benchmark route.
 */
export function contextStore<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(): ContextStore<
  TUser,
  TClaims,
  TIdentity
> {
  const slot = Symbol('tessera.jwt');
  type Holder = { [slot]?: JwtContext<TUser, TClaims, TIdentity> | null };
  return {
    set(key, jwt) {
      (key as Holder)[slot] = jwt;
    },
    get(key, accessor) {
      const jwt = (key as Holder)[slot];
      if (jwt === undefined) {
        // Same mistake Flask-JWT-Extended reports ("You must call `@jwt_required()` ...").
        throw new Error(
          `tessera: ${accessor} was called on a request that jwtRequired() did not run on; ` +
            'add jwtRequired() (optionally { optional: true }) to this route before calling it',
        );
      }
      return jwt;
    },
  };
}

/** What adapters need of Node's request: its headers, and the raw lines. */
export interface NodeHeaderSource {
  readonly headers: NodeHeaders;
  /** Header names and values alternating, as received (Node's `rawHeaders`). */
  readonly rawHeaders?: readonly string[];
}

/**
 * One request header with repeated lines joined by ', ', as RFC 9110 combines them
 * (and as Werkzeug and the Fetch API do). `headers` keeps only the first
 * Authorization line, which would let adapters disagree on which token they saw.
 * The raw lines are scanned rather than `headersDistinct`, which would build a
 * record of every header on each request.
 */
export function requestHeader(req: NodeHeaderSource, name: string): string | undefined {
  const raw = req.rawHeaders;
  if (raw === undefined) return nodeHeader(req.headers, name);
  const wanted = name.toLowerCase();
  // Cookie lines combine with '; ' (RFC 9113 8.2.3), every other field with ', '.
  const separator = wanted === 'cookie' ? '; ' : ', ';
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === wanted.length && (key === wanted || key.toLowerCase() === wanted)) {
      value = value === undefined ? raw[i + 1]! : `${value}${separator}${raw[i + 1]!}`;
    }
  }
  return value;
}

/** Node's header record, as `http.IncomingMessage.headers` has it. */
export type NodeHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** One header from a Node header record; repeated values joined with ', '. */
export function nodeHeader(headers: NodeHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/**
 * Append Set-Cookie values to a Node response, keeping the ones already set
 * (by `res.cookie()` or other middleware).
 */
export function appendSetCookie(res: ServerResponse, values: readonly string[]): void {
  if (values.length === 0) return;
  const existing = res.getHeader('set-cookie');
  const current =
    existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  res.setHeader('set-cookie', [...current, ...values]);
}

/** Cookie helpers bound to one framework's response object. */
export interface CookieBindings<TTarget> {
  /**
   * Add the access cookie (and its CSRF cookie), keeping cookies already set.
   *
   * @example
   * ```ts
   * auth.setAccessCookies(res, await manager.createAccessToken({ identity: 'alice' }));
   * ```
   */
  setAccessCookies(target: TTarget, token: string, options?: CookieCallOptions): void;
  /** Add the refresh cookie (and its CSRF cookie). */
  setRefreshCookies(target: TTarget, token: string, options?: CookieCallOptions): void;
  /** Clear every token cookie (logout). */
  unsetJwtCookies(target: TTarget, options?: { domain?: string }): void;
  /** Clear the access cookies only. */
  unsetAccessCookies(target: TTarget, options?: { domain?: string }): void;
  /** Clear the refresh cookies only. */
  unsetRefreshCookies(target: TTarget, options?: { domain?: string }): void;
}

/** Bind the http layer's cookie helpers to a framework through its way of appending Set-Cookie. */
export function cookieBindings<TTarget>(
  config: ResolvedConfig<unknown>,
  append: (target: TTarget, values: readonly string[]) => void,
): CookieBindings<TTarget> {
  return {
    setAccessCookies: (target, token, options) => append(target, setAccessCookies(config, token, options)),
    setRefreshCookies: (target, token, options) => append(target, setRefreshCookies(config, token, options)),
    unsetJwtCookies: (target, options) => append(target, unsetJwtCookies(config, options)),
    unsetAccessCookies: (target, options) => append(target, unsetAccessCookies(config, options)),
    unsetRefreshCookies: (target, options) => append(target, unsetRefreshCookies(config, options)),
  };
}

/** Reading the verified token of a request, for frameworks with a request (or context) object. */
export interface JwtAccessors<TRequest, TUser, TClaims extends object = NoClaims, TIdentity = unknown> {
  /**
   * The verified token of this request; null on an optional route without one.
   * Throws when `jwtRequired()` did not run for the request.
   *
   * @example
   * ```ts
   * const roles = auth.getJwt(req)?.payload.roles;
   * ```
   */
  getJwt(request: TRequest): JwtContext<TUser, TClaims, TIdentity> | null;
  /** The identity claim (undefined on an optional route without a token). */
  getJwtIdentity(request: TRequest): TIdentity | undefined;
  /** What the manager's `userLookup` returned for this request. */
  getCurrentUser(request: TRequest): TUser | undefined;
}

/** The accessors over a context store. */
export function jwtAccessors<
  TRequest extends object,
  TUser,
  TClaims extends object = NoClaims,
  TIdentity = unknown,
>(contexts: ContextStore<TUser, TClaims, TIdentity>): JwtAccessors<TRequest, TUser, TClaims, TIdentity> {
  const getJwt = (request: TRequest) => contexts.get(request, 'getJwt()');
  return {
    getJwt,
    getJwtIdentity: (request) => getJwt(request)?.identity,
    getCurrentUser: (request) => getJwt(request)?.user,
  };
}

/**
 * Called with every refusal (a guarded route's or the refresh handler's) and the
 * framework's request, before the answer is made. Return a replacement answer,
 * or nothing to keep the profile's. Throwing hands the error to the framework.
 */
export type AuthErrorHook<TRequest> = (
  error: TesseraError,
  request: TRequest,
  response: ResponseData,
) => ResponseData | undefined | Promise<ResponseData | undefined>;

/** How an adapter answers refusals; every adapter factory takes these. */
export interface AuthErrorOptions<TRequest> {
  /**
   * `'respond'` (default): the adapter answers refusals itself. `'throw'`: they go
   * into the framework's error pipeline as an {@link AuthResponseError} carrying
   * status, headers and body (Hono: an `HTTPException` carrying the response).
   */
  errors?: 'respond' | 'throw';
  /** See {@link AuthErrorHook}. */
  onError?: AuthErrorHook<TRequest>;
}

/** The option keys of {@link AuthErrorOptions}, for refuseUnknownOptions. */
export const AUTH_ERROR_OPTION_KEYS = ['errors', 'onError'] as const;

/** Validated {@link AuthErrorOptions}. */
export interface Refusals<TRequest> {
  readonly throws: boolean;
  /**
   * The answer for a refusal after the app's hook: synchronous when there is no
   * hook (the common case costs no promise).
   */
  answer(
    error: TesseraError,
    request: TRequest,
    response: ResponseData,
  ): ResponseData | Promise<ResponseData>;
}

/** Check the error options once, at configuration time. */
export function refusals<TRequest>(options: AuthErrorOptions<TRequest>, where: string): Refusals<TRequest> {
  const mode = options.errors ?? 'respond';
  if (mode !== 'respond' && mode !== 'throw') {
    throw new ConfigError(`${where}: errors must be 'respond' or 'throw'`);
  }
  const hook = options.onError;
  if (hook !== undefined && typeof hook !== 'function')
    throw new ConfigError(`${where}: onError must be a function`);
  return {
    throws: mode === 'throw',
    answer:
      hook === undefined
        ? (_error, _request, response) => response
        : async (error, request, response) => (await hook(error, request, response)) ?? response,
  };
}

/** The error a refusal becomes in `errors: 'throw'` mode. */
export function refusalError(error: TesseraError, response: ResponseData): AuthResponseError {
  return new AuthResponseError(error, response);
}

/**
 * What an adapter's error handler makes of an error that reached it: the Tessera
 * error to answer (an auth refusal, or a body the framework's parser refused),
 * or undefined for errors that are not ours. `parseFailed`/`tooLarge` say how
 * the framework marks its body parser's errors.
 */
export function tesseraErrorOf(
  config: ResolvedConfig<unknown>,
  error: unknown,
  body: { parseFailed: boolean; tooLarge: number | undefined },
): TesseraError | undefined {
  return inProfileWords(config.profile, ourError(config, error, body));
}

function ourError(
  config: ResolvedConfig<unknown>,
  error: unknown,
  body: { parseFailed: boolean; tooLarge: number | undefined },
): TesseraError | undefined {
  if (error instanceof AuthResponseError) return error.error;
  if (error instanceof TesseraError) return error.kind === 'configuration' ? undefined : error;
  if (body.tooLarge !== undefined) return new BodyTooLargeError(body.tooLarge);
  if (body.parseFailed) {
    // Flask-JWT-Extended reads an unparsable JSON body as one without the token (F50).
    if (config.profile.unparsableBodyIsMissing && config.transport.locations.includes('json')) {
      return missingJsonKey(config.transport.jsonKey);
    }
    return new BodyInvalidError();
  }
  return undefined;
}

/**
 * How body-parser (express.json(), express.urlencoded()) and co-body
 * (koa-bodyparser, @koa/bodyparser) mark the errors of a body they refused.
 */
export function bodyParserError(error: unknown): { parseFailed: boolean; tooLarge: number | undefined } {
  if (typeof error !== 'object' || error === null) return { parseFailed: false, tooLarge: undefined };
  const { type, limit } = error as { type?: unknown; limit?: unknown };
  return {
    parseFailed: type === 'entity.parse.failed',
    tooLarge: type === 'entity.too.large' ? (typeof limit === 'number' ? limit : 0) : undefined,
  };
}

/**
 * The answer for an error an adapter's error handler caught (`error` is what
 * {@link tesseraErrorOf} made of `caught`): a thrown refusal's own answer, which
 * already went through the app's hook; otherwise the profile's answer, then the hook.
 */
export function caughtResponse<TRequest>(
  config: ResolvedConfig<unknown>,
  refusal: Refusals<TRequest>,
  caught: unknown,
  error: TesseraError,
  request: TRequest,
  acceptLanguage?: string,
): Promise<ResponseData> {
  if (caught instanceof AuthResponseError) return Promise.resolve(caught.response);
  return errorResponse(config, error, acceptLanguage).then((response) =>
    refusal.answer(error, request, response),
  );
}
