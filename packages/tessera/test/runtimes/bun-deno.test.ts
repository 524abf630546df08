/**
 * The runtime suite under Bun and Deno, from their npm packages: every algorithm
 * on each backend (node:crypto, which both provide, and Web Crypto) and on the
 * automatic choice, with tokens crossing to and from Node's node:crypto.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  bundle,
  failedChecks,
  managerProblems,
  PACKAGE_DIR,
  parseResult,
  run,
  serveJwks,
  tokensFromNode,
  verifyOnNode,
  writeRunner,
} from './harness.js';
import type { ForeignToken } from './suite.js';

let fromNode: ForeignToken[];
let jwks: { url: string; server: Server };
let bundlePath: string;

beforeAll(async () => {
  fromNode = tokensFromNode();
  jwks = await serveJwks(fromNode);
  bundlePath = await bundle(join(PACKAGE_DIR, 'test/runtimes/entry.ts'));
}, 60_000);

afterAll(() => {
  jwks?.server.close();
});

const RUNTIMES = {
  bun: (file: string) => run(join(BIN, 'bun'), ['run', file]),
  deno: (file: string) => run(join(BIN, 'deno'), ['run', '--allow-net', '--allow-read', '--allow-env', file]),
} as const;

// The automatic choice: node:crypto on Bun; Web Crypto on Deno, whose node:crypto is slower.
const AUTOMATIC = { bun: 'node', deno: 'webcrypto' } as const;

describe.each(Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[])('%s', (runtime) => {
  it.each([
    ['auto', AUTOMATIC[runtime]],
    ['webcrypto', 'webcrypto'],
    ['node', 'node'],
  ] as const)(
    'backend %s: every check passes, node:crypto verifies what it and its TokenManager signed',
    async (backend, expected) => {
      const runner = writeRunner(bundlePath, { fromNode, jwksUrl: jwks.url }, backend);
      const output = parseResult(await RUNTIMES[runtime](runner));
      expect(output.backend).toBe(expected);
      expect(failedChecks(output)).toEqual([]);
      expect(output.signed).toHaveLength(13);
      expect(verifyOnNode(output.signed)).toEqual([]);
      expect(managerProblems(output)).toEqual([]);
    },
    180_000,
  );
});
