/** Tessera on plain node:http: no framework, one handler per route. */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createNodeAuth, type NodeHandler } from 'tessera-auth/node';
import { checkPassword } from '../demo-user.js';
import { readCredentials } from '../read-credentials.js';

function json(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function createApp(secret = process.env.JWT_SECRET ?? randomBytes(32).toString('hex')) {
  // Cookies are Secure by default; the demo serves plain http outside production.
  const jwt = new TokenManager({
    secret,
    tokenLocation: ['headers', 'cookies'],
    cookies: { secure: process.env.NODE_ENV === 'production' },
    // A store turns on refresh rotation with reuse detection, sessions and logout.
    store: new MemoryStore(),
  });
  const auth = createNodeAuth(jwt);
  const login = async (req: IncomingMessage) => {
    const { username, password } = await readCredentials(req);
    if (!checkPassword(username, password)) return undefined;
    const pair = await jwt.createTokenPair({ identity: username });
    return { access: pair.accessToken, refresh: pair.refreshToken };
  };
  const refused = (res: ServerResponse) => json(res, { msg: 'Bad username or password' }, 401);
  // Not behind the guard, so nothing catches for it: it answers its own failure.
  const loginRoute =
    (answer: (res: ServerResponse, tokens: { access: string; refresh: string }) => void): NodeHandler =>
    (req, res) =>
      void login(req).then(
        (tokens) => (tokens ? answer(res, tokens) : refused(res)),
        () => json(res, { msg: 'Internal Server Error' }, 500),
      );

  const routes = new Map<string, NodeHandler>([
    ['POST /login', loginRoute((res, t) => json(res, { access_token: t.access, refresh_token: t.refresh }))],
    // `req.jwt` is never null on a required route.
    ['GET /protected', auth.jwtRequired({}, (req, res) => json(res, { logged_in_as: req.jwt.identity }))],
    // Rotates the refresh token (header, JSON body, or cookie + CSRF) and answers the new pair.
    ['POST /auth/refresh', auth.refresh()],
    [
      'POST /login/cookies',
      loginRoute((res, t) => {
        auth.setAccessCookies(res, t.access);
        auth.setRefreshCookies(res, t.refresh);
        json(res, { login: true });
      }),
    ],
    [
      'POST /logout',
      auth.jwtRequired({ optional: true }, async (req, res) => {
        if (req.jwt) await jwt.logout(req.jwt.payload); // revokes the whole session
        auth.unsetJwtCookies(res);
        json(res, { logout: true });
      }),
    ],
  ]);
  return createServer((req, res) => {
    const route = routes.get(`${req.method} ${(req.url ?? '/').split('?', 1)[0]}`);
    if (route === undefined) return json(res, { msg: 'Not Found' }, 404);
    route(req, res);
  });
}

/** Listen on 127.0.0.1 (port 0 picks a free one). */
export async function start(port = 3000) {
  const server = createApp();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
