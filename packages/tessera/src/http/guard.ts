/**
 * The request guard: `jwtRequired(...)` semantics without a framework. Finds
 * the token, verifies it through the manager, and returns what a route needs,
 * or an answer to send. Adapters are thin translations around {@link createGuard}.
 */
import {
  ConfigError,
  MissingClaimError,
  NoAuthorizationError,
  RevokedTokenError,
  TesseraError,
} from '../errors.js';
import { decodeProtectedHeader } from '../jws/compact.js';
import type { JwsHeader } from '../jws/header.js';
import { refuseUnknownOptions } from '../known-options.js';
import { type ResponseData, TOKEN_LOCATIONS, type TokenLocation } from '../manager/options.js';
import type {
  NoClaims,
  TokenManager,
  TokenPayload,
  VerifiedToken,
  VerifyTokenOptions,
} from '../manager/token-manager.js';
import { inProfileWords } from '../tokens/profile.js';
import { setAccessCookies } from './cookies.js';
import { type FoundToken, type KnownToken, locateToken } from './locate.js';
import type { RequestLike } from './request.js';
import { errorResponse } from './responses.js';

/** What a route requires (Flask-JWT-Extended's `jwt_required` arguments). */
export interface JwtRequiredOptions {
  /** A missing token is fine (the context is then null); an invalid one is still refused. */
  optional?: boolean;
  /** Require a fresh access token. */
  fresh?: boolean;
  /** Require a refresh token (for the refresh endpoint). */
  refresh?: boolean;
  /** Where to look, overriding the configured locations for this route. */
  locations?: TokenLocation | readonly TokenLocation[];
  /** Check the token type. Default true. */
  verifyType?: boolean;
  /** Skip the store and tokenInBlocklist checks. */
  skipRevocationCheck?: boolean;
  /** Accept this token type instead of `access` (SimpleJWT sliding tokens). */
  tokenType?: string;
  /**
   * SimpleJWT's `AUTH_TOKEN_CLASSES` for this route (`simplejwt` profile only): the
   * token types it accepts, tried in this order, the first that passes wins. A
   * refresh or sliding class checks the blacklist before the type, and a refusal
   * lists every class in the error's `messages`, as SimpleJWT does. Not with
   * `refresh`, `tokenType` or `verifyType: false`.
   */
  tokenClasses?: readonly SimpleJwtTokenClass[];
}

/** A SimpleJWT token class, by its `token_type`. */
export type SimpleJwtTokenClass = 'access' | 'refresh' | 'sliding';

/**
 * What a protected route knows about its caller, typed with the manager's user,
 * custom claims and identity types (see {@link TokenManager}).
 */
export interface JwtContext<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown> {
  readonly token: string;
  readonly header: JwsHeader;
  /** The registered claims and the manager's custom claims. */
  readonly payload: TokenPayload<TClaims>;
  readonly identity: TIdentity;
  /**
   * What userLookup returned; never null or undefined when one is configured.
   * Undefined without a userLookup (`TUser` is then `unknown`).
   */
  readonly user: TUser;
  /** Where the token was found. */
  readonly location: TokenLocation;
}

/**
 * The context a route's handler receives, from the route's options: non-null on
 * a required route (options without `optional`, or `optional: false`), `| null`
 * when `optional` is true or not known at compile time. The adapters end an
 * `OPTIONS` request on a required route themselves (204), so a handler typed
 * non-null never sees the guard's `OPTIONS` exemption.
 *
 * @example
 * ```ts
 * type Required = RouteJwt<{ fresh: true }, JwtContext>; // JwtContext
 * type Optional = RouteJwt<{ optional: true }, JwtContext>; // JwtContext | null
 * ```
 */
export type RouteJwt<TOptions extends JwtRequiredOptions | undefined, TContext> = [
  OptionalFlag<TOptions>,
] extends [false | undefined]
  ? TContext
  : TContext | null;

// The `optional` option's type (undefined when the options leave it out). Read by
// key, not by `extends { optional?: ... }`: an all-optional target is a weak type,
// which options sharing none of its keys (`{ fresh: true }`) would fail to match.
type OptionalFlag<TOptions> = TOptions extends object
  ? 'optional' extends keyof TOptions
    ? TOptions['optional' & keyof TOptions]
    : undefined
  : undefined;

/** The guard's verdict for one request. */
export type GuardResult<TUser, TClaims extends object = NoClaims, TIdentity = unknown> =
  | {
      readonly ok: true;
      /**
       * Null when the route is optional and no token was sent, or for an `OPTIONS`
       * request the guard exempts (CORS preflights; not in the simplejwt profile).
       */
      readonly jwt: JwtContext<TUser, TClaims, TIdentity> | null;
      /** Set-Cookie values to add to the response (implicit refresh of the access cookie). */
      readonly setCookies: readonly string[];
    }
  | { readonly ok: false; readonly error: TesseraError; readonly response: ResponseData };

/**
 * A guard bound to a manager and a route's options. It answers synchronously when
 * nothing has to wait (the common case: a header token, a local keyring, no store
 * callbacks), and with a promise otherwise; `await` works on both. A crashed
 * callback is a rejected promise (or a synchronous throw), never a verdict.
 */
export type Guard<TUser, TClaims extends object = NoClaims, TIdentity = unknown> = (
  req: RequestLike,
) => GuardResult<TUser, TClaims, TIdentity> | Promise<GuardResult<TUser, TClaims, TIdentity>>;

/**
 * Build a guard. Options are validated here, once, so a typo fails at startup.
 * Errors that are not Tessera errors (a callback that crashed) are re-thrown
 * for the framework's own error handling.
 */
export function createGuard<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  options: JwtRequiredOptions = {},
): Guard<TUser, TClaims, TIdentity> {
  return untypedGuard(manager as TokenManager<unknown>, options) as Guard<TUser, TClaims, TIdentity>;
}

// The guard works on the untyped manager; createGuard states the manager's types
// (the verified token is the manager's own, see TokenManager.verify).
function untypedGuard<TUser>(manager: TokenManager<TUser>, options: JwtRequiredOptions): Guard<TUser> {
  refuseUnknownOptions(options, JWT_REQUIRED_OPTIONS, 'jwtRequired options');
  const config = manager.config;
  const locations = routeLocations(options.locations, config.transport.locations);
  const verifyOptions = routeVerifyOptions(options);
  const exemptOptions = config.profile.exemptOptions;
  const verifier = manager.verifier;
  const known: KnownToken | undefined = verifier.caches ? (token) => verifier.isCached(token) : undefined;
  const classes = simpleJwtClasses(manager, options);
  const refused = (error: unknown, req: RequestLike | undefined): Promise<GuardResult<TUser>> => {
    if (error instanceof ClassesRefused) {
      return classesResponse(manager, error).then((response) => ({
        ok: false,
        error: error.first,
        response,
      }));
    }
    // A crashed callback or a configuration mistake is the server's: the framework's
    // error handling answers it, not a token error response.
    if (!(error instanceof TesseraError) || error.kind === 'configuration') return Promise.reject(error);
    inProfileWords(config.profile, error);
    return errorResponse(config, error, req?.header('accept-language')).then((response) => ({
      ok: false,
      error,
      response,
    }));
  };
  // Only a negotiated language needs the request at refusal time: otherwise no closure
  // per request is made for the promise paths.
  const negotiates = config.messages.locale === 'accept-language';
  const refusedAnywhere = (error: unknown) => refused(error, undefined);
  const refusal = (req: RequestLike) =>
    negotiates ? (error: unknown) => refused(error, req) : refusedAnywhere;
  const accepted = (jwt: JwtContext<TUser> | null): GuardResult<TUser> | Promise<GuardResult<TUser>> => {
    if (jwt === null || !needsImplicitRefresh(manager, jwt)) return { ok: true, jwt, setCookies: NO_COOKIES };
    return implicitRefresh(manager, jwt).then((setCookies) => ({ ok: true, jwt, setCookies }));
  };
  if (classes !== undefined) {
    return (req) =>
      verifyClasses(manager, req, options, locations, verifyOptions, classes)
        .then(accepted)
        .catch(refusal(req));
  }
  // Synchronous as far as the configuration allows: with headers, a local keyring
  // and no store or callbacks, a request costs no turn of the event loop.
  return (req) => {
    try {
      if (exemptOptions && isOptionsMethod(req.method))
        return { ok: true, jwt: null, setCookies: NO_COOKIES };
      const jwt = verifyInRequest(manager, req, options, locations, verifyOptions, known);
      if (jwt instanceof Promise) return jwt.then(accepted).catch(refusal(req));
      const result = accepted(jwt);
      return result instanceof Promise ? result.catch(refusal(req)) : result;
    } catch (error) {
      return refused(error, req);
    }
  };
}

const NO_COOKIES: readonly string[] = Object.freeze([]);

// Methods are case-sensitive (RFC 9110) but some clients send them in lower case;
// the length test spares every other request a new upper-case string.
function isOptionsMethod(method: string): boolean {
  return method.length === 7 && method.toUpperCase() === 'OPTIONS';
}

const JWT_REQUIRED_OPTIONS = [
  'optional',
  'fresh',
  'refresh',
  'locations',
  'verifyType',
  'skipRevocationCheck',
  'tokenType',
  'tokenClasses',
];

const TOKEN_CLASS_NAMES: Readonly<Record<SimpleJwtTokenClass, string>> = {
  access: 'AccessToken',
  refresh: 'RefreshToken',
  sliding: 'SlidingToken',
};

/**
 * The classes a simplejwt-profile route tries in turn, or undefined for the plain
 * one-type path (an access route): `tokenClasses`, or the one type `tokenType`
 * names, so that a sliding route's refusal names SlidingToken (D61).
 */
function simpleJwtClasses(
  manager: TokenManager<unknown>,
  options: JwtRequiredOptions,
): readonly SimpleJwtTokenClass[] | undefined {
  const simplejwt = manager.config.profile.simpleJwtClasses;
  const listed = options.tokenClasses;
  if (listed === undefined) {
    const type = options.tokenType;
    return simplejwt && !options.refresh && (type === 'sliding' || type === 'refresh') ? [type] : undefined;
  }
  if (!simplejwt) throw new ConfigError("tokenClasses needs the 'simplejwt' profile");
  if (options.refresh || options.tokenType !== undefined || options.verifyType === false) {
    throw new ConfigError('tokenClasses cannot be combined with refresh, tokenType or verifyType: false');
  }
  if (!Array.isArray(listed) || listed.length === 0)
    throw new ConfigError('tokenClasses must name at least one class');
  for (const type of listed) {
    if (!Object.hasOwn(TOKEN_CLASS_NAMES, type)) {
      throw new ConfigError(
        `token class '${String(type)}' is not one of ${Object.keys(TOKEN_CLASS_NAMES).join(', ')}`,
      );
    }
  }
  return [...listed];
}

/** Every class refused the token: the first class's error, and each class's. */
class ClassesRefused extends Error {
  constructor(readonly failures: readonly { type: SimpleJwtTokenClass; error: TesseraError }[]) {
    super('Given token not valid for any token type');
  }
  get first(): TesseraError {
    return this.failures[0]!.error;
  }
}

// SimpleJWT's JWTAuthentication.get_validated_token: each class in turn, the first
// that passes wins. Errors about the user, the store or the permission are not
// a class's: they end the loop as they would after SimpleJWT's loop.
async function verifyClasses<TUser>(
  manager: TokenManager<TUser>,
  req: RequestLike,
  options: JwtRequiredOptions,
  locations: readonly TokenLocation[],
  verifyOptions: VerifyTokenOptions,
  classes: readonly SimpleJwtTokenClass[],
): Promise<JwtContext<TUser> | null> {
  let found: FoundToken;
  try {
    found = await locateToken(req, manager.config.transport, manager.config.profile, locations, false);
  } catch (error) {
    return missingIsFine(options, error);
  }
  const failures: { type: SimpleJwtTokenClass; error: TesseraError }[] = [];
  for (const type of classes) {
    try {
      // BlacklistMixin (refresh and sliding classes): the blacklist before the type (D63).
      if (type !== 'access' && !options.skipRevocationCheck) await blacklistFirst(manager, found.token);
      return await verifyFound(manager, found, {
        ...verifyOptions,
        refresh: type === 'refresh',
        tokenType: type,
      });
    } catch (error) {
      if (!isClassError(manager, error)) throw error;
      failures.push({ type, error });
    }
  }
  throw new ClassesRefused(failures);
}

async function blacklistFirst(manager: TokenManager<unknown>, token: string): Promise<void> {
  const config = manager.config;
  if (config.store === undefined && config.callbacks.tokenInBlocklist === undefined) return;
  const payload = await manager.decodeToken(token);
  const header = decodeProtectedHeader(token);
  if (await manager.isRevoked(header, payload)) throw new RevokedTokenError({ header, payload });
}

function isClassError(manager: TokenManager<unknown>, error: unknown): error is TesseraError {
  if (!(error instanceof TesseraError) || error.kind === 'configuration') return false;
  if (error instanceof MissingClaimError && error.claim === manager.config.profile.identityClaim)
    return false;
  return !CALLER_ERRORS.has(error.code);
}

const CALLER_ERRORS = new Set(['user_lookup_failed', 'claims_verification_failed', 'store_unavailable']);

// The profile's answer to the first class's error, its `messages` entry repeated
// for each class with that class's own message (DRF's envelope).
async function classesResponse(
  manager: TokenManager<unknown>,
  refusal: ClassesRefused,
): Promise<ResponseData> {
  const { config } = manager;
  const responses = await Promise.all(
    refusal.failures.map((f) => errorResponse(config, inProfileWords(config.profile, f.error))),
  );
  const first = responses[0]!;
  const messages: unknown[] = [];
  for (const [i, { type }] of refusal.failures.entries()) {
    const entry = envelopeEntry(responses[i]!.body);
    // A custom error handler's own body: left as it is.
    if (entry === undefined) return first;
    messages.push({ ...entry, token_class: TOKEN_CLASS_NAMES[type], token_type: type });
  }
  const body = JSON.parse(first.body) as Record<string, unknown>;
  return { ...first, body: JSON.stringify({ ...body, messages }) };
}

function envelopeEntry(body: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const messages = (parsed as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length !== 1) return undefined;
  const entry: unknown = messages[0];
  return typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : undefined;
}

/**
 * Find and verify the request's token; null when `optional` and none was sent.
 * Throws the Tessera error that explains a refusal.
 */
export async function verifyJwtInRequest<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
  manager: TokenManager<TUser, TClaims, TIdentity>,
  req: RequestLike,
  options: JwtRequiredOptions = {},
  locations: readonly TokenLocation[] = routeLocations(options.locations, manager.config.transport.locations),
): Promise<JwtContext<TUser, TClaims, TIdentity> | null> {
  return (await untypedVerify(manager as TokenManager<unknown>, req, options, locations)) as JwtContext<
    TUser,
    TClaims,
    TIdentity
  > | null;
}

function untypedVerify<TUser>(
  manager: TokenManager<TUser>,
  req: RequestLike,
  options: JwtRequiredOptions,
  locations: readonly TokenLocation[],
): Promise<JwtContext<TUser> | null> | JwtContext<TUser> | null {
  const classes = simpleJwtClasses(manager, options);
  if (classes !== undefined) {
    // No response to build here: the first class's error explains the refusal.
    return verifyClasses(manager, req, options, locations, routeVerifyOptions(options), classes).catch(
      (error: unknown) => {
        throw error instanceof ClassesRefused ? error.first : error;
      },
    );
  }
  return verifyInRequest(manager, req, options, locations);
}

function verifyInRequest<TUser>(
  manager: TokenManager<TUser>,
  req: RequestLike,
  options: JwtRequiredOptions,
  locations: readonly TokenLocation[],
  verifyOptions: VerifyTokenOptions = routeVerifyOptions(options),
  known?: KnownToken,
): JwtContext<TUser> | null | Promise<JwtContext<TUser> | null> {
  const refresh = verifyOptions.refresh === true;
  let found: FoundToken | Promise<FoundToken>;
  try {
    found = locateToken(req, manager.config.transport, manager.config.profile, locations, refresh, known);
  } catch (error) {
    return missingIsFine(options, error);
  }
  if (found instanceof Promise) {
    return found.then(
      (token) => verifyFound(manager, token, verifyOptions),
      (error: unknown) => missingIsFine(options, error),
    );
  }
  return verifyFound(manager, found, verifyOptions);
}

// An optional route accepts a request without a token; nothing else.
function missingIsFine(options: JwtRequiredOptions, error: unknown): null {
  if (options.optional && error instanceof NoAuthorizationError) return null;
  throw error;
}

// The route's options as the manager takes them, built once per guard: only a
// cookie token's CSRF value differs between requests.
function routeVerifyOptions(options: JwtRequiredOptions): VerifyTokenOptions {
  return {
    refresh: options.refresh ?? false,
    fresh: options.fresh,
    verifyType: options.verifyType,
    skipRevocationCheck: options.skipRevocationCheck,
    tokenType: options.tokenType,
  };
}

function verifyFound<TUser>(
  manager: TokenManager<TUser>,
  found: FoundToken,
  options: VerifyTokenOptions,
): JwtContext<TUser> | Promise<JwtContext<TUser>> {
  const verified = manager.verify(
    found.token,
    found.csrfValue === undefined ? options : { ...options, csrfValue: found.csrfValue },
  );
  if (verified instanceof Promise) return verified.then((v) => context(found, v));
  return context(found, verified);
}

function context<TUser>(found: FoundToken, v: VerifiedToken<TUser>): JwtContext<TUser> {
  return {
    token: found.token,
    location: found.location,
    header: v.header,
    payload: v.payload,
    identity: v.identity,
    user: v.user,
  };
}

function needsImplicitRefresh<TUser>(manager: TokenManager<TUser>, jwt: JwtContext<TUser>): boolean {
  const config = manager.config;
  const within = config.transport.cookies.implicitRefreshWithin;
  const exp = jwt.payload.exp;
  if (within === false || jwt.location !== 'cookies' || typeof exp !== 'number') return false;
  return jwt.payload[config.profile.typeClaim] !== 'refresh' && exp - config.now() <= within;
}

// Re-issue an access cookie that is about to expire from what was verified: its
// identity claim as is, its custom claims, and its session family, so logout and
// revocation reach the new cookie too.
async function implicitRefresh<TUser>(
  manager: TokenManager<TUser>,
  jwt: JwtContext<TUser>,
): Promise<string[]> {
  return setAccessCookies(manager.config, await manager.reissueAccessToken(jwt));
}

/** A route's `locations` option, checked (ConfigError), or the configured ones. */
export function routeLocations(
  value: TokenLocation | readonly TokenLocation[] | undefined,
  fallback: readonly TokenLocation[],
): readonly TokenLocation[] {
  if (value === undefined) return fallback;
  const list = typeof value === 'string' ? [value] : [...value];
  if (list.length === 0) throw new ConfigError('locations must name at least one location');
  for (const location of list) {
    if (!TOKEN_LOCATIONS.includes(location)) {
      throw new ConfigError(`location '${String(location)}' is not one of ${TOKEN_LOCATIONS.join(', ')}`);
    }
  }
  return list;
}
