/**
 * `node --import tsx bench/runtimes.ts [--algs HS256,ES256|all] [--rounds N] [--slice MS] [--runtimes node,bun,deno,workerd]`
 *
 * Verify throughput per algorithm on every runtime, Tessera beside jose on the
 * same runtime and in the same process: Node, Bun and Deno on each backend
 * (node:crypto, chosen automatically there, and Web Crypto forced), and workerd
 * (miniflare; Web Crypto). The workload (bench/runtimes-workload.ts) and the
 * library source are bundled by esbuild into one plain JavaScript file that every
 * runtime runs as is. Prints a markdown table.
 *
 * In workerd the clock stands still while a request computes (a Spectre
 * mitigation), so there each measurement is a request running a fixed number of
 * verifications, timed from Node; the request's own overhead is included, which
 * slightly favours neither contender.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '../node_modules/.bin');

const ALL = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const DEFAULT_ALGS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

interface Row {
  readonly runtime: string;
  readonly backend: string;
  readonly alg: string;
  readonly tessera: number;
  readonly jose: number;
}

async function bundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export * as lib from 'tessera-auth/core';
export * as jose from 'jose';
export { measure, prepare, runOps } from ${JSON.stringify(join(here, 'runtimes-workload.ts'))};
`,
  );
  const outfile = join(dir, 'bundle.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['node:*'],
    conditions: ['tessera-source'],
    mainFields: ['module', 'main'],
    nodePaths: [join(here, '../node_modules')],
    logLevel: 'error',
  });
  return outfile;
}

function runner(
  bundlePath: string,
  backend: string,
  algs: string[],
  rounds: number,
  sliceMs: number,
): string {
  const file = join(dirname(bundlePath), `run-${backend}.mjs`);
  writeFileSync(
    file,
    `import { lib, jose, measure } from ${JSON.stringify(bundlePath)};
lib.setCryptoBackend(${JSON.stringify(backend)});
const results = await measure(lib, jose, ${JSON.stringify(algs)}, { rounds: ${rounds}, sliceMs: ${sliceMs} });
console.log('RESULT ' + JSON.stringify({ backend: lib.cryptoBackend(), results }));
`,
  );
  return file;
}

function exec(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 900_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function inProcessRuntime(
  runtime: string,
  command: (file: string) => [string, string[]],
  bundlePath: string,
  algs: string[],
  rounds: number,
  sliceMs: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  // Both backends explicitly: the automatic choice differs by runtime (docs/runtimes.md).
  for (const backend of ['node', 'webcrypto']) {
    const [bin, args] = command(runner(bundlePath, backend, algs, rounds, sliceMs));
    const stdout = await exec(bin, args);
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (line === undefined) throw new Error(`${runtime}: no result\n${stdout}`);
    const parsed = JSON.parse(line.slice(7)) as {
      backend: string;
      results: Array<{ alg: string; tessera: number; jose: number }>;
    };
    for (const r of parsed.results) rows.push({ runtime, backend: parsed.backend, ...r });
    process.stderr.write(`${runtime} (${parsed.backend}) done\n`);
  }
  return rows;
}

async function workerd(bundlePath: string, algs: string[], rounds: number): Promise<Row[]> {
  const worker = `import { lib, jose, prepare, runOps } from './bundle.mjs';
const prepared = new Map();
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const alg = url.searchParams.get('alg');
    if (!prepared.has(alg)) prepared.set(alg, await prepare(lib, jose, alg));
    const n = Number(url.searchParams.get('n'));
    const contender = url.searchParams.get('c');
    if (n > 0) await runOps(prepared.get(alg)[contender], n);
    return new Response(lib.cryptoBackend());
  },
};
`;
  const mf = new Miniflare({
    modules: [
      { type: 'ESModule', path: join(dirname(bundlePath), 'worker.mjs'), contents: worker },
      { type: 'ESModule', path: bundlePath, contents: readFileSync(bundlePath, 'utf8') },
    ],
    modulesRoot: dirname(bundlePath),
    compatibilityDate: '2025-09-01',
    compatibilityFlags: ['nodejs_compat'],
  });
  const rows: Row[] = [];
  try {
    for (const alg of algs) {
      const call = async (contender: string, n: number): Promise<number> => {
        const start = performance.now();
        const response = await mf.dispatchFetch(`http://bench.test/?alg=${alg}&c=${contender}&n=${n}`);
        await response.text();
        return performance.now() - start;
      };
      await call('tessera', 0);
      // Size each request to about 200 ms of Tessera's work.
      const probe = await call('tessera', 100);
      const n = Math.max(100, Math.round((100 * 200) / Math.max(1, probe)));
      const samples: Record<string, number[]> = { tessera: [], jose: [] };
      const empty = Math.min(await call('tessera', 0), await call('jose', 0));
      for (let round = 0; round < rounds; round++) {
        for (const contender of ['tessera', 'jose']) {
          samples[contender]?.push((n * 1000) / Math.max(0.001, (await call(contender, n)) - empty));
        }
      }
      rows.push({
        runtime: 'workerd',
        backend: 'webcrypto',
        alg,
        tessera: median(samples.tessera ?? []),
        jose: median(samples.jose ?? []),
      });
    }
  } finally {
    await mf.dispose();
  }
  process.stderr.write('workerd done\n');
  return rows;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function version(bin: string, args: string[]): string {
  try {
    return execFileSync(bin, args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '?';
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      algs: { type: 'string' },
      rounds: { type: 'string' },
      slice: { type: 'string' },
      runtimes: { type: 'string' },
    },
  });
  const algs = values.algs === 'all' ? ALL : (values.algs?.split(',') ?? DEFAULT_ALGS);
  const rounds = Number(values.rounds ?? 5);
  const sliceMs = Number(values.slice ?? 200);
  const runtimes = values.runtimes?.split(',') ?? ['node', 'bun', 'deno', 'workerd'];
  const bundlePath = await bundle();
  const rows: Row[] = [];
  if (runtimes.includes('node')) {
    rows.push(
      ...(await inProcessRuntime('node', (f) => [process.execPath, [f]], bundlePath, algs, rounds, sliceMs)),
    );
  }
  if (runtimes.includes('bun')) {
    rows.push(
      ...(await inProcessRuntime(
        'bun',
        (f) => [join(BIN, 'bun'), ['run', f]],
        bundlePath,
        algs,
        rounds,
        sliceMs,
      )),
    );
  }
  if (runtimes.includes('deno')) {
    rows.push(
      ...(await inProcessRuntime(
        'deno',
        (f) => [join(BIN, 'deno'), ['run', '--allow-all', f]],
        bundlePath,
        algs,
        rounds,
        sliceMs,
      )),
    );
  }
  if (runtimes.includes('workerd')) rows.push(...(await workerd(bundlePath, algs, rounds)));

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a checkout
  }
  const lines = [
    `Commit ${commit}; node ${process.version}, ${version(join(BIN, 'bun'), ['--version'])} (bun), ${version(join(BIN, 'deno'), ['--version'])}, miniflare/workerd; ${rounds} rounds of ${sliceMs} ms, median ops/s.`,
    '',
    '| runtime | backend | alg | Tessera verify/s | jose verify/s | Tessera / jose |',
    '|---|---|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.runtime} | ${r.backend} | ${r.alg} | ${Math.round(r.tessera).toLocaleString('en-US')} | ${Math.round(r.jose).toLocaleString('en-US')} | ${(r.tessera / r.jose).toFixed(2)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
