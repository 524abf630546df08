/**
 * CPU profile of one Tessera hot path, reported by function and by source line
 * (mapped back to the TypeScript through tsx's source maps):
 *
 *   node --enable-source-maps --import tsx bench/profile.ts <workload> <alg> [seconds]
 *
 * workload: verify (verifySync, no cache), cache (verifySync, cache hits),
 * guard (createGuard over a RequestLike: the bare node:http path), sign (signJws),
 * floor (the decoding floor of tokens.ts, for comparison).
 * The raw profile is written to bench/results/profile-<workload>-<alg>.cpuprofile.
 *
 * tsx emits each module on one line, which leaves a profile without line
 * information; so the library is first transpiled, file by file and line for
 * line, to a temporary directory (with inline source maps) and profiled from there.
 */
import { createHmac, verify as rawVerify, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { RequestLike } from '../packages/tessera/src/index.js';
import { type BenchAlgorithm, makeKeys, POOL_SIZE, TOKEN_ALGORITHMS } from './tokens.js';

type Tessera = typeof import('../packages/tessera/src/index.js');

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

const srcRoot = join(root, 'packages/tessera/src');

/** Transpile packages/tessera/src to plain ESM with inline source maps; returns index.js's URL. */
const plainCopy = join(tmpdir(), `tessera-profile-${process.pid}`);

function buildPlainCopy(): string {
  const out = plainCopy;
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const result = ts.transpileModule(readFileSync(path, 'utf8'), {
          fileName: path,
          compilerOptions: {
            module: ts.ModuleKind.ESNext,
            target: ts.ScriptTarget.ES2022,
            inlineSourceMap: true,
            inlineSources: false,
          },
        });
        const target = join(out, relative(srcRoot, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, result.outputText);
      }
    }
  };
  visit(srcRoot);
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return pathToFileURL(join(out, 'index.js')).href;
}

const generatedLines = new Map<string, string[]>();

/** The first non-blank column of a generated line (a position the source map covers). */
function firstColumn(url: string, line: number): number {
  let lines = generatedLines.get(url);
  if (lines === undefined) {
    lines = url.startsWith('file:') ? readFileSync(fileURLToPath(url), 'utf8').split('\n') : [];
    generatedLines.set(url, lines);
  }
  const text = lines[line] ?? '';
  return text.length - text.trimStart().length;
}

/** Map a generated position (0-based line and column) to `file:line` of the source. */
function place(url: string, line: number, column: number): string {
  if (url === '') return '(native)';
  const map = url.startsWith('file:') ? findSourceMap(url) : undefined;
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  let out = `${relative(root, path.replace(plainCopy, srcRoot))}:${line + 1}`;
  if (map !== undefined) {
    const entry: unknown = map.findEntry(line, column);
    if (typeof entry === 'object' && entry !== null && 'originalLine' in entry && 'originalSource' in entry) {
      const e = entry as { originalLine: number; originalSource: string };
      const source = (
        e.originalSource.startsWith('file:') ? fileURLToPath(e.originalSource) : e.originalSource
      ).replace(plainCopy, srcRoot);
      out = `${relative(root, source)}:${e.originalLine + 1}`;
    }
  }
  return out;
}

function report(profile: CpuProfile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totalSamples = profile.samples?.length ?? profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const pct = (ticks: number) => `${((100 * ticks) / totalSamples).toFixed(1)}%`;
  const fnKey = (f: CallFrame) =>
    `${f.functionName || '(anonymous)'}  ${place(f.url, f.lineNumber, f.columnNumber)}`;

  const self = new Map<string, number>();
  const lines = new Map<string, number>();
  for (const n of profile.nodes) {
    const key = fnKey(n.callFrame);
    self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
    if (n.callFrame.url.includes('tessera-profile-') || n.callFrame.url.includes('/bench/')) {
      for (const t of n.positionTicks ?? []) {
        // positionTicks lines are 1-based; map with a column inside the line.
        const where = `${place(n.callFrame.url, t.line - 1, firstColumn(n.callFrame.url, t.line - 1))}  (${n.callFrame.functionName || '(anonymous)'})`;
        lines.set(where, (lines.get(where) ?? 0) + t.ticks);
      }
    }
  }
  // Inclusive time: a function's own ticks plus everything below it (once per stack).
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id)!;
    const key = fnKey(n.callFrame);
    let ticks = n.hitCount ?? 0;
    const added = !onStack.has(key);
    if (added) onStack.add(key);
    for (const child of n.children ?? []) ticks += walk(child, onStack);
    if (added) {
      onStack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ticks);
    }
    return ticks;
  };
  walk(profile.nodes[0]!.id, new Set());

  const top = (m: Map<string, number>, count: number, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k, v]) => v > 0 && filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([k, v]) => `  ${pct(v).padStart(6)}  ${k}`)
      .join('\n');
  return [
    `samples: ${totalSamples} over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`,
    'self time by function:',
    top(self, 25),
    'inclusive time, Tessera functions:',
    top(inclusive, 25, (k) => k.includes('packages/tessera/src/')),
    'self time by source line (Tessera and bench code):',
    top(lines, 30),
  ].join('\n');
}

function cycle(pool: readonly string[]): () => string {
  let i = 0;
  return () => {
    const t = pool[i]!;
    i = i + 1 === pool.length ? 0 : i + 1;
    return t;
  };
}

async function main(): Promise<void> {
  const [workload = 'verify', algArg = 'HS256', secondsArg = '4'] = process.argv.slice(2);
  const alg = TOKEN_ALGORITHMS.find((a) => a === algArg);
  if (alg === undefined) throw new Error(`alg must be one of ${TOKEN_ALGORITHMS.join(', ')}`);
  const seconds = Number(secondsArg);
  const tessera = (await import(buildPlainCopy())) as Tessera;
  const { createGuard, signJws, TokenManager } = tessera;
  const keys = makeKeys(alg as BenchAlgorithm);
  const common = {
    algorithm: keys.alg,
    accessTokenExpires: 3600,
    verifiedTokenCache: workload === 'cache' ? 10_000 : false,
  } as const;
  const manager =
    keys.secret !== undefined
      ? new TokenManager({ ...common, secret: keys.secret })
      : new TokenManager({ ...common, privateKey: keys.signKey, publicKey: keys.verifyKey });
  const pool: string[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(await manager.createAccessToken({ identity: `user-${i}` }));
  const next = cycle(pool);
  let run: () => unknown;
  switch (workload) {
    case 'verify':
    case 'cache':
      for (const t of pool) manager.verifier.verifySync(t);
      run = () => manager.verifier.verifySync(next());
      break;
    case 'sign': {
      const claims = { ...manager.verifier.verifySync(pool[0]!).payload };
      const key = manager.config.signingKey!().signing!;
      run = () => signJws({ typ: 'JWT' }, claims, key);
      break;
    }
    case 'floor': {
      const key = keys.verifyKey;
      run = () => {
        const token = next();
        const dot = token.lastIndexOf('.');
        const input = Buffer.from(token.slice(0, dot), 'latin1');
        const sig = Buffer.from(token.slice(dot + 1), 'base64url');
        const ok =
          alg === 'HS256'
            ? timingSafeEqual(createHmac('sha256', key).update(input).digest(), sig)
            : rawVerify(alg === 'RS256' || alg === 'ES256' ? 'sha256' : null, input, key, sig);
        if (!ok) throw new Error('bad signature');
        return JSON.parse(
          Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url').toString('utf8'),
        );
      };
      break;
    }
    case 'guard': {
      const guard = createGuard(manager);
      const requests: RequestLike[] = pool.map((t) => ({
        method: 'GET',
        url: '/tessera',
        header: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${t}` : undefined),
      }));
      let i = 0;
      const loop = async () => {
        const end = performance.now() + seconds * 1000;
        while (performance.now() < end) {
          for (let k = 0; k < 100; k++) {
            const r = await guard(requests[i]!);
            if (!r.ok) throw new Error(r.response.body);
            i = i + 1 === requests.length ? 0 : i + 1;
          }
        }
      };
      await loop(); // warm-up
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await loop();
      const { profile } = await session.post('Profiler.stop');
      finish(workload, alg, profile as unknown as CpuProfile);
      return;
    }
    default:
      throw new Error('workload must be verify, cache, guard, sign or floor');
  }
  const spin = (ms: number) => {
    const end = performance.now() + ms;
    let ops = 0;
    while (performance.now() < end) {
      for (let k = 0; k < 100; k++) run();
      ops += 100;
    }
    return ops;
  };
  spin(1000);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const ops = spin(seconds * 1000);
  const { profile } = await session.post('Profiler.stop');
  process.stdout.write(`${workload} ${alg}: ${ops} ops in ${seconds} s (profiled)\n`);
  finish(workload, alg, profile as unknown as CpuProfile);
}

function finish(workload: string, alg: string, profile: CpuProfile): void {
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `profile-${workload}-${alg}.cpuprofile`), JSON.stringify(profile));
  process.stdout.write(`${report(profile)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
