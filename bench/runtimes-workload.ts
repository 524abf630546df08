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

/**
 * Ops per second of each contender, measured where the clock moves during
 * computation (Node, Bun, Deno): interleaved slices, median of the rounds.
 */
export async function measure(
  lib: typeof Tessera,
  jose: typeof Jose,
  algs: readonly Tessera.JwsAlgorithm[],
  options: { rounds: number; sliceMs: number },
): Promise<Array<{ alg: string; tessera: number; jose: number }>> {
  const results: Array<{ alg: string; tessera: number; jose: number }> = [];
  for (const alg of algs) {
    const prepared = await prepare(lib, jose, alg);
    const samples: Record<Contender, number[]> = { tessera: [], jose: [] };
    await runOps(prepared.tessera, 50);
    await runOps(prepared.jose, 50);
    for (let round = 0; round < options.rounds; round++) {
      for (const contender of ['tessera', 'jose'] as const) {
        const fn = prepared[contender];
        const start = performance.now();
        let ops = 0;
        while (performance.now() - start < options.sliceMs) {
          await runOps(fn, 10);
          ops += 10;
        }
        samples[contender].push((ops * 1000) / (performance.now() - start));
      }
    }
    results.push({ alg, tessera: median(samples.tessera), jose: median(samples.jose) });
  }
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
