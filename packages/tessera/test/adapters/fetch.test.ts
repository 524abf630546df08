import { describe, expect, expectTypeOf, it } from 'vitest';
import { createFetchAuth, serveFetch, toRequestLike } from '../../src/adapters/fetch.js';
import type { JwtContext } from '../../src/http/guard.js';
import { adapterSuite, testManager, type User } from './scenarios.js';

function buildHandler() {
  const manager = testManager();
  const auth = createFetchAuth(manager);
  const whoami = auth.jwtRequired(undefined, (_request, jwt) =>
    Response.json({ logged_in_as: jwt?.identity }),
  );
  const routes: Record<string, (request: Request) => Promise<Response>> = {
    'GET /protected': whoami,
    'POST /protected': whoami,
    'GET /optional': auth.jwtRequired({ optional: true }, (_request, jwt) =>
      Response.json({ logged_in_as: jwt?.identity ?? null }),
    ),
    'POST /refresh': auth.jwtRequired({ refresh: true }, async (_request, jwt) =>
      Response.json({ access_token: await manager.createAccessToken({ identity: jwt?.identity }) }),
    ),
    'POST /json': auth.jwtRequired({ locations: ['json'] }, async (request, jwt) =>
      Response.json({ logged_in_as: jwt?.identity, body: await request.json() }),
    ),
    'GET /user': auth.jwtRequired(undefined, (_request, jwt) => Response.json({ user: jwt?.user })),
    'GET /app-cookie': auth.jwtRequired(undefined, (_request, jwt) => {
      const headers = new Headers({ 'set-cookie': 'app=1; Path=/' });
      return Response.json({ logged_in_as: jwt?.identity }, { headers });
    }),
    'POST /login/cookies': async () => {
      const headers = new Headers({ 'set-cookie': 'theme=dark; Path=/' });
      auth.setAccessCookies(headers, await manager.createAccessToken({ identity: 'alice' }));
      auth.setRefreshCookies(headers, await manager.createRefreshToken({ identity: 'alice' }));
      return Response.json({ login: true }, { headers });
    },
    'POST /logout': async () => {
      const headers = new Headers();
      auth.unsetJwtCookies(headers);
      return Response.json({ logout: true }, { headers });
    },
  };
  const handler = (request: Request) => {
    const route = routes[`${request.method} ${new URL(request.url).pathname}`];
    return route ? route(request) : Promise.resolve(new Response('not found', { status: 404 }));
  };
  return { handler, auth, manager };
}

adapterSuite(
  'fetch',
  async () => {
    const { handler } = buildHandler();
    const server = await serveFetch(handler, { port: 0, hostname: '127.0.0.1', onError: () => {} });
    return { url: server.url, close: () => server.close() };
  },
  { boundedBody: true },
);

describe('fetch adapter specifics', () => {
  it('types the handler context and verify()', () => {
    const { auth } = buildHandler();
    auth.jwtRequired(undefined, (_request, jwt) => {
      expectTypeOf(jwt).toEqualTypeOf<JwtContext<User>>();
      expectTypeOf(jwt.user).toEqualTypeOf<User>();
      return new Response();
    });
    auth.jwtRequired({ optional: true }, (_request, jwt) => {
      expectTypeOf(jwt).toEqualTypeOf<JwtContext<User> | null>();
      expectTypeOf(jwt?.user).toEqualTypeOf<User | undefined>();
      return new Response();
    });
  });

  it('verify() returns the verdict without answering', async () => {
    const { auth, manager } = buildHandler();
    const token = await manager.createAccessToken({ identity: 'alice' });
    const ok = await auth.verify(new Request('http://x/', { headers: { authorization: `Bearer ${token}` } }));
    expect(ok.ok && ok.jwt?.identity).toBe('alice');
    const refused = await auth.verify(new Request('http://x/'));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.response.status).toBe(401);
  });

  it('adds implicit-refresh cookies to a response with immutable headers', async () => {
    const { auth, manager } = buildHandler();
    const handler = auth.jwtRequired(undefined, () => Response.redirect('http://x/next', 302));
    const token = await manager.createAccessToken({ identity: 'alice' });
    const response = await handler(
      new Request('http://x/', { headers: { cookie: `access_token_cookie=${token}` } }),
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('http://x/next');
    expect(response.headers.getSetCookie()[0]).toMatch(/^access_token_cookie=/);
  });

  it('reads the body from a clone (the original stays readable)', async () => {
    const request = new Request('http://x/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":"t"}',
    });
    const like = toRequestLike(request);
    expect(await like.body?.()).toEqual({ access_token: 't' });
    expect(await request.json()).toEqual({ access_token: 't' });
  });

  it('rejects (does not answer) when a callback throws a plain Error', async () => {
    const { auth, manager } = buildHandler();
    const handler = auth.jwtRequired(undefined, () => new Response('ok'));
    const token = await manager.createAccessToken({ identity: 'boom' });
    await expect(
      handler(new Request('http://x/', { headers: { authorization: `Bearer ${token}` } })),
    ).rejects.toThrow('callback crashed');
  });
});
