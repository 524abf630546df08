#!/usr/bin/env node
// The `tessera` command. This small entry is committed (dist/ is not), so npm links it
// into node_modules/.bin at install time, before anything has been built; the CLI itself
// is the compiled dist/cli/main.js, built here on first use when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  const project = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write('tessera: building the CLI once (tsc -b packages/server)...\n');
  const tsc = spawnSync(process.execPath, [tscPath(), '-b', project], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (tsc.status !== 0 || !existsSync(main)) {
    process.stderr.write('tessera: the build failed; run `npx tsc -b packages/server` to see why\n');
    process.exit(2);
  }
}
await import(main.href);

function tscPath() {
  return fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
}
