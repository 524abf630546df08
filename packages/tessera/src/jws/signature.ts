/**
 * Raw JWS signatures: one function to sign, one to verify, on whichever crypto
 * backend made the key (node:crypto, synchronous; Web Crypto, asynchronous).
 * The algorithm always comes from the key, never from a token, and the checks
 * that do not depend on the backend (the ECDSA signature shape) run here, so
 * both backends refuse exactly the same signatures.
 */
import type { CryptoBackend, KeyHandle } from '../crypto/backend.js';
import { ALGORITHMS, type AlgorithmSpec, type JwsAlgorithm } from './algorithms.js';

/** A key bound to its one algorithm: a secret or private key to sign, a secret or public key to verify. */
export interface BoundKey {
  readonly alg: JwsAlgorithm;
  /** The backend's key object (a node:crypto KeyObject, or Tessera's Web Crypto key holder). */
  readonly key: KeyHandle;
  /** The backend that made `key`, and signs and verifies with it. */
  readonly backend: CryptoBackend;
  /**
   * Verify a signature over the signing input with this key: made once by
   * {@link makeVerifier} when the key is bound, with every rule of
   * {@link verifySignature} in it.
   */
  readonly verify: (data: string | Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;
  /**
   * Verify the signature segment as it stands in the token (base64url text whose
   * alphabet and trailing bits the caller checked), where the backend can do it
   * without decoding it: HMAC on node:crypto, whose digest is encoded and compared
   * in constant time. Undefined elsewhere; {@link BoundKey.verify} always works.
   */
  readonly verifyText?: ((signingInput: string, signatureSegment: string) => boolean) | undefined;
}

/** The specialised verify function of a bound key: the backend's, behind the ECDSA shape check. */
export function makeVerifier(alg: JwsAlgorithm, backend: CryptoBackend, key: KeyHandle): BoundKey['verify'] {
  const spec = ALGORITHMS[alg];
  const verify = backend.verifier(alg, key);
  if (spec.family !== 'ecdsa') return verify;
  return (data, signature) => validEcdsaShape(spec, signature) && verify(data, signature);
}

/** The text verifier of a bound key, where its backend has one (see {@link BoundKey.verifyText}). */
export function makeTextVerifier(
  alg: JwsAlgorithm,
  backend: CryptoBackend,
  key: KeyHandle,
): BoundKey['verifyText'] {
  return backend.textVerifier?.(alg, key);
}

/** Sign `data` (the ASCII signing input): bytes on node:crypto, a promise of bytes on Web Crypto. */
export function signBytesMaybe(bound: BoundKey, data: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return bound.backend.sign(bound.alg, bound.key, data);
}

/**
 * Sign `data` synchronously. Only keys of the node:crypto backend sign
 * synchronously; a Web Crypto key throws a TypeError pointing to {@link signBytesMaybe}.
 */
export function signBytes(bound: BoundKey, data: Uint8Array): Uint8Array {
  const result = signBytesMaybe(bound, data);
  if (result instanceof Promise) {
    result.catch(() => undefined);
    throw asynchronousKey('signBytes', 'signJwsAsync');
  }
  return result;
}

/**
 * Verify `signature` over `data` (a string is taken as latin1: the signing input
 * is base64url and dots). Never throws or rejects for a bad signature; a promise
 * on Web Crypto.
 */
export function verifySignature(
  bound: BoundKey,
  data: string | Uint8Array,
  signature: Uint8Array,
): boolean | Promise<boolean> {
  return bound.verify(data, signature);
}

/** Verify synchronously (node:crypto keys); a Web Crypto key throws a TypeError pointing to {@link verifySignature}. */
export function verifyBytes(bound: BoundKey, data: string | Uint8Array, signature: Uint8Array): boolean {
  const result = verifySignature(bound, data, signature);
  if (result instanceof Promise) {
    result.catch(() => undefined);
    throw asynchronousKey('verifyBytes', 'verifyJwsAsync');
  }
  return result;
}

function asynchronousKey(what: string, instead: string): TypeError {
  return new TypeError(
    `${what} needs a key of the synchronous node:crypto backend; this key uses Web Crypto: use ${instead}`,
  );
}

/**
 * r||s of exactly the curve's length, and neither half zero: the "psychic
 * signature" (CVE-2022-21449) must fail here whatever the crypto library does.
 */
function validEcdsaShape(spec: AlgorithmSpec, signature: Uint8Array): boolean {
  const size = spec.signatureBytes!;
  if (signature.length !== size) return false;
  const half = size / 2;
  return !isZero(signature, 0, half) && !isZero(signature, half, size);
}

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
