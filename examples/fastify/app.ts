/** Tessera with Fastify: password login, bearer tokens, and cookies with CSRF. */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createFastifyAuth } from 'tessera-auth/fastify';
import { checkPassword } from '../demo-user.js';

type Credentials = { Body: { username?: unknown; password?: unknown } | undefined };

export async function createApp(secret = process.env.JWT_SECRET ?? randomBytes(32).toString('hex')) {
  // Cookies are Secure by default; the demo serves plain http outside production.
  const jwt = new TokenManager({
    secret,
    tokenLocation: ['headers', 'cookies'],
    cookies: { secure: process.env.NODE_ENV === 'production' },
    // A store turns on refresh rotation with reuse detection, sessions and logout.
    store: new MemoryStore(),
  });
  const auth = createFastifyAuth(jwt);
  const login = async ({ username, password }: { username?: unknown; password?: unknown } = {}) => {
    if (!checkPassword(username, password)) return undefined;
    const pair = await jwt.createTokenPair({ identity: username });
    return { access: pair.accessToken, refresh: pair.refreshToken };
  };

  const app = Fastify();
  await app.register(auth.plugin);
  // Fastify's own body errors (bad JSON, too large) get the same JSON answers as auth errors.
  app.setErrorHandler(auth.errorHandler);
  app.post<Credentials>('/login', async (request, reply) => {
    const tokens = await login(request.body);
    if (!tokens) return reply.code(401).send({ msg: 'Bad username or password' });
    return { access_token: tokens.access, refresh_token: tokens.refresh };
  });
  // The handler runs behind the guard with request.jwt set: never null on a required route.
  app.get(
    '/protected',
    auth.jwtRequired({}, async (request) => ({ logged_in_as: request.jwt.identity })),
  );
  // Rotates the refresh token (header, JSON body, or cookie + CSRF) and answers the new pair.
  app.post('/auth/refresh', auth.refresh());
  app.post<Credentials>('/login/cookies', async (request, reply) => {
    const tokens = await login(request.body);
    if (!tokens) return reply.code(401).send({ msg: 'Bad username or password' });
    auth.setAccessCookies(reply, tokens.access);
    auth.setRefreshCookies(reply, tokens.refresh);
    return { login: true };
  });
  app.post('/logout', { preHandler: auth.jwtRequired({ optional: true }) }, async (request, reply) => {
    const token = auth.getJwt(request);
    if (token !== null) await jwt.logout(token.payload); // revokes the whole session
    auth.unsetJwtCookies(reply);
    return { logout: true };
  });
  return app;
}

/** Listen on 127.0.0.1 (port 0 picks a free one). */
export async function start(port = 3000) {
  const app = await createApp();
  const url = await app.listen({ port, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}
