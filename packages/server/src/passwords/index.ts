/**
 * Password hashing and verification for the auth service.
 *
 * New hashes are argon2id (@node-rs/argon2) with OWASP's first recommended
 * setting: m=19456 KiB (19 MiB), t=2, p=1, 16-byte salt, 32-byte output, as a
 * PHC string. Hashes imported from Django and Flask (Werkzeug) apps verify too
 * (formats.ts lists them) and report `needsRehash`, so the service stores an
 * argon2id hash in their place on the first successful sign-in.
 *
 * All hashing and verification runs on password threads of lowered priority
 * (threads.ts; never on the event loop), at most
 * {@link PasswordParameters.maxConcurrent} at a time; the rest wait their turn,
 * so a burst of sign-ins cannot take every core, nor an equal share of the
 * event loop's core, from the requests that only verify or refresh tokens.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from 'tessera-auth';
import { refuseUnknownOptions } from 'tessera-auth/core';
import {
  ARGON2_OUTPUT_BYTES,
  ARGON2_SALT_BYTES,
  type Argon2Cost,
  argon2Hash,
  argon2Verify,
  withinLimits,
} from './argon2.js';
import { ConcurrencyLimit } from './concurrency.js';
import { readStoredHash } from './formats.js';
import { HASH_LIMITS } from './limits.js';
import { OWASP_ARGON2ID } from './owasp.js';
import { DEFAULT_PASSWORD_NICE, HashThreads, passwordThreads, usePasswordThreads } from './threads.js';
import { FailureFloor } from './timing.js';

export type { Argon2Cost } from './argon2.js';
export { HASH_LIMITS } from './limits.js';
export { OWASP_ARGON2ID } from './owasp.js';

/** The result of {@link verifyPassword}. */
export interface PasswordCheck {
  /** The password matches the stored hash. */
  readonly ok: boolean;
  /**
   * The hash matched but is not argon2id at the configured cost (an imported
   * Django or Werkzeug hash, or weaker argon2 parameters): store
   * `await hashPassword(password)` in its place. Always false when `ok` is false.
   */
  readonly needsRehash: boolean;
}

/** What {@link passwordParameters} reports. */
export interface PasswordParameters {
  readonly algorithm: 'argon2id';
  /** argon2 version 0x13. */
  readonly version: 19;
  /** KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
  readonly saltBytes: number;
  readonly outputBytes: number;
  /** Hashes and verifications running at once; the others queue. */
  readonly maxConcurrent: number;
  /** Added to the process's nice value for the threads that hash (0: the process's priority). */
  readonly nice: number;
  /** The stored formats {@link verifyPassword} reads. */
  readonly accepts: readonly string[];
  /** Bounds on the cost read from a stored hash. */
  readonly limits: typeof HASH_LIMITS;
}

/** Options of {@link configurePasswords}. */
export interface PasswordOptions {
  /** argon2id cost of new hashes. Default {@link OWASP_ARGON2ID}. */
  readonly argon2?: Partial<Argon2Cost>;
  /**
   * Hashes and verifications running at once. Default: one less than the
   * smaller of the threadpool size (`UV_THREADPOOL_SIZE`, 4) and the number of
   * cores, at least 1, so that one core stays for the event loop.
   */
  readonly maxConcurrent?: number;
  /**
   * Added to the process's nice value for the threads that hash and verify
   * (0 to 19; Linux), so that a core shared with the event loop goes to token
   * requests first. Default 10: a hash thread then gets about a tenth of a
   * shared core while the event loop is busy, all of an idle one. 0 keeps the
   * process's priority.
   */
  readonly nice?: number;
}

const ACCEPTS = Object.freeze([
  'argon2 PHC ($argon2id$, $argon2i$, $argon2d$)',
  'django pbkdf2_sha256$, pbkdf2_sha1$',
  'django argon2$',
  'werkzeug pbkdf2:sha1|sha256|sha512:<iterations>$',
  'werkzeug scrypt:<N>:<r>:<p>$',
]);

/** The default of {@link PasswordOptions.maxConcurrent}. */
export function defaultMaxConcurrent(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(pool, availableParallelism()) - 1);
}

let cost: Argon2Cost = OWASP_ARGON2ID;
let limit = new ConcurrencyLimit(defaultMaxConcurrent());
usePasswordThreads(new HashThreads({ size: limit.limit, nice: DEFAULT_PASSWORD_NICE }));
let floor = new FailureFloor();
// A hash of a random password at the current cost: what unknown users are "checked" against.
let dummy: Promise<string> | undefined;

/**
 * Sets the argon2id cost of new hashes and the concurrency bound. Call it once
 * at start, before serving; the options are checked here (unknown keys,
 * ranges) and a {@link ConfigError} names the problem.
 */
export function configurePasswords(options: PasswordOptions): void {
  refuseUnknownOptions(options, ['argon2', 'maxConcurrent', 'nice'], 'password options');
  refuseUnknownOptions(options.argon2, ['memoryCost', 'timeCost', 'parallelism'], 'password options.argon2');
  const next: Argon2Cost = { ...OWASP_ARGON2ID, ...options.argon2 };
  if (!withinLimits(next) || next.memoryCost < 8 * next.parallelism) {
    throw new ConfigError(
      `password options.argon2: memoryCost must be an integer from 8·parallelism to ${HASH_LIMITS.maxArgon2MemoryKiB} KiB, ` +
        `timeCost 1 to ${HASH_LIMITS.maxArgon2TimeCost}, parallelism 1 to ${HASH_LIMITS.maxArgon2Parallelism}, ` +
        `memoryCost × timeCost at most ${HASH_LIMITS.maxArgon2Work}`,
    );
  }
  const max = options.maxConcurrent ?? defaultMaxConcurrent();
  if (!Number.isInteger(max) || max < 1 || max > 64) {
    throw new ConfigError('password options.maxConcurrent must be an integer from 1 to 64');
  }
  const nice = options.nice ?? DEFAULT_PASSWORD_NICE;
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
    throw new ConfigError('password options.nice must be an integer from 0 to 19');
  }
  cost = Object.freeze(next);
  limit = new ConcurrencyLimit(max);
  usePasswordThreads(new HashThreads({ size: max, nice }));
  floor = new FailureFloor();
  dummy = undefined;
}

/**
 * Starts the password threads now rather than at the first sign-in (which
 * would wait for them), and resolves to the nice value each runs at (null where
 * a thread cannot set its own priority).
 */
export function startPasswordThreads(): Promise<(number | null)[]> {
  return passwordThreads().start();
}

/** The parameters new hashes get, the concurrency bound and the formats read. */
export function passwordParameters(): PasswordParameters {
  return {
    algorithm: 'argon2id',
    version: 19,
    ...cost,
    saltBytes: ARGON2_SALT_BYTES,
    outputBytes: ARGON2_OUTPUT_BYTES,
    maxConcurrent: limit.limit,
    nice: passwordThreads().nice,
    accepts: ACCEPTS,
    limits: HASH_LIMITS,
  };
}

/**
 * Hashes a password with argon2id at the configured cost (OWASP's m=19456 KiB,
 * t=2, p=1 unless {@link configurePasswords} said otherwise), random 16-byte
 * salt, 32-byte output; returns the PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
 *
 * @throws RangeError when the password is longer than
 * {@link HASH_LIMITS}.maxPasswordBytes (4096 UTF-8 bytes): check the length first.
 */
export function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string' || Buffer.byteLength(password, 'utf8') > HASH_LIMITS.maxPasswordBytes) {
    return Promise.reject(
      new RangeError(`password must be a string of at most ${HASH_LIMITS.maxPasswordBytes} bytes`),
    );
  }
  const at = cost;
  return limit.run(() => argon2Hash(password, at));
}

/**
 * Checks a password against a stored hash: argon2 PHC, Django PBKDF2 or
 * argon2, Werkzeug PBKDF2 or scrypt (see formats.ts). Never throws: a malformed
 * hash, one past the cost limits or a password past 4096 bytes gives
 * `{ ok: false, needsRehash: false }` (after the cost of a normal verification,
 * so that such rows cannot be told apart by time). A refusal returns no
 * earlier than the refusal floor (see {@link passwordTiming}).
 */
export async function verifyPassword(password: string, encoded: string): Promise<PasswordCheck> {
  void dummyHash(); // made ahead, so that the first unknown user does not pay for it
  const stored = typeof encoded === 'string' ? readStoredHash(encoded, cost) : undefined;
  if (
    stored === undefined ||
    typeof password !== 'string' ||
    Buffer.byteLength(password, 'utf8') > HASH_LIMITS.maxPasswordBytes
  ) {
    await verifyDummy(typeof password === 'string' ? password.slice(0, 64) : '');
    return { ok: false, needsRehash: false };
  }
  let started = 0;
  const ok = await limit.run(async () => {
    started = performance.now();
    const matched = await stored.verify(password);
    floor.observe(stored.kind, performance.now() - started);
    return matched;
  });
  // A refusal ends no earlier than the slowest kind of hash would (timing.ts), whatever this one cost.
  if (!ok) await floor.wait(started);
  return { ok, needsRehash: ok && stored.needsRehash };
}

/** What {@link passwordTiming} reports. */
export interface PasswordTiming {
  /** Every refused verification and every unknown user takes at least this long (ms, from its slot). */
  readonly floorMs: number;
  /** Mean compute ms per kind of hash seen (format and cost). */
  readonly kinds: Readonly<Record<string, number>>;
}

/** The refusal time floor and the kinds of hash it was learnt from. */
export function passwordTiming(): PasswordTiming {
  return { floorMs: Math.round(floor.floorMs * 10) / 10, kinds: floor.kinds() };
}

/**
 * Teaches the refusal floor the cost of the given stored hashes: one
 * verification (of a random password) per kind not seen yet, at most
 * `maxKinds` kinds, plus the dummy. The service calls it at start with a
 * sample of its stored hashes that are not argon2id at the current cost, and
 * after an import, so that the first unknown user after an import of slow
 * hashes already takes as long as an imported user.
 */
export async function calibratePasswordTiming(encoded: Iterable<string>, maxKinds = 16): Promise<void> {
  const seen = new Set(Object.keys(floor.kinds()));
  const probe = `calibration:${Math.random()}`;
  const jobs: Promise<unknown>[] = [];
  for (const text of encoded) {
    if (jobs.length >= maxKinds) break;
    const stored = typeof text === 'string' ? readStoredHash(text, cost) : undefined;
    if (stored === undefined || seen.has(stored.kind)) continue;
    seen.add(stored.kind);
    jobs.push(
      limit.run(async () => {
        const started = performance.now();
        await stored.verify(probe);
        floor.observe(stored.kind, performance.now() - started);
      }),
    );
  }
  const dummyKind = `argon2:argon2id:m=${cost.memoryCost},t=${cost.timeCost},p=${cost.parallelism}`;
  if (!seen.has(dummyKind)) jobs.push(dummyCompute(probe));
  await Promise.all(jobs);
}

/**
 * Costs what verifying against an argon2id hash at the configured cost costs,
 * then waits out the refusal floor, and answers nothing: call it for a sign-in
 * whose user does not exist, so that "no such user" and "wrong password" take
 * the same time, including for users whose stored hash is still an imported
 * PBKDF2 or scrypt one (see timing.ts).
 */
export async function verifyDummy(password: string): Promise<void> {
  const started = await dummyCompute(typeof password === 'string' ? password : '');
  await floor.wait(started);
}

/** One verification against the dummy, timed like a real one; resolves to when its slot began. */
async function dummyCompute(password: string): Promise<number> {
  const against = await dummyHash();
  const at = cost;
  let started = 0;
  await limit.run(async () => {
    started = performance.now();
    await argon2Verify(against, password);
    floor.observe(
      `argon2:argon2id:m=${at.memoryCost},t=${at.timeCost},p=${at.parallelism}`,
      performance.now() - started,
    );
  });
  return started;
}

function dummyHash(): Promise<string> {
  if (dummy === undefined) {
    const at = cost;
    const made = limit.run(() => argon2Hash(`dummy:${Math.random()}:${Date.now()}`, at));
    dummy = made;
    // A failure here must not stick: the next call tries again.
    made.catch(() => {
      if (dummy === made) dummy = undefined;
    });
  }
  return dummy;
}
