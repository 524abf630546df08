/**
 * `npm run bench [-- --only tokens|http|stores|service] [--quick] [--rounds N] [--slice MS] [--http-rounds N]
 *   [--duration S] [--frameworks fastify,express,hono,koa,node:http] [--stores memory,sqlite,postgres,redis,redis-cache]
 *   [--refresh-rounds N] [--refresh-slice MS] [--no-write] [--databases sqlite,postgres] [--soak [--soak-minutes N]]`
 *
 * `--quick`: few rounds and short runs (every code path, figures not worth
 * recording); explicit options still win. Results are not written with --quick.
 *
 * Runs the token micro-benchmarks and the HTTP benchmarks, prints markdown
 * tables, and writes the results as JSON under bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hasGc } from './harness.js';
import { FRAMEWORKS, renderHttp, runHttp } from './http.js';
import type { Framework } from './http-server.js';
import { runServiceBench } from './service-run.js';
import { renderStores, runStores } from './stores.js';
import { STORE_NAMES, type StoreName } from './stores-spec.js';
import { renderTokens, runTokens } from './tokens.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface MachineInfo {
  readonly date: string;
  readonly nproc: number;
  readonly cpu: string;
  readonly node: string;
  readonly platform: string;
  readonly note: string;
  /** The commit measured, and whether packages/tessera/src had uncommitted changes. */
  readonly commit: string;
}

function machine(): MachineInfo {
  let cpu = 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line !== undefined) cpu = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: leave unknown
  }
  let nproc = availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // nproc missing: keep Node's answer
  }
  let commit = 'unknown';
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/tessera/src'], {
      encoding: 'utf8',
    }).trim();
    commit = dirty === '' ? head : `${head} + uncommitted changes in packages/tessera/src`;
  } catch {
    // not a git checkout
  }
  return {
    commit,
    date: new Date().toISOString(),
    nproc,
    cpu,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    note: 'shared machine: other engineers run tests on the same cores at the same time',
  };
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

function storeList(value: string): StoreName[] {
  const names = value.split(',').map((name) => {
    const found = STORE_NAMES.find((s) => s === name.trim());
    if (found === undefined) throw new Error(`--stores: unknown ${name}; use ${STORE_NAMES.join(',')}`);
    return found;
  });
  // The route without a store is what every other is compared with.
  return names.includes('none') ? names : ['none', ...names];
}

function frameworkList(value: string): Framework[] {
  return value.split(',').map((name) => {
    const found = FRAMEWORKS.find((f) => f === name.trim());
    if (found === undefined) throw new Error(`--frameworks: unknown ${name}; use ${FRAMEWORKS.join(',')}`);
    return found;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      rounds: { type: 'string' },
      slice: { type: 'string' },
      'http-rounds': { type: 'string' },
      duration: { type: 'string' },
      frameworks: { type: 'string' },
      'no-write': { type: 'boolean' },
      soak: { type: 'boolean' },
      'soak-minutes': { type: 'string' },
      databases: { type: 'string' },
      quick: { type: 'boolean' },
      stores: { type: 'string' },
      'refresh-rounds': { type: 'string' },
      'refresh-slice': { type: 'string' },
    },
  });
  const quick = values.quick === true;
  // --quick never overwrites the recorded results.
  const write = !values['no-write'] && !quick;
  const only = values.only;
  if (only !== undefined && only !== 'tokens' && only !== 'http' && only !== 'stores' && only !== 'service') {
    throw new Error('--only must be tokens, http, stores or service');
  }
  const info = machine();
  // Date and commit: a second run on the same day, at another commit, keeps the first one's file.
  const stamp = `${info.date.slice(0, 10)}-${info.commit.split(' ')[0]}`;
  const resultsDir = join(here, 'results');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`machine: ${info.nproc} cores, ${info.cpu}, node ${info.node}; gc between slices: ${hasGc}`);
  const out: string[] = [
    `Machine: ${info.nproc} cores (${info.cpu}), Node ${info.node}, ${info.platform}, ${info.date}, commit ${info.commit}. ${info.note}.`,
  ];

  if (only === undefined || only === 'tokens') {
    const report = await runTokens(
      {
        rounds: positive(values.rounds, 'rounds', quick ? 2 : 15),
        sliceMs: positive(values.slice, 'slice', quick ? 20 : 100),
        warmupRounds: 1,
      },
      log,
    );
    out.push(`## Tokens (${report.seconds.toFixed(0)} s)\n\n${renderTokens(report)}`);
    if (write) {
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, `tokens-${stamp}.json`);
      writeFileSync(file, `${JSON.stringify({ machine: info, ...report }, null, 2)}\n`);
      log(`wrote ${file}`);
    }
  }

  if (only === undefined || only === 'http') {
    const report = await runHttp(
      {
        rounds: positive(values['http-rounds'], 'http-rounds', quick ? 1 : 3),
        durationSeconds: positive(values.duration, 'duration', quick ? 1 : 2),
        ...(values.frameworks === undefined ? {} : { frameworks: frameworkList(values.frameworks) }),
      },
      log,
    );
    out.push(`## HTTP (${report.seconds.toFixed(0)} s)\n\n${renderHttp(report)}`);
    if (write) {
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, `http-${stamp}.json`);
      writeFileSync(file, `${JSON.stringify({ machine: info, ...report }, null, 2)}\n`);
      log(`wrote ${file}`);
    }
  }
  if (only === undefined || only === 'stores') {
    const report = await runStores(
      {
        // Routes of near-equal cost: more rounds than the HTTP part to see a 5% difference.
        rounds: positive(values['http-rounds'], 'http-rounds', quick ? 1 : 7),
        durationSeconds: positive(values.duration, 'duration', quick ? 1 : 2),
        refreshRounds: positive(values['refresh-rounds'], 'refresh-rounds', quick ? 1 : 5),
        refreshSliceMs: positive(values['refresh-slice'], 'refresh-slice', quick ? 200 : 1000),
        ...(values.stores === undefined ? {} : { stores: storeList(values.stores) }),
        ...(quick ? { tokens: 20, seed: 50 } : {}),
      },
      log,
    );
    out.push(renderStores(report));
    if (write) {
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, `stores-${stamp}.json`);
      writeFileSync(file, `${JSON.stringify({ machine: info, ...report }, null, 2)}\n`);
      log(`wrote ${file}`);
    }
  }
  // The service against better-auth runs only when asked for (--only service [--soak]): minutes long.
  if (only === 'service') out.push(await runServiceBench(values, resultsDir, stamp, info, log));
  process.stdout.write(`${out.join('\n\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
