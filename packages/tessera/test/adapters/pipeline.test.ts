/**
 * Refusals flowing into each framework's own error pipeline (`errors: 'throw'`),
 * the adapters' error handlers for bodies the framework's parser refused, and
 * the Fastify form parser staying inside its scope. Every app is a real server
 * on 127.0.0.1, each with the framework's own error handler installed.
 */
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyError } from 'fastify';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import Koa from 'koa';
import { AuthResponseError, TesseraError, TokenManager } from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { createFastifyAuth } from 'tessera-auth/fastify';
import { createHonoAuth } from 'tessera-auth/hono';
import { createKoaAuth } from 'tessera-auth/koa';
import { afterAll, describe, expect, it } from 'vitest';
import { listenNode, SECRET, type Started } from './scenarios.js';

function manager(): TokenManager {
  return new TokenManager({ secret: SECRET, tokenLocation: ['headers', 'json'] });
}

const started: Started[] = [];
afterAll(() => Promise.all(started.map((s) => s.close())));

async function run(start: Promise<Started>): Promise<string> {
  const s = await start;
  started.push(s);
  return s.url;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function post(url: string, body: string, contentType: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const MISSING = 'No token was found in the request (looked in: headers, json)';

describe("errors: 'throw' reaches the framework's error pipeline", () => {
  it("Express: next(err) with status, headers and body; the app's handler answers, and so does Express's default", async () => {
    const m = manager();
    const auth = createExpressAuth(m, { errors: 'throw' });
    const app = express();
    app.get('/p', auth.jwtRequired(), (_req, res) => res.json({ ok: true }));
    app.post('/auth/refresh', express.json(), auth.refresh());
    app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (!(err instanceof AuthResponseError)) return next(err);
      res
        .status(err.status)
        .set(err.headers)
        .json({ mine: err.code, body: JSON.parse(err.body) });
    });
    const url = await run(listenNode(createServer(app)));
    const refused = await get(`${url}/p`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.parse(refused.text)).toEqual({
      mine: 'authorization_missing',
      body: { msg: MISSING, code: 'authorization_missing' },
    });
    const access = await m.createAccessToken({ identity: 'alice' });
    const refresh = await post(`${url}/auth/refresh`, '{}', 'application/json', {
      authorization: `Bearer ${access}`,
    });
    expect(refresh.status).toBe(401);
    expect(JSON.parse(refresh.text).mine).toBe('wrong_token_type');

    // No error handler of the app's own: Express's default one answers the status and headers.
    const bare = express();
    bare.get('/p', auth.jwtRequired(), (_req, res) => res.json({ ok: true }));
    const bareUrl = await run(listenNode(createServer(bare)));
    const fallback = await get(`${bareUrl}/p`, { authorization: 'Bearer not.a.jwt' });
    expect(fallback.status).toBe(401);
    expect(fallback.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it("Express: auth.errorHandler() answers express.json()'s refusals with the profile's JSON, not an HTML page", async () => {
    const auth = createExpressAuth(manager());
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.post('/p', auth.jwtRequired({ locations: ['json'] }), (_req, res) => res.json({ ok: true }));
    app.get('/crash', () => {
      throw new Error('not ours');
    });
    app.use(auth.errorHandler());
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ other: true });
    });
    const url = await run(listenNode(createServer(app)));
    const bad = await post(`${url}/p`, '{"access_token":', 'application/json');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(bad.text)).toEqual({ msg: 'The request body is not valid JSON', code: 'body_invalid' });
    expect(bad.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_request", error_description="The request body is not valid JSON"',
    );
    const big = await post(`${url}/p`, JSON.stringify({ pad: 'x'.repeat(2048) }), 'application/json');
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text)).toEqual({
      msg: 'The request body is larger than 1024 bytes',
      code: 'body_too_large',
    });
    // Errors that are not about auth or bodies go on to the next error handler.
    const crash = await get(`${url}/crash`);
    expect(crash.status).toBe(500);
    expect(JSON.parse(crash.text)).toEqual({ other: true });
  });

  it('Express, flask-jwt-extended profile: an unparsable JSON body is a missing key (F50), 401', async () => {
    const m = new TokenManager({ profile: 'flask-jwt-extended', secret: SECRET, tokenLocation: ['json'] });
    const auth = createExpressAuth(m);
    const app = express();
    app.use(express.json());
    app.post('/p', auth.jwtRequired(), (_req, res) => res.json({ ok: true }));
    app.use(auth.errorHandler());
    const url = await run(listenNode(createServer(app)));
    const bad = await post(`${url}/p`, '{"access_token":', 'application/json');
    expect(bad.status).toBe(401);
    expect(bad.text).toBe('{"msg":"Missing \\"access_token\\" key in json data."}\n');
  });

  it("Fastify: done(err) reaches setErrorHandler; without one, Fastify's default answers status and headers", async () => {
    const auth = createFastifyAuth(manager(), { errors: 'throw' });
    const app = Fastify();
    await app.register(auth.plugin);
    app.setErrorHandler((error: FastifyError | AuthResponseError, _request, reply) => {
      if (error instanceof AuthResponseError) {
        return reply.code(error.statusCode).headers(error.headers).send({ mine: error.code });
      }
      return reply.code(500).send({ other: true });
    });
    app.get('/p', { preHandler: auth.jwtRequired() }, async () => ({ ok: true }));
    app.post('/auth/refresh', auth.refresh());
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    started.push({ url: address, close: () => app.close() });
    const refused = await get(`${address}/p`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.parse(refused.text)).toEqual({ mine: 'authorization_missing' });
    const refresh = await post(`${address}/auth/refresh`, '{}', 'application/json');
    expect(refresh.status).toBe(401);
    expect(JSON.parse(refresh.text)).toEqual({ mine: 'authorization_missing' });

    const bare = Fastify();
    await bare.register(auth.plugin);
    bare.get('/p', { preHandler: auth.jwtRequired() }, async () => ({ ok: true }));
    const bareAddress = await bare.listen({ port: 0, host: '127.0.0.1' });
    started.push({ url: bareAddress, close: () => bare.close() });
    const fallback = await get(`${bareAddress}/p`, { authorization: 'Bearer not.a.jwt' });
    expect(fallback.status).toBe(401);
    expect(fallback.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(JSON.parse(fallback.text)).toMatchObject({ statusCode: 401 });
  });

  it("Fastify: auth.errorHandler answers Fastify's own JSON and size refusals with the profile's answer", async () => {
    const auth = createFastifyAuth(manager());
    const app = Fastify({ bodyLimit: 1024 });
    await app.register(auth.plugin);
    app.setErrorHandler(auth.errorHandler);
    app.post('/p', { preHandler: auth.jwtRequired({ locations: ['json'] }) }, async () => ({ ok: true }));
    app.get('/crash', async () => {
      throw new Error('not ours');
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    started.push({ url: address, close: () => app.close() });
    const bad = await post(`${address}/p`, '{"access_token":', 'application/json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual({ msg: 'The request body is not valid JSON', code: 'body_invalid' });
    const big = await post(`${address}/p`, JSON.stringify({ pad: 'x'.repeat(2048) }), 'application/json');
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text)).toEqual({
      msg: 'The request body is larger than 1024 bytes',
      code: 'body_too_large',
    });
    // Not ours: Fastify's default handler, through the parent.
    const crash = await get(`${address}/crash`);
    expect(crash.status).toBe(500);
    expect(JSON.parse(crash.text)).toMatchObject({ statusCode: 500, message: 'not ours' });
  });

  it("Hono: an HTTPException carrying the answer reaches app.onError; Hono's default answers it as is", async () => {
    const auth = createHonoAuth(manager(), { errors: 'throw' });
    const app = new Hono();
    app.get('/p', auth.jwtRequired(), (c) => c.json({ ok: true }));
    app.post('/auth/refresh', auth.refresh());
    app.onError((error, c) => {
      if (error instanceof HTTPException && error.cause instanceof TesseraError) {
        return c.json({ mine: error.cause.code }, error.status);
      }
      return c.json({ other: true }, 500);
    });
    const bare = new Hono();
    bare.get('/p', auth.jwtRequired(), (c) => c.json({ ok: true }));
    const url = await run(honoServer(app));
    const bareUrl = await run(honoServer(bare));
    const refused = await get(`${url}/p`);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toEqual({ mine: 'authorization_missing' });
    const refresh = await post(`${url}/auth/refresh`, '{}', 'application/json');
    expect(JSON.parse(refresh.text)).toEqual({ mine: 'authorization_missing' });
    const fallback = await get(`${bareUrl}/p`);
    expect(fallback.status).toBe(401);
    expect(fallback.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.parse(fallback.text)).toEqual({ msg: MISSING, code: 'authorization_missing' });
  });

  it('Hono: app.onError(auth.errorHandler) answers refusals with the profile, other errors as Hono would', async () => {
    const auth = createHonoAuth(manager(), { errors: 'throw' });
    const app = new Hono();
    app.get('/p', auth.jwtRequired(), (c) => c.json({ ok: true }));
    app.get('/crash', () => {
      throw new Error('not ours');
    });
    app.onError(auth.errorHandler);
    const url = await run(honoServer(app));
    const refused = await get(`${url}/p`, { authorization: 'Bearer not.a.jwt' });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'token_malformed' });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (error: unknown) => errors.push(error);
    try {
      const crash = await get(`${url}/crash`);
      expect(crash.status).toBe(500);
      expect(crash.text).toBe('Internal Server Error');
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
  });

  it("Koa: the refusal is thrown with status, headers and expose; the app's middleware and Koa's default answer it", async () => {
    const auth = createKoaAuth(manager(), { errors: 'throw' });
    const guard = auth.jwtRequired();
    const refresh = auth.refresh();
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        if (!(error instanceof AuthResponseError)) throw error;
        ctx.status = error.status;
        ctx.set({ ...error.headers });
        ctx.body = { mine: error.code };
      }
    });
    app.use((ctx, next) => (ctx.path === '/auth/refresh' ? refresh(ctx, next) : guard(ctx, next)));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const url = await run(listenNode(createServer(app.callback())));
    const refused = await get(`${url}/p`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.parse(refused.text)).toEqual({ mine: 'authorization_missing' });
    const refreshed = await post(`${url}/auth/refresh`, '{}', 'application/json');
    expect(JSON.parse(refreshed.text)).toEqual({ mine: 'authorization_missing' });

    const bare = new Koa();
    bare.silent = true;
    bare.use(guard);
    const bareUrl = await run(listenNode(createServer(bare.callback())));
    const fallback = await get(`${bareUrl}/p`, { authorization: 'Bearer garbage' });
    expect(fallback.status).toBe(401);
    expect(fallback.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    // Koa's default handler answers an exposed error's message as text.
    expect(fallback.text).toBe('The token must have three parts separated by dots');

    const handled = new Koa();
    handled.use(auth.errorHandler());
    handled.use(guard);
    const handledUrl = await run(listenNode(createServer(handled.callback())));
    const answer = await get(`${handledUrl}/p`);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toEqual({ msg: MISSING, code: 'authorization_missing' });
  });

  it('refuses an unknown errors mode and unknown factory options at configuration time', () => {
    const m = manager();
    expect(() => createExpressAuth(m, { errors: 'raise' as 'throw' })).toThrow(
      /errors must be 'respond' or 'throw'/,
    );
    expect(() => createKoaAuth(m, { onErorr: () => undefined } as never)).toThrow(/did you mean 'onError'/);
    expect(() => createFastifyAuth(m, { bodyLimit: 1 } as never)).toThrow(/Unknown option 'bodyLimit'/);
    expect(() => createHonoAuth(m).refresh({ cookie: true } as never)).toThrow(/did you mean 'cookies'/);
    expect(() => createExpressAuth(m).jwtRequired({ fressh: true } as never)).toThrow(/did you mean 'fresh'/);
  });
});

describe('Fastify form parser', () => {
  it('stays in the scope that registers it: a sibling route still gets 415 for a form body', async () => {
    const m = new TokenManager({ secret: SECRET, tokenLocation: ['cookies'], csrf: { checkForm: true } });
    const auth = createFastifyAuth(m);
    const app = Fastify();
    await app.register(auth.plugin);
    await app.register(async (forms) => {
      await forms.register(auth.formParser);
      forms.post('/forms/p', { preHandler: auth.jwtRequired() }, async (request) => ({
        who: auth.getJwtIdentity(request),
      }));
    });
    app.post('/sibling', async (request) => ({ body: request.body }));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    started.push({ url: address, close: () => app.close() });
    const token = await m.createAccessToken({ identity: 'alice' });
    const csrf = (await m.decodeToken(token)).csrf as string;
    const inside = await post(
      `${address}/forms/p`,
      `csrf_token=${csrf}`,
      'application/x-www-form-urlencoded',
      {
        cookie: `access_token_cookie=${token}`,
      },
    );
    expect(inside.status).toBe(200);
    expect(JSON.parse(inside.text)).toEqual({ who: 'alice' });
    const sibling = await post(`${address}/sibling`, 'a=1', 'application/x-www-form-urlencoded');
    expect(sibling.status).toBe(415);
    expect(JSON.parse(sibling.text)).toMatchObject({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
  });
});

function honoServer(app: Hono): Promise<Started> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as import('node:http').Server).closeAllConnections();
          }),
      });
    });
  });
}
