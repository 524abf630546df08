/**
 * Health, readiness, the JWKS, the OpenAPI document and its reference page.
 */
import type { Hono } from 'hono';
import type { AppEnv, ServiceContext } from '../context.js';
import { openApiDocument, referencePage } from '../openapi.js';

export function metaRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  // Liveness: the process answers. No store is asked, so a database outage does not get the process killed.
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    if (ctx.draining()) return c.json({ status: 'draining' }, 503);
    try {
      await ctx.stores.check();
      return c.json({ status: 'ready' });
    } catch (error) {
      ctx.log.warn(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        'readiness check failed',
      );
      return c.json(
        { status: 'unavailable', msg: 'A store cannot be reached', code: 'store_unavailable' },
        503,
      );
    }
  });

  app.get('/.well-known/jwks.json', (c) =>
    c.body(ctx.keys.jwksText(), 200, {
      'content-type': 'application/jwk-set+json',
      // Short: verifiers refetch soon after a rotation, and on an unknown kid.
      'cache-control': 'public, max-age=60',
      'access-control-allow-origin': '*',
    }),
  );

  const document = JSON.stringify(openApiDocument(ctx.config));
  app.get('/openapi.json', (c) => c.body(document, 200, { 'content-type': 'application/json' }));
  const page = referencePage(openApiDocument(ctx.config));
  app.get('/docs', (c) =>
    c.html(page, 200, {
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    }),
  );
}
