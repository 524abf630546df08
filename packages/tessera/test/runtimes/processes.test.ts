/**
 * The runtime suite in a child process of another runtime: Bun and Deno (from
 * their npm packages) and the pinned Node 22 and 24 (node-versions.ts). Every
 * algorithm on each backend (node:crypto, which all of them provide, and Web
 * Crypto) and on the automatic choice, with tokens crossing to and from the
 * node:crypto of the Node running the tests.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  bundle,
  failedChecks,
  managerProblems,
  otherNodes,
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

interface Runtime {
  readonly name: string;
  readonly run: (file: string) => Promise<string>;
  /** The automatic choice: node:crypto on Node and Bun; Web Crypto on Deno, whose node:crypto is slower. */
  readonly automatic: 'node' | 'webcrypto';
}

const RUNTIMES: Runtime[] = [
  { name: 'bun', run: (file) => run(join(BIN, 'bun'), ['run', file]), automatic: 'node' },
  {
    name: 'deno',
    run: (file) => run(join(BIN, 'deno'), ['run', '--allow-net', '--allow-read', '--allow-env', file]),
    automatic: 'webcrypto',
  },
  ...otherNodes().map(
    (node): Runtime => ({
      name: `${node.name} (${node.version})`,
      run: (file) => run(node.binary, [file]),
      automatic: 'node',
    }),
  ),
];

describe.each(RUNTIMES.map((runtime) => [runtime.name, runtime] as const))('%s', (_name, runtime) => {
  it.each([
    ['auto', runtime.automatic],
    ['webcrypto', 'webcrypto'],
    ['node', 'node'],
  ] as const)(
    'backend %s: every check passes, node:crypto verifies what it and its TokenManager signed',
    async (backend, expected) => {
      const runner = writeRunner(bundlePath, { fromNode, jwksUrl: jwks.url }, backend);
      const output = parseResult(await runtime.run(runner));
      expect(output.backend).toBe(expected);
      expect(failedChecks(output)).toEqual([]);
      expect(output.signed).toHaveLength(13);
      expect(verifyOnNode(output.signed)).toEqual([]);
      expect(managerProblems(output)).toEqual([]);
    },
    180_000,
  );
});
