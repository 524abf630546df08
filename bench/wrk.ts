/**
 * wrk as the HTTP and store benchmarks drive it: one run against one route of a
 * server (`-t1`, wrk pinned to CPU 0, a Lua script rotating the tokens of a
 * file), with the server's CPU time read around it; and the round loop both
 * use: a warm-up of every route, then every route in turn, round after round,
 * so that drift on a shared machine lands on all routes alike and each round
 * gives one ratio per pair of routes.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pinned, processCpuSeconds } from './proc.js';

const run = promisify(execFile);

/** Connections of every run: enough to keep one server core busy. */
export const CONNECTIONS = 50;

const ROTATE_LUA = `-- Rotates the Authorization header through the tokens of a file (one per line).
local tokens = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
end
function request()
  i = i % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = tokens[i] })
end
`;

/** Write the token-rotating Lua script into `dir`; returns its path. */
export function writeRotateScript(dir: string): string {
  const path = join(dir, 'rotate.lua');
  writeFileSync(path, ROTATE_LUA);
  return path;
}

/** What one run loads: a server (its pid, for its CPU time) and a route. */
export interface WrkTarget {
  readonly port: number;
  /** The server process whose CPU time is counted. */
  readonly pid: number;
  /** The path without its leading slash. */
  readonly route: string;
  readonly lua: string;
  /** Tokens, one per line, that the script rotates through. */
  readonly tokensFile: string;
  /** Pin wrk to CPU 0 (the servers run on CPU 1). */
  readonly pin: boolean;
}

/** One wrk run. */
export interface WrkRun {
  readonly rps: number;
  readonly requests: number;
  /** Mean latency, ms. */
  readonly latencyMs: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  /** Server CPU seconds (user + system) over the run. */
  readonly cpuSeconds: number;
  /** Requests per second of server CPU time. */
  readonly perCpuSecond: number;
}

function parseLatency(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/** Load `target` for `seconds`. */
export async function runWrk(target: WrkTarget, seconds: number): Promise<WrkRun> {
  const [command, args] = pinned(
    0,
    'wrk',
    [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '-s',
      target.lua,
      `http://127.0.0.1:${target.port}/${target.route}`,
      '--',
      target.tokensFile,
    ],
    target.pin,
  );
  const cpu0 = processCpuSeconds(target.pid);
  const { stdout } = await run(command, args, { timeout: (seconds + 30) * 1000 });
  const cpuSeconds = processCpuSeconds(target.pid) - cpu0;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const requests = /(\d+) requests in/.exec(stdout);
  if (rps === null || requests === null)
    throw new Error(`wrk output not understood: ${stdout.slice(0, 200)}`);
  const latency = /Latency\s+([\d.]+)(us|ms|s)\b/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const count = Number(requests[1]);
  return {
    rps: Number(rps[1]),
    requests: count,
    latencyMs: latency === null ? Number.NaN : parseLatency(latency[1]!, latency[2]!),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors:
      socket === null ? 0 : Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + Number(socket[4]),
    cpuSeconds,
    perCpuSecond: cpuSeconds > 0 ? count / cpuSeconds : Number.NaN,
  };
}

/** wrk's version line, or undefined when wrk is not installed. */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run('wrk', ['--version']).catch(
      (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
    );
    const text = `${stdout}${stderr}`;
    return text.includes('wrk') ? text.split('\n')[0]!.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Whether wrk is installed. */
export async function hasWrk(): Promise<boolean> {
  return (await wrkVersion()) !== undefined;
}

/** How long and how often {@link roundRobin} loads each route. */
export interface RoundPlan {
  readonly rounds: number;
  /** Seconds of each measured run. */
  readonly durationSeconds: number;
  /** Seconds of the one unmeasured run of each route first (0: none). */
  readonly warmupSeconds: number;
}

/**
 * Load every route for `plan.warmupSeconds` (unmeasured), then each route in
 * turn for `plan.durationSeconds`, `plan.rounds` times. Returns the runs of each
 * route in round order (index i = round i).
 */
export async function roundRobin<R extends string>(
  routes: readonly R[],
  plan: RoundPlan,
  load: (route: R, seconds: number) => Promise<WrkRun>,
  afterRound?: (round: number) => void,
): Promise<Map<R, WrkRun[]>> {
  if (plan.warmupSeconds > 0) for (const route of routes) await load(route, plan.warmupSeconds);
  const runs = new Map<R, WrkRun[]>(routes.map((r) => [r, []]));
  for (let round = 0; round < plan.rounds; round++) {
    for (const route of routes) runs.get(route)!.push(await load(route, plan.durationSeconds));
    afterRound?.(round);
  }
  return runs;
}
