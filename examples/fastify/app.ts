/** Tessera with Fastify: password login, bearer tokens, and cookies with CSRF. */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { TokenManager } from 'tessera-auth';
import { createFastifyAuth } from 'tessera-auth/fastify';
import { checkPassword } from '../demo-user.js';

type Credentials = { Body: { username?: unknown; password?: unknown } | undefined };

export async function createApp(secret = process.env.JWT_SECRET ?? randomBytes(32).toString('hex')) {
  // Cookies are Secure by default; the demo serves plain http outside production.
  const jwt = new TokenManager({
    secret,
    tokenLocation: ['headers', 'cookies'],
    cookies: { secure: process.env.NODE_ENV === 'production' },
  });
  const auth = createFastifyAuth(jwt);
  const login = async ({ username, password }: { username?: unknown; password?: unknown } = {}) =>
    checkPassword(username, password)
      ? {
          access: await jwt.createAccessToken({ identity: username, fresh: true }),
          refresh: await jwt.createRefreshToken({ identity: username }),
        }
      : undefined;

  const app = Fastify();
  await app.register(auth.plugin);
  app.post<Credentials>('/login', async (request, reply) => {
    const tokens = await login(request.body);
    if (!tokens) return reply.code(401).send({ msg: 'Bad username or password' });
    return { access_token: tokens.access, refresh_token: tokens.refresh };
  });
  app.get('/protected', { preHandler: auth.jwtRequired() }, async (request) => ({
    logged_in_as: auth.getJwtIdentity(request),
  }));
  app.post('/refresh', { preHandler: auth.jwtRequired({ refresh: true }) }, async (request, reply) => {
    const accessToken = await jwt.createAccessToken({ identity: auth.getJwtIdentity(request) });
    if (auth.getJwt(request)?.location === 'cookies') auth.setAccessCookies(reply, accessToken);
    return { access_token: accessToken };
  });
  app.post<Credentials>('/login/cookies', async (request, reply) => {
    const tokens = await login(request.body);
    if (!tokens) return reply.code(401).send({ msg: 'Bad username or password' });
    auth.setAccessCookies(reply, tokens.access);
    auth.setRefreshCookies(reply, tokens.refresh);
    return { login: true };
  });
  app.post('/logout', async (_request, reply) => {
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
