/**
 * argon2id through @node-rs/argon2 (native, run on the password threads of
 * threads.ts, off the event loop), and the reading of PHC strings: the parameters are checked
 * against {@link HASH_LIMITS} before the native code sees the string, and
 * compared with the configured ones to decide on a rehash.
 *
 * @module
 */
import { HASH_LIMITS } from './limits.js';
import { passwordThreads } from './threads.js';

/** argon2id cost parameters. */
export interface Argon2Cost {
  /** Memory in KiB (`m`). */
  readonly memoryCost: number;
  /** Passes (`t`). */
  readonly timeCost: number;
  /** Lanes (`p`). */
  readonly parallelism: number;
}

/** The argon2 variants a PHC string can name. */
export type Argon2Variant = 'argon2id' | 'argon2i' | 'argon2d';

/** What a PHC string says about itself. */
export interface Argon2Phc extends Argon2Cost {
  readonly variant: Argon2Variant;
  /** 0x13 (19) for current argon2, 0x10 (16) for the first release. */
  readonly version: number;
  readonly saltBytes: number;
  readonly hashBytes: number;
}

/** Output length of the hashes made here, in bytes. */
export const ARGON2_OUTPUT_BYTES = 32;
/** Salt length of the hashes made here, in bytes (@node-rs/argon2's default). */
export const ARGON2_SALT_BYTES = 16;

const PHC =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(\d{1,3})\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * Parses a PHC argon2 string. Undefined when it is not one, or when a parameter
 * is outside {@link HASH_LIMITS}.
 */
export function parseArgon2(encoded: string): Argon2Phc | undefined {
  const m = PHC.exec(encoded);
  if (m === null) return undefined;
  const [, variant, v, mem, t, p, salt, digest] = m as unknown as [
    string,
    Argon2Variant,
    string | undefined,
    string,
    string,
    string,
    string,
    string,
  ];
  const parsed: Argon2Phc = {
    variant,
    version: v === undefined ? 0x10 : Number(v),
    memoryCost: Number(mem),
    timeCost: Number(t),
    parallelism: Number(p),
    saltBytes: Math.floor((salt.length * 3) / 4),
    hashBytes: Math.floor((digest.length * 3) / 4),
  };
  if (parsed.version !== 0x10 && parsed.version !== 0x13) return undefined;
  if (!withinLimits(parsed)) return undefined;
  if (salt.length > HASH_LIMITS.maxSaltChars || parsed.saltBytes < 8) return undefined;
  if (parsed.hashBytes < HASH_LIMITS.minKeyBytes || parsed.hashBytes > HASH_LIMITS.maxKeyBytes)
    return undefined;
  // argon2 needs at least 8 KiB per lane.
  if (parsed.memoryCost < 8 * parsed.parallelism) return undefined;
  return parsed;
}

/** Are these costs allowed, for a stored hash or for the configuration? */
export function withinLimits(cost: Argon2Cost): boolean {
  return (
    Number.isSafeInteger(cost.memoryCost) &&
    Number.isSafeInteger(cost.timeCost) &&
    Number.isSafeInteger(cost.parallelism) &&
    cost.memoryCost >= 8 &&
    cost.memoryCost <= HASH_LIMITS.maxArgon2MemoryKiB &&
    cost.timeCost >= 1 &&
    cost.timeCost <= HASH_LIMITS.maxArgon2TimeCost &&
    cost.parallelism >= 1 &&
    cost.parallelism <= HASH_LIMITS.maxArgon2Parallelism &&
    cost.memoryCost * cost.timeCost <= HASH_LIMITS.maxArgon2Work
  );
}

/**
 * Should a hash that verified be replaced by one made with `current`? Yes for
 * anything but argon2id version 0x13, and for less memory, fewer passes, a
 * shorter salt or a shorter output than `current` gives. More lanes or a
 * higher cost than configured is no reason to rehash.
 */
export function argon2NeedsRehash(phc: Argon2Phc, current: Argon2Cost): boolean {
  return (
    phc.variant !== 'argon2id' ||
    phc.version !== 0x13 ||
    phc.memoryCost < current.memoryCost ||
    phc.timeCost < current.timeCost ||
    phc.saltBytes < ARGON2_SALT_BYTES ||
    phc.hashBytes < ARGON2_OUTPUT_BYTES
  );
}

/** Hashes with argon2id, version 0x13, a random 16-byte salt; PHC string out. Runs on a password thread. */
export function argon2Hash(password: string, cost: Argon2Cost): Promise<string> {
  return passwordThreads().run({ op: 'argon2-hash', password, cost, outputLen: ARGON2_OUTPUT_BYTES });
}

/**
 * Verifies against a PHC string already accepted by {@link parseArgon2}. The
 * native code compares in constant time. A failure inside it is a mismatch.
 */
export async function argon2Verify(encoded: string, password: string): Promise<boolean> {
  try {
    return await passwordThreads().run({ op: 'argon2-verify', encoded, password });
  } catch {
    return false;
  }
}
