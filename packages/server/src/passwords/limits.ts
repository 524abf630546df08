/**
 * Upper bounds on the cost parameters read from a stored hash. Imported hashes
 * come from another system's database; a row with `pbkdf2_sha256$2000000000$...`
 * or `scrypt:1048576:64:64$...` must not buy minutes of CPU or gigabytes of
 * memory per sign-in attempt. A hash past these bounds does not verify
 * (`{ ok: false }`), at the cost of a normal verification.
 *
 * The bounds sit well above what Django (1 200 000 PBKDF2 iterations in 6.0),
 * Werkzeug (1 000 000 iterations; scrypt N=32768, r=8, p=1) and argon2-cffi
 * (m=65536, t=3, p=4; Django's argon2 m=102400, t=2, p=8) produce.
 *
 * @module
 */

/** The bounds, frozen; {@link passwordParameters} reports them. */
export const HASH_LIMITS = Object.freeze({
  /** PBKDF2 iterations (Django and Werkzeug). */
  maxPbkdf2Iterations: 3_000_000,
  /** scrypt N (a power of two). */
  maxScryptN: 2 ** 20,
  /** scrypt r. */
  maxScryptR: 32,
  /** scrypt p. */
  maxScryptP: 16,
  /** scrypt memory, 128·N·r bytes. */
  maxScryptMemoryBytes: 128 * 1024 * 1024,
  /** scrypt work, N·r·p (Werkzeug's default is 2^18). */
  maxScryptWork: 2 ** 21,
  /** argon2 memory in KiB (128 MiB). */
  maxArgon2MemoryKiB: 131_072,
  /** argon2 passes. */
  maxArgon2TimeCost: 16,
  /** argon2 lanes. */
  maxArgon2Parallelism: 16,
  /** argon2 memory × passes, in KiB (the work of one verification). */
  maxArgon2Work: 524_288,
  /** Salt length in characters as stored. */
  maxSaltChars: 256,
  /** Derived key length in bytes. */
  minKeyBytes: 16,
  maxKeyBytes: 128,
  /** Password length in UTF-8 bytes; longer passwords never verify (argon2 hashes all of it). */
  maxPasswordBytes: 4096,
});
