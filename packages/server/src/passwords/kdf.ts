/**
 * The key derivations of the imported formats, on node:crypto's asynchronous
 * functions (libuv threadpool, off the event loop), and the constant-time
 * comparison of their outputs.
 *
 * @module
 */
import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';

/** PBKDF2 digests the imported formats use. */
export type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512';

/** Output length of each digest, in bytes. */
export const DIGEST_BYTES: Readonly<Record<Pbkdf2Digest, number>> = { sha1: 20, sha256: 32, sha512: 64 };

/** Is `name` a PBKDF2 digest we accept? */
export function isPbkdf2Digest(name: string): name is Pbkdf2Digest {
  return name === 'sha1' || name === 'sha256' || name === 'sha512';
}

/** PBKDF2-HMAC on the threadpool. */
export function pbkdf2Async(
  password: string,
  salt: string,
  iterations: number,
  keyBytes: number,
  digest: Pbkdf2Digest,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(
      Buffer.from(password, 'utf8'),
      Buffer.from(salt, 'utf8'),
      iterations,
      keyBytes,
      digest,
      (e, key) => (e ? reject(e) : resolve(key)),
    );
  });
}

/** scrypt on the threadpool, with room for exactly the memory these parameters need. */
export function scryptAsync(
  password: string,
  salt: string,
  cost: { readonly n: number; readonly r: number; readonly p: number },
  keyBytes: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(password, 'utf8'),
      Buffer.from(salt, 'utf8'),
      keyBytes,
      // OpenSSL wants a little more than 128·N·r; Python's hashlib callers pass 132·N·r·p.
      { N: cost.n, r: cost.r, p: cost.p, maxmem: 132 * cost.n * cost.r * cost.p + 1024 * 1024 },
      (e, key) => (e ? reject(e) : resolve(key)),
    );
  });
}

/** Constant-time equality of two derived keys; lengths are public (they come from the stored hash). */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
