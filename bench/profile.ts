/**
 * CPU profile of one Tessera hot path, reported by function and by source line:
 *
 *   npm run build && node --import tsx bench/profile.ts <workload> <alg> [seconds]
 *   node --import tsx bench/profile.ts http <framework> <HS256|EdDSA|EdDSA-cache> [seconds]
 *   npm run build && node --expose-gc --import tsx bench/profile.ts breakdown <alg> [rounds]
 *
 * workload: verify (verifySync, no cache), cache (verifySync, cache hits),
 * guard (createGuard over a RequestLike, awaited one by one), sign (signJws),
 * floor (the decoding floor of tokens.ts, for comparison), http (a benchmark
 * server's /tessera route under wrk, profiled inside the server process),
 * breakdown (no profiler: what each layer adds to a cache hit, in ns per call
 * of CPU time, every layer measured interleaved with the others, on the built package).
 * Reports and raw profiles go to bench/results/profile-*.txt / *.cpuprofile
 * (not committed).
 */
import { spawn } from 'node:child_process';
import { createHmac, verify as rawVerify, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestLike } from 'tessera-auth';
import { type Contender, runInterleaved } from './harness.js';
import type { Framework, ServerSpec } from './http-server.js';
import { plainScript } from './plain-js.js';
import { buildPlainCopy, startProfiler, stopProfiler, type Tessera } from './profiling.js';
import {
  type BenchAlgorithm,
  makeKeys,
  makeManager,
  mintPool,
  POOL_SIZE,
  TOKEN_ALGORITHMS,
} from './tokens.js';

const here = dirname(fileURLToPath(import.meta.url));

function cycle<T>(pool: readonly T[]): () => T {
  let i = 0;
  return () => {
    const t = pool[i]!;
    i = i + 1 === pool.length ? 0 : i + 1;
    return t;
  };
}

/** Profile a benchmark server's /tessera route while wrk loads it. */
async function profileHttp(framework: Framework, variant: string, seconds: number): Promise<void> {
  const alg = variant.startsWith('EdDSA') ? 'EdDSA' : 'HS256';
  const cached = variant === 'EdDSA-cache';
  const keys = makeKeys(alg);
  const pool = await mintPool(makeManager(keys), cached ? POOL_SIZE : 1);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-prof-http-'));
  const keyFile = join(dir, 'key.json');
  writeFileSync(
    keyFile,
    JSON.stringify(keys.secret !== undefined ? { secret: keys.secret } : { publicPem: keys.verifyPem }),
  );
  const tokensFile = join(dir, 'tokens.txt');
  writeFileSync(tokensFile, `${pool.join('\n')}\n`);
  const lua = join(dir, 'rotate.lua');
  writeFileSync(
    lua,
    'local t={} local i=0 function init(a) for l in io.lines(a[1]) do t[#t+1]="Bearer "..l end end ' +
      'function request() i=i%#t+1 return wrk.format(nil,nil,{["Authorization"]=t[i]}) end',
  );
  const reportFile = join(here, 'results', `profile-http-${framework.replace(':', '')}-${variant}.txt`);
  const spec: ServerSpec = { framework, alg, keyFile, cache: cached ? 10_000 : false, otherCache: false };
  const child = spawn(process.execPath, [plainScript('http-server'), JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', TESSERA_BENCH_PROFILE: reportFile },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`server exited ${String(code)}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line !== undefined) resolve((JSON.parse(line.slice(6)) as { port: number }).port);
    });
  });
  const wrk = (secs: number) =>
    new Promise<string>((resolve, reject) => {
      const w = spawn('wrk', [
        '-t1',
        '-c50',
        `-d${secs}s`,
        '-s',
        lua,
        `http://127.0.0.1:${port}/tessera`,
        '--',
        tokensFile,
      ]);
      let out = '';
      w.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      w.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${String(code)}`))));
    });
  await wrk(2); // warm-up, before the server starts profiling on SIGUSR2
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
  const out = await wrk(seconds);
  const summary = out.split('\n').filter((l) => /Requests\/sec|requests in|Non-2xx/.test(l));
  process.stdout.write(`${summary.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  process.stdout.write(readFileSync(reportFile, 'utf8'));
}

/**
 * A cache hit layer by layer, each step a contender of one interleaved run:
 * the loop alone, the cache behind `verifier.verifySync`, `manager.verify`,
 * the guard over a RequestLike (header read, location, verdict), and two pieces
 * of the guard's own work measured alone (the separator scan of the header's
 * token, the tail key the cache hashes). Figures are ns of CPU time per call.
 */
async function breakdown(alg: BenchAlgorithm, rounds: number): Promise<void> {
  const { createGuard } = await import('tessera-auth');
  const keys = makeKeys(alg);
  const manager = makeManager(keys, 10_000);
  const pool = await mintPool(manager, POOL_SIZE);
  for (const t of pool) manager.verifier.verifySync(t);
  const guard = createGuard(manager);
  const headers = pool.map((t) => `Bearer ${t}`);
  const requests: RequestLike[] = headers.map((h) => ({
    method: 'GET',
    url: '/tessera',
    header: (name: string) => (name.toLowerCase() === 'authorization' ? h : undefined),
  }));
  const separator = /[\s,]/;
  const tails = new Map(pool.map((t) => [t.slice(-16), t]));
  const loop = cycle(pool);
  const verifierNext = cycle(pool);
  const managerNext = cycle(pool);
  const guardNext = cycle(requests);
  const scanNext = cycle(headers);
  const tailNext = cycle(pool);
  const contenders: Contender[] = [
    { name: 'loop: next token', kind: 'sync', fn: () => loop() },
    {
      name: 'verifier.verifySync, cache hit',
      kind: 'sync',
      fn: () => manager.verifier.verifySync(verifierNext()),
    },
    {
      name: 'manager.verify, cache hit',
      kind: 'sync',
      fn: () => manager.verify(managerNext()),
    },
    {
      name: 'guard(RequestLike), cache hit',
      kind: 'sync',
      fn: () => {
        const result = guard(guardNext());
        if (result instanceof Promise || !result.ok) throw new Error('the guard did not pass synchronously');
        return result;
      },
    },
    {
      name: 'header → token: slice + /[\\s,]/ scan',
      kind: 'sync',
      fn: () => {
        const raw = scanNext();
        const token = raw.slice(7);
        return separator.test(token) ? undefined : token;
      },
    },
    {
      name: 'Map.get by the last 16 characters + full compare',
      kind: 'sync',
      fn: () => {
        const token = tailNext();
        return tails.get(token.slice(-16)) === token;
      },
    },
  ];
  const results = await runInterleaved(contenders, { rounds, sliceMs: 100, warmupRounds: 1 });
  const loopNs = 1e9 / results[0]!.median;
  process.stdout.write(
    `${alg}, ${pool.length} tokens, ${rounds} rounds × 100 ms, ns of CPU time per call (median; min–max):\n`,
  );
  for (const r of results) {
    const ns = 1e9 / r.median;
    process.stdout.write(
      `  ${r.name.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns  (${(1e9 / r.max).toFixed(0)}–${(1e9 / r.min).toFixed(0)}), minus the loop ${(ns - loopNs).toFixed(0)} ns\n`,
    );
  }
}

async function main(): Promise<void> {
  const [workload = 'verify', arg = 'HS256', secondsArg] = process.argv.slice(2);
  if (workload === 'breakdown') {
    const alg = TOKEN_ALGORITHMS.find((a) => a === arg) ?? 'EdDSA';
    return breakdown(alg, Number(secondsArg ?? '15'));
  }
  if (workload === 'http') {
    const framework = (['fastify', 'express', 'hono', 'koa', 'node:http'] as const).find((f) => f === arg);
    if (framework === undefined)
      throw new Error('http needs a framework: fastify, express, hono, koa, node:http');
    return profileHttp(framework, process.argv[4] ?? 'HS256', Number(process.argv[5] ?? '5'));
  }
  const alg = TOKEN_ALGORITHMS.find((a) => a === arg);
  if (alg === undefined) throw new Error(`alg must be one of ${TOKEN_ALGORITHMS.join(', ')}`);
  const seconds = Number(secondsArg ?? '4');
  const tessera = (await import(`${await buildPlainCopy()}core.js`)) as Tessera;
  const { createGuard, signJws, TokenManager } = tessera;
  const keys = makeKeys(alg as BenchAlgorithm);
  const common = {
    algorithm: keys.alg,
    accessTokenExpires: 3600,
    verifiedTokenCache: workload === 'cache' || workload === 'guard-cache' ? 10_000 : false,
  } as const;
  const manager =
    keys.secret !== undefined
      ? new TokenManager({ ...common, secret: keys.secret })
      : new TokenManager({ ...common, privateKey: keys.signKey, publicKey: keys.verifyKey });
  const pool: string[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(await manager.createAccessToken({ identity: `user-${i}` }));
  for (const t of pool) manager.verifier.verifySync(t);
  const next = cycle(pool);
  const reportFile = join(here, 'results', `profile-${workload}-${alg}.txt`);

  if (workload === 'guard' || workload === 'guard-cache') {
    const guard = createGuard(manager);
    const requests: RequestLike[] = pool.map((t) => ({
      method: 'GET',
      url: '/tessera',
      header: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${t}` : undefined),
    }));
    const nextRequest = cycle(requests);
    const loop = async (ms: number) => {
      const end = performance.now() + ms;
      let ops = 0;
      while (performance.now() < end) {
        for (let k = 0; k < 100; k++) {
          const r = await guard(nextRequest());
          if (!r.ok) throw new Error(r.response.body);
        }
        ops += 100;
      }
      return ops;
    };
    await loop(1000);
    const session = await startProfiler();
    const ops = await loop(seconds * 1000);
    process.stdout.write(`${workload} ${alg}: ${ops} ops in ${seconds} s (profiled)\n`);
    process.stdout.write(`${await stopProfiler(session, reportFile)}\n`);
    return;
  }

  let run: () => unknown;
  switch (workload) {
    case 'verify':
    case 'cache':
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
    default:
      throw new Error('workload must be verify, cache, guard, guard-cache, sign, floor or http');
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
  const session = await startProfiler();
  const ops = spin(seconds * 1000);
  process.stdout.write(`${workload} ${alg}: ${ops} ops in ${seconds} s (profiled)\n`);
  process.stdout.write(`${await stopProfiler(session, reportFile)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
