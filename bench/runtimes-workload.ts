/**
 * The verify workload of bench/runtimes.ts, portable: it runs unchanged in
 * Node, Bun, Deno and workerd, taking the library and jose as arguments. One
 * "op" is the verification of a JWT with registered-claim validation (exp,
 * iat): Tessera's TokenVerifier with a Keyring and no verified-token cache,
 * jose's jwtVerify with a key imported once.
 */
import type * as Jose from 'jose';
import type * as Tessera from 'tessera-auth/core';

export type Contender = 'tessera' | 'jose';

export interface Prepared {
  readonly tessera: () => unknown;
  readonly jose: () => Promise<unknown>;
}

const POOL = 64;

/** Keys, a pool of tokens and one verify function per contender for `alg`. */
export async function prepare(
  lib: typeof Tessera,
  jose: typeof Jose,
  alg: Tessera.JwsAlgorithm,
): Promise<Prepared> {
  const key = await lib.generateKeyAsync(alg, { kid: `bench-${alg}` });
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < POOL; i++) {
    tokens.push(
      await lib.signJwsAsync(
        { typ: 'JWT', kid: key.kid },
        { sub: `user-${i}`, iat: now, exp: now + 3600, jti: `t-${i}-${Math.random()}` },
        key.signing!,
      ),
    );
  }
  const verifier = new lib.TokenVerifier({
    keys: new lib.Keyring([key]),
    rules: {
      profile: lib.PROFILES.standard,
      leeway: 0,
      requireExp: true,
      issuer: undefined,
      audience: undefined,
    },
    clock: () => Math.floor(Date.now() / 1000),
  });
  const jwk = key.type === 'secret' ? lib.exportJwk(key, { private: true }) : lib.exportJwk(key);
  const joseKey =
    key.type === 'secret'
      ? await jose.importJWK({ kty: 'oct', k: jwk.k, alg }, alg)
      : await jose.importJWK(jwk as Jose.JWK, alg);
  let a = 0;
  let b = 0;
  return {
    tessera: () => verifier.verify(tokens[a++ % POOL] as string),
    jose: () => jose.jwtVerify(tokens[b++ % POOL] as string, joseKey, { algorithms: [alg] }),
  };
}

/** Run `n` verifications one after another, awaiting each when it is a promise. */
export async function runOps(fn: () => unknown, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const result = fn();
    if (typeof (result as { then?: unknown })?.then === 'function') await result;
  }
}

/** One algorithm's figures on one runtime and backend. */
export interface Measured {
  readonly alg: string;
  /** Median verifications per second. */
  readonly tessera: number;
  readonly jose: number;
  /** Median over the rounds of Tessera's speed divided by jose's in the same round. */
  readonly ratio: number;
  /**
   * With `crypto.subtle.verify` answering at once: the microseconds per verification
   * each library spends around the call (decoding, checks, promises, claims). Web
   * Crypto backend only; the fastest of the rounds, the figure least disturbed by
   * other work on the machine.
   */
  readonly around?: { readonly tessera: number; readonly jose: number };
  /**
   * Median CPU time of the process per verification, in µs (every thread: Web
   * Crypto's work on Node runs on worker threads). Less moved by other work on the
   * machine than the speeds, which also measure how much of the cores the
   * process got. Where `process.cpuUsage` exists (Node, Bun, Deno).
   */
  readonly cpu?: { readonly tessera: number; readonly jose: number };
}

/**
 * Ops per second of each contender, measured where the clock moves during
 * computation (Node, Bun, Deno): in each round one slice of each, in alternating
 * order (so neither always runs after the other's garbage), and the ratio of the
 * round's two speeds; medians over the rounds.
 */
export async function measure(
  lib: typeof Tessera,
  jose: typeof Jose,
  algs: readonly Tessera.JwsAlgorithm[],
  options: { rounds: number; sliceMs: number },
): Promise<Measured[]> {
  const results: Measured[] = [];
  for (const alg of algs) {
    const prepared = await prepare(lib, jose, alg);
    const samples: Record<Contender, number[]> = { tessera: [], jose: [] };
    const cpu: Record<Contender, number[]> = { tessera: [], jose: [] };
    const ratios: number[] = [];
    await runOps(prepared.tessera, 50);
    await runOps(prepared.jose, 50);
    for (let round = 0; round < options.rounds; round++) {
      const speed: Partial<Record<Contender, number>> = {};
      for (const contender of round % 2 === 0 ? CONTENDERS : REVERSED) {
        const slice = await timedSlice(prepared[contender], options.sliceMs);
        speed[contender] = slice.opsPerSecond;
        samples[contender].push(slice.opsPerSecond);
        if (slice.cpuPerOp !== undefined) cpu[contender].push(slice.cpuPerOp);
      }
      ratios.push((speed.tessera ?? 0) / (speed.jose ?? 1));
    }
    const around =
      lib.cryptoBackend() === 'webcrypto' ? await aroundTheCall(prepared, options.rounds) : undefined;
    results.push({
      alg,
      tessera: median(samples.tessera),
      jose: median(samples.jose),
      ratio: median(ratios),
      ...(around === undefined ? {} : { around }),
      ...(cpu.tessera.length === 0 ? {} : { cpu: { tessera: median(cpu.tessera), jose: median(cpu.jose) } }),
    });
  }
  return results;
}

const CONTENDERS = ['tessera', 'jose'] as const;
const REVERSED = ['jose', 'tessera'] as const;

/** The process's CPU time so far in µs, where the runtime tells it. */
const cpuNow: (() => number) | undefined = (() => {
  const usage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process
    ?.cpuUsage;
  if (typeof usage !== 'function') return undefined;
  return () => {
    const { user, system } = usage();
    return user + system;
  };
})();

async function timedSlice(
  fn: () => unknown,
  sliceMs: number,
): Promise<{ opsPerSecond: number; cpuPerOp: number | undefined }> {
  const cpuStart = cpuNow?.();
  const start = performance.now();
  let ops = 0;
  while (performance.now() - start < sliceMs) {
    await runOps(fn, 10);
    ops += 10;
  }
  const elapsed = performance.now() - start;
  const cpuEnd = cpuNow?.();
  return {
    opsPerSecond: (ops * 1000) / elapsed,
    cpuPerOp: cpuStart === undefined || cpuEnd === undefined ? undefined : (cpuEnd - cpuStart) / ops,
  };
}

async function opsPerSecond(fn: () => unknown, sliceMs: number): Promise<number> {
  return (await timedSlice(fn, sliceMs)).opsPerSecond;
}

/**
 * Each contender's cost around `crypto.subtle.verify`, with the primitive
 * replaced by an immediate `true` for the duration (both libraries look it up on
 * the shared SubtleCrypto at each call). jose's HMAC keys are raw bytes that it
 * imports into a CryptoKey on every call, so its HMAC figure still includes
 * that real `importKey`.
 */
async function aroundTheCall(
  prepared: Prepared,
  rounds: number,
): Promise<{ tessera: number; jose: number } | undefined> {
  const subtle = globalThis.crypto.subtle;
  const own = Object.getOwnPropertyDescriptor(subtle, 'verify');
  try {
    Object.defineProperty(subtle, 'verify', { value: async () => true, configurable: true, writable: true });
  } catch {
    return undefined;
  }
  try {
    const best: Record<Contender, number> = {
      tessera: Number.POSITIVE_INFINITY,
      jose: Number.POSITIVE_INFINITY,
    };
    for (let round = 0; round < rounds * 4; round++) {
      for (const contender of round % 2 === 0 ? CONTENDERS : REVERSED) {
        const perOp = 1e6 / (await opsPerSecond(prepared[contender], 25));
        best[contender] = Math.min(best[contender], perOp);
      }
    }
    return best;
  } finally {
    if (own === undefined) delete (subtle as { verify?: unknown }).verify;
    else Object.defineProperty(subtle, 'verify', own);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
