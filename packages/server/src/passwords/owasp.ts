/**
 * OWASP's recommended argon2id setting, the default cost of new hashes. Its
 * own module (no native code) so that the configuration can name it without
 * loading argon2.
 *
 * @module
 */
import type { Argon2Cost } from './argon2.js';

/** OWASP's recommended argon2id setting (Password Storage Cheat Sheet): m=19456 KiB, t=2, p=1. */
export const OWASP_ARGON2ID: Readonly<Argon2Cost> = Object.freeze({
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});
