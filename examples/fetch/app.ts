/** Tessera with a fetch-style handler (Request → Response): Next.js, Bun, Deno, Workers, or Node. */
import { randomBytes } from 'node:crypto';
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createFetchAuth, serveFetch } from 'tessera-auth/fetch';
import { checkPassword } from '../demo-user.js';

export function createApp(secret = process.env.JWT_SECRET ?? randomBytes(32).toString('hex')) {
  // Cookies are Secure by default; the demo serves plain http outside production.
  const jwt = new TokenManager({
    secret,
    tokenLocation: ['headers', 'cookies'],
    cookies: { secure: process.env.NODE_ENV === 'production' },
    // A store turns on refresh rotation with reuse detection, sessions and logout.
    store: new MemoryStore(),
  });
  const auth = createFetchAuth(jwt);
  const login = async (request: Request) => {
    const { username, password } = (await request.json().catch(() => ({}))) as Record<string, unknown>;
    if (!checkPassword(username, password)) return undefined;
    const pair = await jwt.createTokenPair({ identity: username });
    return { access: pair.accessToken, refresh: pair.refreshToken };
  };
  const refused = () => Response.json({ msg: 'Bad username or password' }, { status: 401 });

  const routes: Record<string, (request: Request) => Response | Promise<Response>> = {
    'POST /login': async (request) => {
      const tokens = await login(request);
      return tokens
        ? Response.json({ access_token: tokens.access, refresh_token: tokens.refresh })
        : refused();
    },
    // `token` is never null on a required route.
    'GET /protected': auth.jwtRequired({}, (_request, token) =>
      Response.json({ logged_in_as: token.identity }),
    ),
    // Rotates the refresh token (header, JSON body, or cookie + CSRF) and answers the new pair.
    'POST /auth/refresh': auth.refresh(),
    'POST /login/cookies': async (request) => {
      const tokens = await login(request);
      if (!tokens) return refused();
      const headers = new Headers();
      auth.setAccessCookies(headers, tokens.access);
      auth.setRefreshCookies(headers, tokens.refresh);
      return Response.json({ login: true }, { headers });
    },
    'POST /logout': auth.jwtRequired({ optional: true }, async (_request, token) => {
      if (token) await jwt.logout(token.payload); // revokes the whole session
      const headers = new Headers();
      auth.unsetJwtCookies(headers);
      return Response.json({ logout: true }, { headers });
    }),
  };
  return async (request: Request): Promise<Response> => {
    const route = routes[`${request.method} ${new URL(request.url).pathname}`];
    return route ? route(request) : new Response('Not Found', { status: 404 });
  };
}

/** Listen on 127.0.0.1 with node:http (port 0 picks a free one). */
export function start(port = 3000) {
  return serveFetch(createApp(), { port, hostname: '127.0.0.1' });
}
