/**
 * The runtime suite in workerd (Cloudflare Workers' runtime, through
 * miniflare's API), with and without nodejs_compat. The backend there is Web
 * Crypto either way: workerd's node:crypto lacks parts Tessera needs.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundle,
  failedChecks,
  managerProblems,
  PACKAGE_DIR,
  serveJwks,
  tokensFromNode,
  verifyOnNode,
} from './harness.js';
import type { ForeignToken, SuiteOutput } from './suite.js';

let fromNode: ForeignToken[];
let jwks: { url: string; server: Server };

beforeAll(async () => {
  fromNode = tokensFromNode();
  jwks = await serveJwks(fromNode);
}, 60_000);

afterAll(() => {
  jwks?.server.close();
});

/** Start a Worker from `entry` (bundled), POST the suite input, return its answer. */
async function runInWorkerd(entry: string, flags: string[]): Promise<SuiteOutput> {
  const script = readFileSync(await bundle(join(PACKAGE_DIR, 'test/runtimes', entry)), 'utf8');
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-09-01',
    compatibilityFlags: flags,
  });
  try {
    const response = await mf.dispatchFetch('http://worker.test/', {
      method: 'POST',
      body: JSON.stringify({ input: { fromNode, jwksUrl: jwks.url }, backend: 'auto' }),
    });
    const text = await response.text();
    if (response.status !== 200)
      throw new Error(`worker answered ${response.status}: ${text.slice(0, 2000)}`);
    return JSON.parse(text) as SuiteOutput;
  } finally {
    await mf.dispose();
  }
}

describe('workerd', () => {
  it('with nodejs_compat: the public entry loads, every check passes on Web Crypto', async () => {
    const output = await runInWorkerd('worker.ts', ['nodejs_compat']);
    expect(output.backend).toBe('webcrypto');
    expect(failedChecks(output)).toEqual([]);
    expect(output.signed).toHaveLength(13);
    expect(verifyOnNode(output.signed)).toEqual([]);
    expect(managerProblems(output)).toEqual([]);
  }, 120_000);

  it('without nodejs_compat: the core loads, every check passes on Web Crypto', async () => {
    const output = await runInWorkerd('worker-core.ts', []);
    expect(output.backend).toBe('webcrypto');
    expect(failedChecks(output)).toEqual([]);
    expect(verifyOnNode(output.signed)).toEqual([]);
  }, 120_000);
});

describe('workerd without nodejs_compat, the public entry', () => {
  // The bundle keeps node:* external, so a static node: import anywhere under the
  // root entry would make the Worker fail to load here.
  it('loads, every check passes, TokenManager creates and verifies tokens', async () => {
    const output = await runInWorkerd('worker.ts', []);
    expect(output.backend).toBe('webcrypto');
    expect(failedChecks(output)).toEqual([]);
    expect(output.signed).toHaveLength(13);
    expect(verifyOnNode(output.signed)).toEqual([]);
    expect(managerProblems(output)).toEqual([]);
  }, 120_000);
});
