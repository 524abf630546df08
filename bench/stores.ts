/**
 * What revocation costs a protected route: requests per second with no store,
 * the memory store, Redis asked on every request, and Redis with the local
 * cache, over real HTTP with wrk (server pinned to CPU 1, wrk to CPU 0 when
 * taskset exists). Routes alternate within each round; medians and ratios to
 * the no-store route are reported. Target: the local cache costs under 5%.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { median } from './harness.js';
import { plainScript } from './plain-js.js';

/** Options of {@link runStores}. */
export interface StoresOptions {
  readonly rounds: number;
  readonly durationSeconds: number;
}

const ROUTES = ['/none', '/memory', '/redis', '/redis-cache'] as const;
type Route = (typeof ROUTES)[number];

const LABELS: Readonly<Record<Route, string>> = {
  '/none': 'no store (no revocation check)',
  '/memory': 'MemoryStore',
  '/redis': 'Redis, asked on every request',
  '/redis-cache': 'Redis with the local cache',
};

/** One route's figures. */
export interface StoreRow {
  readonly route: Route;
  readonly label: string;
  readonly medianRps: number;
  readonly ratioToNone: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
}

/** The report of {@link runStores}. */
export interface StoresReport {
  readonly rows: readonly StoreRow[];
  readonly rounds: number;
  readonly durationSeconds: number;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}

function command(cpu: number, program: string, args: readonly string[], pin: boolean): [string, string[]] {
  return pin ? ['taskset', ['-c', String(cpu), program, ...args]] : [program, [...args]];
}

function startServer(pin: boolean): Promise<{ child: ChildProcess; port: number; token: string }> {
  const script = plainScript('stores-server');
  const spec = JSON.stringify({
    secret: randomBytes(32).toString('base64url'),
    prefix: `tessera-bench:${Date.now().toString(36)}:`,
  });
  const [program, args] = command(1, process.execPath, [script, spec], pin);
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`store bench server did not start: ${err}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line === undefined) return;
      clearTimeout(timer);
      const ready = JSON.parse(line.slice(6)) as { port: number; token: string };
      resolve({ child, port: ready.port, token: ready.token });
    });
    child.on('exit', (code) => reject(new Error(`store bench server exited (${code}): ${err}`)));
  });
}

function wrk(port: number, route: Route, token: string, seconds: number, pin: boolean): number {
  const [program, args] = command(
    0,
    'wrk',
    [
      '-t1',
      '-c50',
      `-d${seconds}s`,
      '-H',
      `Authorization: Bearer ${token}`,
      `http://127.0.0.1:${port}${route}`,
    ],
    pin,
  );
  const output = execFileSync(program, args, { encoding: 'utf8' });
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (non2xx !== null)
    throw new Error(`${route}: ${non2xx[1]} non-2xx answers; the route is not serving the token`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (rps === null) throw new Error(`wrk printed no Requests/sec for ${route}`);
  return Number(rps[1]);
}

/** Run the store benchmark. */
export async function runStores(options: StoresOptions, log: (line: string) => void): Promise<StoresReport> {
  const pin = hasTaskset();
  const { child, port, token } = await startServer(pin);
  try {
    for (const route of ROUTES) wrk(port, route, token, 1, pin); // warm-up, and a check that each route answers 200
    const samples = new Map<Route, number[]>(ROUTES.map((r) => [r, []]));
    const ratios = new Map<Route, number[]>(ROUTES.map((r) => [r, []]));
    for (let round = 0; round < options.rounds; round++) {
      const rps = new Map<Route, number>();
      for (const route of ROUTES) {
        const value = wrk(port, route, token, options.durationSeconds, pin);
        rps.set(route, value);
        samples.get(route)!.push(value);
      }
      for (const route of ROUTES) ratios.get(route)!.push(rps.get(route)! / rps.get('/none')!);
      log(`stores: round ${round + 1}/${options.rounds} done`);
    }
    const rows = ROUTES.map((route) => {
      const r = ratios.get(route)!;
      return {
        route,
        label: LABELS[route],
        medianRps: median(samples.get(route)!),
        ratioToNone: median(r),
        ratioMin: Math.min(...r),
        ratioMax: Math.max(...r),
      };
    });
    return { rows, rounds: options.rounds, durationSeconds: options.durationSeconds };
  } finally {
    child.kill('SIGTERM');
  }
}

/** The report as markdown. */
export function renderStores(report: StoresReport): string {
  const lines = [
    `## Revocation stores (node:http, HS256, wrk -t1 -c50, ${report.rounds} rounds × ${report.durationSeconds} s, routes alternated)`,
    '',
    '| set-up | median req/s | ÷ no store (median of rounds) | min–max |',
    '| --- | ---: | ---: | ---: |',
    ...report.rows.map(
      (r) =>
        `| ${r.label} | ${Math.round(r.medianRps).toLocaleString('en-US')} | ${r.ratioToNone.toFixed(2)} | ${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)} |`,
    ),
    '',
  ];
  const cache = report.rows.find((r) => r.route === '/redis-cache');
  if (cache !== undefined) {
    const cost = 1 - cache.ratioToNone;
    lines.push(
      `Target: the local cache costs under 5% of throughput. Measured: ${(cost * 100).toFixed(1)}% → ${cost < 0.05 ? 'met' : '**missed**'}.`,
      '',
    );
  }
  return lines.join('\n');
}
