/**
 * One app for the guard scenarios on every runtime: the same routes served by
 * the Hono adapter (under /hono) and the Fetch adapter (under /fetch), around a
 * TokenManager that verifies HS256 tokens (shared secret) and, on /es, ES256
 * tokens with a public key only (asynchronous on Web Crypto). Tokens are minted
 * by the test in Node and sent over HTTP.
 */
import { Hono } from 'hono';
import { TokenManager } from 'tessera-auth';
import { createFetchAuth } from 'tessera-auth/fetch';
import { createHonoAuth, type JwtEnv } from 'tessera-auth/hono';

export interface GuardAppConfig {
  readonly secret: string;
  readonly publicKeyPem: string;
  readonly now: number;
}

type User = { readonly id: unknown };

export function guardApp(config: GuardAppConfig): (request: Request) => Promise<Response> {
  const hs = new TokenManager<User>({ secret: config.secret, now: () => config.now, verifiedTokenCache: 64 });
  const es = new TokenManager<User>({
    algorithm: 'ES256',
    publicKey: config.publicKeyPem,
    now: () => config.now,
  });
  const app = new Hono<JwtEnv<User>>();
  const answer = (jwt: { identity?: unknown; payload?: unknown } | null | undefined) => ({
    identity: jwt?.identity ?? null,
    sub: (jwt?.payload as { sub?: unknown } | undefined)?.sub ?? null,
  });
  for (const [prefix, manager] of [
    ['', hs],
    ['/es', es],
  ] as const) {
    const hono = createHonoAuth(manager);
    app.get(`/hono${prefix}/protected`, hono.jwtRequired(), (c) => c.json(answer(c.get('jwt'))));
    app.get(`/hono${prefix}/refresh`, hono.jwtRequired({ refresh: true }), (c) =>
      c.json(answer(c.get('jwt'))),
    );
    const fetchAuth = createFetchAuth(manager);
    const protectedHandler = fetchAuth.jwtRequired(undefined, (_request, jwt) => Response.json(answer(jwt)));
    const refreshHandler = fetchAuth.jwtRequired({ refresh: true }, (_request, jwt) =>
      Response.json(answer(jwt)),
    );
    app.get(`/fetch${prefix}/protected`, (c) => protectedHandler(c.req.raw));
    app.get(`/fetch${prefix}/refresh`, (c) => refreshHandler(c.req.raw));
  }
  return async (request) => app.fetch(request);
}
