/**
 * Pieces every adapter repeats: the per-request context store and Node header
 * access. Internal to the adapters (no subpath export).
 */
import type { ServerResponse } from 'node:http';
import {
  type CookieCallOptions,
  setAccessCookies,
  setRefreshCookies,
  unsetAccessCookies,
  unsetJwtCookies,
  unsetRefreshCookies,
} from '../http/cookies.js';
import type { JwtContext } from '../http/guard.js';
import type { ResolvedConfig } from '../manager/config.js';

/** Where an adapter keeps each request's verdict, keyed by its request object. */
export interface ContextStore<TUser> {
  set(key: object, jwt: JwtContext<TUser> | null): void;
  /** The context, or throws when the guard never ran for `key`. */
  get(key: object, accessor: string): JwtContext<TUser> | null;
}

/**
 * A typed per-request store: a property under a symbol private to this store.
 * No declaration merging, no collision with other middleware (or with a second
 * manager's adapter), invisible to JSON and `for...in`, and gone with its request.
 * Not a WeakMap: its entries are ephemerons the collector traces one by one,
 * which cost about 0.7 µs per request on the Fastify benchmark route.
 */
export function contextStore<TUser>(): ContextStore<TUser> {
  const slot = Symbol('tessera.jwt');
  type Holder = { [slot]?: JwtContext<TUser> | null };
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
export interface JwtAccessors<TRequest, TUser> {
  /**
   * The verified token of this request; null on an optional route without one.
   * Throws when `jwtRequired()` did not run for the request.
   *
   * @example
   * ```ts
   * const roles = auth.getJwt(req)?.payload.roles;
   * ```
   */
  getJwt(request: TRequest): JwtContext<TUser> | null;
  /** The identity claim (undefined on an optional route without a token). */
  getJwtIdentity(request: TRequest): unknown;
  /** What the manager's `userLookup` returned for this request. */
  getCurrentUser(request: TRequest): TUser | undefined;
}

/** The accessors over a context store. */
export function jwtAccessors<TRequest extends object, TUser>(
  contexts: ContextStore<TUser>,
): JwtAccessors<TRequest, TUser> {
  const getJwt = (request: TRequest) => contexts.get(request, 'getJwt()');
  return {
    getJwt,
    getJwtIdentity: (request) => getJwt(request)?.identity,
    getCurrentUser: (request) => getJwt(request)?.user,
  };
}
