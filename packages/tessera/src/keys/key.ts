/**
 * A Tessera key: key material bound, at import, to exactly one JWS algorithm.
 * Nothing a token says can change which algorithm a key verifies with.
 */
import type { KeyHandle } from '../crypto/backend.js';
import { backendOf } from '../crypto/select.js';
import type { JwsAlgorithm } from '../jws/algorithms.js';
import { type BoundKey, makeTextVerifier, makeVerifier } from '../jws/signature.js';

/** A key bound to one algorithm, with an optional key id. */
export interface TesseraKey {
  /** Key id; `kid` in tokens it signs and in its JWK. */
  readonly kid: string | undefined;
  /** The one algorithm this key signs and verifies with. */
  readonly alg: JwsAlgorithm;
  /** `secret` (HMAC), `private` (can sign and verify) or `public` (verify only). */
  readonly type: 'secret' | 'private' | 'public';
  /** What signs: the secret or private key; undefined for public keys. */
  readonly signing: BoundKey | undefined;
  /** What verifies: the secret or the public key. */
  readonly verifying: BoundKey;
}

/**
 * Build a {@link TesseraKey} from checked material: a node:crypto `KeyObject`
 * (on the node backend) or a key made by Tessera's import functions. Import
 * functions call this last; it checks nothing about the algorithm itself.
 */
export function bindKey(
  alg: JwsAlgorithm,
  material: KeyHandle,
  kid: string | undefined,
  publicKey?: KeyHandle,
): TesseraKey {
  const backend = backendOf(material);
  const type = backend.info(material).type;
  const verifyingKey = type === 'private' ? (publicKey ?? backend.publicOf(material)) : material;
  return Object.freeze({
    kid,
    alg,
    type,
    signing:
      type === 'public'
        ? undefined
        : Object.freeze({
            alg,
            key: material,
            backend,
            // A private key verifies with its public half; a secret with itself.
            verify: makeVerifier(alg, backend, verifyingKey),
            verifyText: makeTextVerifier(alg, backend, verifyingKey),
          }),
    verifying: Object.freeze({
      alg,
      key: verifyingKey,
      backend,
      verify: makeVerifier(alg, backend, verifyingKey),
      verifyText: makeTextVerifier(alg, backend, verifyingKey),
    }),
  });
}
