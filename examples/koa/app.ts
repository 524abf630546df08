/** Tessera with Koa: password login, bearer tokens, and cookies with CSRF. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import Koa from 'koa';
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createKoaAuth, type JwtState } from 'tessera-auth/koa';
import { checkPassword } from '../demo-user.js';
import { readCredentials } from '../read-credentials.js';

export function createApp(secret = process.env.JWT_SECRET ?? randomBytes(32).toString('hex')) {
  // Cookies are Secure by default; the demo serves plain http outside production.
  const jwt = new TokenManager({
    secret,
    tokenLocation: ['headers', 'cookies'],
    cookies: { secure: process.env.NODE_ENV === 'production' },
    // A store turns on refresh rotation with reuse detection, sessions and logout.
    store: new MemoryStore(),
  });
  const auth = createKoaAuth(jwt);
  const login = async (req: IncomingMessage) => {
    const { username, password } = await readCredentials(req);
    if (!checkPassword(username, password)) return undefined;
    const pair = await jwt.createTokenPair({ identity: username });
    return { access: pair.accessToken, refresh: pair.refreshToken };
  };
  const protect = auth.jwtRequired();
  const maybeToken = auth.jwtRequired({ optional: true });
  // Rotates the refresh token (header, JSON body, or cookie + CSRF) and answers the new pair.
  const refresh = auth.refresh();

  const app = new Koa<JwtState>();
  app.use(async (ctx, next) => {
    switch (`${ctx.method} ${ctx.path}`) {
      case 'POST /login':
      case 'POST /login/cookies': {
        const tokens = await login(ctx.req);
        if (!tokens) [ctx.status, ctx.body] = [401, { msg: 'Bad username or password' }];
        else if (ctx.path === '/login')
          ctx.body = { access_token: tokens.access, refresh_token: tokens.refresh };
        else {
          auth.setAccessCookies(ctx, tokens.access);
          auth.setRefreshCookies(ctx, tokens.refresh);
          ctx.body = { login: true };
        }
        return;
      }
      case 'GET /protected':
        return protect(ctx, async () => {
          // Called by hand, the guard cannot type its `next` callback: ctx.state is the app's
          // JwtState (`| null`). Composed with app.use() or a router, the state after a
          // required route's guard is non-null.
          ctx.body = { logged_in_as: ctx.state.jwt?.identity };
        });
      case 'POST /auth/refresh':
        return refresh(ctx, next);
      case 'POST /logout':
        return maybeToken(ctx, async () => {
          if (ctx.state.jwt) await jwt.logout(ctx.state.jwt.payload); // revokes the whole session
          auth.unsetJwtCookies(ctx);
          ctx.body = { logout: true };
        });
      default:
        return next();
    }
  });
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
