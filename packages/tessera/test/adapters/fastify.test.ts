import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createFastifyAuth, type FastifyJwtRequest } from '../../src/adapters/fastify.js';
import type { JwtContext } from '../../src/http/guard.js';
import { adapterSuite, testManager, type User } from './scenarios.js';

async function buildApp() {
  const manager = testManager();
  const auth = createFastifyAuth(manager);
  const app = Fastify();
  await app.register(auth.plugin);
  const whoami = async (request: FastifyRequest) => ({ logged_in_as: auth.getJwtIdentity(request) });
  app.get('/protected', { preHandler: auth.jwtRequired() }, whoami);
  app.post('/protected', { preHandler: auth.jwtRequired() }, whoami);
  app.get('/optional', { preHandler: auth.jwtRequired({ optional: true }) }, async (request) => ({
    logged_in_as: auth.getJwt(request)?.identity ?? null,
  }));
  app.post('/refresh', { preHandler: auth.jwtRequired({ refresh: true }) }, async (request) => ({
    access_token: await manager.createAccessToken({ identity: auth.getJwtIdentity(request) }),
  }));
  app.post('/json', { preHandler: auth.jwtRequired({ locations: ['json'] }) }, async (request) => ({
    logged_in_as: auth.getJwtIdentity(request),
    body: request.body,
  }));
  app.get('/user', { preHandler: auth.jwtRequired() }, async (request) => ({
    user: auth.getCurrentUser(request),
  }));
  app.get(
    '/app-cookie',
    {
      preHandler: [
        async (_request: FastifyRequest, reply: FastifyReply) => {
          reply.header('set-cookie', 'app=1; Path=/');
        },
        auth.jwtRequired(),
      ],
    },
    whoami,
  );
  app.post('/login/cookies', async (_request, reply) => {
    reply.header('set-cookie', 'theme=dark; Path=/');
    auth.setAccessCookies(reply, await manager.createAccessToken({ identity: 'alice' }));
    auth.setRefreshCookies(reply, await manager.createRefreshToken({ identity: 'alice' }));
    return { login: true };
  });
  app.post('/logout', async (_request, reply) => {
    auth.unsetJwtCookies(reply);
    return { logout: true };
  });
  return { app, auth };
}

adapterSuite('fastify', async () => {
  const { app } = await buildApp();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});

describe('fastify adapter specifics', () => {
  it('types getJwt, getCurrentUser and request.jwt', async () => {
    const { auth } = await buildApp();
    expectTypeOf(auth.getJwt).returns.toEqualTypeOf<JwtContext<User> | null>();
    expectTypeOf(auth.getCurrentUser).returns.toEqualTypeOf<User | undefined>();
    expectTypeOf<FastifyJwtRequest<User>['jwt']>().toEqualTypeOf<JwtContext<User> | null>();
  });

  it('decorates request.jwt and fastify.jwtRequired, and sets request.jwt on guarded routes', async () => {
    const manager = testManager();
    const auth = createFastifyAuth(manager);
    const app = Fastify();
    await app.register(auth.plugin);
    await app.register(auth.plugin); // twice is harmless
    expect(app.hasRequestDecorator('jwt')).toBe(true);
    expect(app.hasDecorator('jwtRequired')).toBe(true);
    app.get('/open', async (request) => ({ jwt: (request as FastifyJwtRequest).jwt }));
    app.get('/guarded', { preHandler: auth.jwtRequired() }, async (request) => ({
      sub: (request as FastifyJwtRequest<User>).jwt?.payload.sub,
    }));
    const token = await manager.createAccessToken({ identity: 'alice' });
    const open = await app.inject({ url: '/open' });
    expect(open.json()).toEqual({ jwt: null });
    const guarded = await app.inject({ url: '/guarded', headers: { authorization: `Bearer ${token}` } });
    expect(guarded.json()).toEqual({ sub: 'alice' });
    await app.close();
  });

  it('jwtRequired(options, handler): request.jwt typed and set, the route generics kept; an exempt OPTIONS gets 204 on a required route; refusals answered or thrown', async () => {
    const manager = testManager();
    const auth = createFastifyAuth(manager);
    const throwing = createFastifyAuth(manager, { errors: 'throw' });
    const app = Fastify();
    app.setErrorHandler(auth.errorHandler);
    let ran = 0;
    app.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: '/me',
      handler: auth.jwtRequired({}, async function (request) {
        ran += 1;
        expectTypeOf(request.jwt).toEqualTypeOf<JwtContext<User>>();
        // `this` is the Fastify instance, as in any route handler.
        return { identity: request.jwt.identity, user: request.jwt.user, decorated: this.hasDecorator('x') };
      }),
    });
    app.route({
      method: ['GET', 'OPTIONS'],
      url: '/maybe',
      handler: auth.jwtRequired({ optional: true }, async (request) => ({
        identity: request.jwt?.identity ?? null,
      })),
    });
    app.get<{ Params: { id: string } }>(
      '/items/:id',
      auth.jwtRequired({}, async (request, reply) => {
        expectTypeOf(request.params.id).toEqualTypeOf<string>();
        return reply.code(201).send({ id: request.params.id, by: request.jwt.identity });
      }),
    );
    app.get(
      '/thrown',
      throwing.jwtRequired({}, async () => ({ reached: true })),
    );
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const bearer = { authorization: `Bearer ${await manager.createAccessToken({ identity: 'frank' })}` };
      const signedIn = await fetch(`${base}/me`, { headers: bearer });
      expect(await signedIn.json()).toEqual({ identity: 'frank', user: { name: 'frank' }, decorated: false });
      const missing = await fetch(`${base}/me`, { method: 'POST' });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      const preflight = await fetch(`${base}/me`, { method: 'OPTIONS' });
      expect(preflight.status).toBe(204);
      expect(await preflight.text()).toBe('');
      expect(ran).toBe(1);
      const optional = await fetch(`${base}/maybe`, { method: 'OPTIONS' });
      expect(await optional.json()).toEqual({ identity: null });
      const item = await fetch(`${base}/items/42`, { headers: bearer });
      expect(item.status).toBe(201);
      expect(await item.json()).toEqual({ id: '42', by: 'frank' });
      // errors: 'throw': the refusal goes to the error handler, which answers the profile's way.
      const thrown = await fetch(`${base}/thrown`);
      expect(thrown.status).toBe(401);
      expect(await thrown.json()).toMatchObject({ code: 'authorization_missing' });
    } finally {
      await app.close();
    }
  });

  it('is not encapsulated: its decorations reach the instance it is registered on and sibling contexts', async () => {
    const auth = createFastifyAuth(testManager());
    const app = Fastify();
    await app.register(auth.plugin);
    let seenInSibling = false;
    await app.register(async (sibling) => {
      seenInSibling = sibling.hasDecorator('jwtRequired') && sibling.hasRequestDecorator('jwt');
    });
    await app.ready();
    expect(app.hasDecorator('jwtRequired')).toBe(true);
    expect(seenInSibling).toBe(true);
    await app.close();
  });

  it('throws a clear error when the guard did not run', () => {
    const auth = createFastifyAuth(testManager());
    expect(() => auth.getJwt({} as FastifyRequest)).toThrow(/jwtRequired\(\) did not run/);
  });
});
