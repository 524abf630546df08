import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { AuthResponseError, MemoryStore, TokenManager } from 'tessera-auth';
import {
  createNodeAuth,
  type NodeAuthOptions,
  type NodeHandler,
  type NodeJwtRequest,
  writeResponse,
} from 'tessera-auth/node';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { JwtContext } from '../../src/http/guard.js';
import { adapterSuite, listenNode, SECRET, testManager, type User } from './scenarios.js';

function json(res: ServerResponse, body: unknown, status = 200): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/** The adapter suite's app: a bare node:http server, one handler per method and path. */
function buildApp(options: NodeAuthOptions = {}) {
  const manager = testManager();
  const auth = createNodeAuth(manager, options);
  const whoami = auth.jwtRequired({}, (req, res) => json(res, { logged_in_as: req.jwt.identity }));
  const routes = new Map<string, NodeHandler>([
    ['GET /protected', whoami],
    ['POST /protected', whoami],
    [
      'GET /optional',
      auth.jwtRequired({ optional: true }, (req, res) =>
        json(res, { logged_in_as: req.jwt?.identity ?? null }),
      ),
    ],
    [
      'POST /refresh',
      auth.jwtRequired({ refresh: true }, async (req, res) => {
        json(res, { access_token: await manager.createAccessToken({ identity: req.jwt.identity }) });
      }),
    ],
    [
      'POST /json',
      auth.jwtRequired({ locations: ['json'] }, (req, res) =>
        json(res, { logged_in_as: auth.getJwtIdentity(req), body: req.body }),
      ),
    ],
    ['GET /user', auth.jwtRequired({}, (req, res) => json(res, { user: auth.getCurrentUser(req) }))],
    [
      'GET /app-cookie',
      (req, res) => {
        res.setHeader('set-cookie', ['app=1; Path=/']);
        whoami(req, res);
      },
    ],
    [
      'POST /login/cookies',
      async (_req, res) => {
        res.setHeader('set-cookie', ['theme=dark; Path=/']);
        auth.setAccessCookies(res, await manager.createAccessToken({ identity: 'alice' }));
        auth.setRefreshCookies(res, await manager.createRefreshToken({ identity: 'alice' }));
        json(res, { login: true });
      },
    ],
    [
      'POST /logout',
      (_req, res) => {
        auth.unsetJwtCookies(res);
        json(res, { logout: true });
      },
    ],
  ]);
  const server = createServer((req, res) => {
    const route = routes.get(`${req.method} ${req.url}`);
    if (route === undefined) return json(res, { msg: 'not found' }, 404);
    route(req, res);
  });
  return { server, auth, manager };
}

/** Serve one handler on every path. */
async function serveOne(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  return listenNode(createServer(handler));
}

// The default onServerError prints what it answers 500 for: keep the suite's own crash row quiet.
const quiet: NodeAuthOptions = {
  onServerError: (_error, _req, res) => json(res, { msg: 'Internal Server Error' }, 500),
};

adapterSuite('node:http', () => listenNode(buildApp(quiet).server), { boundedBody: true });

describe('node:http adapter specifics', () => {
  const bearer = async (manager: TokenManager<unknown>, identity = 'alice') => ({
    authorization: `Bearer ${await manager.createAccessToken({ identity })}`,
  });

  it('types req.jwt from the options, and the accessors from the manager', () => {
    const auth = createNodeAuth(testManager());
    auth.jwtRequired({}, (req) => {
      expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User>>();
      expectTypeOf(req).toMatchTypeOf<IncomingMessage>();
    });
    auth.jwtRequired({ optional: true }, (req) => {
      expectTypeOf(req.jwt).toEqualTypeOf<JwtContext<User> | null>();
    });
    expectTypeOf(auth.getCurrentUser).returns.toEqualTypeOf<User | undefined>();
    expectTypeOf(auth.jwtRequired({}, () => undefined)).toEqualTypeOf<NodeHandler>();
    expectTypeOf<NodeJwtRequest<null>['jwt']>().toEqualTypeOf<null>();
  });

  it('runs the handler in the same turn as the request when the guard answers synchronously', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const auth = createNodeAuth(manager);
    let ranBeforeReturn = false;
    let returned = false;
    const guarded = auth.jwtRequired({}, (req, res) => {
      ranBeforeReturn = !returned;
      json(res, { logged_in_as: req.jwt.identity });
    });
    const server = await serveOne((req, res) => {
      returned = false;
      ranBeforeReturn = false;
      guarded(req, res);
      returned = true;
    });
    try {
      const response = await fetch(`${server.url}/`, { headers: await bearer(manager, 'gina') });
      expect(await response.json()).toEqual({ logged_in_as: 'gina' });
      expect(ranBeforeReturn).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('answers a required route 204 for an OPTIONS preflight without a token, without running the handler', async () => {
    let ran = 0;
    const auth = createNodeAuth(testManager());
    const server = await serveOne(
      auth.jwtRequired({}, (_req, res) => {
        ran += 1;
        json(res, {});
      }),
    );
    try {
      const response = await fetch(`${server.url}/`, { method: 'OPTIONS' });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(ran).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("answers a handler's throw and its rejection with onServerError, and keeps serving", async () => {
    const manager = testManager();
    const seen: unknown[] = [];
    const auth = createNodeAuth(manager, {
      onServerError: (error, req, res) => {
        seen.push(error);
        json(res, { failed: req.url }, 503);
      },
    });
    const thrower = auth.jwtRequired({}, () => {
      throw new Error('handler threw');
    });
    const rejecter = auth.jwtRequired({}, async () => {
      throw new Error('handler rejected');
    });
    const fine = auth.jwtRequired({}, (req, res) => json(res, { logged_in_as: req.jwt.identity }));
    const server = await serveOne((req, res) =>
      (req.url === '/throw' ? thrower : req.url === '/reject' ? rejecter : fine)(req, res),
    );
    try {
      const headers = await bearer(manager);
      const thrown = await fetch(`${server.url}/throw`, { headers });
      expect(thrown.status).toBe(503);
      expect(await thrown.json()).toEqual({ failed: '/throw' });
      const rejected = await fetch(`${server.url}/reject`, { headers });
      expect(rejected.status).toBe(503);
      expect(await rejected.json()).toEqual({ failed: '/reject' });
      expect(seen.map((e) => (e as Error).message)).toEqual(['handler threw', 'handler rejected']);
      const after = await fetch(`${server.url}/fine`, { headers });
      expect(await after.json()).toEqual({ logged_in_as: 'alice' });
    } finally {
      await server.close();
    }
  });

  it('by default prints a crash and answers 500 without a Tessera body, or closes a half-written response', async () => {
    const manager = testManager();
    const auth = createNodeAuth(manager);
    const printed: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void printed.push(args[0]);
    const crash = auth.jwtRequired({}, () => {
      throw new Error('before writing');
    });
    const halfway = auth.jwtRequired({}, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      throw new Error('after writing');
    });
    const server = await serveOne((req, res) => (req.url === '/half' ? halfway : crash)(req, res));
    try {
      const headers = await bearer(manager);
      const response = await fetch(`${server.url}/crash`, { headers });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ msg: 'Internal Server Error' });
      // The connection is closed: the client never sees a finished response.
      await expect(fetch(`${server.url}/half`, { headers }).then((half) => half.text())).rejects.toThrow();
      expect(printed.map((e) => (e as Error).message)).toEqual(['before writing', 'after writing']);
    } finally {
      console.error = original;
      await server.close();
    }
  });

  it('survives a client that hangs up in the middle of the body it announced, without an error to handle', async () => {
    const manager = testManager();
    const crashes: unknown[] = [];
    const auth = createNodeAuth(manager, { onServerError: (error) => void crashes.push(error) });
    const server = await serveOne(auth.jwtRequired({ locations: ['json'] }, (_req, res) => json(res, {})));
    try {
      const { port } = new URL(server.url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            'POST /json HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"access_token":',
          );
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      const token = await manager.createAccessToken({ identity: 'jo' });
      const after = await fetch(`${server.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token }),
      });
      expect(after.status).toBe(200);
      expect(crashes).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("answers a Tessera error a handler throws with the profile's answer (a store that is down: 503)", async () => {
    const store = new MemoryStore();
    const manager = new TokenManager({ secret: SECRET, store });
    const seen: unknown[] = [];
    const auth = createNodeAuth(manager, { onServerError: (error) => void seen.push(error) });
    const server = await serveOne(
      auth.jwtRequired({ skipRevocationCheck: true }, async (req, res) => {
        await manager.logout(req.jwt.payload);
        json(res, { logout: true });
      }),
    );
    try {
      const headers = await bearer(manager);
      await store.close();
      const response = await fetch(`${server.url}/logout`, { method: 'POST', headers });
      expect(response.status).toBe(503);
      expect((await response.json()).code).toBe('store_unavailable');
      expect(seen).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("in 'throw' mode without onServerError, answers refusals and a store that is down as in 'respond' mode", async () => {
    const store = new MemoryStore();
    const manager = new TokenManager({ secret: SECRET, store });
    const auth = createNodeAuth(manager, { errors: 'throw' });
    const server = await serveOne(
      auth.jwtRequired({ skipRevocationCheck: true }, async (req, res) => {
        await manager.logout(req.jwt.payload);
        json(res, { logout: true });
      }),
    );
    try {
      const missing = await fetch(`${server.url}/logout`, { method: 'POST' });
      expect(missing.status).toBe(401);
      expect((await missing.json()).code).toBe('authorization_missing');
      const headers = await bearer(manager);
      await store.close();
      const down = await fetch(`${server.url}/logout`, { method: 'POST', headers });
      expect(down.status).toBe(503);
      expect((await down.json()).code).toBe('store_unavailable');
    } finally {
      await server.close();
    }
  });

  it("hands refusals to onServerError as AuthResponseError in 'throw' mode, and to the onError hook first", async () => {
    const manager = testManager();
    const caught: unknown[] = [];
    const auth = createNodeAuth(manager, {
      errors: 'throw',
      onError: (error, req, response) => ({
        ...response,
        body: JSON.stringify({ code: error.code, url: req.url }),
      }),
      onServerError: (error, _req, res) => {
        caught.push(error);
        if (error instanceof AuthResponseError) writeResponse(res, error.response);
      },
    });
    const server = await serveOne(auth.jwtRequired({}, (_req, res) => json(res, {})));
    try {
      const response = await fetch(`${server.url}/x`);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ code: 'authorization_missing', url: '/x' });
      expect(caught).toHaveLength(1);
      expect(caught[0]).toBeInstanceOf(AuthResponseError);
    } finally {
      await server.close();
    }
  });

  it('verify() returns the verdict for handlers that answer themselves', async () => {
    const manager = testManager();
    const auth = createNodeAuth(manager);
    const server = await serveOne((req, res) => {
      auth.verify(req, req.url === '/fresh' ? { fresh: true } : undefined).then((result) => {
        if (!result.ok) return writeResponse(res, result.response);
        json(res, { logged_in_as: result.jwt?.identity });
      });
    });
    try {
      const ok = await fetch(`${server.url}/`, { headers: await bearer(manager, 'hal') });
      expect(await ok.json()).toEqual({ logged_in_as: 'hal' });
      const missing = await fetch(`${server.url}/`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect((await missing.json()).code).toBe('authorization_missing');
      const notFresh = await fetch(`${server.url}/fresh`, { headers: await bearer(manager) });
      expect(notFresh.status).toBe(401);
      expect((await notFresh.json()).code).toBe('fresh_token_required');
    } finally {
      await server.close();
    }
  });

  it('serves the refresh endpoint', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const auth = createNodeAuth(manager);
    const server = await serveOne(auth.refresh());
    try {
      const refreshToken = await manager.createRefreshToken({ identity: 'ivy' });
      const refreshed = await fetch(`${server.url}/auth/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${refreshToken}` },
      });
      expect(refreshed.status).toBe(200);
      const body = (await refreshed.json()) as { access_token: string };
      expect((await manager.decodeToken(body.access_token)).sub).toBe('ivy');
      const refused = await fetch(`${server.url}/auth/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await manager.createAccessToken({ identity: 'ivy' })}` },
      });
      expect(refused.status).toBe(401);
      expect((await refused.json()).code).toBe('wrong_token_type');
    } finally {
      await server.close();
    }
  });

  it('refuses unknown options and a missing handler at configuration time', () => {
    const manager = testManager();
    expect(() => createNodeAuth(manager, { bodylimit: 1 } as NodeAuthOptions)).toThrow(/bodylimit/);
    expect(() => createNodeAuth(manager, { onServerError: 'log' } as never)).toThrow(
      /onServerError must be a function/,
    );
    const auth = createNodeAuth(manager);
    expect(() => auth.jwtRequired({}, undefined as never)).toThrow(/needs a handler function/);
  });

  it('throws a clear error when the guard did not run', () => {
    const auth = createNodeAuth(testManager());
    expect(() => auth.getJwt({} as IncomingMessage)).toThrow(/jwtRequired\(\) did not run/);
  });
});
