/**
 * JSON Web Key shapes (RFC 7517, RFC 7518 section 6, RFC 8037). Every member is
 * optional except `kty`, because a JWK arrives as untrusted JSON and is checked
 * member by member at import.
 */

/** One JSON Web Key: the public members of RFC 7517/7518/8037. */
export interface Jwk {
  /** Key type: `RSA`, `EC`, `OKP` or `oct`. */
  readonly kty: string;
  /** Intended use: Tessera only accepts `sig`. */
  readonly use?: string;
  /** Permitted operations (`sign`, `verify`, ...). */
  readonly key_ops?: readonly string[];
  /** Algorithm the key is meant for. */
  readonly alg?: string;
  /** Key id. */
  readonly kid?: string;
  /** X.509 URL; never fetched by Tessera. */
  readonly x5u?: string;
  /** X.509 certificate chain (base64 DER); never used to find a key. */
  readonly x5c?: readonly string[];
  /** X.509 SHA-1 thumbprint. */
  readonly x5t?: string;
  /** X.509 SHA-256 thumbprint. */
  readonly 'x5t#S256'?: string;
  /** Curve: `P-256`, `P-384`, `P-521` (EC) or `Ed25519`, `Ed448` (OKP). */
  readonly crv?: string;
  /** EC x coordinate, or the OKP public key. */
  readonly x?: string;
  /** EC y coordinate. */
  readonly y?: string;
  /** Private exponent (RSA), private scalar (EC) or private key (OKP). */
  readonly d?: string;
  /** RSA modulus. */
  readonly n?: string;
  /** RSA public exponent. */
  readonly e?: string;
  /** RSA first prime factor. */
  readonly p?: string;
  /** RSA second prime factor. */
  readonly q?: string;
  /** RSA first factor CRT exponent. */
  readonly dp?: string;
  /** RSA second factor CRT exponent. */
  readonly dq?: string;
  /** RSA first CRT coefficient. */
  readonly qi?: string;
  /** RSA other primes (multi-prime keys); refused at import. */
  readonly oth?: readonly { readonly r?: string; readonly d?: string; readonly t?: string }[];
  /** Symmetric key value (oct). */
  readonly k?: string;
  /** WebCrypto extractability flag; carried, never acted on. */
  readonly ext?: boolean;
}

/** A JWK Set (RFC 7517 section 5). */
export interface JwkSet {
  readonly keys: Jwk[];
}

/** Private and secret members: what must never appear in a published key set. */
export const PRIVATE_JWK_MEMBERS: readonly string[] = Object.freeze([
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'oth',
  'k',
]);
