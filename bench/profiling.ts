/**
 * Profiling helpers shared by bench/profile.ts and bench/http-server.ts: a
 * line-preserving copy of the library, the V8 profiler over node:inspector, and
 * a report of self and inclusive time by function and by source line.
 *
 * tsx emits each module on one line, which leaves a profile without line
 * information; so the library is first transpiled, file by file and line for
 * line, to a temporary directory (with inline source maps) and profiled from there.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Tessera = typeof import('tessera-auth/core');

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
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

const srcRoot = join(root, 'packages/tessera/src');
// Inside the repository (.bench-build/ is git-ignored), so that the copy's imports of
// framework packages (the Hono adapter imports hono) resolve from its node_modules.
const plainCopy = join(root, '.bench-build', `profile-src-${process.pid}`);

/** Transpile packages/tessera/src to plain ESM with inline source maps; returns the copy's directory URL. */
export async function buildPlainCopy(): Promise<string> {
  // Loaded only when profiling: the compiler takes seconds to load, and the bench servers import this module.
  // typescript is CommonJS: its namespace is the default export of the ESM import.
  const ts = ((await import('typescript')) as unknown as { default: typeof import('typescript') }).default;
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
  return pathToFileURL(`${out}/`).href;
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

export function report(profile: CpuProfile): string {
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
    if (n.callFrame.url.includes('/profile-src-') || n.callFrame.url.includes('/bench/')) {
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

/** Start the V8 sampling profiler in this process. */
export async function startProfiler(intervalMicros = 100): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalMicros });
  await session.post('Profiler.start');
  return session;
}

/** Stop it; write the raw profile next to `reportFile` and the report into it; return the report. */
export async function stopProfiler(session: Session, reportFile: string): Promise<string> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const text = report(profile as unknown as CpuProfile);
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(reportFile.replace(/\.txt$/, '.cpuprofile'), JSON.stringify(profile));
  writeFileSync(reportFile, `${text}\n`);
  return text;
}
