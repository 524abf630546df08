/**
 * The JWS algorithm table (RFC 7518 section 3, RFC 8037). Each algorithm names the
 * key type it needs, the digest, and for ECDSA the curve and signature length, so
 * that a key can be checked against its algorithm once, at import.
 */

/** Every JWS algorithm Tessera signs and verifies. `none` is not one of them. */
export type JwsAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA';

/** How an algorithm signs. */
export type AlgorithmFamily = 'hmac' | 'rsa' | 'rsa-pss' | 'ecdsa' | 'eddsa';

/** What the table knows about one algorithm. */
export interface AlgorithmSpec {
  readonly alg: JwsAlgorithm;
  readonly family: AlgorithmFamily;
  /** Node digest name; undefined for EdDSA, where the curve fixes the hash. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | undefined;
  /** Minimum HMAC secret length in bytes (RFC 7518 section 3.2). */
  readonly minSecretBytes?: number;
  /** Named curve of the key (Node's name), for ECDSA. */
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** JWK curve name, for ECDSA. */
  readonly jwkCurve?: 'P-256' | 'P-384' | 'P-521';
  /** Length of the raw r||s signature in bytes, for ECDSA. */
  readonly signatureBytes?: number;
}

const spec = (s: AlgorithmSpec): AlgorithmSpec => Object.freeze(s);

/** The algorithm table, by name. */
export const ALGORITHMS: Readonly<Record<JwsAlgorithm, AlgorithmSpec>> = Object.freeze({
  HS256: spec({ alg: 'HS256', family: 'hmac', hash: 'sha256', minSecretBytes: 32 }),
  HS384: spec({ alg: 'HS384', family: 'hmac', hash: 'sha384', minSecretBytes: 48 }),
  HS512: spec({ alg: 'HS512', family: 'hmac', hash: 'sha512', minSecretBytes: 64 }),
  RS256: spec({ alg: 'RS256', family: 'rsa', hash: 'sha256' }),
  RS384: spec({ alg: 'RS384', family: 'rsa', hash: 'sha384' }),
  RS512: spec({ alg: 'RS512', family: 'rsa', hash: 'sha512' }),
  PS256: spec({ alg: 'PS256', family: 'rsa-pss', hash: 'sha256' }),
  PS384: spec({ alg: 'PS384', family: 'rsa-pss', hash: 'sha384' }),
  PS512: spec({ alg: 'PS512', family: 'rsa-pss', hash: 'sha512' }),
  ES256: spec({
    alg: 'ES256',
    family: 'ecdsa',
    hash: 'sha256',
    curve: 'prime256v1',
    jwkCurve: 'P-256',
    signatureBytes: 64,
  }),
  ES384: spec({
    alg: 'ES384',
    family: 'ecdsa',
    hash: 'sha384',
    curve: 'secp384r1',
    jwkCurve: 'P-384',
    signatureBytes: 96,
  }),
  ES512: spec({
    alg: 'ES512',
    family: 'ecdsa',
    hash: 'sha512',
    curve: 'secp521r1',
    jwkCurve: 'P-521',
    signatureBytes: 132,
  }),
  EdDSA: spec({ alg: 'EdDSA', family: 'eddsa', hash: undefined }),
});

/** All algorithm names, in table order. */
export const ALGORITHM_NAMES: readonly JwsAlgorithm[] = Object.freeze(
  Object.keys(ALGORITHMS) as JwsAlgorithm[],
);

/** Narrow an untrusted string to a supported algorithm (exact, case-sensitive). */
export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && Object.hasOwn(ALGORITHMS, value);
}

/** Minimum RSA modulus length in bits (RFC 7518 sections 3.3 and 3.5). */
export const MIN_RSA_BITS = 2048;
