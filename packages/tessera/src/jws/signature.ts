/**
 * Raw JWS signatures on node:crypto: one function to sign, one to verify, both
 * driven by the algorithm table. The algorithm always comes from the key, never
 * from a token.
 */
import { constants, createHmac, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';
import { ALGORITHMS, type AlgorithmSpec, type JwsAlgorithm } from './algorithms.js';

/** A key bound to its one algorithm: a secret or private key to sign, a secret or public key to verify. */
export interface BoundKey {
  readonly alg: JwsAlgorithm;
  readonly key: KeyObject;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

/** Sign `data` (the ASCII signing input) with a bound key. */
export function signBytes(bound: BoundKey, data: Buffer): Buffer {
  const spec = ALGORITHMS[bound.alg];
  switch (spec.family) {
    case 'hmac':
      return createHmac(spec.hash!, bound.key).update(data).digest();
    case 'rsa':
      return sign(spec.hash!, data, bound.key);
    case 'rsa-pss':
      return sign(spec.hash!, data, { key: bound.key, ...PSS });
    case 'ecdsa':
      return sign(spec.hash!, data, { key: bound.key, dsaEncoding: 'ieee-p1363' });
    case 'eddsa':
      return sign(null, data, bound.key);
  }
}

/** Verify `signature` over `data` with a bound key. Never throws for a bad signature. */
export function verifyBytes(bound: BoundKey, data: Buffer | string, signature: Buffer): boolean {
  const spec = ALGORITHMS[bound.alg];
  if (spec.family === 'hmac') {
    // The signing input is base64url and dots: latin1 encodes it byte for byte, faster than UTF-8.
    const expected =
      typeof data === 'string'
        ? createHmac(spec.hash!, bound.key).update(data, 'latin1').digest()
        : createHmac(spec.hash!, bound.key).update(data).digest();
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  try {
    switch (spec.family) {
      case 'rsa':
        return verify(spec.hash!, bytes, bound.key, signature);
      case 'rsa-pss':
        return verify(spec.hash!, bytes, { key: bound.key, ...PSS }, signature);
      case 'ecdsa':
        return (
          validEcdsaShape(spec, signature) &&
          verify(spec.hash!, bytes, { key: bound.key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      case 'eddsa':
        return verify(null, bytes, bound.key, signature);
    }
  } catch {
    // OpenSSL throws for some malformed signatures (wrong length for the modulus);
    // a malformed signature is simply a signature that does not verify.
    return false;
  }
}

/**
 * r||s of exactly the curve's length, and neither half zero: the "psychic
 * signature" (CVE-2022-21449) must fail here whatever the crypto library does.
 */
function validEcdsaShape(spec: AlgorithmSpec, signature: Buffer): boolean {
  const size = spec.signatureBytes!;
  if (signature.length !== size) return false;
  const half = size / 2;
  return !isZero(signature, 0, half) && !isZero(signature, half, size);
}

function isZero(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
