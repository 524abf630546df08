/** Tessera with Koa: password login, bearer tokens, and cookies with CSRF. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import Koa from 'koa';
import { TokenManager } from 'tessera-auth';
import { createKoaAuth, type JwtState } from 'tessera-auth/koa';
import { checkPassword } from '../demo-user.js';

// Koa has no body parser built in; a real app would use @koa/bodyparser.
async function readCredentials(req: IncomingMessage): Promise<{ username?: unknown; password?: unknown }> {
  let text = '';
  for await (const chunk of req) text += text.length < 10_000 ? String(chunk) : '';
  try {
    return JSON.parse(text) ?? {};
  } catch {
    return {};
  }
}

export function createApp(secret = process.env.JWT_SECRET ?? randomBytes(32).toString('hex')) {
  // Cookies are Secure by default; the demo serves plain http outside production.
  const jwt = new TokenManager({
    secret,
    tokenLocation: ['headers', 'cookies'],
    cookies: { secure: process.env.NODE_ENV === 'production' },
  });
  const auth = createKoaAuth(jwt);
  const login = async (req: IncomingMessage) => {
    const { username, password } = await readCredentials(req);
    if (!checkPassword(username, password)) return undefined;
    return {
      access: await jwt.createAccessToken({ identity: username, fresh: true }),
      refresh: await jwt.createRefreshToken({ identity: username }),
    };
  };
  const protect = auth.jwtRequired();
  const refreshOnly = auth.jwtRequired({ refresh: true });

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
          ctx.body = { logged_in_as: ctx.state.jwt?.identity };
        });
      case 'POST /refresh':
        return refreshOnly(ctx, async () => {
          const accessToken = await jwt.createAccessToken({ identity: ctx.state.jwt?.identity });
          if (ctx.state.jwt?.location === 'cookies') auth.setAccessCookies(ctx, accessToken);
          ctx.body = { access_token: accessToken };
        });
      case 'POST /logout':
        auth.unsetJwtCookies(ctx);
        ctx.body = { logout: true };
        return;
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
