/**
 * The auth service against better-auth 1.7 on this machine (`npm run bench --
 * --only service`): sign-ins per second at equal password-hash cost,
 * refreshes and protected-route checks per second, the same while 50
 * connections sign in, and the time of a wrong password against an unknown
 * user; on SQLite, and on PostgreSQL (+ Redis for the service). `--soak`
 * instead runs the service for 10 minutes at full load and samples memory and
 * p99 latency every 10 s.
 *
 * Servers run as child processes (bench/service-server.ts) pinned to CPU 1,
 * wrk (50 connections, one thread) on CPU 0, when taskset exists.
 *
 * @module
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatOps, markdownTable, median } from './harness.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const CONNECTIONS = 50;
/**
 * Sign-in runs last at least this long, and wrk waits up to 30 s for an answer: at equal cost
 * (200-300 ms of hashing each, one core) the 50th sign-in in the queue waits over 10 s.
 */
const SIGN_IN_SECONDS = 30;
const USERS = 200;
const PASSWORD = 'bench-password-1';
const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';

export interface ServiceBenchOptions {
  /** Seconds of one wrk run. */
  readonly durationSeconds: number;
  /** Databases to measure. */
  readonly databases: readonly ('sqlite' | 'postgres')[];
  /** Sequential sign-ins per case in the timing comparison. */
  readonly timingSamples: number;
  /** Rounds of the interleaved refresh and check comparison (0: none). */
  readonly rounds: number;
}

/** One wrk run. */
export interface Load {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
}

/** Sequential sign-in latencies (ms) of wrong passwords and unknown users. */
export interface Timing {
  readonly wrongPassword: { readonly median: number; readonly p90: number; readonly mean: number };
  readonly unknownUser: { readonly median: number; readonly p90: number; readonly mean: number };
}

export interface SideResult {
  readonly label: string;
  readonly hash: string;
  readonly loads: Readonly<Record<string, Load>>;
  readonly timing?: Timing;
}

/** One workload of the interleaved comparison: each side's req/s per round, in round order. */
export interface Alternated {
  readonly tessera: readonly number[];
  readonly betterAuth: readonly number[];
  readonly errors: number;
}

/** The interleaved comparison of one database: refresh against renewal, check against check. */
export interface Interleaved {
  readonly rounds: number;
  readonly seconds: number;
  readonly refresh: Alternated;
  readonly check: Alternated;
}

export interface ServiceReport {
  readonly seconds: number;
  readonly notes: readonly string[];
  readonly calibration: { readonly scryptMs: number; readonly argon2: string; readonly argon2Ms: number };
  readonly databases: Readonly<Record<string, readonly SideResult[]>>;
  /** Per database, when rounds were asked for. */
  readonly interleaved?: Readonly<Record<string, Interleaved>>;
}

// ---------------------------------------------------------------------------------------------
// Servers.

interface Started {
  readonly url: string;
  readonly pid: number;
  readonly info: Record<string, unknown>;
  stop(): Promise<void>;
}

let pin = false;

function pinned(cpu: number, command: string, args: readonly string[]): [string, string[]] {
  return pin ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
}

async function startServer(env: Record<string, string>): Promise<Started> {
  const [command, args] = pinned(1, process.execPath, [
    '--conditions=tessera-source',
    '--import',
    'tsx',
    join(here, 'service-server.ts'),
  ]);
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 120 s: ${stderr.slice(0, 500)}`)),
      120_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('"ready":true')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${stderr.slice(0, 800)}`));
    });
  });
  return {
    url: info.url as string,
    pid: info.pid as number,
    info,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// wrk.

const LUA = {
  tesseraSignIn: `
local n = 0
local users = tonumber(os.getenv("BENCH_USERS"))
request = function()
  n = n + 1
  local body = '{"username":"user' .. (n % users) .. '","password":"${PASSWORD}"}'
  return wrk.format("POST", "/auth/login", {["content-type"] = "application/json",
    ["x-forwarded-for"] = "10.1." .. (n % 250) .. "." .. (math.floor(n / 250) % 250)}, body)
end`,
  betterAuthSignIn: `
local n = 0
local users = tonumber(os.getenv("BENCH_USERS"))
request = function()
  n = n + 1
  local body = '{"email":"user' .. (n % users) .. '@bench.test","password":"${PASSWORD}"}'
  return wrk.format("POST", "/api/auth/sign-in/email", {["content-type"] = "application/json",
    ["origin"] = os.getenv("BENCH_ORIGIN")}, body)
end`,
  // One header value per line of the file, used in turn.
  rotatingGet: `
local values = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do values[#values + 1] = line end
end
request = function()
  n = n + 1
  return wrk.format("GET", os.getenv("BENCH_PATH"), {[os.getenv("BENCH_HEADER")] = values[(n % #values) + 1]})
end`,
  // Each refresh token is spent once; the answer's new one goes back into the pool.
  tesseraRefresh: `
local pool = {}
init = function(args)
  for line in io.lines(args[1]) do pool[#pool + 1] = line end
end
request = function()
  local token = table.remove(pool, 1) or "spent"
  return wrk.format("POST", "/auth/refresh", {["authorization"] = "Bearer " .. token}, "")
end
response = function(status, headers, body)
  local token = string.match(body, '"refresh_token":"([^"]+)"')
  if token then pool[#pool + 1] = token end
end`,
};

let scratch = '';

function luaFile(name: keyof typeof LUA): string {
  const file = join(scratch, `${name}.lua`);
  writeFileSync(file, LUA[name]);
  return file;
}

function ms(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

async function wrk(
  url: string,
  script: keyof typeof LUA,
  seconds: number,
  options: { connections?: number; args?: string[]; env?: Record<string, string> } = {},
): Promise<Load> {
  const [command, args] = pinned(0, 'wrk', [
    '-t1',
    `-c${options.connections ?? CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '--timeout',
    '30s',
    '-s',
    luaFile(script),
    url,
    ...(options.args === undefined ? [] : ['--', ...options.args]),
  ]);
  const { stdout } = await run(command, args, {
    timeout: (seconds + 60) * 1000,
    env: { ...process.env, BENCH_USERS: String(USERS), ...options.env },
  });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const requests = /(\d+) requests in/.exec(stdout);
  if (rps === null || requests === null)
    throw new Error(`wrk output not understood: ${stdout.slice(0, 300)}`);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)\b/.exec(stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: Number(rps[1]),
    requests: Number(requests[1]),
    p50Ms: p50 === null ? Number.NaN : ms(p50[1] as string, p50[2] as string),
    p99Ms: p99 === null ? Number.NaN : ms(p99[1] as string, p99[2] as string),
    errors:
      (non2xx === null ? 0 : Number(non2xx[1])) +
      (socket === null ? 0 : Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + Number(socket[4])),
  };
}

// ---------------------------------------------------------------------------------------------
// Clients.

async function parallel<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

async function tesseraSignIn(url: string, i: number, password = PASSWORD, user = `user${i % USERS}`) {
  return fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': `10.2.${i % 250}.${Math.floor(i / 250) % 250}`,
    },
    body: JSON.stringify({ username: user, password }),
  });
}

async function betterAuthSignIn(url: string, i: number, password = PASSWORD, user = `user${i % USERS}`) {
  return fetch(`${url}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email: `${user}@bench.test`, password }),
  });
}

/** Signs `count` users in; their token pairs (tessera) or session cookies (better-auth). */
async function tesseraTokens(url: string, count: number): Promise<{ access: string[]; refresh: string[] }> {
  const pairs = await parallel(count, 4, async (i) => {
    const answer = await tesseraSignIn(url, i);
    if (answer.status !== 200) throw new Error(`sign-in for tokens: ${answer.status} ${await answer.text()}`);
    return (await answer.json()) as { access_token: string; refresh_token: string };
  });
  return { access: pairs.map((p) => `Bearer ${p.access_token}`), refresh: pairs.map((p) => p.refresh_token) };
}

async function betterAuthCookies(url: string, count: number): Promise<string[]> {
  return parallel(count, 4, async (i) => {
    const answer = await betterAuthSignIn(url, i);
    if (answer.status !== 200)
      throw new Error(`better-auth sign-in: ${answer.status} ${await answer.text()}`);
    const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('better-auth.session_token='));
    if (cookie === undefined) throw new Error('better-auth sign-in set no session cookie');
    return cookie.split(';', 1)[0] as string;
  });
}

function linesFile(name: string, lines: readonly string[]): string {
  const file = join(scratch, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function summary(values: number[]): { median: number; p90: number; mean: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: median(sorted),
    p90: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] as number,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** Alternating sequential sign-ins: a wrong password for an existing user, then an unknown user. */
async function timing(
  signIn: (i: number, password: string, user: string) => Promise<Response>,
  samples: number,
): Promise<Timing> {
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < samples * 2 + 4; i++) {
    const isWrong = i % 2 === 0;
    const user = isWrong ? `user${(i * 7) % USERS}` : `nobody${i}x${Math.random().toString(36).slice(2, 8)}`;
    const t0 = performance.now();
    const answer = await signIn(1000 + i, 'not-the-password', user);
    await answer.arrayBuffer();
    const took = performance.now() - t0;
    if (answer.status !== 401) throw new Error(`timing sign-in answered ${answer.status}, expected 401`);
    if (i < 4) continue; // warm-up
    (isWrong ? wrong : unknown).push(took);
  }
  return { wrongPassword: summary(wrong), unknownUser: summary(unknown) };
}

/**
 * Waits until sign-ins queued by a finished wrk run are done: wrk closes its
 * connections, the server still hashes every request it read, and a backlog
 * would slow the next measurement. Hashing is first come, first served, so one
 * more sign-in answers only after the backlog.
 */
async function drain(signIn: () => Promise<Response>): Promise<void> {
  const answer = await signIn();
  await answer.arrayBuffer();
}

/** Runs `main` while `background` loads the server; `main` starts once the background load has queued up (3 s). */
async function underLoad(background: () => Promise<Load>, main: () => Promise<Load>): Promise<[Load, Load]> {
  const bg = background();
  await sleep(3000);
  const fg = await main();
  return [fg, await bg];
}

// ---------------------------------------------------------------------------------------------
// Calibration: the argon2id cost that takes as long as better-auth's scrypt here, with scrypt's
// memory (128·N·r = 32 MiB, so m=32768 KiB): equal memory, and the passes that give equal time.

async function calibrate(
  log: (line: string) => void,
): Promise<{ scryptMs: number; argon2: [number, number, number]; argon2Ms: number }> {
  const script = `
const { scryptSync } = require('node:crypto');
const { hashSync } = require('@node-rs/argon2');
const time = (f) => { const t = []; for (let i = 0; i < 7; i++) { const s = process.hrtime.bigint(); f(); t.push(Number(process.hrtime.bigint() - s) / 1e6); } t.sort((a, b) => a - b); return t[3]; };
const scrypt = time(() => scryptSync('pw', 'salt', 64, { N: 16384, r: 16, p: 1, maxmem: 128 * 16384 * 16 * 2 }));
const out = { scrypt, argon2: {} };
for (const t of [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16]) out.argon2[t] = time(() => hashSync('pw', { algorithm: 2, memoryCost: 32768, timeCost: t, parallelism: 1 }));
console.log(JSON.stringify(out));`;
  const [command, args] = pinned(1, process.execPath, ['-e', script]);
  const { stdout } = await run(command, args, { cwd: root, timeout: 300_000 });
  const measured = JSON.parse(stdout) as { scrypt: number; argon2: Record<string, number> };
  let best = 2;
  for (const [t, took] of Object.entries(measured.argon2)) {
    if (Math.abs(took - measured.scrypt) < Math.abs((measured.argon2[best] as number) - measured.scrypt))
      best = Number(t);
  }
  log(
    `calibration: scrypt N=16384,r=16 ${measured.scrypt.toFixed(1)} ms; argon2id m=32768 t=${best} ${measured.argon2[best]?.toFixed(1)} ms`,
  );
  return { scryptMs: measured.scrypt, argon2: [32768, best, 1], argon2Ms: measured.argon2[best] as number };
}

// ---------------------------------------------------------------------------------------------
// The sides.

async function databaseEnv(
  db: 'sqlite' | 'postgres',
  who: string,
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (db === 'sqlite') return { env: {}, drop: async () => undefined };
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  if (who === 'tessera') {
    return {
      env: {
        DATABASE_URL: POSTGRES_URL,
        REDIS_URL,
        TESSERA_TABLE_PREFIX: `bench_${id}_`,
        TESSERA_REDIS_PREFIX: `bench:${id}:`,
      },
      drop: async () => {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        const { rows } = await client.query<{ tablename: string }>(
          `select tablename from pg_tables where tablename like $1`,
          [`bench_${id}_%`],
        );
        for (const { tablename } of rows) await client.query(`drop table if exists "${tablename}" cascade`);
        await client.end();
      },
    };
  }
  // better-auth's tables have fixed names: a schema of their own, through search_path.
  const schema = `bench_ba_${id}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`create schema "${schema}"`);
  await client.end();
  return {
    env: { DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` },
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    },
  };
}

async function withServer<T>(
  env: Record<string, string>,
  body: (server: Started, dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(scratch, 'data-'));
  const server = await startServer({
    BENCH_DIR: dir,
    BENCH_USERS: String(USERS),
    BENCH_PASSWORD: PASSWORD,
    ...env,
  });
  try {
    return await body(server, dir);
  } finally {
    await server.stop();
  }
}

async function measureTessera(
  db: 'sqlite' | 'postgres',
  argon2: readonly [number, number, number],
  full: boolean,
  options: ServiceBenchOptions,
  log: (line: string) => void,
): Promise<SideResult> {
  const { env, drop } = await databaseEnv(db, 'tessera');
  try {
    return await withServer(
      { ...env, BENCH_TARGET: 'tessera', BENCH_ARGON2: argon2.join(',') },
      async (server) => {
        const d = options.durationSeconds;
        const loads: Record<string, Load> = {};
        const hash = `argon2id m=${argon2[0]} KiB, t=${argon2[1]}, p=${argon2[2]}; ${String((server.info.passwords as { maxConcurrent: number }).maxConcurrent)} at a time`;
        log(`tessera ${db} ${hash}: sign-ins`);
        const settle = () => drain(() => tesseraSignIn(server.url, 0));
        await wrk(server.url, 'tesseraSignIn', 2);
        await settle();
        loads.signIn = await wrk(server.url, 'tesseraSignIn', Math.max(d, SIGN_IN_SECONDS));
        await settle();
        if (full) {
          log(`tessera ${db}: refresh, /auth/me`);
          const tokens = await tesseraTokens(server.url, 4 * CONNECTIONS);
          const access = linesFile('access.txt', tokens.access);
          const meEnv = { BENCH_PATH: '/auth/me', BENCH_HEADER: 'authorization' };
          await wrk(server.url, 'rotatingGet', 2, { args: [access], env: meEnv });
          loads.me = await wrk(server.url, 'rotatingGet', d, { args: [access], env: meEnv });
          loads.refresh = await wrk(server.url, 'tesseraRefresh', d, {
            args: [linesFile('refresh.txt', tokens.refresh)],
          });
          log(`tessera ${db}: /auth/me and refresh while ${CONNECTIONS} connections sign in`);
          [loads.meUnderSignIn, loads.signInWithMe] = await underLoad(
            () => wrk(server.url, 'tesseraSignIn', d + 5),
            () => wrk(server.url, 'rotatingGet', d, { args: [access], env: meEnv }),
          );
          await settle();
          const fresh = await tesseraTokens(server.url, 4 * CONNECTIONS);
          [loads.refreshUnderSignIn, loads.signInWithRefresh] = await underLoad(
            () => wrk(server.url, 'tesseraSignIn', d + 5),
            () => wrk(server.url, 'tesseraRefresh', d, { args: [linesFile('refresh2.txt', fresh.refresh)] }),
          );
          await settle();
        }
        log(`tessera ${db}: wrong password vs unknown user`);
        const t = await timing(
          (i, pw, user) => tesseraSignIn(server.url, i, pw, user),
          options.timingSamples,
        );
        return { label: 'Tessera service', hash, loads, timing: t };
      },
    );
  } finally {
    await drop();
  }
}

async function measureBetterAuth(
  db: 'sqlite' | 'postgres',
  options: ServiceBenchOptions,
  log: (line: string) => void,
): Promise<SideResult> {
  const d = options.durationSeconds;
  const loads: Record<string, Load> = {};
  let t: Timing | undefined;
  {
    const { env, drop } = await databaseEnv(db, 'better-auth');
    try {
      await withServer({ ...env, BENCH_TARGET: 'better-auth' }, async (server) => {
        const origin = { BENCH_ORIGIN: server.url };
        log(`better-auth ${db}: sign-ins`);
        const settle = () => drain(() => betterAuthSignIn(server.url, 0));
        await wrk(server.url, 'betterAuthSignIn', 2, { env: origin });
        await settle();
        loads.signIn = await wrk(server.url, 'betterAuthSignIn', Math.max(d, SIGN_IN_SECONDS), {
          env: origin,
        });
        await settle();
        log(`better-auth ${db}: session checks, JWT issues`);
        const cookies = linesFile('cookies.txt', await betterAuthCookies(server.url, CONNECTIONS));
        const session = { BENCH_PATH: '/api/auth/get-session', BENCH_HEADER: 'cookie' };
        await wrk(server.url, 'rotatingGet', 2, { args: [cookies], env: session });
        loads.session = await wrk(server.url, 'rotatingGet', d, { args: [cookies], env: session });
        loads.jwt = await wrk(server.url, 'rotatingGet', d, {
          args: [cookies],
          env: { BENCH_PATH: '/api/auth/token', BENCH_HEADER: 'cookie' },
        });
        log(`better-auth ${db}: session checks while ${CONNECTIONS} connections sign in`);
        [loads.sessionUnderSignIn, loads.signInWithSession] = await underLoad(
          () => wrk(server.url, 'betterAuthSignIn', d + 5, { env: origin }),
          () => wrk(server.url, 'rotatingGet', d, { args: [cookies], env: session }),
        );
        await settle();
        log(`better-auth ${db}: wrong password vs unknown user`);
        t = await timing((i, pw, user) => betterAuthSignIn(server.url, i, pw, user), options.timingSamples);
      });
    } finally {
      await drop();
    }
  }
  {
    // Session renewal: updateAge 0 makes every session check extend (write) the session.
    const { env, drop } = await databaseEnv(db, 'better-auth');
    try {
      await withServer({ ...env, BENCH_TARGET: 'better-auth', BENCH_UPDATE_AGE: '0' }, async (server) => {
        log(`better-auth ${db}: session renewals`);
        const cookies = linesFile('cookies-renew.txt', await betterAuthCookies(server.url, CONNECTIONS));
        const session = { BENCH_PATH: '/api/auth/get-session', BENCH_HEADER: 'cookie' };
        await wrk(server.url, 'rotatingGet', 2, { args: [cookies], env: session });
        loads.renewal = await wrk(server.url, 'rotatingGet', d, { args: [cookies], env: session });
      });
    } finally {
      await drop();
    }
  }
  return {
    label: 'better-auth 1.7',
    hash: 'scrypt N=16384, r=16, p=1 (node:crypto, threadpool)',
    loads,
    ...(t === undefined ? {} : { timing: t }),
  };
}

/**
 * The two headline ratios in alternated rounds, all three servers up at once (each pinned
 * to CPU 1, only one under load at a time): per round, the service's refresh then
 * better-auth's renewal (updateAge 0), the service's `/auth/me` then better-auth's session
 * check, the order swapped every other round. A ratio taken within one round sees the
 * same machine on both sides; the sequential tables above do not, and a shared VM's
 * speed moves by tens of percent between minutes.
 */
async function measureInterleaved(
  db: 'sqlite' | 'postgres',
  options: ServiceBenchOptions,
  log: (line: string) => void,
): Promise<Interleaved> {
  const started = performance.now();
  const d = options.durationSeconds;
  const rounds = options.rounds;
  const envs = [
    await databaseEnv(db, 'tessera'),
    await databaseEnv(db, 'better-auth'),
    await databaseEnv(db, 'better-auth'),
  ] as const;
  const refresh = { tessera: [] as number[], betterAuth: [] as number[], errors: 0 };
  const check = { tessera: [] as number[], betterAuth: [] as number[], errors: 0 };
  try {
    await withServer({ ...envs[0].env, BENCH_TARGET: 'tessera', BENCH_ARGON2: '19456,2,1' }, (tessera) =>
      withServer({ ...envs[1].env, BENCH_TARGET: 'better-auth' }, (checks) =>
        withServer(
          { ...envs[2].env, BENCH_TARGET: 'better-auth', BENCH_UPDATE_AGE: '0' },
          async (renewals) => {
            log(`interleaved ${db}: ${rounds} rounds; signing in`);
            // A refresh token is spent once: a fresh pool per round (users sign in several times).
            const perRound = 4 * CONNECTIONS;
            const tokens = await tesseraTokens(tessera.url, perRound * (rounds + 1));
            const access = linesFile(`i-access-${db}.txt`, tokens.access.slice(0, perRound));
            const pool = (r: number) =>
              linesFile(`i-refresh-${db}-${r}.txt`, tokens.refresh.slice(r * perRound, (r + 1) * perRound));
            const checkCookies = linesFile(
              `i-check-${db}.txt`,
              await betterAuthCookies(checks.url, CONNECTIONS),
            );
            const renewCookies = linesFile(
              `i-renew-${db}.txt`,
              await betterAuthCookies(renewals.url, CONNECTIONS),
            );
            const session = { BENCH_PATH: '/api/auth/get-session', BENCH_HEADER: 'cookie' };
            const me = { BENCH_PATH: '/auth/me', BENCH_HEADER: 'authorization' };
            const sides = {
              refresh: [
                (r: number) => wrk(tessera.url, 'tesseraRefresh', d, { args: [pool(r)] }),
                () => wrk(renewals.url, 'rotatingGet', d, { args: [renewCookies], env: session }),
              ],
              check: [
                () => wrk(tessera.url, 'rotatingGet', d, { args: [access], env: me }),
                () => wrk(checks.url, 'rotatingGet', d, { args: [checkCookies], env: session }),
              ],
            } as const;
            // Warm-up, every route for 2 s: the refresh on the extra pool no round uses.
            await wrk(tessera.url, 'tesseraRefresh', 2, { args: [pool(rounds)] });
            await wrk(renewals.url, 'rotatingGet', 2, { args: [renewCookies], env: session });
            await wrk(tessera.url, 'rotatingGet', 2, { args: [access], env: me });
            await wrk(checks.url, 'rotatingGet', 2, { args: [checkCookies], env: session });
            for (let r = 0; r < rounds; r++) {
              for (const [name, [ours, theirs]] of Object.entries(sides)) {
                const into = name === 'refresh' ? refresh : check;
                const first = r % 2 === 0;
                const a = first ? await ours(r) : await theirs();
                const b = first ? await theirs() : await ours(r);
                const [t, o] = first ? [a, b] : [b, a];
                into.tessera.push(t.rps);
                into.betterAuth.push(o.rps);
                into.errors += t.errors + o.errors;
              }
              log(
                `interleaved ${db} round ${r + 1}: refresh ${formatOps(refresh.tessera[r] as number)} / renewal ` +
                  `${formatOps(refresh.betterAuth[r] as number)}; check ${formatOps(check.tessera[r] as number)} / ` +
                  `${formatOps(check.betterAuth[r] as number)}`,
              );
            }
          },
        ),
      ),
    );
  } finally {
    for (const e of envs) await e.drop();
  }
  return { rounds, seconds: (performance.now() - started) / 1000, refresh, check };
}

function setup(): string[] {
  const notes: string[] = [];
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary matters.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('wrk is not installed: the service benchmark needs it (apt-get install wrk)');
    }
  }
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    pin = true;
    notes.push('server pinned to CPU 1 (its hashing threads too), wrk to CPU 0');
  } catch {
    notes.push('taskset not available: server and wrk were not pinned to separate CPUs');
  }
  scratch = mkdtempSync(join(tmpdir(), 'tessera-service-bench-'));
  // The service signs with TESSERA_SIGNING_ALG from the environment (the servers inherit it).
  notes.push(`the service signs with ${process.env.TESSERA_SIGNING_ALG ?? 'EdDSA (its default)'}`);
  notes.push(
    `load average at start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (1 / 5 / 15 min)`,
  );
  return notes;
}

/** The whole comparison. */
export async function runService(
  options: ServiceBenchOptions,
  log: (line: string) => void,
): Promise<ServiceReport> {
  const started = performance.now();
  const notes = setup();
  try {
    const calibration = await calibrate(log);
    const databases: Record<string, SideResult[]> = {};
    const interleaved: Record<string, Interleaved> = {};
    for (const db of options.databases) {
      const owasp = await measureTessera(db, [19456, 2, 1], true, options, log);
      const equal = await measureTessera(db, calibration.argon2, false, options, log);
      const other = await measureBetterAuth(db, options, log);
      databases[db] = [owasp, equal, other];
      if (options.rounds > 0) interleaved[db] = await measureInterleaved(db, options, log);
    }
    notes.push(
      `load average at end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}`,
    );
    return {
      seconds: (performance.now() - started) / 1000,
      notes,
      calibration: {
        scryptMs: calibration.scryptMs,
        argon2: `m=${calibration.argon2[0]}, t=${calibration.argon2[1]}, p=${calibration.argon2[2]}`,
        argon2Ms: calibration.argon2Ms,
      },
      databases,
      ...(options.rounds > 0 ? { interleaved } : {}),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Soak.

export interface SoakSample {
  readonly atSeconds: number;
  readonly rssMiB: number;
  readonly me: Load;
  readonly refresh: Load;
  readonly signIn: Load;
}

/** `--soak`: the service (SQLite, or PostgreSQL + Redis) under sign-ins, refreshes and checks, sampled every 10 s. */
export async function runSoak(
  minutes: number,
  db: 'sqlite' | 'postgres',
  log: (line: string) => void,
): Promise<{ samples: SoakSample[]; notes: string[] }> {
  const notes = setup();
  const samples: SoakSample[] = [];
  const { env, drop } = await databaseEnv(db, 'tessera');
  try {
    await withServer({ ...env, BENCH_TARGET: 'tessera' }, async (server) => {
      const tokens = await tesseraTokens(server.url, 2 * CONNECTIONS);
      const access = linesFile('access.txt', tokens.access);
      const meEnv = { BENCH_PATH: '/auth/me', BENCH_HEADER: 'authorization' };
      const end = Date.now() + minutes * 60_000;
      const start = Date.now();
      while (Date.now() < end) {
        // Fresh refresh tokens for each window: a spent one cannot be used again.
        const fresh = await tesseraTokens(server.url, 25);
        const refreshFile = linesFile('soak-refresh.txt', fresh.refresh);
        const [me, refresh, signIn] = await Promise.all([
          wrk(server.url, 'rotatingGet', 10, { connections: 20, args: [access], env: meEnv }),
          wrk(server.url, 'tesseraRefresh', 10, { connections: 20, args: [refreshFile] }),
          wrk(server.url, 'tesseraSignIn', 10, { connections: 10 }),
        ]);
        const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
        const sample = {
          atSeconds: Math.round((Date.now() - start) / 1000),
          rssMiB: rss,
          me,
          refresh,
          signIn,
        };
        samples.push(sample);
        log(
          `soak ${sample.atSeconds}s: rss ${rss.toFixed(0)} MiB; me ${me.rps.toFixed(0)}/s p99 ${me.p99Ms.toFixed(1)} ms; ` +
            `refresh ${refresh.rps.toFixed(0)}/s p99 ${refresh.p99Ms.toFixed(1)} ms; sign-in ${signIn.rps.toFixed(1)}/s p99 ` +
            `${signIn.p99Ms.toFixed(0)} ms; errors ${me.errors + refresh.errors + signIn.errors}`,
        );
      }
    });
  } finally {
    await drop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { samples, notes };
}

// ---------------------------------------------------------------------------------------------
// Rendering.

function cell(load: Load | undefined): string {
  if (load === undefined) return '–';
  const errors = load.errors > 0 ? `, ${load.errors} errors` : '';
  return `${formatOps(load.rps)}/s (p99 ${load.p99Ms < 10 ? load.p99Ms.toFixed(1) : load.p99Ms.toFixed(0)} ms${errors})`;
}

/** Markdown tables of a {@link ServiceReport}. */
export function renderService(report: ServiceReport): string {
  const parts: string[] = [
    `scrypt N=16384, r=16, p=1 took ${report.calibration.scryptMs.toFixed(0)} ms here; argon2id ${report.calibration.argon2} ` +
      `${report.calibration.argon2Ms.toFixed(0)} ms (the cost-equalised setting); OWASP's m=19456, t=2, p=1 is the default. ` +
      `wrk, ${CONNECTIONS} connections, ${report.notes.join('; ')}.`,
  ];
  for (const [db, sides] of Object.entries(report.databases)) {
    const [owasp, equal, other] = sides as [SideResult, SideResult, SideResult];
    const title = db === 'sqlite' ? 'SQLite' : 'PostgreSQL (+ Redis for the service)';
    parts.push(
      `### ${title}\n\n${markdownTable(
        ['workload', `${owasp.label}`, 'better-auth 1.7'],
        [
          [`sign-ins, ${owasp.hash}`, cell(owasp.loads.signIn), ''],
          [
            `sign-ins at equal cost: ${equal.hash} / ${other.hash}`,
            cell(equal.loads.signIn),
            cell(other.loads.signIn),
          ],
          ['refresh (rotation) / session renewal', cell(owasp.loads.refresh), cell(other.loads.renewal)],
          ['protected route (`/auth/me`) / session check', cell(owasp.loads.me), cell(other.loads.session)],
          ['— / JWT issue (`/api/auth/token`)', '', cell(other.loads.jwt)],
          [
            `protected route while ${CONNECTIONS} connections sign in`,
            cell(owasp.loads.meUnderSignIn),
            cell(other.loads.sessionUnderSignIn),
          ],
          [`refresh while ${CONNECTIONS} connections sign in`, cell(owasp.loads.refreshUnderSignIn), ''],
          [
            'sign-ins meanwhile',
            `${cell(owasp.loads.signInWithMe)}; ${cell(owasp.loads.signInWithRefresh)}`,
            cell(other.loads.signInWithSession),
          ],
        ],
      )}`,
    );
    const rows: string[][] = [];
    for (const side of [owasp, equal, other]) {
      if (side.timing === undefined) continue;
      const { wrongPassword: w, unknownUser: u } = side.timing;
      rows.push([
        `${side.label}, ${side.hash}`,
        `${w.median.toFixed(1)} / ${w.p90.toFixed(1)}`,
        `${u.median.toFixed(1)} / ${u.p90.toFixed(1)}`,
        (u.median / w.median).toFixed(2),
      ]);
    }
    parts.push(
      markdownTable(
        ['sequential sign-ins, ms (median / p90)', 'wrong password', 'unknown user', 'unknown ÷ wrong'],
        rows,
      ),
    );
    const alternated = report.interleaved?.[db];
    if (alternated !== undefined) parts.push(renderInterleaved(alternated));
  }
  return parts.join('\n\n');
}

/** The interleaved rounds of one database: each side's median req/s and the median of per-round ratios. */
function renderInterleaved(i: Interleaved): string {
  const row = (label: string, a: Alternated): string[] => {
    const ratios = a.tessera.map((t, r) => t / (a.betterAuth[r] as number));
    return [
      label,
      `${formatOps(median(a.tessera))}/s`,
      `${formatOps(median(a.betterAuth))}/s`,
      `${median(ratios).toFixed(1)} (${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)})`,
      String(a.errors),
    ];
  };
  return `Interleaved, ${i.rounds} rounds (${i.seconds.toFixed(0)} s; the sides alternated within each round, all servers up at once):\n\n${markdownTable(
    [
      'workload',
      'Tessera service (median)',
      'better-auth 1.7 (median)',
      'ratio: median of rounds (min–max)',
      'errors',
    ],
    [
      row('refresh (rotation) / session renewal', i.refresh),
      row('protected route (`/auth/me`) / session check', i.check),
    ],
  )}`;
}

/** Markdown of a soak run. */
export function renderSoak(samples: readonly SoakSample[]): string {
  return markdownTable(
    ['t (s)', 'RSS MiB', '/auth/me /s (p99 ms)', 'refresh /s (p99 ms)', 'sign-in /s (p99 ms)', 'errors'],
    samples.map((s) => [
      String(s.atSeconds),
      s.rssMiB.toFixed(0),
      `${s.me.rps.toFixed(0)} (${s.me.p99Ms.toFixed(1)})`,
      `${s.refresh.rps.toFixed(0)} (${s.refresh.p99Ms.toFixed(1)})`,
      `${s.signIn.rps.toFixed(1)} (${s.signIn.p99Ms.toFixed(0)})`,
      String(s.me.errors + s.refresh.errors + s.signIn.errors),
    ]),
  );
}
