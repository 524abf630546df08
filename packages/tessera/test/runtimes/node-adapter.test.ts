/**
 * The node:http adapter on the other runtimes that have a `node:http`: Bun, Deno,
 * Node 22 and 24 serve the example program (examples/node/app.ts) and the test
 * walks it over HTTP, as examples/node/app.test.ts does on Node 20: login,
 * protected route, refresh with rotation, cookie login with CSRF, logout.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { walkThrough } from '../../../../examples/flow.js';
import { BIN, bundle, otherNodes, PACKAGE_DIR, spawnServer } from './harness.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill();
});

type Served = readonly [name: string, command: (file: string) => readonly [string, readonly string[]]];

const SERVED: readonly Served[] = [
  ['bun', (file) => [join(BIN, 'bun'), ['run', file]]],
  ['deno', (file) => [join(BIN, 'deno'), ['run', '--allow-net', '--allow-env', '--allow-read', file]]],
  ...otherNodes().map((node): Served => [`${node.name} (${node.version})`, (file) => [node.binary, [file]]]),
];

describe.each(SERVED)('%s', (_name, command) => {
  it('serves the node:http example, which walks login → refresh → cookies with CSRF → logout', async () => {
    const file = await bundle(join(PACKAGE_DIR, 'test/runtimes/node-adapter-serve.ts'), { platform: 'node' });
    const [bin, args] = command(file);
    const server = await spawnServer(bin, args);
    children.push(server.child);
    try {
      await walkThrough(server.url);
    } finally {
      server.child.kill();
    }
  }, 120_000);
});
