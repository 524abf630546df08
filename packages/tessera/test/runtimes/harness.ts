/**
 * The Node side of the runtime tests: tokens and keys made with node:crypto for
 * the other runtime to verify, a real JWKS endpoint, the check that what the
 * other runtime signed verifies here, and the other runtimes' processes (the
 * bundling and running itself is in bundling.ts, shared with bench/runtimes.ts).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportJwk,
  exportPem,
  generateKey,
  importJwk,
  importPem,
  type Jwk,
  setCryptoBackend,
  toJwks,
} from 'tessera-auth';
import { decodeJws, signJws, verifyJws } from 'tessera-auth/core';
import { describe, it } from 'vitest';
import { resultLine } from './bundling.js';
import { installedNode, NODE_VERSIONS, type NodeMajor } from './node-versions.js';
import {
  ALL_ALGORITHMS,
  type ForeignToken,
  MANAGER_ALGORITHMS,
  managerCheckName,
  type SuiteOutput,
} from './suite.js';

export { BIN, bundle, PACKAGE_DIR, REPO_DIR, run } from './bundling.js';

const NODE_CLAIMS = { sub: 'node-user', iat: 1_700_000_000, exp: 4_000_000_000 };

/** One token per algorithm, signed by the node:crypto backend, with every encoding of its key. */
export function tokensFromNode(): ForeignToken[] {
  setCryptoBackend('node');
  try {
    return ALL_ALGORITHMS.map((alg) => {
      const key = generateKey(alg, { kid: `node-${alg}` });
      const token = signJws({ typ: 'JWT', kid: key.kid }, NODE_CLAIMS, key.signing!);
      if (key.type === 'secret') return { alg, token, jwk: exportJwk(key, { private: true }) };
      const morePems: Record<string, string> = {};
      if (alg.startsWith('RS') || alg.startsWith('PS')) {
        morePems['PKCS#1 public'] = toPkcs1(exportJwk(key));
      }
      return { alg, token, jwk: exportJwk(key), pem: exportPem(key), morePems };
    });
  } finally {
    setCryptoBackend('auto');
  }
}

/** The same public key as PKCS#1 PEM, written by node:crypto. */
function toPkcs1(jwk: Jwk): string {
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    .export({ format: 'pem', type: 'pkcs1' })
    .toString();
}

/** Verify with node:crypto every token another runtime signed; the list of failures (empty when all pass). */
export function verifyOnNode(signed: readonly ForeignToken[]): string[] {
  setCryptoBackend('node');
  const failures: string[] = [];
  try {
    for (const item of signed) {
      try {
        const key = importJwk(item.jwk, { alg: item.alg });
        if (!verifyJws(decodeJws(item.token), key.verifying))
          failures.push(`${item.alg}: JWK does not verify`);
        if (
          item.pem !== undefined &&
          !verifyJws(decodeJws(item.token), importPem(item.pem, item.alg).verifying)
        ) {
          failures.push(`${item.alg}: PEM does not verify`);
        }
      } catch (error) {
        failures.push(`${item.alg}: ${(error as Error).message}`);
      }
    }
  } finally {
    setCryptoBackend('auto');
  }
  return failures;
}

/** Serve the public keys of `tokens` as a JWKS on 127.0.0.1 (CORS open, for the browser). */
export async function serveJwks(tokens: readonly ForeignToken[]): Promise<{ url: string; server: Server }> {
  setCryptoBackend('node');
  let body: string;
  try {
    const keys = tokens
      .filter((t) => t.pem !== undefined)
      .map((t) => importJwk({ ...t.jwk, kid: `node-${t.alg}` }, { alg: t.alg }));
    body = JSON.stringify(toJwks(keys));
  } finally {
    setCryptoBackend('auto');
  }
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    response.end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, server };
}

/**
 * What is wrong with the TokenManager round trips of a suite run on the public
 * entry (empty when all is well): each algorithm's check must have run and
 * passed, and node:crypto must verify every access token the manager created.
 */
export function managerProblems(output: SuiteOutput): string[] {
  const problems: string[] = [];
  for (const alg of MANAGER_ALGORITHMS) {
    const ran = output.checks.find((c) => c.name === managerCheckName(alg));
    if (ran === undefined) problems.push(`${alg}: the TokenManager check did not run`);
    else if (!ran.ok) problems.push(`${alg}: ${ran.detail ?? 'failed'}`);
  }
  const created = output.managed.map((m) => m.alg).join(',');
  if (created !== MANAGER_ALGORITHMS.join(',')) problems.push(`manager tokens created for ${created}`);
  problems.push(...verifyOnNode(output.managed).map((f) => `node:crypto on a manager token: ${f}`));
  return problems;
}

/** The failed checks of a suite run, as readable lines. */
export function failedChecks(output: SuiteOutput, allowed: readonly RegExp[] = []): string[] {
  return output.checks
    .filter((c) => !c.ok && !allowed.some((pattern) => pattern.test(c.name)))
    .map((c) => `${c.name}: ${c.detail ?? ''}`);
}

/** Write `input` as a module next to nothing else, for an entry to import. */
export function writeJson(value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-input-'));
  const file = join(dir, 'input.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/**
 * A module that runs the bundled suite with `input` inlined and prints one
 * `RESULT {json}` line: the same file runs under Bun and Deno.
 */
export function writeRunner(
  bundlePath: string,
  input: unknown,
  backend: 'auto' | 'webcrypto' | 'node',
): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-runner-'));
  const file = join(dir, 'run.mjs');
  writeFileSync(
    file,
    `import { lib, runSuite } from ${JSON.stringify(bundlePath)};
lib.setCryptoBackend(${JSON.stringify(backend)});
const output = await runSuite(lib, ${JSON.stringify(input)});
console.log('RESULT ' + JSON.stringify(output));
`,
  );
  return file;
}

/** The suite output from a runner's stdout. */
export function parseResult(stdout: string): SuiteOutput {
  return resultLine<SuiteOutput>(stdout);
}

/** A pinned Node other than the one running the tests. */
export interface OtherNode {
  /** `node 22`, `node 24`. */
  readonly name: string;
  readonly version: string;
  readonly binary: string;
}

/**
 * The pinned Node 22 and 24 binaries (node-versions.ts) that are present. A
 * missing one registers a failing test under CI (a runtime silently left out
 * would prove nothing) and is skipped with a printed reason otherwise.
 */
export function otherNodes(): OtherNode[] {
  const present: OtherNode[] = [];
  for (const major of Object.keys(NODE_VERSIONS).map(Number) as NodeMajor[]) {
    const version = NODE_VERSIONS[major];
    const binary = installedNode(major);
    if (binary !== undefined) {
      present.push({ name: `node ${major}`, version, binary });
      continue;
    }
    const reason = `Node ${version} is not in .cache/node/ (fetch it with \`node --import tsx packages/tessera/test/runtimes/node-versions.ts\`, as .ci/run does)`;
    if (process.env.CI) {
      describe(`node ${major}`, () => {
        it('is installed (required under CI)', () => {
          throw new Error(reason);
        });
      });
    } else {
      console.warn(`[runtimes] skipping Node ${major}: ${reason}; set CI=1 to fail instead`);
    }
  }
  return present;
}

/** A server another runtime runs for a test. */
export interface SpawnedServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** What it printed so far (stdout and stderr), for failure messages. */
  output(): string;
}

/**
 * Spawn `command` (a serve-here.ts bundle under some runtime) and resolve once it
 * prints `LISTENING <port>`; reject with its output if it exits first or stays
 * silent for `timeoutMs`.
 */
export function spawnServer(
  command: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<SpawnedServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let listening = false;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no LISTENING line within ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /LISTENING (\d+)/.exec(output);
      if (match !== null && !listening) {
        listening = true;
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${match[1]}`, child, output: () => output });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`exited with ${code}: ${output}`));
    });
  });
}
