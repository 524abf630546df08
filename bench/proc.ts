/**
 * Child processes of the benchmarks: CPU pinning, server CPU time from /proc,
 * and how a bench server is started (the built package as plain JavaScript, or,
 * for the smoke test, the TypeScript source through tsx).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainScript } from './plain-js.js';

const here = dirname(fileURLToPath(import.meta.url));

let tasksetKnown: boolean | undefined;

/** Whether `taskset` can pin processes (Linux with util-linux). */
export function hasTaskset(): boolean {
  if (tasksetKnown === undefined) {
    try {
      execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
      tasksetKnown = true;
    } catch {
      tasksetKnown = false;
    }
  }
  return tasksetKnown;
}

/** `command args` pinned to one CPU when `pin`. */
export function pinned(
  cpu: number,
  command: string,
  args: readonly string[],
  pin: boolean,
): [string, string[]] {
  return pin ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
}

let clockTicks: number | undefined;

/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
export function processCpuSeconds(pid: number): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/**
 * How a bench server runs: `dist` (what `npm run bench` measures: the built
 * package, the server transpiled to plain JavaScript) or `source` (the
 * TypeScript source through tsx, the package resolved by its `tessera-source`
 * condition: no build needed, for the smoke test; never for figures).
 */
export type ServerMode = 'dist' | 'source';

/** The node arguments that run `bench/<name>.ts` in `mode`. */
export function serverArgs(name: string, mode: ServerMode): string[] {
  return mode === 'dist'
    ? [plainScript(name)]
    : ['--conditions=tessera-source', '--import', 'tsx', join(here, `${name}.ts`)];
}

/** A started bench server and the JSON of its `READY {...}` line. */
export interface ReadyServer<T> {
  readonly child: ChildProcess;
  readonly ready: T;
}

/**
 * Start `bench/<name>.ts` with `spec` (JSON, its one argument), pinned to CPU 1
 * when `pin`, and wait for its `READY {...}` line on stdout.
 */
export function startBenchServer<T>(
  name: string,
  spec: unknown,
  options: { readonly pin: boolean; readonly mode: ServerMode; readonly timeoutMs?: number },
): Promise<ReadyServer<T>> {
  const [command, args] = pinned(
    1,
    process.execPath,
    [...serverArgs(name, options.mode), JSON.stringify(spec)],
    options.pin,
  );
  const child = spawn(command, args, {
    cwd: join(here, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs / 1000} s: ${stderr.trim()}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${name} exited (${String(code)}): ${stderr.trim().split('\n').slice(0, 5).join(' ')}`),
      );
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('READY '));
      if (line === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, ready: JSON.parse(line.slice(6)) as T });
    });
  });
}

/** SIGTERM, and wait for the exit (SIGKILL after `graceMs`). */
export function stopBenchServer(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
