/**
 * Types end to end, from TokenManager to each framework's request: what holds
 * today, and (as `@ts-expect-error` lines marked DESIGN) what docs/typescript.md
 * specifies and the adapters do not do yet. When a DESIGN line starts to
 * compile, tsc reports the unused directive: delete the directive, the line is
 * then a regression check. Checked by `npm run typecheck` and by types.test.ts.
 */
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { type JwtContext, type JwtPayload, TokenManager } from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { createFastifyAuth } from 'tessera-auth/fastify';
import { createFetchAuth } from 'tessera-auth/fetch';
import { createHonoAuth } from 'tessera-auth/hono';
import { createKoaAuth } from 'tessera-auth/koa';
import { expectTypeOf } from 'vitest';

interface User {
  readonly id: string;
  readonly name: string;
}

interface Claims {
  readonly roles: readonly string[];
}

const findUser = (id: string): User => ({ id, name: id });

// The user type comes from userLookup: no type argument to write.
const manager = new TokenManager({
  secret: 'tessera-type-tests-secret-0123456789abcdef',
  callbacks: { userLookup: (_header, payload) => findUser(String(payload.sub)) },
});
expectTypeOf(manager).toEqualTypeOf<TokenManager<User>>();

// Without userLookup there is no user.
const plain = new TokenManager({ secret: 'tessera-type-tests-secret-0123456789abcdef' });
expectTypeOf(plain).toEqualTypeOf<TokenManager>();

export async function managerTypes(token: string): Promise<void> {
  const verified = await manager.verifyToken(token);
  expectTypeOf(verified.user).toEqualTypeOf<User | undefined>();
  expectTypeOf(verified.payload).toEqualTypeOf<JwtPayload>();
  // DESIGN: with a userLookup, a verified token's user is never undefined (a lookup that
  // finds nobody refuses the token with user_lookup_failed).
  // @ts-expect-error DESIGN
  expectTypeOf(verified.user).toEqualTypeOf<User>();

  // DESIGN: custom claims and the identity type as TokenManager's second and third type
  // arguments: TokenManager<TUser, TClaims, TIdentity>.
  // @ts-expect-error DESIGN
  const typed = new TokenManager<User, Claims, string>({ secret: 'x' });
  void typed;
}

// Express: the accessors are typed by the manager's user type.
const expressAuth = createExpressAuth(manager);
const expressApp = express();
expressApp.get('/me', expressAuth.jwtRequired(), (req, res) => {
  expectTypeOf(expressAuth.getJwt(req)).toEqualTypeOf<JwtContext<User> | null>();
  expectTypeOf(expressAuth.getCurrentUser(req)).toEqualTypeOf<User | undefined>();
  res.json({ name: expressAuth.getCurrentUser(req)?.name });
});
// DESIGN: jwtRequired(options, handler) runs the handler with req.jwt set, non-null on a
// required route and nullable on an optional one, req keeping Express's own types.
expressApp.get(
  '/design',
  // @ts-expect-error DESIGN
  expressAuth.jwtRequired({}, (req: express.Request & { jwt: JwtContext<User> }, res: express.Response) => {
    res.json({ name: req.jwt.user?.name });
  }),
);

// Fastify: the same accessors on the request.
const fastifyAuth = createFastifyAuth(manager);
const fastifyApp = Fastify();
fastifyApp.get('/me', { preHandler: fastifyAuth.jwtRequired() }, async (request) => {
  expectTypeOf(fastifyAuth.getJwt(request)).toEqualTypeOf<JwtContext<User> | null>();
  return { name: fastifyAuth.getCurrentUser(request)?.name };
});

// Hono: the middleware's variables reach the routes of the group it is used on.
const honoAuth = createHonoAuth(manager);
const honoApi = new Hono().use(honoAuth.jwtRequired());
honoApi.get('/me', (c) => {
  expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User> | null>();
  return c.json({ name: c.get('jwt')?.user?.name ?? null });
});
const honoRequired = new Hono().use(honoAuth.jwtRequired());
honoRequired.get('/design', (c) => {
  // DESIGN: on a required route the variable is non-null (`| null` only with optional: true).
  // @ts-expect-error DESIGN
  expectTypeOf(c.get('jwt')).toEqualTypeOf<JwtContext<User>>();
  return c.body(null);
});

// Koa: the middleware's state type reaches the middleware after it.
const koaAuth = createKoaAuth(manager);
new Koa().use(koaAuth.jwtRequired()).use((ctx) => {
  expectTypeOf(ctx.state.jwt).toEqualTypeOf<JwtContext<User> | null>();
  ctx.body = { name: ctx.state.jwt?.user?.name };
});
new Koa().use(koaAuth.jwtRequired()).use((ctx) => {
  // DESIGN: non-null state on a required route.
  // @ts-expect-error DESIGN
  expectTypeOf(ctx.state.jwt).toEqualTypeOf<JwtContext<User>>();
});

// fetch handlers: the handler receives the context.
const fetchAuth = createFetchAuth(manager);
export const fetchHandler = fetchAuth.jwtRequired({}, (_request, jwt) => {
  expectTypeOf(jwt).toEqualTypeOf<JwtContext<User> | null>();
  return Response.json({ name: jwt?.user?.name });
});
export const fetchDesign = fetchAuth.jwtRequired({}, (_request, jwt) => {
  // DESIGN: non-null on a required route.
  // @ts-expect-error DESIGN
  expectTypeOf(jwt).toEqualTypeOf<JwtContext<User>>();
  return new Response(null);
});
