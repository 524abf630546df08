/**
 * Interleaved micro-benchmark harness: every contender of a case runs one time
 * slice per round, in turn (A B C A B C ...), so that drift on a shared machine
 * (other processes, thermal, frequency) lands on all of them alike. Each slice
 * gives one ops/s sample; a contender is summarised by its median.
 */

/** One way of doing the work of a case. Async contenders are awaited call by call. */
export type Contender =
  | { readonly name: string; readonly kind: 'sync'; readonly fn: () => unknown }
  | { readonly name: string; readonly kind: 'async'; readonly fn: () => Promise<unknown> };

export interface HarnessOptions {
  /** Measured rounds (each contender gets one slice per round). */
  readonly rounds: number;
  /** Length of a slice in milliseconds. */
  readonly sliceMs: number;
  /** Unmeasured rounds first (JIT, caches, call sites that turn megamorphic). */
  readonly warmupRounds: number;
}

export interface ContenderResult {
  readonly name: string;
  readonly kind: 'sync' | 'async';
  /** Median over the measured slices of ops per second of process CPU time. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** ops per CPU second of each measured slice, in round order (index i = round i). */
  readonly samples: readonly number[];
  /** The same slices counted against wall-clock time (ops/s); noisier on a shared machine. */
  readonly wallMedian: number;
  readonly wallSamples: readonly number[];
}

/** Something the optimiser cannot prove unused. */
export let sink: unknown;

const gc: (() => void) | undefined = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

/** Whether slices start from a collected heap (node --expose-gc). */
export const hasGc = gc !== undefined;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Calls between two clock reads, chosen so that one batch takes about 0.1 ms:
 * the clock's own cost stays far below 1% even for a 100 ns operation.
 */
function calibrateSync(fn: () => unknown): number {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < 20) {
    sink = fn();
    ops++;
    now = performance.now();
  }
  return Math.max(1, Math.floor(ops / (now - start) / 10));
}

async function calibrateAsync(fn: () => Promise<unknown>): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < 20) {
    sink = await fn();
    ops++;
    now = performance.now();
  }
  return Math.max(1, Math.floor(ops / (now - start) / 10));
}

/** One slice's count, with the wall time and the process CPU time it took. */
interface Slice {
  readonly ops: number;
  readonly wallSec: number;
  readonly cpuSec: number;
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function syncSlice(fn: () => unknown, sliceMs: number, batch: number): Slice {
  const cpu0 = cpuSeconds();
  const start = performance.now();
  const end = start + sliceMs;
  let ops = 0;
  let now = start;
  do {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    now = performance.now();
  } while (now < end);
  return { ops, wallSec: (now - start) / 1000, cpuSec: cpuSeconds() - cpu0 };
}

async function asyncSlice(fn: () => Promise<unknown>, sliceMs: number, batch: number): Promise<Slice> {
  const cpu0 = cpuSeconds();
  const start = performance.now();
  const end = start + sliceMs;
  let ops = 0;
  let now = start;
  do {
    for (let i = 0; i < batch; i++) sink = await fn();
    ops += batch;
    now = performance.now();
  } while (now < end);
  return { ops, wallSec: (now - start) / 1000, cpuSec: cpuSeconds() - cpu0 };
}

/** Run `contenders` interleaved; returns one result per contender, in the given order. */
export async function runInterleaved(
  contenders: readonly Contender[],
  options: HarnessOptions,
): Promise<ContenderResult[]> {
  const batches: number[] = [];
  for (const c of contenders) {
    batches.push(c.kind === 'sync' ? calibrateSync(c.fn) : await calibrateAsync(c.fn));
  }
  const samples: number[][] = contenders.map(() => []);
  const wall: number[][] = contenders.map(() => []);
  const total = options.warmupRounds + options.rounds;
  for (let round = 0; round < total; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[i]!;
      gc?.();
      const slice =
        c.kind === 'sync'
          ? syncSlice(c.fn, options.sliceMs, batches[i]!)
          : await asyncSlice(c.fn, options.sliceMs, batches[i]!);
      if (round >= options.warmupRounds) {
        samples[i]!.push(slice.ops / slice.cpuSec);
        wall[i]!.push(slice.ops / slice.wallSec);
      }
    }
  }
  return contenders.map((c, i) => {
    const s = samples[i]!;
    return {
      name: c.name,
      kind: c.kind,
      median: median(s),
      min: Math.min(...s),
      max: Math.max(...s),
      samples: s,
      wallMedian: median(wall[i]!),
      wallSamples: wall[i]!,
    };
  });
}

/** Per-round ratios a/b (the rounds are paired: both ran in the same round). */
export function pairedRatios(a: ContenderResult, b: ContenderResult): number[] {
  const n = Math.min(a.samples.length, b.samples.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(a.samples[i]! / b.samples[i]!);
  return out;
}

/** 1234567 -> "1,234,567"; small numbers keep 3 significant digits. */
export function formatOps(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(2);
}

/** A markdown table from a header row and body rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}
