/**
 * Serves the web console (packages/server/web, built by `npm run build:web`
 * into web/dist) at /console/. The files are read once when the app is built;
 * the page gets its own Content-Security-Policy: scripts, styles and images
 * from the service only, fetches to the service and to https JWKS URLs (the
 * token inspector), no frames, no inline code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { AppEnv, ServiceContext } from '../context.js';
import { errorBody } from '../http.js';

/** Where `vite build` puts the console: web/dist beside src/ (and beside dist/ when compiled). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** The console page's policy. `connect-src https:` lets the inspector fetch a JWKS URL the user names. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Every file of the build, by its path under /console/. */
function readBuild(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (at: string, prefix: string) => {
    for (const name of readdirSync(at)) {
      const full = join(at, name);
      if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
      else files.set(`${prefix}${name}`, readFileSync(full));
    }
  };
  if (existsSync(join(dir, 'index.html'))) walk(dir, '');
  return files;
}

/** Mount the console; `dir` is the build to serve (default {@link CONSOLE_DIST}). */
export function consoleRoutes(app: Hono<AppEnv>, ctx: ServiceContext, dir: string = CONSOLE_DIST): void {
  const files = readBuild(dir);
  if (files.size === 0) {
    ctx.log.warn(
      { dir },
      'the web console is not built (npm run build:web -w packages/server): /console answers 503',
    );
  }
  const headers = (path: string): Record<string, string> => ({
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-security-policy': CONSOLE_CSP,
    // Hashed asset names never change content; the page itself is always revalidated.
    'cache-control': path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });

  app.get('/console', (c) => c.redirect('/console/', 301));
  app.get('/console/*', (c) => {
    if (files.size === 0) {
      return c.json(
        errorBody(
          'console_not_built',
          'The web console is not built: run npm run build:web -w packages/server',
        ),
        503,
      );
    }
    let path = c.req.path.slice('/console/'.length);
    if (path === '') path = 'index.html';
    const body = files.get(path);
    if (body === undefined) return c.json(errorBody('not_found', 'Not found'), 404);
    return c.body(body as Uint8Array<ArrayBuffer>, 200, headers(path));
  });
}
