/**
 * A Tessera key: key material bound, at import, to exactly one JWS algorithm.
 * Nothing a token says can change which algorithm a key verifies with.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from '../jws/algorithms.js';
import type { BoundKey } from '../jws/signature.js';

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

/** Build a {@link TesseraKey} from checked material. Import functions call this last. */
export function bindKey(
  alg: JwsAlgorithm,
  material: KeyObject,
  kid: string | undefined,
  publicKey?: KeyObject,
): TesseraKey {
  const type = material.type;
  return Object.freeze({
    kid,
    alg,
    type,
    signing: type === 'public' ? undefined : Object.freeze({ alg, key: material }),
    verifying: Object.freeze({
      alg,
      key: type === 'private' ? (publicKey ?? createPublicKey(material)) : material,
    }),
  });
}
