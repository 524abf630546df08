/**
 * NestJS adapter (NestJS 10 and 11 on `@nestjs/platform-express`): a module that
 * binds a {@link TokenManager}, a guard with `jwtRequired` semantics, and
 * decorators for the route's options, its verified token and its user.
 *
 * Refusals are answered the way every other adapter answers them (the profile's
 * status, body and `WWW-Authenticate`, byte for byte): the guard writes the answer
 * and then throws {@link JwtRefusedException}, which Nest's exception filter sees
 * as already answered. Decorators are applied as plain function calls inside this
 * module, so the library compiles without `experimentalDecorators`; your app
 * needs it (and `emitDecoratorMetadata`), as every NestJS app does.
 *
 * @example
 * ```ts
 * import { Controller, Get, Module } from '@nestjs/common';
 * import { TokenManager } from 'tessera-auth';
 * import { CurrentJwt, JwtRequired, TesseraModule } from 'tessera-auth/nestjs';
 * import type { JwtContext } from 'tessera-auth/nestjs';
 *
 * @Controller()
 * class MeController {
 *   @Get('me')
 *   @JwtRequired()
 *   me(@CurrentJwt() jwt: JwtContext) {
 *     return { logged_in_as: jwt.identity };
 *   }
 * }
 *
 * @Module({
 *   imports: [TesseraModule.forRoot({ manager: new TokenManager({ secret: process.env.JWT_SECRET }) })],
 *   controllers: [MeController],
 * })
 * export class AppModule {}
 * ```
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import {
  type CanActivate,
  createParamDecorator,
  type DynamicModule,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import { ConfigError, type TesseraError } from '../errors.js';
import { createGuard, type Guard, type JwtContext, type JwtRequiredOptions } from '../http/guard.js';
import { createRefreshHandler, type RefreshHandlerOptions } from '../http/refresh.js';
import { refuseUnknownOptions } from '../known-options.js';
import { type ResponseData, TOKEN_LOCATIONS } from '../manager/options.js';
import type { NoClaims, TokenManager } from '../manager/token-manager.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { type NodeRequest, nodeRequestLike, writeNodeResponse } from './node-request.js';
import {
  AUTH_ERROR_OPTION_KEYS,
  type AuthErrorOptions,
  appendSetCookie,
  type CookieBindings,
  contextStore,
  cookieBindings,
  type JwtAccessors,
  jwtAccessors,
  type Refusals,
  refusals,
} from './shared.js';

export type { JwtContext, JwtRequiredOptions } from '../http/guard.js';

/** What the guard reads from the platform's request (an Express `Request` is one). */
export type NestRequest = NodeRequest;

/** A request after the guard ran: `jwt` holds the same value as `@CurrentJwt()`. */
export type NestJwtRequest<
  TUser = unknown,
  TClaims extends object = NoClaims,
  TIdentity = unknown,
> = NestRequest & { jwt?: JwtContext<TUser, TClaims, TIdentity> | null };

/**
 * How refusals are answered (as every adapter takes them): `errors: 'respond'`
 * (default) writes the profile's answer, after the `onError` hook; `'throw'`
 * leaves the answer to the app's exception filter, throwing a
 * {@link JwtRefusedException} that carries it.
 */
export type NestAuthErrorOptions = AuthErrorOptions<NestRequest>;

/** Options of {@link TesseraAuth}. */
export interface TesseraAuthOptions extends NestAuthErrorOptions {
  /**
   * The most bytes the guard reads from a request body when no body parser ran
   * and the route looks for the token in the JSON body. Default 1 MiB.
   */
  bodyLimit?: number;
}

/** Options of {@link TesseraModule.forRoot}. */
export interface TesseraModuleOptions<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown>
  extends TesseraAuthOptions {
  /** The manager every {@link JwtGuard} of the app verifies with. */
  manager: TokenManager<TUser, TClaims, TIdentity>;
  /** Register the module globally, so every module's controllers can use the guard. Default true. */
  global?: boolean;
}

const AUTH_OPTIONS: readonly string[] = ['bodyLimit', ...AUTH_ERROR_OPTION_KEYS];
const MODULE_OPTIONS: readonly string[] = ['manager', 'global', ...AUTH_OPTIONS];

// Every key of JwtRequiredOptions; the check below fails to compile when the type gains one.
const ROUTE_OPTIONS = [
  'optional',
  'fresh',
  'refresh',
  'locations',
  'verifyType',
  'skipRevocationCheck',
  'tokenType',
  'tokenClasses',
] as const;
// Fails to compile when JwtRequiredOptions gains a key the list above lacks.
const everyRouteOptionListed: Record<
  Exclude<keyof JwtRequiredOptions, (typeof ROUTE_OPTIONS)[number]>,
  never
> = {};
void everyRouteOptionListed;

/**
 * The injectable bindings of the app's manager: the manager itself, the
 * cookie helpers for Express responses, and the request accessors.
 *
 * @example
 * ```ts
 * import { Controller, Post, Res } from '@nestjs/common';
 * import type { Response } from 'express';
 * import { TesseraAuth } from 'tessera-auth/nestjs';
 *
 * @Controller()
 * class LoginController {
 *   constructor(private readonly auth: TesseraAuth) {}
 *
 *   @Post('login')
 *   async login(@Res({ passthrough: true }) res: Response) {
 *     this.auth.setAccessCookies(res, await this.auth.manager.createAccessToken({ identity: 'alice' }));
 *     return { login: true };
 *   }
 * }
 * ```
 */
export class TesseraAuth<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown>
  implements CookieBindings<ServerResponse>, JwtAccessors<object, TUser, TClaims, TIdentity>
{
  readonly manager: TokenManager<TUser, TClaims, TIdentity>;
  /** Body bound of the guard's own body read. */
  readonly bodyLimit: number;
  readonly setAccessCookies: CookieBindings<ServerResponse>['setAccessCookies'];
  readonly setRefreshCookies: CookieBindings<ServerResponse>['setRefreshCookies'];
  readonly unsetJwtCookies: CookieBindings<ServerResponse>['unsetJwtCookies'];
  readonly unsetAccessCookies: CookieBindings<ServerResponse>['unsetAccessCookies'];
  readonly unsetRefreshCookies: CookieBindings<ServerResponse>['unsetRefreshCookies'];
  readonly getJwt: JwtAccessors<object, TUser, TClaims, TIdentity>['getJwt'];
  readonly getJwtIdentity: JwtAccessors<object, TUser, TClaims, TIdentity>['getJwtIdentity'];
  readonly getCurrentUser: JwtAccessors<object, TUser, TClaims, TIdentity>['getCurrentUser'];

  constructor(manager: TokenManager<TUser, TClaims, TIdentity>, options: TesseraAuthOptions = {}) {
    refuseUnknownOptions(options, AUTH_OPTIONS, 'TesseraAuth options');
    this.manager = manager;
    this.bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    refusalsOf.set(this, refusals(options, 'TesseraModule'));
    const cookies = cookieBindings(manager.config, appendSetCookie);
    this.setAccessCookies = cookies.setAccessCookies;
    this.setRefreshCookies = cookies.setRefreshCookies;
    this.unsetJwtCookies = cookies.unsetJwtCookies;
    this.unsetAccessCookies = cookies.unsetAccessCookies;
    this.unsetRefreshCookies = cookies.unsetRefreshCookies;
    // One slot for the whole app (see `contexts`): this auth reads it with its manager's types.
    const accessors = jwtAccessors<object, TUser, TClaims, TIdentity>(
      contexts as ReturnType<typeof contextStore<TUser, TClaims, TIdentity>>,
    );
    this.getJwt = accessors.getJwt;
    this.getJwtIdentity = accessors.getJwtIdentity;
    this.getCurrentUser = accessors.getCurrentUser;
  }

  /**
   * The refresh endpoint (as every adapter's `refresh()`): finds the refresh token
   * where the configuration says, rotates it through the manager, and writes 200
   * with the new tokens (JSON, plus Set-Cookie in cookie mode) or the profile's
   * refusal. Call it from a route that takes the response with `@Res()`.
   *
   * @example
   * ```ts
   * import { Controller, Post, Req, Res } from '@nestjs/common';
   * import type { Request, Response } from 'express';
   * import { TesseraAuth } from 'tessera-auth/nestjs';
   *
   * @Controller('auth')
   * class RefreshController {
   *   readonly #refresh;
   *   constructor(auth: TesseraAuth) {
   *     this.#refresh = auth.refresh();
   *   }
   *
   *   @Post('refresh')
   *   refresh(@Req() req: Request, @Res() res: Response): Promise<void> {
   *     return this.#refresh(req, res);
   *   }
   * }
   * ```
   */
  refresh(options?: RefreshHandlerOptions): (req: NestRequest, res: object) => Promise<void> {
    const handler = createRefreshHandler(this.manager, options);
    return async (req, response) => {
      const res = nodeResponse(response);
      const outcome = await handler(nestRequestLike(req, this.bodyLimit));
      if (!outcome.ok) return refuse(this, req, res, outcome.error, outcome.response);
      appendSetCookie(res, outcome.setCookies);
      writeNodeResponse(res, outcome.response);
    };
  }
}

// The validated error options of each TesseraAuth, out of its public surface.
const refusalsOf = new WeakMap<object, Refusals<NestRequest>>();

/**
 * Answer a refusal: the app's hook first, then written (and thrown as already
 * answered) or, with `errors: 'throw'`, thrown for the app's exception filter.
 * Always ends in a thrown {@link JwtRefusedException}: Nest stops the request there.
 */
function refuse(
  auth: object,
  req: NestRequest,
  res: ServerResponse,
  error: TesseraError,
  response: ResponseData,
): never | Promise<never> {
  const refusal = refusalsOf.get(auth) as Refusals<NestRequest>;
  const send = (answer: ResponseData): never => {
    if (!refusal.throws) writeNodeResponse(res, answer);
    throw new JwtRefusedException(error, answer);
  };
  const answer = refusal.answer(error, req, response);
  return answer instanceof Promise ? answer.then(send) : send(answer);
}

const NO_CONTENT: ResponseData = { status: 204, headers: {}, body: '' };

// One slot for the whole app: the param decorators cannot reach a guard instance.
const contexts = contextStore<unknown>();

// Route options by decorated handler or controller class, recorded at decoration
// time so every JwtGuard builds (and validates) its route guards once, at startup.
const routeOptions = new Map<object, JwtRequiredOptions>();

/**
 * Thrown by {@link JwtGuard} and the refresh handler on a refusal. With
 * `errors: 'respond'` (default) the answer is already written and Nest's exception
 * filter, seeing the response sent, leaves it; with `errors: 'throw'` an
 * exception filter of the app writes {@link JwtRefusedException.answer} (or its
 * own). Nest's default filter answers `{ statusCode, code }` with the status.
 */
export class JwtRefusedException extends HttpException {
  /** The Tessera error code (`authorization_missing`, `token_expired`, ...). */
  readonly code: string;
  /** The refusal. */
  readonly error: TesseraError;
  /** The profile's answer (after the `onError` hook): status, headers, serialized body. */
  readonly answer: ResponseData;

  constructor(error: TesseraError, answer: ResponseData) {
    super({ statusCode: answer.status, code: error.code }, answer.status, { cause: error });
    this.code = error.code;
    this.error = error;
    this.answer = answer;
  }
}

/**
 * A guard with Flask-JWT-Extended's `jwt_required` semantics. Usually applied
 * through {@link JwtRequired}, which also records the route's options; on a route
 * without them it requires a valid access token. Nest builds it with the module's
 * {@link TesseraAuth}; `UseGuards(new JwtGuard(otherAuth))` guards a route with
 * another one (a second manager, another `onError`).
 */
export class JwtGuard<TUser = unknown, TClaims extends object = NoClaims, TIdentity = unknown>
  implements CanActivate
{
  readonly #auth: TesseraAuth<TUser, TClaims, TIdentity>;
  readonly #guards = new Map<object, Guard<unknown>>();
  readonly #defaultGuard: Guard<unknown>;

  constructor(auth: TesseraAuth<TUser, TClaims, TIdentity>) {
    this.#auth = auth;
    this.#defaultGuard = createGuard(auth.manager);
    // Build every decorated route's guard now: a bad option fails at startup.
    for (const [target, options] of routeOptions)
      this.#guards.set(target, createGuard(auth.manager, options));
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<NestRequest>();
    const res = nodeResponse(http.getResponse<unknown>());
    const handler = context.getHandler();
    const guard = this.#guardFor(handler) ?? this.#guardFor(context.getClass()) ?? this.#defaultGuard;
    const outcome = guard(nestRequestLike(req, this.#auth.bodyLimit));
    // Synchronous verdicts stay synchronous: Nest awaits only what is a promise.
    const auth = this.#auth;
    const optional = (routeOptions.get(handler) ?? routeOptions.get(context.getClass()))?.optional === true;
    return outcome instanceof Promise
      ? outcome.then((result) => settle(auth, req, res, result, optional))
      : settle(auth, req, res, outcome, optional);
  }

  // A controller decorated after this guard was built (a lazily loaded module) gets its guard now.
  #guardFor(target: object): Guard<unknown> | undefined {
    let guard = this.#guards.get(target);
    if (guard === undefined) {
      const options = routeOptions.get(target);
      if (options === undefined) return undefined;
      guard = createGuard(this.#auth.manager, options);
      this.#guards.set(target, guard);
    }
    return guard;
  }
}

function settle(
  auth: object,
  req: NestRequest,
  res: ServerResponse,
  result: Awaited<ReturnType<Guard<unknown>>>,
  optional: boolean,
): boolean | Promise<boolean> {
  if (!result.ok) return refuse(auth, req, res, result.error, result.response);
  // The guard's OPTIONS exemption on a required route: a handler whose `@CurrentJwt()`
  // is declared non-null never runs with null. Answered here (204, no body); the
  // ForbiddenException Nest throws for `false` finds the response sent and leaves it.
  if (result.jwt === null && !optional) {
    writeNodeResponse(res, NO_CONTENT);
    return false;
  }
  contexts.set(req, result.jwt);
  (req as NestJwtRequest).jwt = result.jwt;
  appendSetCookie(res, result.setCookies);
  return true;
}

Injectable()(JwtGuard);
Inject(TesseraAuth)(JwtGuard, undefined, 0);

/**
 * Binds a {@link TokenManager} to the app: provides {@link TesseraAuth} and
 * {@link JwtGuard} (globally unless `global: false`).
 */
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes, configured through static forRoot.
export class TesseraModule {
  /**
   * @example
   * ```ts
   * import { Module } from '@nestjs/common';
   * import { TokenManager } from 'tessera-auth';
   * import { TesseraModule } from 'tessera-auth/nestjs';
   *
   * const manager = new TokenManager({ secret: process.env.JWT_SECRET });
   *
   * @Module({ imports: [TesseraModule.forRoot({ manager })] })
   * export class AppModule {}
   * ```
   */
  static forRoot<TUser, TClaims extends object = NoClaims, TIdentity = unknown>(
    options: TesseraModuleOptions<TUser, TClaims, TIdentity>,
  ): DynamicModule {
    refuseUnknownOptions(options, MODULE_OPTIONS, 'TesseraModule.forRoot options');
    const { manager, global, ...authOptions } = options;
    const auth = new TesseraAuth(manager, authOptions);
    return {
      module: TesseraModule,
      global: global ?? true,
      providers: [{ provide: TesseraAuth, useValue: auth }, JwtGuard],
      exports: [TesseraAuth, JwtGuard],
    };
  }
}

Module({})(TesseraModule);

/**
 * Protect a route (or every route of a controller) with {@link JwtGuard} and
 * these options: `optional`, `fresh`, `refresh`, `locations`, `verifyType`,
 * `skipRevocationCheck`, `tokenType`, as `jwtRequired()` takes them.
 *
 * @example
 * ```ts no-check
 * @Post('refresh')
 * @JwtRequired({ refresh: true })
 * refresh(@CurrentJwt() jwt: JwtContext) { ... }
 * ```
 */
export function JwtRequired(options: JwtRequiredOptions = {}): RouteDecorator {
  refuseUnknownOptions(options, ROUTE_OPTIONS, 'JwtRequired options');
  checkLocations(options.locations);
  const useGuard = UseGuards(JwtGuard);
  return (target, key, descriptor) => {
    const handler: unknown = descriptor === undefined ? target : descriptor.value;
    if (typeof handler !== 'function') throw new TypeError('@JwtRequired() applies to a class or a method');
    routeOptions.set(handler, options);
    if (descriptor === undefined || key === undefined) (useGuard as ClassDecorator)(handler);
    else useGuard(target, key, descriptor);
  };
}

/** A decorator for a controller class or one of its route methods (as Nest's `applyDecorators` returns). */
export type RouteDecorator = (
  target: object,
  propertyKey?: string | symbol,
  descriptor?: PropertyDescriptor,
) => void;

/**
 * The route's verified token ({@link JwtContext}); null on an optional route
 * without one. Throws (500) on a route the guard did not run on. Typed by the
 * parameter's annotation, as Nest's own parameter decorators are: declare
 * `JwtContext<User>` on a required route (the guard never runs such a handler
 * without a token, `OPTIONS` included) and `JwtContext<User> | null` on an
 * optional one.
 */
export const CurrentJwt: () => ParameterDecorator = createParamDecorator<undefined, JwtContext | null>(
  (_data, context) => contexts.get(context.switchToHttp().getRequest<object>(), '@CurrentJwt()'),
);

/**
 * What the manager's `userLookup` returned for this request (undefined without a
 * token). Typed by the parameter's annotation: `User` on a required route of a
 * manager with a userLookup, `User | undefined` on an optional one.
 */
export const CurrentUser: () => ParameterDecorator = createParamDecorator<undefined, unknown>(
  (_data, context) => contexts.get(context.switchToHttp().getRequest<object>(), '@CurrentUser()')?.user,
);

/** The identity claim of the route's token (undefined on an optional route without one). */
export const CurrentIdentity: () => ParameterDecorator = createParamDecorator<undefined, unknown>(
  (_data, context) =>
    contexts.get(context.switchToHttp().getRequest<object>(), '@CurrentIdentity()')?.identity,
);

// The guard checks locations again when it is built; checking here fails at the
// decorated class's definition, before any app using it starts.
function checkLocations(locations: JwtRequiredOptions['locations']): void {
  if (locations === undefined) return;
  const list: readonly unknown[] = typeof locations === 'string' ? [locations] : locations;
  if (list.length === 0) throw new ConfigError('JwtRequired locations must name at least one location');
  for (const location of list) {
    if (!(TOKEN_LOCATIONS as readonly unknown[]).includes(location)) {
      throw new ConfigError(
        `JwtRequired location '${String(location)}' is not one of ${TOKEN_LOCATIONS.join(', ')}`,
      );
    }
  }
}

/**
 * Nest hands the platform's response object: Express's is a Node `ServerResponse`;
 * Fastify's reply keeps it under `raw`.
 */
function nodeResponse(response: unknown): ServerResponse {
  const raw = (response as { raw?: unknown }).raw;
  return (
    raw !== undefined && typeof (raw as ServerResponse).setHeader === 'function' ? raw : response
  ) as ServerResponse;
}

// Behind a platform's wrapper (Fastify's `raw`), headers and the body stream are the Node request's.
function nestRequestLike(req: NestRequest, bodyLimit: number) {
  return nodeRequestLike(req, bodyLimit, (req as { raw?: NestRequest }).raw ?? req);
}
