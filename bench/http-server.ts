/**
 * One benchmark server, run as a child process of bench/http.ts:
 *
 *   node .bench-build/http-server.js '<ServerSpec as JSON>'
 *
 * (bench/http.ts transpiles it to plain JavaScript there and starts it; see plain-js.ts.)
 *
 * Serves GET /bare, GET /tessera (the route behind Tessera's adapter), where
 * the framework has a usual JWT middleware GET /other behind it, and without the
 * cache GET /floor behind a middleware that only checks the signature and GET
 * /ceiling behind one that checks the signature and reads the payload (issue 14's
 * ceiling: the least a JWT middleware does before a route can use the claims), and
 * with the cache GET /passthrough behind a middleware of Tessera's route's shape that
 * only hands on to the handler (what the framework's own middleware step costs). Every
 * route answers the same small JSON body. Prints one line to stdout when listening:
 * `READY {"port":…,"routes":{"tessera"|"other"|"floor"|"ceiling"|"passthrough":"ok"|<why not>}}`.
 */
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyJwt from '@fastify/jwt';
import { serve } from '@hono/node-server';
import express from 'express';
import { expressjwt } from 'express-jwt';
import { createVerifier } from 'fast-jwt';
import Fastify, { type FastifyPluginCallback, type preHandlerAsyncHookHandler } from 'fastify';
import { type Context, type Handler, Hono } from 'hono';
import { jwt as honoJwt } from 'hono/jwt';
import Koa from 'koa';
import type { JwsAlgorithm } from 'tessera-auth';
import { buildPlainCopy, startProfiler, stopProfiler, type Tessera } from './profiling.js';

/**
 * The library is the built package (`tessera-auth` resolves to dist/, see plain-js.ts).
 * With TESSERA_BENCH_PROFILE=<report.txt>, it and its adapters are loaded from a
 * line-preserving plain copy of the source instead, the profiler starts on
 * SIGUSR2 and the report is written on SIGTERM (bench/profile.ts http drives this).
 */
const profileReport = process.env.TESSERA_BENCH_PROFILE;
const plainCopy = profileReport === undefined ? undefined : await buildPlainCopy();
/** The package's main entry (no adapter), or the adapter `tessera-auth/<adapter>`. */
const libraryModule = (adapter?: string): Promise<unknown> =>
  plainCopy === undefined
    ? import(adapter === undefined ? 'tessera-auth' : `tessera-auth/${adapter}`)
    : import(`${plainCopy}${adapter === undefined ? 'index' : `adapters/${adapter}`}.js`);
const { TokenManager } = (await libraryModule()) as Tessera;
type TokenManager = InstanceType<typeof TokenManager>;
if (profileReport !== undefined) {
  let session: Awaited<ReturnType<typeof startProfiler>> | undefined;
  process.on('SIGUSR2', () => {
    startProfiler().then((s) => {
      session = s;
    });
  });
  process.on('SIGTERM', () => {
    if (session === undefined) process.exit(0);
    stopProfiler(session, profileReport).then(() => process.exit(0));
  });
}

export type Framework = 'fastify' | 'express' | 'hono' | 'koa' | 'node:http';

export interface ServerSpec {
  readonly framework: Framework;
  readonly alg: 'HS256' | 'EdDSA';
  /** JSON file with { secret } (HS256) or { publicPem } (EdDSA). */
  readonly keyFile: string;
  /** Tessera's verifiedTokenCache; false for none. */
  readonly cache: number | false;
  /** Turn on the other middleware's cache where it has one (@fastify/jwt, fast-jwt). */
  readonly otherCache: boolean;
}

interface KeyFile {
  readonly secret?: string;
  readonly publicPem?: string;
}

const BODY = { ok: true };
const BODY_TEXT = JSON.stringify(BODY);

type RouteState = 'ok' | string;

/**
 * The signature check and nothing else, on the raw Authorization header: what
 * every HS256 or EdDSA middleware must at least do, however fast its JWT code.
 */
function signatureCheck(
  alg: 'HS256' | 'EdDSA',
  keys: KeyFile,
): (authorization: string | undefined) => boolean {
  const key =
    keys.secret !== undefined ? createSecretKey(Buffer.from(keys.secret)) : createPublicKey(keys.publicPem!);
  return (authorization) => {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    const dot = authorization.lastIndexOf('.');
    const signature = Buffer.from(authorization.slice(dot + 1), 'base64url');
    if (alg === 'EdDSA')
      return verify(null, Buffer.from(authorization.slice(7, dot), 'latin1'), key, signature);
    const mac = createHmac('sha256', key).update(authorization.slice(7, dot), 'latin1').digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature);
  };
}

/**
 * The signature check, then the payload read as any JWT middleware must read it
 * (base64url, UTF-8, JSON.parse): the claims, or undefined. No claim is checked.
 */
function payloadRead(
  check: (authorization: string | undefined) => boolean,
): (authorization: string | undefined) => Record<string, unknown> | undefined {
  return (authorization) => {
    if (!check(authorization)) return undefined;
    const segment = authorization!.slice(authorization!.indexOf('.') + 1, authorization!.lastIndexOf('.'));
    try {
      const claims: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
      return isObject(claims) ? claims : undefined;
    } catch {
      return undefined;
    }
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A runtime check that stands in for the adapter's static type (adapters load dynamically). */
function isFunction<T>(value: unknown): value is T {
  return typeof value === 'function';
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Load the adapter `tessera-auth/<file>`, call `<factory>(manager)`, return the auth object.
 * A module that fails to load or has an unexpected shape: a reason string instead.
 */
async function loadAuth(
  file: string,
  factory: string,
  manager: TokenManager,
): Promise<Record<string, unknown> | string> {
  let mod: unknown;
  try {
    mod = await libraryModule(file);
  } catch (error) {
    return `adapter ${file}.ts failed to load: ${message(error)}`;
  }
  if (!isObject(mod)) return `adapter ${file}.ts: no module`;
  const create = mod[factory];
  if (!isFunction<(m: TokenManager) => unknown>(create)) return `adapter ${file}.ts has no ${factory}`;
  const auth = create(manager);
  if (!isObject(auth) || typeof auth.jwtRequired !== 'function') {
    return `${factory}(manager) has no jwtRequired()`;
  }
  return auth;
}

/**
 * What `auth.jwtRequired(...args)` returns (the middleware, or with `({}, handler)`
 * the handler form), checked to be a function.
 */
function jwtRequired<T>(auth: Record<string, unknown>, ...args: unknown[]): T | string {
  const factory = auth.jwtRequired;
  if (!isFunction<(...args: unknown[]) => unknown>(factory)) return 'no jwtRequired()';
  const mw = factory.call(auth, ...args);
  return isFunction<T>(mw) ? mw : 'jwtRequired() did not return a function';
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function ready(port: number, routes: Record<string, RouteState>): void {
  process.stdout.write(`READY ${JSON.stringify({ port, routes })}\n`);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body);
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: http-server.ts <ServerSpec JSON>');
  const spec = JSON.parse(raw) as ServerSpec;
  const keys = JSON.parse(readFileSync(spec.keyFile, 'utf8')) as KeyFile;
  const algorithm: JwsAlgorithm = spec.alg;
  const manager =
    keys.secret !== undefined
      ? new TokenManager({ algorithm, secret: keys.secret, verifiedTokenCache: spec.cache })
      : new TokenManager({ algorithm, publicKey: keys.publicPem!, verifiedTokenCache: spec.cache });
  // Key material as the usual middlewares take it: the secret, or the public PEM.
  const verifyKey = keys.secret ?? keys.publicPem!;
  const routes: Record<string, RouteState> = {};
  const check = signatureCheck(spec.alg, keys);
  const claims = payloadRead(check);
  // With the cache the question is the cache's cost, not the signature's.
  const floor = spec.cache === false;
  routes.floor = floor ? 'ok' : 'none (the cache scenario has no signature floor)';
  routes.ceiling = floor ? 'ok' : 'none (the cache scenario has no signature floor)';
  // With the cache, the most a middleware can keep of bare is what the framework's
  // own middleware step leaves: a middleware of the same shape as Tessera's that does nothing.
  const passthrough = !floor;
  routes.passthrough = passthrough ? 'ok' : 'none (uncached scenarios have the floor and ceiling)';

  switch (spec.framework) {
    case 'fastify': {
      const app = Fastify({ logger: false });
      const auth = await loadAuth('fastify', 'createFastifyAuth', manager);
      const handler = async () => BODY;
      app.get('/bare', handler);
      if (typeof auth === 'string') routes.tessera = auth;
      else {
        // The adapter's plugin decorates request.jwt; register it as its docs say.
        if (isFunction<FastifyPluginCallback>(auth.plugin)) await app.register(auth.plugin);
        const hook = jwtRequired<preHandlerAsyncHookHandler>(auth);
        if (typeof hook === 'string') routes.tessera = hook;
        else {
          app.get('/tessera', { preHandler: hook }, handler);
          routes.tessera = 'ok';
        }
      }
      if (passthrough) {
        // Tessera's hook is callback-style: so is this one.
        app.get('/passthrough', { preHandler: (_request, _reply, done) => done() }, handler);
      }
      await app.register(fastifyJwt, {
        secret: keys.secret ?? { public: verifyKey },
        verify: { algorithms: [spec.alg], ...(spec.otherCache ? { cache: true } : {}) },
      });
      app.get(
        '/other',
        {
          onRequest: async (request) => {
            await request.jwtVerify();
          },
        },
        handler,
      );
      routes.other = 'ok';
      if (floor) {
        app.get(
          '/floor',
          {
            preHandler: (request, reply, done) => {
              if (check(request.headers.authorization)) done();
              else reply.code(401).send({ msg: 'unauthorized' });
            },
          },
          handler,
        );
        app.get(
          '/ceiling',
          {
            preHandler: (request, reply, done) => {
              const payload = claims(request.headers.authorization);
              if (payload === undefined) reply.code(401).send({ msg: 'unauthorized' });
              else {
                (request as { claims?: unknown }).claims = payload;
                done();
              }
            },
          },
          handler,
        );
      }
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address() as AddressInfo;
      ready(address.port, routes);
      return;
    }
    case 'express': {
      const app = express();
      const handler: express.RequestHandler = (_req, res) => {
        res.json(BODY);
      };
      app.get('/bare', handler);
      const auth = await loadAuth('express', 'createExpressAuth', manager);
      if (typeof auth === 'string') routes.tessera = auth;
      else {
        const mw = jwtRequired<express.RequestHandler>(auth);
        if (typeof mw === 'string') routes.tessera = mw;
        else {
          app.get('/tessera', mw, handler);
          routes.tessera = 'ok';
        }
      }
      if (passthrough) app.get('/passthrough', (_req, _res, next) => next(), handler);
      app.get('/other', expressjwt({ secret: verifyKey, algorithms: [spec.alg] as never[] }), handler);
      routes.other = 'ok';
      if (floor) {
        const signatureOnly: express.RequestHandler = (req, res, next) => {
          if (check(req.headers.authorization)) next();
          else res.status(401).json({ msg: 'unauthorized' });
        };
        app.get('/floor', signatureOnly, handler);
        const withClaims: express.RequestHandler = (req, res, next) => {
          const payload = claims(req.headers.authorization);
          if (payload === undefined) res.status(401).json({ msg: 'unauthorized' });
          else {
            res.locals.claims = payload;
            next();
          }
        };
        app.get('/ceiling', withClaims, handler);
      }
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      ready((server.address() as AddressInfo).port, routes);
      return;
    }
    case 'hono': {
      const app = new Hono();
      app.get('/bare', (c) => c.json(BODY));
      const auth = await loadAuth('hono', 'createHonoAuth', manager);
      // Tessera's handler form, and the floor and ceiling written the same way: one
      // handler per route, which Hono answers without its middleware chain (the
      // middleware form, measured apart, is in docs/performance.md).
      if (typeof auth === 'string') routes.tessera = auth;
      else {
        const route = jwtRequired<Handler>(auth, {}, (c: Context) => c.json(BODY));
        if (typeof route === 'string') routes.tessera = route;
        else {
          app.get('/tessera', route);
          routes.tessera = 'ok';
        }
      }
      if (passthrough) {
        // Tessera's handler form wraps the handler: so does this, doing nothing else.
        const wrap =
          (handler: Handler): Handler =>
          (c, next) =>
            handler(c, next);
        app.get(
          '/passthrough',
          wrap((c) => c.json(BODY)),
        );
      }
      app.get('/other', honoJwt({ secret: verifyKey, alg: spec.alg }), (c) => c.json(BODY));
      routes.other = 'ok';
      if (floor) {
        app.get('/floor', (c) => {
          if (!check(c.req.header('authorization'))) return c.json({ msg: 'unauthorized' }, 401);
          return c.json(BODY);
        });
        app.get('/ceiling', (c) => {
          const payload = claims(c.req.header('authorization'));
          if (payload === undefined) return c.json({ msg: 'unauthorized' }, 401);
          c.set('claims' as never, payload as never);
          return c.json(BODY);
        });
      }
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => ready(info.port, routes));
      return;
    }
    case 'koa': {
      const app = new Koa();
      const auth = await loadAuth('koa', 'createKoaAuth', manager);
      let tessera: Koa.Middleware | undefined;
      if (typeof auth === 'string') routes.tessera = auth;
      else {
        const mw = jwtRequired<Koa.Middleware>(auth);
        if (typeof mw === 'string') routes.tessera = mw;
        else {
          tessera = mw;
          routes.tessera = 'ok';
        }
      }
      // koa-jwt is not installed: fast-jwt wired by hand in Koa's style, as on node:http.
      const fastVerify = createVerifier({
        key: verifyKey,
        algorithms: [spec.alg],
        ...(spec.otherCache ? { cache: true } : {}),
      });
      const other: Koa.Middleware = (ctx, next) => {
        const header = ctx.get('authorization');
        try {
          ctx.state.user = fastVerify(header.startsWith('Bearer ') ? header.slice(7) : '');
        } catch {
          ctx.status = 401;
          ctx.body = { msg: 'unauthorized' };
          return;
        }
        return next();
      };
      routes.other = 'ok';
      const signatureOnly: Koa.Middleware = async (ctx, next) => {
        if (!check(ctx.get('authorization') || undefined)) {
          ctx.status = 401;
          ctx.body = { msg: 'unauthorized' };
          return;
        }
        await next();
      };
      const withClaims: Koa.Middleware = async (ctx, next) => {
        const payload = claims(ctx.get('authorization') || undefined);
        if (payload === undefined) {
          ctx.status = 401;
          ctx.body = { msg: 'unauthorized' };
          return;
        }
        ctx.state.claims = payload;
        await next();
      };
      // No router package: one path read and a lookup keep every route's dispatch alike.
      const answer = async (ctx: Koa.Context) => {
        ctx.body = BODY;
      };
      const protectedRoutes = new Map<string, Koa.Middleware>([['/other', other]]);
      if (floor) {
        protectedRoutes.set('/floor', signatureOnly);
        protectedRoutes.set('/ceiling', withClaims);
      }
      if (tessera !== undefined) protectedRoutes.set('/tessera', tessera);
      if (passthrough) protectedRoutes.set('/passthrough', (_ctx, next) => next());
      app.use(async (ctx, next) => {
        const path = ctx.path;
        if (path === '/bare') {
          ctx.body = BODY;
          return;
        }
        const route = protectedRoutes.get(path);
        if (route !== undefined) {
          await route(ctx, () => answer(ctx));
          return;
        }
        await next();
      });
      const server = createServer(app.callback());
      ready(await listen(server), routes);
      return;
    }
    case 'node:http': {
      type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
      const auth = await loadAuth('node', 'createNodeAuth', manager);
      let tessera: NodeHandler | undefined;
      if (typeof auth === 'string') routes.tessera = auth;
      else {
        // The adapter's handler form: the guard and the route's answer in one handler.
        const handler = jwtRequired<NodeHandler>(auth, {}, (_req: IncomingMessage, res: ServerResponse) =>
          send(res, 200, BODY_TEXT),
        );
        if (typeof handler === 'string') routes.tessera = handler;
        else {
          tessera = handler;
          routes.tessera = 'ok';
        }
      }
      const verify = createVerifier({
        key: verifyKey,
        algorithms: [spec.alg],
        ...(spec.otherCache ? { cache: true } : {}),
      });
      routes.other = 'ok';
      // Tessera's handler form wraps the route's answer: so does this, doing nothing else.
      const wrap =
        (handler: NodeHandler): NodeHandler =>
        (req, res) =>
          handler(req, res);
      const passthroughRoute = wrap((_req, res) => send(res, 200, BODY_TEXT));
      const server = createServer((req, res) => {
        if (req.url === '/bare') return send(res, 200, BODY_TEXT);
        if (req.url === '/tessera' && tessera !== undefined) return tessera(req, res);
        if (req.url === '/passthrough' && passthrough) return passthroughRoute(req, res);
        if (req.url === '/floor' && floor) {
          if (check(req.headers.authorization)) return send(res, 200, BODY_TEXT);
          return send(res, 401, '{"msg":"unauthorized"}');
        }
        if (req.url === '/ceiling' && floor) {
          if (claims(req.headers.authorization) !== undefined) return send(res, 200, BODY_TEXT);
          return send(res, 401, '{"msg":"unauthorized"}');
        }
        if (req.url === '/other') {
          // fast-jwt wired by hand: what a bare node:http service would write.
          const header = req.headers.authorization ?? '';
          try {
            verify(header.startsWith('Bearer ') ? header.slice(7) : '');
            return send(res, 200, BODY_TEXT);
          } catch {
            return send(res, 401, '{"msg":"unauthorized"}');
          }
        }
        send(res, 404, '{}');
      });
      ready(await listen(server), routes);
      return;
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
