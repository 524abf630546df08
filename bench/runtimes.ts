/**
 * `node --import tsx bench/runtimes.ts [--algs HS256,ES256|all] [--rounds N] [--slice MS] [--runtimes node,bun,deno,workerd,node22,node24]`
 *
 * Verify throughput per algorithm on every runtime, Tessera beside jose on the
 * same runtime and in the same process: Node, Bun and Deno on each backend
 * (node:crypto, chosen automatically there, and Web Crypto forced), and workerd
 * (miniflare; Web Crypto). The workload (bench/runtimes-workload.ts) and the
 * library source are bundled by esbuild into one plain JavaScript file that every
 * runtime runs as is (test/runtimes/bundling.ts, as the runtime tests do). Node 22
 * and 24 are the pinned binaries of test/runtimes/node-versions.ts, when fetched.
 * Prints a markdown table.
 *
 * In workerd the clock stands still while a request computes (a Spectre
 * mitigation), so there each measurement is a request running a fixed number of
 * verifications, timed from Node; the request's own overhead is included, which
 * slightly favours neither contender.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import { BIN, bundle, resultLine, run } from '../packages/tessera/test/runtimes/bundling.js';
import { installedNode } from '../packages/tessera/test/runtimes/node-versions.js';
import { ALL_ALGORITHMS } from '../packages/tessera/test/runtimes/suite.js';
import type { Measured } from './runtimes-workload.js';

const here = dirname(fileURLToPath(import.meta.url));

const DEFAULT_ALGS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

interface Row extends Measured {
  readonly runtime: string;
  readonly backend: string;
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
    const parsed = resultLine<{ backend: string; results: Measured[] }>(await run(bin, args, 900_000));
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
      const ratios: number[] = [];
      const empty = Math.min(await call('tessera', 0), await call('jose', 0));
      for (let round = 0; round < rounds; round++) {
        const speed: Record<string, number> = {};
        for (const contender of round % 2 === 0 ? ['tessera', 'jose'] : ['jose', 'tessera']) {
          speed[contender] = (n * 1000) / Math.max(0.001, (await call(contender, n)) - empty);
          samples[contender]?.push(speed[contender]);
        }
        ratios.push((speed.tessera ?? 0) / (speed.jose ?? 1));
      }
      rows.push({
        runtime: 'workerd',
        backend: 'webcrypto',
        alg,
        tessera: median(samples.tessera ?? []),
        jose: median(samples.jose ?? []),
        ratio: median(ratios),
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
  const algs = values.algs === 'all' ? [...ALL_ALGORITHMS] : (values.algs?.split(',') ?? DEFAULT_ALGS);
  const rounds = Number(values.rounds ?? 9);
  const sliceMs = Number(values.slice ?? 100);
  const runtimes = values.runtimes?.split(',') ?? ['node', 'bun', 'deno', 'workerd'];
  const bundlePath = await bundle(join(here, 'runtimes-entry.ts'));
  const commands: Record<string, (file: string) => [string, string[]]> = {
    node: (f) => [process.execPath, [f]],
    bun: (f) => [join(BIN, 'bun'), ['run', f]],
    deno: (f) => [join(BIN, 'deno'), ['run', '--allow-all', f]],
  };
  for (const major of [22, 24] as const) {
    const binary = installedNode(major);
    if (binary !== undefined) commands[`node${major}`] = (f) => [binary, [f]];
    else if (runtimes.includes(`node${major}`))
      throw new Error(
        `node${major}: fetch it first (node --import tsx packages/tessera/test/runtimes/node-versions.ts)`,
      );
  }
  const rows: Row[] = [];
  for (const runtime of runtimes) {
    if (runtime === 'workerd') rows.push(...(await workerd(bundlePath, algs, rounds)));
    else if (commands[runtime] !== undefined)
      rows.push(...(await inProcessRuntime(runtime, commands[runtime], bundlePath, algs, rounds, sliceMs)));
    else throw new Error(`unknown runtime ${runtime}`);
  }

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a checkout
  }
  const lines = [
    `Commit ${commit}; node ${process.version}, ${version(join(BIN, 'bun'), ['--version'])} (bun), ${version(join(BIN, 'deno'), ['--version'])}, miniflare/workerd; ${rounds} rounds of one ${sliceMs} ms slice per contender, in alternating order; median ops/s and median of the per-round ratios. CPU: the process's CPU time per verification (all threads), median. Around the call: µs per verification outside crypto.subtle.verify (Web Crypto only; the primitive answering at once), fastest round.`,
    '',
    '| runtime | backend | alg | Tessera verify/s | jose verify/s | Tessera / jose | CPU per verify, Tessera / jose (µs) | around the call, Tessera / jose (µs) |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.runtime} | ${r.backend} | ${r.alg} | ${Math.round(r.tessera).toLocaleString('en-US')} | ${Math.round(r.jose).toLocaleString('en-US')} | ${r.ratio.toFixed(2)} | ${r.cpu === undefined ? '' : `${r.cpu.tessera.toFixed(1)} / ${r.cpu.jose.toFixed(1)}`} | ${r.around === undefined ? '' : `${r.around.tessera.toFixed(1)} / ${r.around.jose.toFixed(1)}`} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
