/**
 * Runs tsc over types.test-d.ts with the repo's compiler settings, so that the
 * type-level checks run with the package tests (and not only in `npm run
 * typecheck`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const checked = fileURLToPath(new URL('./types.test-d.ts', import.meta.url));

it('types.test-d.ts type-checks: the typing holds, and every DESIGN line is still an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-types-'));
  try {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.base.json'),
        compilerOptions: {
          noEmit: true,
          lib: ['ES2023', 'DOM'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: [checked, join(root, 'packages/tessera/test/adapters/express4.d.ts')],
      }),
    );
    let output = '';
    try {
      await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      output = (error as { stdout?: string }).stdout ?? String(error);
    }
    // Errors inside the library's sources belong to the typecheck of those files;
    // errors without a file (a configuration error) are this test's.
    const ours = output
      .split(/\n(?=\S)/)
      .filter(
        (block) =>
          block.trim() !== '' && (block.includes('types.test-d.ts') || !/^\S+\(\d+,\d+\)/.test(block)),
      );
    expect(ours, ours.join('\n')).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
