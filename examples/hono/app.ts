/** Tessera with Hono: password login, bearer tokens, and cookies with CSRF. */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createHonoAuth } from 'tessera-auth/hono';
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
  const auth = createHonoAuth(jwt);
  const login = async (body: Promise<{ username?: unknown; password?: unknown }>) => {
    const { username, password } = await body.catch(() => ({}) as { username?: unknown; password?: unknown });
    if (!checkPassword(username, password)) return undefined;
    const pair = await jwt.createTokenPair({ identity: username });
    return { access: pair.accessToken, refresh: pair.refreshToken };
  };

  const app = new Hono();
  app.post('/login', async (c) => {
    const tokens = await login(c.req.json());
    if (!tokens) return c.json({ msg: 'Bad username or password' }, 401);
    return c.json({ access_token: tokens.access, refresh_token: tokens.refresh });
  });
  app.get('/protected', auth.jwtRequired(), (c) => c.json({ logged_in_as: c.var.jwt.identity }));
  // Rotates the refresh token (header, JSON body, or cookie + CSRF) and answers the new pair.
  app.post('/auth/refresh', auth.refresh());
  app.post('/login/cookies', async (c) => {
    const tokens = await login(c.req.json());
    if (!tokens) return c.json({ msg: 'Bad username or password' }, 401);
    auth.setAccessCookies(c, tokens.access);
    auth.setRefreshCookies(c, tokens.refresh);
    return c.json({ login: true });
  });
  app.post('/logout', auth.jwtRequired({ optional: true }), async (c) => {
    if (c.var.jwt) await jwt.logout(c.var.jwt.payload); // revokes the whole session
    auth.unsetJwtCookies(c);
    return c.json({ logout: true });
  });
  app.onError(auth.errorHandler);
  return app;
}

/** Listen on 127.0.0.1 (port 0 picks a free one). */
export function start(port = 3000): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: createApp().fetch, port, hostname: '127.0.0.1' }, (info) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, server: server as Server }),
    );
  });
}
