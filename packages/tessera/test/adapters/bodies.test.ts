/**
 * A JSON body over the limit, streamed without a Content-Length, answers 413
 * at once on the adapters that read bodies themselves (Express and Koa without
 * a body parser, Hono): the answer arrives while the client is still sending.
 * The fetch adapter's case is in fetch-server.test.ts; Fastify's own parser
 * enforces its bodyLimit before any hook (pipeline.test.ts).
 */
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import Koa from 'koa';
import { TokenManager } from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { createHonoAuth } from 'tessera-auth/hono';
import { createKoaAuth } from 'tessera-auth/koa';
import { afterAll, describe, it } from 'vitest';
import { expectStreamedOversizeRefused } from './oversize.js';
import { listenNode, SECRET, type Started } from './scenarios.js';

const manager = new TokenManager({ secret: SECRET, tokenLocation: ['json'] });
const started: Started[] = [];
afterAll(() => Promise.all(started.map((s) => s.close())));

describe('a streamed JSON body over 1 MiB answers 413 while the client is still sending', () => {
  it('Express (no body parser: the adapter reads it)', async () => {
    const auth = createExpressAuth(manager);
    const app = express();
    app.post('/p', auth.jwtRequired(), (_req, res) => res.json({ ok: true }));
    const s = await listenNode(createServer(app));
    started.push(s);
    await expectStreamedOversizeRefused(`${s.url}/p`);
  });

  it('Koa (no body parser: the adapter reads it)', async () => {
    const auth = createKoaAuth(manager);
    const app = new Koa();
    app.use(auth.jwtRequired());
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const s = await listenNode(createServer(app.callback()));
    started.push(s);
    await expectStreamedOversizeRefused(`${s.url}/p`);
  });

  it('Hono under @hono/node-server', async () => {
    const auth = createHonoAuth(manager);
    const app = new Hono();
    app.post('/p', auth.jwtRequired(), (c) => c.json({ ok: true }));
    const s = await new Promise<Started>((resolve) => {
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
    started.push(s);
    await expectStreamedOversizeRefused(`${s.url}/p`);
  });
});
