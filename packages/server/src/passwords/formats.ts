/**
 * The stored-hash formats {@link verifyPassword} reads, each turned into one
 * check: how to verify a password against it and whether a match should be
 * rehashed. Parsing is strict and bounded (see limits.ts); anything else is
 * `undefined`, which the caller treats as a mismatch.
 *
 * - argon2 PHC, `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (also argon2i/argon2d);
 * - Django `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` and `pbkdf2_sha1$…`;
 * - Django `argon2$argon2id$v=19$…` (Django's prefix before argon2-cffi's PHC string);
 * - Werkzeug `pbkdf2:<sha1|sha256|sha512>:<iterations>$<salt>$<hex>`;
 * - Werkzeug `scrypt:<N>:<r>:<p>$<salt>$<hex>` (64-byte key, Werkzeug 3's format).
 *
 * Not read: Django's `bcrypt_sha256$`/`bcrypt$` (bcrypt is not in node:crypto and
 * would need another native dependency), `md5$`, `sha1$`, `unsalted_*` and
 * `crypt$` (too weak to keep accepting), Werkzeug's `plain` and salted
 * `sha256$` methods (removed in Werkzeug 2.3).
 *
 * @module
 */
import { type Argon2Cost, argon2NeedsRehash, argon2Verify, parseArgon2 } from './argon2.js';
import {
  DIGEST_BYTES,
  isPbkdf2Digest,
  type Pbkdf2Digest,
  pbkdf2Async,
  sameBytes,
  scryptAsync,
} from './kdf.js';
import { HASH_LIMITS } from './limits.js';

/** One stored hash, ready to check a password against. */
export interface StoredHash {
  /** The format, for logs and reports: `argon2`, `django-pbkdf2`, `werkzeug-scrypt`, … */
  readonly format: string;
  /**
   * The format with its cost (`django-pbkdf2-sha256:600000`, `argon2:argon2id:m=19456,t=2,p=1`):
   * hashes of one kind cost the same to verify (timing.ts keeps their time).
   */
  readonly kind: string;
  /** True when the password matches. Never throws. */
  verify(password: string): Promise<boolean>;
  /** Whether a match should be replaced by a fresh argon2id hash. */
  readonly needsRehash: boolean;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const DECIMAL = /^[1-9][0-9]{0,9}$/;

/** Reads a stored hash; undefined when it is in no format we read or past the limits. */
export function readStoredHash(encoded: string, current: Argon2Cost): StoredHash | undefined {
  if (encoded.startsWith('$argon2')) return argon2Hash(encoded, encoded, 'argon2', current);
  if (encoded.startsWith('argon2$argon2')) {
    return argon2Hash(encoded, encoded.slice('argon2'.length), 'django-argon2', current);
  }
  if (encoded.startsWith('pbkdf2_')) return djangoPbkdf2(encoded);
  if (encoded.startsWith('pbkdf2:')) return werkzeugPbkdf2(encoded);
  if (encoded.startsWith('scrypt:')) return werkzeugScrypt(encoded);
  return undefined;
}

function argon2Hash(
  original: string,
  phcText: string,
  format: string,
  current: Argon2Cost,
): StoredHash | undefined {
  const phc = parseArgon2(phcText);
  if (phc === undefined) return undefined;
  return {
    format,
    kind: `${format}:${phc.variant}:m=${phc.memoryCost},t=${phc.timeCost},p=${phc.parallelism}`,
    // Django's prefix is not ours to keep: a match is stored again as a plain PHC string.
    needsRehash: original !== phcText || argon2NeedsRehash(phc, current),
    verify: (password) => argon2Verify(phcText, password),
  };
}

function iterations(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n <= HASH_LIMITS.maxPbkdf2Iterations ? n : undefined;
}

function validSalt(salt: string): boolean {
  return salt.length > 0 && salt.length <= HASH_LIMITS.maxSaltChars;
}

function pbkdf2Check(
  format: string,
  digest: Pbkdf2Digest,
  rounds: number,
  salt: string,
  expected: Buffer,
): StoredHash {
  return {
    format,
    kind: `${format}:${rounds}`,
    needsRehash: true,
    verify: async (password) => {
      try {
        return sameBytes(await pbkdf2Async(password, salt, rounds, expected.length, digest), expected);
      } catch {
        return false;
      }
    },
  };
}

// Django: <algorithm>$<iterations>$<salt>$<base64 of the full-length digest>.
function djangoPbkdf2(encoded: string): StoredHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 4) return undefined;
  const [algorithm, rounds, salt, b64] = parts as [string, string, string, string];
  const digest = algorithm === 'pbkdf2_sha256' ? 'sha256' : algorithm === 'pbkdf2_sha1' ? 'sha1' : undefined;
  const n = iterations(rounds);
  if (digest === undefined || n === undefined || !validSalt(salt) || !BASE64.test(b64)) return undefined;
  const expected = Buffer.from(b64, 'base64');
  // Django derives the digest's own length; any other length never matched there either.
  if (expected.length !== DIGEST_BYTES[digest]) return undefined;
  return pbkdf2Check(`django-${algorithm.replace('_', '-')}`, digest, n, salt, expected);
}

/** Werkzeug's `<method>$<salt>$<hex>`, the method split on ':'. */
function werkzeugParts(encoded: string): { method: string[]; salt: string; expected: Buffer } | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 3) return undefined;
  const [method, salt, hex] = parts as [string, string, string];
  if (!validSalt(salt) || !HEX.test(hex)) return undefined;
  const expected = Buffer.from(hex, 'hex');
  if (expected.length < HASH_LIMITS.minKeyBytes || expected.length > HASH_LIMITS.maxKeyBytes)
    return undefined;
  return { method: method.split(':'), salt, expected };
}

function werkzeugPbkdf2(encoded: string): StoredHash | undefined {
  const parts = werkzeugParts(encoded);
  if (parts === undefined || parts.method.length !== 3) return undefined;
  const [, digest, rounds] = parts.method as [string, string, string];
  const n = iterations(rounds);
  if (!isPbkdf2Digest(digest) || n === undefined) return undefined;
  // Werkzeug derives the digest's own length too.
  if (parts.expected.length !== DIGEST_BYTES[digest]) return undefined;
  return pbkdf2Check(`werkzeug-pbkdf2-${digest}`, digest, n, parts.salt, parts.expected);
}

function werkzeugScrypt(encoded: string): StoredHash | undefined {
  const parts = werkzeugParts(encoded);
  if (parts === undefined || parts.method.length !== 4) return undefined;
  const [, nText, rText, pText] = parts.method as [string, string, string, string];
  if (!DECIMAL.test(nText) || !DECIMAL.test(rText) || !DECIMAL.test(pText)) return undefined;
  const cost = { n: Number(nText), r: Number(rText), p: Number(pText) };
  const powerOfTwo = cost.n >= 2 && (cost.n & (cost.n - 1)) === 0;
  if (
    !powerOfTwo ||
    cost.n > HASH_LIMITS.maxScryptN ||
    cost.r > HASH_LIMITS.maxScryptR ||
    cost.p > HASH_LIMITS.maxScryptP ||
    128 * cost.n * cost.r > HASH_LIMITS.maxScryptMemoryBytes ||
    cost.n * cost.r * cost.p > HASH_LIMITS.maxScryptWork
  ) {
    return undefined;
  }
  const { salt, expected } = parts;
  return {
    format: 'werkzeug-scrypt',
    kind: `werkzeug-scrypt:${cost.n}:${cost.r}:${cost.p}`,
    needsRehash: true,
    verify: async (password) => {
      try {
        return sameBytes(await scryptAsync(password, salt, cost, expected.length), expected);
      } catch {
        return false;
      }
    },
  };
}
