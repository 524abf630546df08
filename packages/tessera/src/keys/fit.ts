/**
 * Does a key fit the algorithm it is about to be bound to? Checked once,
 * at import, so that nothing at verification time has to ask.
 */
import type { KeyInfo } from '../crypto/backend.js';
import { KeyImportError } from '../errors.js';
import { ALGORITHMS, type JwsAlgorithm, MIN_RSA_BITS } from '../jws/algorithms.js';

/** The HMAC algorithms. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** Every algorithm that signs with a key pair. */
export type AsymmetricAlgorithm = Exclude<JwsAlgorithm, HmacAlgorithm>;

/** Is `alg` one of the HMAC algorithms? */
export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return alg === 'HS256' || alg === 'HS384' || alg === 'HS512';
}

/**
 * Throw a {@link KeyImportError} unless `key` (described by its backend) is exactly the
 * kind of key `alg` needs. `what` names the input in the message.
 */
export function assertKeyFitsAlgorithm(key: KeyInfo, alg: JwsAlgorithm, what = 'key'): void {
  const spec = ALGORITHMS[alg];
  if (key.type === 'secret') {
    if (spec.family !== 'hmac') throw new KeyImportError(`A secret key cannot be used with ${alg}`);
    return;
  }
  if (spec.family === 'hmac') {
    // The root of the "alg confusion" attacks: never let key-pair material
    // become an HMAC secret, whatever path it came in by.
    throw new KeyImportError(`${alg} needs a secret, not a ${key.type} key`);
  }
  const type = key.asymmetricKeyType;
  const details = key;
  switch (spec.family) {
    case 'rsa':
      // An rsa-pss key carries a restriction to PSS in its encoding; signing
      // PKCS#1 v1.5 with it would silently ignore what its owner declared.
      if (type !== 'rsa') throw new KeyImportError(`${alg} needs an RSA ${what}, got ${type ?? 'unknown'}`);
      assertModulus(details.modulusLength, alg);
      assertPublicExponent(details.publicExponent, alg);
      return;
    case 'rsa-pss':
      if (type !== 'rsa' && type !== 'rsa-pss') {
        throw new KeyImportError(`${alg} needs an RSA or RSA-PSS ${what}, got ${type ?? 'unknown'}`);
      }
      assertModulus(details.modulusLength, alg);
      assertPublicExponent(details.publicExponent, alg);
      if (type === 'rsa-pss') assertPssParameters(details, alg, spec.hash ?? 'sha256');
      return;
    case 'ecdsa':
      if (type !== 'ec') throw new KeyImportError(`${alg} needs an EC ${what}, got ${type ?? 'unknown'}`);
      if (details.namedCurve !== spec.curve) {
        throw new KeyImportError(
          `${alg} needs curve ${spec.jwkCurve}, got ${details.namedCurve ?? 'unknown'}`,
        );
      }
      return;
    case 'eddsa':
      if (type !== 'ed25519' && type !== 'ed448') {
        throw new KeyImportError(`${alg} needs an Ed25519 or Ed448 ${what}, got ${type ?? 'unknown'}`);
      }
      return;
  }
}

function assertModulus(bits: number | undefined, alg: JwsAlgorithm): void {
  if (bits === undefined || bits < MIN_RSA_BITS) {
    throw new KeyImportError(
      `${alg} needs an RSA modulus of at least ${MIN_RSA_BITS} bits, got ${bits ?? 'unknown'}`,
    );
  }
}

/** Smallest RSA public exponent accepted: 2^16 + 1, the floor of FIPS 186-5 (and NIST SP 800-56B). */
export const MIN_RSA_PUBLIC_EXPONENT = 65537n;

/**
 * With e = 1 every signature is its own padded message, so anyone can forge one;
 * an even e is not an RSA key at all, and small odd ones (3, 17) invite the
 * padding-check forgeries of lax verifiers. Only odd e >= 65537 is imported.
 */
function assertPublicExponent(e: bigint | undefined, alg: JwsAlgorithm): void {
  if (e === undefined || e < MIN_RSA_PUBLIC_EXPONENT || e % 2n === 0n) {
    throw new KeyImportError(
      `${alg} needs an odd RSA public exponent of at least ${MIN_RSA_PUBLIC_EXPONENT}, got ${e === undefined ? 'unknown' : e > 1n << 64n ? 'a larger even one' : e}`,
    );
  }
}

/**
 * An RSA-PSS key may pin its digest and salt; OpenSSL enforces the pin when
 * signing, so a key pinned to another digest would fail on first use. Refuse it now.
 */
function assertPssParameters(
  details: { hashAlgorithm?: string; mgf1HashAlgorithm?: string; saltLength?: number },
  alg: JwsAlgorithm,
  hash: string,
): void {
  if (details.hashAlgorithm !== undefined && details.hashAlgorithm !== hash) {
    throw new KeyImportError(
      `${alg} needs an RSA-PSS key for ${hash}, this one is pinned to ${details.hashAlgorithm}`,
    );
  }
  if (details.mgf1HashAlgorithm !== undefined && details.mgf1HashAlgorithm !== hash) {
    throw new KeyImportError(
      `${alg} needs MGF1 with ${hash}, this key is pinned to ${details.mgf1HashAlgorithm}`,
    );
  }
  const digestBytes = hash === 'sha512' ? 64 : hash === 'sha384' ? 48 : 32;
  if (details.saltLength !== undefined && details.saltLength > digestBytes) {
    throw new KeyImportError(
      `${alg} uses a ${digestBytes}-byte salt; this key demands at least ${details.saltLength}`,
    );
  }
}
