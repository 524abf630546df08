/**
 * Running the library on other runtimes: esbuild bundles an entry file with the
 * library source into one ES module for runtimes that run JavaScript only, a
 * child process runs it, and its answer comes back as one `RESULT {json}` line.
 * Shared by the runtime tests (harness.ts) and bench/runtimes.ts; it imports
 * neither the library nor the test framework.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = resolve(here, '../..');
export const REPO_DIR = resolve(PACKAGE_DIR, '../..');
export const BIN = join(REPO_DIR, 'node_modules/.bin');

/**
 * Bundle `entry` (with the library source: `tessera-auth` and its subpaths resolve
 * through the package's exports map, `tessera-source` condition) into
 * one ES module file for a runtime that runs JavaScript only. `node:*` stays
 * external: a runtime without them fails to load, as a user's bundle would.
 */
export async function bundle(
  entry: string,
  options: {
    /** `node`: Node's built-in modules (bare `events`, `net`, ...) stay external too. */
    platform?: 'neutral' | 'browser' | 'node';
    /** Code put first in the bundle. */
    banner?: string;
    /**
     * Packages left for the runtime to load from node_modules, as an application
     * installed with npm would (the bundle is then written under the repository's
     * node_modules/.cache, where module resolution finds them).
     */
    external?: readonly string[];
  } = {},
): Promise<string> {
  const external = options.external ?? [];
  const parent = external.length === 0 ? tmpdir() : join(REPO_DIR, 'node_modules/.cache/tessera-runtimes');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'tessera-runtime-'));
  const outfile = join(dir, 'bundle.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: options.platform ?? 'neutral',
    target: 'es2022',
    external: ['node:*', ...external],
    conditions: ['tessera-source'],
    mainFields: ['module', 'main'],
    ...(options.banner === undefined ? {} : { banner: { js: options.banner } }),
    logLevel: 'error',
  });
  return outfile;
}

/** Run a command, resolve with stdout; reject with stderr on a non-zero exit. */
export function run(command: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((done, fail) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else done(stdout);
    });
  });
}

/** The JSON of the `RESULT ` line a runner printed. */
export function resultLine<T>(stdout: string): T {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`no RESULT line in output:\n${stdout.slice(0, 2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}
