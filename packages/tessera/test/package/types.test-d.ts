/**
 * Types end to end, from TokenManager to each framework's request, as
 * docs/typescript.md describes them: the user type inferred from userLookup,
 * custom claims and the identity type declared on the manager, a non-null
 * context on required routes and `| null` on optional ones. Each
 * `@ts-expect-error` line is a mistake the types must refuse. Checked by
 * `npm run typecheck` and by types.test.ts.
 */
import type { IncomingMessage } from 'node:http';
import { Controller } from '@nestjs/common';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import {
  type AdditionalClaims,
  type JwtContext,
  type JwtPayload,
  type RouteJwt,
  TokenManager,
  type VerifiedToken,
} from 'tessera-auth';
import { createExpressAuth, type ExpressJwtHandlerRequest } from 'tessera-auth/express';
import { createFastifyAuth } from 'tessera-auth/fastify';
import { createFetchAuth } from 'tessera-auth/fetch';
import { createHonoAuth, type JwtEnv } from 'tessera-auth/hono';
import { createKoaAuth, type JwtState } from 'tessera-auth/koa';
import { CurrentJwt, CurrentUser, JwtRequired, TesseraAuth } from 'tessera-auth/nestjs';
import { createNodeAuth } from 'tessera-auth/node';
import { expectTypeOf } from 'vitest';

interface User {
  readonly id: string;
  readonly name: string;
}

interface Claims {
  readonly roles: readonly string[];
}

const secret = 'tessera-type-tests-secret-0123456789abcdef';
const findUser = (id: string): User => ({ id, name: id });

// The user type comes from userLookup: no type argument to write.
const manager = new TokenManager({
  secret,
  callbacks: { userLookup: (_header, payload) => findUser(String(payload.sub)) },
});
expectTypeOf(manager).toEqualTypeOf<TokenManager<User>>();

// An async lookup that may find nobody: the user type is still User.
const asyncManager = new TokenManager({
  secret,
  callbacks: {
    userLookup: async (_header, payload) => (payload.sub === undefined ? null : findUser(payload.sub)),
  },
});
expectTypeOf(asyncManager).toEqualTypeOf<TokenManager<User>>();

// Without userLookup there is no user: `unknown` (undefined at run time), the default,
// so a bare `TokenManager` annotation still accepts every manager.
const plain = new TokenManager({ secret });
expectTypeOf(plain).toEqualTypeOf<TokenManager>();
const anyManager: TokenManager = manager;
void anyManager;

// Claims and identity, declared once on the manager.
const typed = new TokenManager<User, Claims, string>({
  secret,
  callbacks: { userLookup: (_header, payload) => findUser(String(payload.sub)) },
});

export async function managerTypes(token: string): Promise<void> {
  const verified = await manager.verifyToken(token);
  // With a userLookup the user is never undefined: a lookup that finds nobody
  // refuses the token with user_lookup_failed (test/manager/typed-manager.test.ts).
  expectTypeOf(verified.user).toEqualTypeOf<User>();
  expectTypeOf(verified.payload).toEqualTypeOf<JwtPayload>();
  expectTypeOf(verified.identity).toEqualTypeOf<unknown>();
  expectTypeOf((await asyncManager.verifyToken(token)).user).toEqualTypeOf<User>();
  expectTypeOf((await plain.verifyToken(token)).user).toEqualTypeOf<unknown>();

  const full = await typed.verifyToken(token);
  expectTypeOf(full).toEqualTypeOf<VerifiedToken<User, Claims, string>>();
  expectTypeOf(full.identity).toEqualTypeOf<string>();
  expectTypeOf(full.payload.roles).toEqualTypeOf<readonly string[]>();
  expectTypeOf(full.payload.exp).toEqualTypeOf<number | undefined>();
  expectTypeOf(full.user).toEqualTypeOf<User>();
  expectTypeOf(await typed.decodeToken(token)).toEqualTypeOf<JwtPayload & Claims>();

  // identity and additionalClaims are checked against TIdentity and Partial<TClaims>.
  await typed.createAccessToken({ identity: 'alice', additionalClaims: { roles: ['admin'] } });
  await typed.createAccessToken({ identity: 'alice', additionalClaims: { aud: 'other-service' } });
  await typed.createRefreshToken({ identity: 'alice' });
  await typed.createTokenPair({ identity: 'alice', additionalClaims: {} });
  // @ts-expect-error identity is a string
  await typed.createAccessToken({ identity: 42 });
  // @ts-expect-error roles is a string array
  await typed.createAccessToken({ identity: 'alice', additionalClaims: { roles: 'admin' } });
  // @ts-expect-error identity is a string
  await typed.createTokenPair({ identity: { id: 'alice' } });
  // @ts-expect-error identity is a string
  await typed.revokeAllTokens(7);
  expectTypeOf<AdditionalClaims<Claims>['roles']>().toEqualTypeOf<readonly string[] | undefined>();

  // A manager without declared claims takes any claims, as before.
  await plain.createAccessToken({ identity: { id: 1 }, additionalClaims: { anything: true } });

  // Optional routes keep `| null`; required ones (and options not known at compile time) follow.
  expectTypeOf<RouteJwt<Record<never, never>, JwtContext>>().toEqualTypeOf<JwtContext>();
  expectTypeOf<RouteJwt<undefined, JwtContext>>().toEqualTypeOf<JwtContext>();
  expectTypeOf<RouteJwt<{ optional: false }, JwtContext>>().toEqualTypeOf<JwtContext>();
  expectTypeOf<RouteJwt<{ optional: true }, JwtContext>>().toEqualTypeOf<JwtContext | null>();
  expectTypeOf<RouteJwt<{ optional: boolean }, JwtContext>>().toEqualTypeOf<JwtContext | null>();
}

// Express: the handler form types req.jwt, keeping Express's own request type.
const expressAuth = createExpressAuth(manager);
const expressApp = express();
expressApp.get(
  '/design',
  expressAuth.jwtRequired({}, (req: express.Request & { jwt: JwtContext<User> }, res: express.Response) => {
    res.json({ name: req.jwt.user.name });
  }),
);
expressApp.get(
  '/fresh',
  expressAuth.jwtRequired({ fresh: true }, (req, res) => {
    expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User>>();
    // Express's own Request and Response.
    expectTypeOf(req).toMatchTypeOf<express.Request>();
    expectTypeOf(res).toEqualTypeOf<express.Response>();
    res.json({ name: req.jwt.user.name });
  }),
);
// Route parameters, typed by annotating req.
expressApp.get(
  '/users/:id',
  expressAuth.jwtRequired({}, (req: ExpressJwtHandlerRequest<JwtContext<User>, { id: string }>, res) => {
    expectTypeOf(req.params.id).toEqualTypeOf<string>();
    res.json({ id: req.params.id, by: req.jwt.user.id });
  }),
);
expressApp.get(
  '/wrong',
  // @ts-expect-error an optional route's context may be null
  expressAuth.jwtRequired({ optional: true }, (req: ExpressJwtHandlerRequest<JwtContext<User>>, res) => {
    res.json({ name: req.jwt.user.name });
  }),
);
expressApp.get(
  '/maybe',
  expressAuth.jwtRequired({ optional: true }, (req, res) => {
    expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User> | null>();
    res.json({ name: req.jwt?.user.name ?? null });
  }),
);
// An async handler, and the error-handling next.
expressApp.post(
  '/async',
  expressAuth.jwtRequired({}, async (req, res, next) => {
    if (req.jwt.user.name === '') return next(new Error('no name'));
    res.json({ ok: true });
  }),
);
// The plain middleware and the accessors keep working for existing code.
expressApp.get('/me', expressAuth.jwtRequired(), (req, res) => {
  expectTypeOf(expressAuth.getJwt(req)).toEqualTypeOf<JwtContext<User> | null>();
  expectTypeOf(expressAuth.getCurrentUser(req)).toEqualTypeOf<User | undefined>();
  res.json({ name: expressAuth.getCurrentUser(req)?.name });
});
const typedExpress = createExpressAuth(typed);
expressApp.get(
  '/roles',
  typedExpress.jwtRequired({}, (req, res) => {
    expectTypeOf(req.jwt.identity).toEqualTypeOf<string>();
    res.json({ roles: req.jwt.payload.roles });
  }),
);
expectTypeOf(typedExpress.getJwtIdentity).returns.toEqualTypeOf<string | undefined>();
// Pass the manager, not a type argument: the manager must produce the users you name.
// @ts-expect-error a manager without userLookup does not give Users
createExpressAuth<User>(plain);

// Fastify: the handler form, with FastifyRequest and the route's generics.
const fastifyAuth = createFastifyAuth(manager);
const fastifyApp = Fastify();
fastifyApp.get(
  '/design',
  fastifyAuth.jwtRequired({}, async (request) => {
    expectTypeOf(request.jwt).toEqualTypeOf<JwtContext<User>>();
    expectTypeOf(request.raw).toEqualTypeOf<IncomingMessage>();
    return { name: request.jwt.user.name };
  }),
);
fastifyApp.get<{ Params: { id: string }; Querystring: { full?: string } }>(
  '/users/:id',
  fastifyAuth.jwtRequired({}, async (request, reply) => {
    expectTypeOf(request.params.id).toEqualTypeOf<string>();
    expectTypeOf(request.query.full).toEqualTypeOf<string | undefined>();
    return reply.send({ id: request.params.id, by: request.jwt.identity });
  }),
);
fastifyApp.get(
  '/maybe',
  fastifyAuth.jwtRequired({ optional: true }, async (request) => {
    expectTypeOf(request.jwt).toEqualTypeOf<JwtContext<User> | null>();
    return { name: request.jwt?.user.name ?? null };
  }),
);
fastifyApp.route({
  method: ['GET', 'POST'],
  url: '/route',
  handler: fastifyAuth.jwtRequired({ fresh: true }, async (request) => ({ id: request.jwt.user.id })),
});
// The preHandler hook and the accessors keep working.
fastifyApp.get('/me', { preHandler: fastifyAuth.jwtRequired() }, async (request) => {
  expectTypeOf(fastifyAuth.getJwt(request)).toEqualTypeOf<JwtContext<User> | null>();
  return { name: fastifyAuth.getCurrentUser(request)?.name };
});

// Hono: the middleware's variables reach the routes of the group it is used on.
const honoAuth = createHonoAuth(manager);
const honoRequired = new Hono().use(honoAuth.jwtRequired());
honoRequired.get('/design', (c) => {
  expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User>>();
  expectTypeOf(c.var.jwt.user).toEqualTypeOf<User>();
  return c.json({ name: c.get('jwt').user.name });
});
const honoOptional = new Hono().use(honoAuth.jwtRequired({ optional: true }));
honoOptional.get('/maybe', (c) => {
  expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User> | null>();
  return c.json({ name: c.get('jwt')?.user.name ?? null });
});
new Hono().get('/fresh', honoAuth.jwtRequired({ fresh: true }), (c) => c.json({ id: c.get('jwt').user.id }));
// Route parameters stay typed behind the middleware.
new Hono().get('/users/:id', honoAuth.jwtRequired(), (c) => {
  expectTypeOf(c.req.param('id')).toEqualTypeOf<string>();
  return c.json({ id: c.req.param('id'), by: c.get('jwt').user.id });
});
// Called by hand from another middleware, on the app's own context.
const honoGuard = honoAuth.jwtRequired();
new Hono<JwtEnv<User>>().use(async (c, next) => {
  await honoGuard(c, next);
});
const typedHono = createHonoAuth(typed);
new Hono().get('/roles', typedHono.jwtRequired(), (c) => c.json({ roles: c.get('jwt').payload.roles }));

// Koa: the middleware's state type reaches the middleware after it.
const koaAuth = createKoaAuth(manager);
new Koa().use(koaAuth.jwtRequired()).use((ctx) => {
  expectTypeOf(ctx.state.jwt).toEqualTypeOf<JwtContext<User>>();
  ctx.body = { name: ctx.state.jwt.user.name };
});
// Called by hand from a dispatcher, on the app's own context (docs/guide/koa.md).
const koaGuard = koaAuth.jwtRequired();
new Koa<JwtState<User>>().use((ctx, next) => koaGuard(ctx, next));
new Koa().use(koaAuth.jwtRequired({ optional: true })).use((ctx) => {
  expectTypeOf(ctx.state.jwt).toEqualTypeOf<JwtContext<User> | null>();
  ctx.body = { name: ctx.state.jwt?.user.name };
});

// fetch handlers: the handler receives the context.
const fetchAuth = createFetchAuth(manager);
export const fetchDesign = fetchAuth.jwtRequired({}, (_request, jwt) => {
  expectTypeOf(jwt).toEqualTypeOf<JwtContext<User>>();
  return Response.json({ name: jwt.user.name });
});
export const fetchNoOptions = fetchAuth.jwtRequired(undefined, (_request, jwt) =>
  Response.json({ name: jwt.user.name }),
);
export const fetchHandler = fetchAuth.jwtRequired({ optional: true }, (_request, jwt) => {
  expectTypeOf(jwt).toEqualTypeOf<JwtContext<User> | null>();
  return Response.json({ name: jwt?.user.name });
});

// node:http handlers: req.jwt, non-null on a required route.
const nodeAuth = createNodeAuth(manager);
export const nodeDesign = nodeAuth.jwtRequired({}, (req, res) => {
  expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User>>();
  expectTypeOf(req).toMatchTypeOf<IncomingMessage>();
  res.end(req.jwt.user.name);
});
export const nodeNoOptions = nodeAuth.jwtRequired(undefined, (req, res) => res.end(req.jwt.user.name));
export const nodeOptional = nodeAuth.jwtRequired({ optional: true }, (req, res) => {
  expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User> | null>();
  // @ts-expect-error an optional route's context may be null
  res.end(req.jwt.user.name);
});
expectTypeOf(nodeAuth.getCurrentUser).returns.toEqualTypeOf<User | undefined>();

// NestJS: parameter decorators are typed by the parameter's annotation, as Nest's
// own are (docs/typescript.md); the module's auth carries the manager's types.
// Decorators applied as calls: this file compiles without experimentalDecorators.
export class MeController {
  me(jwt: JwtContext<User>, user: User) {
    return { id: jwt.identity, name: user.name };
  }

  maybe(jwt: JwtContext<User> | null) {
    return { name: jwt?.user.name ?? null };
  }
}
Controller()(MeController);
CurrentJwt()(MeController.prototype, 'me', 0);
CurrentUser()(MeController.prototype, 'me', 1);
JwtRequired()(MeController.prototype, 'me', Object.getOwnPropertyDescriptor(MeController.prototype, 'me'));
CurrentJwt()(MeController.prototype, 'maybe', 0);
JwtRequired({ optional: true })(
  MeController.prototype,
  'maybe',
  Object.getOwnPropertyDescriptor(MeController.prototype, 'maybe'),
);
const nestAuth = new TesseraAuth(typed);
expectTypeOf(nestAuth).toEqualTypeOf<TesseraAuth<User, Claims, string>>();
expectTypeOf(nestAuth.getJwt).returns.toEqualTypeOf<JwtContext<User, Claims, string> | null>();
expectTypeOf(nestAuth.manager).toEqualTypeOf<TokenManager<User, Claims, string>>();
