/**
 * The crypto backend seam. Every signature, key import and key export goes
 * through a {@link CryptoBackend}: `node:crypto` where the runtime has it (Node,
 * Bun, Deno), synchronous and fast; Web Crypto everywhere else (workerd,
 * browsers), asynchronous. Both apply the same rules: what a key may be is
 * decided in keys/ before either is asked anything.
 *
 * Nothing here imports a `node:` module. The Node backend reaches `node:crypto`
 * through `process.getBuiltinModule`, a plain function call: no static import for
 * a bundler to resolve, no top-level await, and where the function or the module
 * is missing the Web Crypto backend is chosen instead.
 *
 * @module
 */
import type { JwsAlgorithm } from '../jws/algorithms.js';

/** What a key is, as the algorithm-fit checks need to know it. */
export interface KeyInfo {
  readonly type: 'secret' | 'public' | 'private';
  /** `rsa`, `rsa-pss`, `ec`, `ed25519` or `ed448` (node:crypto's names). */
  readonly asymmetricKeyType?: string;
  readonly modulusLength?: number;
  readonly publicExponent?: bigint;
  /** node:crypto's curve name: `prime256v1`, `secp384r1`, `secp521r1`. */
  readonly namedCurve?: string;
  /** RSA-PSS parameters pinned in the key's encoding, if any. */
  readonly hashAlgorithm?: string;
  readonly mgf1HashAlgorithm?: string;
  readonly saltLength?: number;
}

/** A backend's key: a node:crypto KeyObject or a Web Crypto key holder. Opaque outside crypto/. */
export type KeyHandle = object;

/** The PEM/DER structures Tessera reads. */
export type DerStructure = 'spki' | 'pkcs1-public' | 'pkcs8' | 'pkcs1-private' | 'sec1' | 'certificate';

/** One implementation of the primitives. */
export interface CryptoBackend {
  readonly name: 'node' | 'webcrypto';
  /** Does it sign and verify asymmetric keys synchronously? */
  readonly synchronous: boolean;
  /** Does this handle belong to this backend? */
  owns(key: KeyHandle): boolean;
  info(key: KeyHandle): KeyInfo;
  secret(bytes: Uint8Array): KeyHandle;
  /** Read DER of a known structure. Throws (any error) when it does not parse. */
  readDer(structure: DerStructure, der: Uint8Array): KeyHandle;
  /** Read the checked members of a JWK (`kty` plus key members only). Throws when invalid. */
  readJwk(jwk: Readonly<Record<string, string>>, isPrivate: boolean): KeyHandle;
  /** The public half of a private key (the key itself when public). */
  publicOf(key: KeyHandle): KeyHandle;
  /** The key's JWK members (`kty` and the key members; `k` for a secret). */
  exportJwk(key: KeyHandle): Record<string, string>;
  exportPem(key: KeyHandle, type: 'spki' | 'pkcs8'): string;
  /** Which DER key structure `bytes` hold, described for a message, or undefined. */
  describeDer(bytes: Uint8Array): string | undefined;
  /** A fresh private key for `alg` (synchronously, or a promise on Web Crypto). */
  generate(alg: JwsAlgorithm, options: GenerateParameters): KeyHandle | Promise<KeyHandle>;
  /**
   * Sign the ASCII signing input given as text and return the base64url
   * signature, synchronously: node:crypto's fast path for token creation.
   * Absent on asynchronous backends.
   */
  signText?(alg: JwsAlgorithm, key: KeyHandle, input: string): string;
  /** Sign the ASCII signing input. */
  sign(alg: JwsAlgorithm, key: KeyHandle, data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Verify a signature over the signing input (a string is taken as latin1); false for any bad signature. */
  verify(
    alg: JwsAlgorithm,
    key: KeyHandle,
    data: string | Uint8Array,
    signature: Uint8Array,
  ): boolean | Promise<boolean>;
  /**
   * A verify function specialised for one key and algorithm, made once when the
   * key is bound: the hot path then calls it without looking anything up.
   */
  verifier(
    alg: JwsAlgorithm,
    key: KeyHandle,
  ): (data: string | Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;
  /**
   * Where the backend can check a signature given as its base64url text without
   * decoding it (HMAC on node:crypto: the digest is encoded and compared in
   * constant time), a function that does, made once per key; undefined otherwise.
   */
  textVerifier?(
    alg: JwsAlgorithm,
    key: KeyHandle,
  ): ((signingInput: string, signatureSegment: string) => boolean) | undefined;
  /** SHA-256, synchronously (thumbprints). */
  sha256(bytes: Uint8Array): Uint8Array;
  /**
   * Throws unless a private key and its public half belong together. A promise
   * where the check needs asynchronous signing (Web Crypto).
   */
  checkPair(alg: JwsAlgorithm, privateKey: KeyHandle, publicKey: KeyHandle): void | Promise<void>;
}

/** Key generation parameters already checked by keys/generate.ts. */
export interface GenerateParameters {
  readonly modulusLength: number;
  readonly curve: 'Ed25519' | 'Ed448';
}

/** Bytes and text conversions on the hot path; Node's Buffer where present, portable code elsewhere. */
export interface Codec {
  /** Decode base64url whose alphabet and length were already checked. */
  base64UrlToBytes(text: string): Uint8Array;
  bytesToBase64Url(bytes: Uint8Array): string;
  utf8ToBase64Url(text: string): string;
  utf8Decode(bytes: Uint8Array): string;
  isUtf8(bytes: Uint8Array): boolean;
}
