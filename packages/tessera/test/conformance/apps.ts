/**
 * The one conformance app, built eight times: on each adapter (express, fastify,
 * hono, koa, fetch, node, nestjs) and once directly on the framework-neutral guard
 * ("reference", plain node:http). Every build serves the same routes and answers
 * the same JSON, so any difference in what a client sees is an adapter's doing.
 *
 * Adapters are imported lazily, inside each factory: an adapter that is missing
 * or broken fails its own suite, loudly, and leaves the others running. The
 * routes, answers and callbacks, and the Hono and Fetch builds, are in
 * web-apps.ts, which the other runtimes serve too (test/runtimes/).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import createExpressApp from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { BodyInvalidError, BodyTooLargeError } from '../../src/errors.js';
import { createGuard, type JwtContext } from '../../src/http/guard.js';
import { createRefreshHandler } from '../../src/http/refresh.js';
import type { RequestLike } from '../../src/http/request.js';
import type { TokenManager } from '../../src/manager/token-manager.js';
import type { RouteName } from './scenarios.js';
import {
  fetchConformanceHandler,
  GUARDED_ROUTES,
  honoConformanceApp,
  hookedAnswer,
  JSON_HEADERS,
  LOGIN_ANSWER,
  LOGOUT_ANSWER,
  LOGOUT_ROUTE,
  loginTokens,
  METHODS,
  routeAnswer,
  type TestUser,
} from './web-apps.js';

export type { TestUser } from './web-apps.js';

/** A started app. */
export interface RunningApp {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds and starts one app around a manager. */
export type AppFactory = (manager: TokenManager<TestUser>) => Promise<RunningApp>;

export type AppName = 'reference' | 'express' | 'fastify' | 'hono' | 'koa' | 'fetch' | 'node' | 'nestjs';

// ---------------------------------------------------------------------------
// node:http helpers

function listen(server: Server): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => closeServer(server) });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0]!;
  return path;
}

// headersDistinct, not headers: Node keeps only the first of repeated Authorization lines there.
function headerOf(req: IncomingMessage, name: string): string | undefined {
  return req.headersDistinct[name.toLowerCase()]?.join(', ');
}

// As the adapters' bounded readers do: too large is 413, unparsable JSON is body_invalid.
const BODY_LIMIT = 1024 * 1024;

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length > BODY_LIMIT) throw new BodyTooLargeError(BODY_LIMIT);
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BodyInvalidError();
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(text)) if (!(name in fields)) fields[name] = value;
    return fields;
  }
  return undefined;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  setCookies: readonly string[] = [],
): void {
  if (setCookies.length > 0) res.setHeader('set-cookie', [...setCookies]);
  res.writeHead(status, JSON_HEADERS);
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------
// The reference app: the guard itself, no adapter.

export const reference: AppFactory = async (manager) => {
  const { setAccessCookies, setRefreshCookies, unsetJwtCookies } = await import('../../src/http/cookies.js');
  const guards = new Map(
    GUARDED_ROUTES.map(([path, options]) => [path, { guard: createGuard(manager, options), options }]),
  );
  const refresh = createRefreshHandler(manager);
  const logoutGuard = createGuard(manager);
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const path = pathOf(req.url);
    const method = req.method ?? 'GET';
    if (path === '/login/cookies' && method === 'POST') {
      const { access, refresh } = await loginTokens(manager);
      const cookies = [
        ...setAccessCookies(manager.config, access),
        ...setRefreshCookies(manager.config, refresh),
      ];
      return sendJson(res, 200, LOGIN_ANSWER, cookies);
    }
    if (path === '/logout' && method === 'POST') {
      return sendJson(res, 200, LOGOUT_ANSWER, unsetJwtCookies(manager.config));
    }
    const request: RequestLike = {
      method,
      url: req.url ?? '/',
      header: (name) => headerOf(req, name),
      body: () => parseBody(raw, headerOf(req, 'content-type')),
    };
    if (path === '/auth/refresh' && method === 'POST') {
      const outcome = await refresh(request);
      if (outcome.ok) res.setHeader('set-cookie', [...outcome.setCookies]);
      res.writeHead(outcome.response.status, { ...outcome.response.headers });
      res.end(outcome.response.body);
      return;
    }
    if (path === LOGOUT_ROUTE && method === 'POST') {
      const result = await logoutGuard(request);
      if (!result.ok) {
        res.writeHead(result.response.status, { ...result.response.headers });
        return void res.end(result.response.body);
      }
      await manager.logout(result.jwt!.payload);
      return sendJson(res, 200, LOGOUT_ANSWER, unsetJwtCookies(manager.config));
    }
    const route = guards.get(path as RouteName);
    if (route === undefined) return sendJson(res, 404, { error: 'not found' });
    const result = await route.guard(request);
    if (!result.ok) {
      res.writeHead(result.response.status, { ...result.response.headers });
      res.end(result.response.body);
      return;
    }
    // As every adapter does: the guard's OPTIONS exemption ends a required route with 204.
    if (result.jwt === null && route.options.optional !== true) {
      res.writeHead(204);
      return void res.end();
    }
    sendJson(res, 200, routeAnswer(result.jwt), result.setCookies);
  }
  return listen(server);
};

// ---------------------------------------------------------------------------
// Express

export const express: AppFactory = async (manager) => {
  const { createExpressAuth } = await import('../../src/adapters/express.js');
  const auth = createExpressAuth(manager);
  const app = createExpressApp();
  // The handler form (req.jwt typed); /hooked/protected keeps the plain middleware.
  for (const [path, options] of GUARDED_ROUTES) {
    app.all(
      path,
      auth.jwtRequired(options, (req, res) => {
        res.json(routeAnswer(req.jwt));
      }),
    );
  }
  app.post('/login/cookies', (_req, res, next) => {
    loginTokens(manager).then(({ access, refresh }) => {
      auth.setAccessCookies(res, access);
      auth.setRefreshCookies(res, refresh);
      res.json(LOGIN_ANSWER);
    }, next);
  });
  app.post('/logout', (_req, res) => {
    auth.unsetJwtCookies(res);
    res.json(LOGOUT_ANSWER);
  });
  app.post('/auth/refresh', auth.refresh());
  app.post(
    LOGOUT_ROUTE,
    auth.jwtRequired({}, async (req, res) => {
      await manager.logout(req.jwt.payload);
      auth.unsetJwtCookies(res);
      res.json(LOGOUT_ANSWER);
    }),
  );
  const hooked = createExpressAuth(manager, {
    onError: (error, req, response) => hookedAnswer(error, req.originalUrl ?? '', response),
  });
  app.post('/hooked/refresh', hooked.refresh());
  app.get('/hooked/protected', hooked.jwtRequired(), (req, res) => {
    res.json(routeAnswer(hooked.getJwt(req)));
  });
  return listen(createServer(app));
};

// ---------------------------------------------------------------------------
// Fastify

export const fastify: AppFactory = async (manager) => {
  const { createFastifyAuth } = await import('../../src/adapters/fastify.js');
  const auth = createFastifyAuth(manager);
  const app = Fastify();
  await app.register(auth.plugin);
  // The CSRF form-field rows need a form parser; Fastify's own JSON and size errors get the profile's answer.
  await app.register(auth.formParser);
  app.setErrorHandler(auth.errorHandler);
  // The handler form (request.jwt typed); /hooked/protected keeps the preHandler hook.
  for (const [path, options] of GUARDED_ROUTES) {
    app.route({
      method: [...METHODS],
      url: path,
      handler: auth.jwtRequired(options, async (request) => routeAnswer(request.jwt)),
    });
  }
  app.post('/login/cookies', async (_request, reply) => {
    const { access, refresh } = await loginTokens(manager);
    auth.setAccessCookies(reply, access);
    auth.setRefreshCookies(reply, refresh);
    return LOGIN_ANSWER;
  });
  app.post('/logout', async (_request, reply) => {
    auth.unsetJwtCookies(reply);
    return LOGOUT_ANSWER;
  });
  app.post('/auth/refresh', auth.refresh());
  app.post(
    LOGOUT_ROUTE,
    auth.jwtRequired({}, async (request, reply) => {
      await manager.logout(request.jwt.payload);
      auth.unsetJwtCookies(reply);
      return LOGOUT_ANSWER;
    }),
  );
  const hooked = createFastifyAuth(manager, {
    onError: (error, request, response) => hookedAnswer(error, request.url, response),
  });
  app.post('/hooked/refresh', hooked.refresh());
  app.get('/hooked/protected', { preHandler: hooked.jwtRequired() }, async (request) =>
    routeAnswer(hooked.getJwt(request)),
  );
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: address, close: () => app.close() };
};

// ---------------------------------------------------------------------------
// Hono, served with @hono/node-server

export const hono: AppFactory = async (manager) => {
  const { createHonoAuth } = await import('../../src/adapters/hono.js');
  const app = honoConformanceApp(manager, createHonoAuth);
  return new Promise<RunningApp>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({ url: `http://127.0.0.1:${info.port}`, close: () => closeServer(server as Server) });
    });
  });
};

// ---------------------------------------------------------------------------
// Koa (no router package: a small dispatch middleware)

export const koa: AppFactory = async (manager) => {
  const { createKoaAuth } = await import('../../src/adapters/koa.js');
  type State = import('../../src/adapters/koa.js').JwtState<TestUser>;
  const auth = createKoaAuth(manager);
  const app = new Koa<State>();
  const guards = new Map(
    GUARDED_ROUTES.map(([path, options]) => [path as string, auth.jwtRequired(options)]),
  );
  const hooked = createKoaAuth(manager, {
    onError: (error, ctx, response) => hookedAnswer(error, ctx.path, response),
  });
  const logoutGuard = auth.jwtRequired();
  const hookedGuard = hooked.jwtRequired();
  const sessionRoutes = new Map<string, import('koa').Middleware<State>>([
    ['POST /auth/refresh', auth.refresh()],
    ['POST /hooked/refresh', hooked.refresh()],
    [
      `POST ${LOGOUT_ROUTE}`,
      (ctx) =>
        logoutGuard(ctx, async () => {
          await manager.logout(ctx.state.jwt!.payload);
          auth.unsetJwtCookies(ctx);
          ctx.body = LOGOUT_ANSWER;
        }),
    ],
    [
      'GET /hooked/protected',
      (ctx) =>
        hookedGuard(ctx, async () => {
          ctx.body = routeAnswer(ctx.state.jwt);
        }),
    ],
  ]);
  app.use(async (ctx, next) => {
    const session = sessionRoutes.get(`${ctx.method} ${ctx.path}`);
    if (session !== undefined) return session(ctx, next);
    const guard = guards.get(ctx.path);
    if (guard !== undefined) {
      await guard(ctx, async () => {
        ctx.body = routeAnswer(ctx.state.jwt);
      });
      return;
    }
    if (ctx.path === '/login/cookies' && ctx.method === 'POST') {
      const { access, refresh } = await loginTokens(manager);
      auth.setAccessCookies(ctx, access);
      auth.setRefreshCookies(ctx, refresh);
      ctx.body = LOGIN_ANSWER;
      return;
    }
    if (ctx.path === '/logout' && ctx.method === 'POST') {
      auth.unsetJwtCookies(ctx);
      ctx.body = LOGOUT_ANSWER;
      return;
    }
    await next();
  });
  return listen(createServer(app.callback()));
};

// ---------------------------------------------------------------------------
// fetch adapter behind a small node:http <-> Request/Response bridge

export const fetchAdapter: AppFactory = async (manager) => {
  const { createFetchAuth } = await import('../../src/adapters/fetch.js');
  const handle = fetchConformanceHandler(manager, createFetchAuth);
  let base = '';
  const server = createServer((req, res) => {
    bridge(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  async function bridge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const raw = await readAll(req);
    const headers = new Headers();
    // rawHeaders: every header line as sent (req.headers drops repeated Authorization lines).
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const hasBody = raw.length > 0 && method !== 'GET' && method !== 'HEAD';
    const request = new Request(`${base}${req.url ?? '/'}`, {
      method,
      headers,
      ...(hasBody ? { body: new Uint8Array(raw) } : {}),
    });
    const response = await handle(request);
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') out[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) out['set-cookie'] = cookies;
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  }
  const running = await listen(server);
  base = running.url;
  return running;
};

// ---------------------------------------------------------------------------
// node:http through the node adapter (no router: a lookup by method and path)

export const nodeAdapter: AppFactory = async (manager) => {
  const { createNodeAuth } = await import('../../src/adapters/node.js');
  type Handler = import('../../src/adapters/node.js').NodeHandler;
  const auth = createNodeAuth(manager);
  const hooked = createNodeAuth(manager, {
    onError: (error, req, response) => hookedAnswer(error, pathOf(req.url), response),
  });
  const answer = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, JSON_HEADERS);
    res.end(JSON.stringify(body));
  };
  const guarded = new Map<string, Handler>(
    GUARDED_ROUTES.map(([path, options]) => [
      path as string,
      auth.jwtRequired(options, (req, res) => answer(res, routeAnswer(req.jwt))),
    ]),
  );
  const sessionRoutes = new Map<string, Handler>([
    ['POST /auth/refresh', auth.refresh()],
    ['POST /hooked/refresh', hooked.refresh()],
    [
      `POST ${LOGOUT_ROUTE}`,
      auth.jwtRequired({}, async (req, res) => {
        await manager.logout(req.jwt.payload);
        auth.unsetJwtCookies(res);
        answer(res, LOGOUT_ANSWER);
      }),
    ],
    ['GET /hooked/protected', hooked.jwtRequired({}, (req, res) => answer(res, routeAnswer(req.jwt)))],
    [
      'POST /login/cookies',
      (_req, res) => {
        loginTokens(manager).then(({ access, refresh }) => {
          auth.setAccessCookies(res, access);
          auth.setRefreshCookies(res, refresh);
          answer(res, LOGIN_ANSWER);
        });
      },
    ],
    [
      'POST /logout',
      (_req, res) => {
        auth.unsetJwtCookies(res);
        answer(res, LOGOUT_ANSWER);
      },
    ],
  ]);
  const server = createServer((req, res) => {
    const path = pathOf(req.url);
    const handler = sessionRoutes.get(`${req.method} ${path}`) ?? guarded.get(path);
    if (handler === undefined) return sendJson(res, 404, { error: 'not found' });
    handler(req, res);
  });
  return listen(server);
};

// ---------------------------------------------------------------------------
// NestJS on @nestjs/platform-express (decorators applied as calls: the repo
// compiles without experimentalDecorators). No body parser, as the Express app:
// the guard reads bodies itself, with the adapters' bound.

export const nestjs: AppFactory = async (manager) => {
  const common = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const nest = await import('../../src/adapters/nestjs.js');
  type Decorator = MethodDecorator | import('../../src/adapters/nestjs.js').RouteDecorator;
  const route = (
    target: { prototype: object },
    name: string,
    decorators: readonly Decorator[],
    params: readonly ParameterDecorator[] = [],
  ) => {
    for (const [index, decorate] of params.entries()) decorate(target.prototype, name, index);
    const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name)!;
    for (const decorate of [...decorators].reverse()) decorate(target.prototype, name, descriptor);
  };
  const hooked = new nest.TesseraAuth(manager, {
    onError: (error, req, response) => hookedAnswer(error, req.originalUrl ?? '', response),
  });
  const refresh = {
    plain: undefined as ReturnType<typeof hooked.refresh> | undefined,
    hooked: hooked.refresh(),
  };

  class ConformanceController {
    readonly #auth: import('../../src/adapters/nestjs.js').TesseraAuth<TestUser>;
    constructor(auth: import('../../src/adapters/nestjs.js').TesseraAuth<TestUser>) {
      this.#auth = auth;
      refresh.plain ??= auth.refresh();
    }
    guarded(jwt: JwtContext<TestUser> | null) {
      return routeAnswer(jwt);
    }
    async login(res: ServerResponse) {
      const { access, refresh: refreshToken } = await loginTokens(manager);
      this.#auth.setAccessCookies(res, access);
      this.#auth.setRefreshCookies(res, refreshToken);
      return LOGIN_ANSWER;
    }
    logout(res: ServerResponse) {
      this.#auth.unsetJwtCookies(res);
      return LOGOUT_ANSWER;
    }
    refresh(req: never, res: ServerResponse) {
      return refresh.plain!(req, res);
    }
    async sessionLogout(jwt: JwtContext<TestUser>, res: ServerResponse) {
      await manager.logout(jwt.payload);
      this.#auth.unsetJwtCookies(res);
      return LOGOUT_ANSWER;
    }
    hookedRefresh(req: never, res: ServerResponse) {
      return refresh.hooked(req, res);
    }
    hookedProtected(req: object) {
      return routeAnswer(hooked.getJwt(req));
    }
  }
  common.Controller()(ConformanceController);
  common.Inject(nest.TesseraAuth)(ConformanceController, undefined, 0);
  // One method per guarded route: the guard's options are recorded per handler.
  for (const [path, options] of GUARDED_ROUTES) {
    const name = `guarded${path.replace(/\W/g, '_')}`;
    Object.defineProperty(ConformanceController.prototype, name, {
      value: function (this: ConformanceController, jwt: JwtContext<TestUser> | null) {
        return this.guarded(jwt);
      },
      configurable: true,
      writable: true,
    });
    route(
      ConformanceController,
      name,
      [common.All(path), common.HttpCode(200), nest.JwtRequired(options)],
      [nest.CurrentJwt()],
    );
  }
  const passthrough = common.Res({ passthrough: true });
  route(ConformanceController, 'login', [common.Post('login/cookies'), common.HttpCode(200)], [passthrough]);
  route(ConformanceController, 'logout', [common.Post('logout'), common.HttpCode(200)], [passthrough]);
  route(ConformanceController, 'refresh', [common.Post('auth/refresh')], [common.Req(), common.Res()]);
  route(
    ConformanceController,
    'sessionLogout',
    [common.Post(LOGOUT_ROUTE.slice(1)), common.HttpCode(200), nest.JwtRequired()],
    [nest.CurrentJwt(), passthrough],
  );
  route(
    ConformanceController,
    'hookedRefresh',
    [common.Post('hooked/refresh')],
    [common.Req(), common.Res()],
  );
  route(
    ConformanceController,
    'hookedProtected',
    [common.Get('hooked/protected'), common.UseGuards(new nest.JwtGuard(hooked as never))],
    [common.Req()],
  );

  class ConformanceModule {}
  common.Module({
    imports: [nest.TesseraModule.forRoot({ manager })],
    controllers: [ConformanceController],
  })(ConformanceModule);
  const app = await NestFactory.create(ConformanceModule, { logger: false, bodyParser: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
};

/** Every app, by name. */
export const APPS: Readonly<Record<AppName, AppFactory>> = {
  reference,
  express,
  fastify,
  hono,
  koa,
  fetch: fetchAdapter,
  node: nodeAdapter,
  nestjs,
};
