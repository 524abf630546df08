/**
 * The key derivations of the imported formats, on node:crypto run by the
 * password threads of threads.ts (off the event loop), and the constant-time
 * comparison of their outputs.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { passwordThreads } from './threads.js';

/** PBKDF2 digests the imported formats use. */
export type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512';

/** Output length of each digest, in bytes. */
export const DIGEST_BYTES: Readonly<Record<Pbkdf2Digest, number>> = { sha1: 20, sha256: 32, sha512: 64 };

/** Is `name` a PBKDF2 digest we accept? */
export function isPbkdf2Digest(name: string): name is Pbkdf2Digest {
  return name === 'sha1' || name === 'sha256' || name === 'sha512';
}

/** PBKDF2-HMAC on a password thread. */
export function pbkdf2Async(
  password: string,
  salt: string,
  iterations: number,
  keyBytes: number,
  digest: Pbkdf2Digest,
): Promise<Uint8Array> {
  return passwordThreads().run({ op: 'pbkdf2', password, salt, iterations, keyBytes, digest });
}

/** scrypt on a password thread, with room for exactly the memory these parameters need. */
export function scryptAsync(
  password: string,
  salt: string,
  cost: { readonly n: number; readonly r: number; readonly p: number },
  keyBytes: number,
): Promise<Uint8Array> {
  return passwordThreads().run({ op: 'scrypt', password, salt, ...cost, keyBytes });
}

/** Constant-time equality of two derived keys; lengths are public (they come from the stored hash). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
