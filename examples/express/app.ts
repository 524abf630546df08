/** Tessera with Express: password login, bearer tokens, and cookies with CSRF. */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
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
  const auth = createExpressAuth(jwt);
  const login = async ({ username, password }: { username?: unknown; password?: unknown } = {}) => {
    if (!checkPassword(username, password)) return undefined;
    const pair = await jwt.createTokenPair({ identity: username });
    return { access: pair.accessToken, refresh: pair.refreshToken };
  };

  const app = express();
  app.use(express.json());
  app.post('/login', async (req, res) => {
    const tokens = await login(req.body);
    if (!tokens) return void res.status(401).json({ msg: 'Bad username or password' });
    res.json({ access_token: tokens.access, refresh_token: tokens.refresh });
  });
  // The handler runs behind the guard with req.jwt set: never null on a required route.
  app.get(
    '/protected',
    auth.jwtRequired({}, (req, res) => {
      res.json({ logged_in_as: req.jwt.identity });
    }),
  );
  // Rotates the refresh token (header, JSON body, or cookie + CSRF) and answers the new pair.
  app.post('/auth/refresh', auth.refresh());
  app.post('/login/cookies', async (req, res) => {
    const tokens = await login(req.body);
    if (!tokens) return void res.status(401).json({ msg: 'Bad username or password' });
    auth.setAccessCookies(res, tokens.access);
    auth.setRefreshCookies(res, tokens.refresh);
    res.json({ login: true });
  });
  app.post('/logout', auth.jwtRequired({ optional: true }), async (req, res) => {
    const token = auth.getJwt(req);
    if (token !== null) await jwt.logout(token.payload); // revokes the whole session
    auth.unsetJwtCookies(res);
    res.json({ logout: true });
  });
  // Last: answers what express.json() refused (bad JSON: 400, too large: 413) as JSON, not HTML.
  app.use(auth.errorHandler());
  return app;
}

/** Listen on 127.0.0.1 (port 0 picks a free one). */
export function start(port = 3000): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = createApp().listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`,
        server,
      });
    });
  });
}
