/**
 * The runtime suite in Chromium (Debian's, driven by playwright-core): the
 * library's public entry bundled by Vite, verifying tokens signed by
 * node:crypto, reading a JWKS over the page's fetch, signing tokens Node
 * verifies, and a TokenManager creating, verifying and rotating tokens.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failedChecks,
  managerProblems,
  PACKAGE_DIR,
  serveJwks,
  tokensFromNode,
  verifyOnNode,
} from './harness.js';
import type { ForeignToken, SuiteInput, SuiteOutput } from './suite.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

let fromNode: ForeignToken[];
let jwks: { url: string; server: Server };
let site: Server;
let siteUrl: string;
let browser: Browser;

/** Build a page with Vite that exposes the suite as window.runTesseraSuite. */
async function buildPage(entry: string): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tessera-vite-'));
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><html><body><script type="module" src="./main.ts"></script></body></html>',
  );
  writeFileSync(
    join(root, 'main.ts'),
    `import { lib, runSuite } from ${JSON.stringify(entry)};
(window as unknown as { runTesseraSuite: unknown }).runTesseraSuite = (input: never) => runSuite(lib as never, input);
document.title = 'ready';
`,
  );
  await build({
    root,
    logLevel: 'error',
    configFile: false,
    resolve: {
      alias: {
        'tessera-auth/core': join(PACKAGE_DIR, 'src/core.ts'),
        'tessera-auth': join(PACKAGE_DIR, 'src/index.ts'),
      },
    },
    build: { outDir: join(root, 'dist'), target: 'es2022', minify: false },
  });
  return join(root, 'dist');
}

function serveStatic(dir: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

beforeAll(async () => {
  fromNode = tokensFromNode();
  jwks = await serveJwks(fromNode);
  const dist = await buildPage(join(PACKAGE_DIR, 'test/runtimes/entry.ts'));
  site = await serveStatic(dist);
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  site?.close();
  jwks?.server.close();
});

describe('Chromium, the public entry bundled by Vite', () => {
  it('verifies node:crypto tokens, reads a JWKS with fetch, signs tokens Node verifies, TokenManager round trips', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(siteUrl);
      await page.waitForFunction(() => document.title === 'ready');
      const input: SuiteInput = { fromNode, jwksUrl: jwks.url };
      const output = (await page.evaluate(
        (value) =>
          (window as unknown as { runTesseraSuite: (i: unknown) => Promise<unknown> }).runTesseraSuite(value),
        input,
      )) as SuiteOutput;
      expect(output.backend).toBe('webcrypto');
      expect(failedChecks(output)).toEqual([]);
      expect(output.signed).toHaveLength(13);
      expect(verifyOnNode(output.signed)).toEqual([]);
      expect(managerProblems(output)).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});
