/**
 * Turn key material into a {@link TesseraKey}: a key bound, once and for all, to
 * the one algorithm it may sign and verify with.
 *
 * Every path ends in {@link assertKeyFitsAlgorithm} and {@link bindKey}. Every
 * refusal is a {@link KeyImportError} raised at configuration time, and no
 * message ever quotes the material it refused.
 */
import type { KeyObject } from 'node:crypto';
import { base64ToBytes, timingSafeEqualBytes, utf8Encode } from '../bytes.js';
import type { CryptoBackend, DerStructure, KeyHandle } from '../crypto/backend.js';
import { MissingPublicKeyError } from '../crypto/der.js';
import { nodeModules } from '../crypto/node.js';
import { backendOf, currentBackend } from '../crypto/select.js';
import { KeyImportError } from '../errors.js';
import { ALGORITHMS, isJwsAlgorithm, type JwsAlgorithm } from '../jws/algorithms.js';
import { decodeBase64Url } from '../jws/base64url.js';
import { refuseUnknownOptions } from '../known-options.js';
import { assertKeyFitsAlgorithm, type HmacAlgorithm, isHmacAlgorithm } from './fit.js';
import type { Jwk } from './jwk.js';
import { bindKey, type TesseraKey } from './key.js';
import { describeKeyMaterial } from './material.js';

const KEY_IMPORT_OPTIONS: readonly string[] = ['kid'];
const ALG_IMPORT_OPTIONS: readonly string[] = ['kid', 'alg'];

/** Options shared by every import function. */
export interface KeyImportOptions {
  /** Key id, written to tokens this key signs and matched exactly against `kid` in tokens it verifies. */
  readonly kid?: string;
}

/** Options of {@link importJwk}. */
export interface JwkImportOptions extends KeyImportOptions {
  /** Algorithm to bind; must agree with the JWK's own `alg` when both are present. */
  readonly alg?: JwsAlgorithm;
}

/** Options of {@link importKey}. */
export interface AnyKeyImportOptions extends KeyImportOptions {
  /** Algorithm to bind. Required for secrets, PEM and KeyObjects; optional for JWKs that say or imply theirs. */
  readonly alg?: JwsAlgorithm;
}

/**
 * Import an HMAC secret for HS256, HS384 or HS512.
 *
 * A string is taken as its UTF-8 bytes. The secret must be at least as long as
 * the hash output (RFC 7518 section 3.2: 32, 48 or 64 bytes), and must not be key
 * material in any encoding: an HMAC key built from a public key is the
 * algorithm-confusion attack.
 */
export function importSecret(
  secret: string | Uint8Array,
  alg: HmacAlgorithm,
  options: KeyImportOptions = {},
): TesseraKey {
  if (!isHmacAlgorithm(alg)) {
    throw new KeyImportError(`importSecret needs HS256, HS384 or HS512, not ${String(alg)}`);
  }
  refuseUnknownOptions(options, KEY_IMPORT_OPTIONS, 'importSecret options');
  let bytes: Uint8Array;
  if (typeof secret === 'string') bytes = utf8Encode(secret);
  else if (secret instanceof Uint8Array) bytes = secret;
  else throw new KeyImportError('An HMAC secret must be a string or a Uint8Array');
  const kid = checkKid(options.kid);
  const material = describeKeyMaterial(bytes);
  if (material !== undefined) {
    throw new KeyImportError(
      `Refusing to use ${material} as an HMAC secret: public key material is not secret. ` +
        'Import it with importPem or importJwk for an asymmetric algorithm instead.',
    );
  }
  const floor = ALGORITHMS[alg].minSecretBytes ?? 32;
  if (bytes.length < floor) {
    throw new KeyImportError(
      `${alg} needs a secret of at least ${floor} bytes (RFC 7518 section 3.2); this one has ${bytes.length}. ` +
        `Generate one with generateKey('${alg}') or crypto.randomBytes(${floor}).`,
    );
  }
  // The backend copies the bytes, so the caller's buffer can be wiped afterwards.
  return bindKey(alg, currentBackend().secret(bytes.slice()), kid);
}

/** The PEM labels Tessera reads, with the DER structure each holds. */
const PEM_STRUCTURES: Readonly<Record<string, DerStructure>> = {
  'PUBLIC KEY': 'spki',
  'RSA PUBLIC KEY': 'pkcs1-public',
  CERTIFICATE: 'certificate',
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1-private',
  'EC PRIVATE KEY': 'sec1',
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Import a PEM key for an asymmetric algorithm: SPKI or PKCS#1 public keys,
 * PKCS#8, PKCS#1 or SEC1 private keys, or an X.509 certificate (its public key;
 * the certificate itself is not validated). Indentation, CRLF and escaped `\n`
 * (PEM pasted into an environment variable) are tolerated. RSA keys need a
 * modulus of at least 2048 bits and an odd public exponent of at least 65537
 * (the FIPS 186-5 floor; e = 1 would let anyone forge signatures), on every
 * import path.
 */
export function importPem(pem: string, alg: JwsAlgorithm, options: KeyImportOptions = {}): TesseraKey {
  checkAlgorithm(alg);
  if (isHmacAlgorithm(alg)) {
    throw new KeyImportError(
      `${alg} needs a secret, not a PEM key; HMAC keys are never built from PEM material`,
    );
  }
  if (typeof pem !== 'string') throw new KeyImportError('A PEM key must be a string');
  refuseUnknownOptions(options, KEY_IMPORT_OPTIONS, 'importPem options');
  const kid = checkKid(options.kid);
  const blocks = [...pem.replace(/\\r|\\n/g, '\n').matchAll(PEM_BLOCK)].filter(
    // OpenSSL writes EC PARAMETERS before an EC private key; the key repeats them.
    ([, label]) => label !== 'EC PARAMETERS',
  );
  if (blocks.length === 0) {
    throw new KeyImportError('No PEM block found (expected -----BEGIN ...----- armour)');
  }
  if (blocks.length > 1) {
    throw new KeyImportError(
      `Expected one PEM key or certificate, found ${blocks.length} blocks; pass them one by one`,
    );
  }
  const [, label = '', body = ''] = blocks[0] ?? [];
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new KeyImportError(
      'Encrypted private keys are not supported; decrypt it first (openssl pkcs8 -nocrypt)',
    );
  }
  const structure = Object.hasOwn(PEM_STRUCTURES, label) ? PEM_STRUCTURES[label] : undefined;
  if (structure === undefined) throw new KeyImportError(`Unsupported PEM block "${label.slice(0, 40)}"`);
  const base64 = body.replace(/\s+/g, '');
  // Legacy encrypted PEM has "Proc-Type:" headers inside the block; they fail here.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new KeyImportError(`The ${label} block is not plain base64 (encrypted or corrupted)`);
  }
  const der = base64ToBytes(base64);
  const backend = currentBackend();
  let key: KeyHandle;
  try {
    if (der === undefined) throw new Error('not base64');
    key = backend.readDer(structure, der);
  } catch (error) {
    throw new KeyImportError(`Cannot read the ${label} block${missingPublicHint(error)}`, { cause: error });
  }
  return bindAsymmetric(backend, key, alg, kid);
}

/**
 * Import a JSON Web Key: `oct` (HS* only, length floor enforced), `RSA`, `EC`
 * or `OKP` (Ed25519, Ed448). The algorithm is `options.alg` or the JWK's `alg`
 * (they must agree); without either it is implied by an EC or OKP curve, and
 * refused for RSA and oct, where guessing would be choosing for the attacker.
 * `use` must be `sig` when present; `key_ops` must allow `verify` (or `sign`),
 * and a private key whose `key_ops` lacks `sign` is imported verify-only. Key
 * members must be canonical base64url (no padding, zero trailing bits).
 */
export function importJwk(jwk: Jwk, options: JwkImportOptions = {}): TesseraKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new KeyImportError('A JWK must be a JSON object');
  }
  refuseUnknownOptions(options, ALG_IMPORT_OPTIONS, 'importJwk options');
  const kty = member(jwk, 'kty');
  if (kty === undefined) throw new KeyImportError('JWK has no "kty"');
  const use = member(jwk, 'use');
  if (use !== undefined && use !== 'sig') {
    throw new KeyImportError(`JWK "use" is "${use.slice(0, 20)}", not "sig"`);
  }
  const ops = keyOps(jwk);
  const kid = checkKid(options.kid ?? member(jwk, 'kid'));
  const alg = resolveAlgorithm(jwk, kty, options.alg);
  const spec = ALGORITHMS[alg];

  let key: TesseraKey;
  if (kty === 'oct') {
    if (spec.family !== 'hmac') {
      throw new KeyImportError(`An "oct" JWK can only be used with HS*, not ${alg}`);
    }
    const k = member(jwk, 'k');
    const bytes = k === undefined ? undefined : decodeBase64Url(k);
    if (bytes === undefined) throw new KeyImportError('oct JWK needs "k" in strict base64url');
    key = importSecret(bytes, alg as HmacAlgorithm, { kid });
  } else {
    if (spec.family === 'hmac') {
      throw new KeyImportError(`${alg} needs an "oct" JWK, not "${kty.slice(0, 10)}"`);
    }
    const backend = currentBackend();
    key = bindAsymmetric(backend, readAsymmetricJwk(backend, jwk, kty, alg), alg, kid);
  }
  return ops === undefined ? key : applyKeyOps(key, ops);
}

/**
 * Import a node:crypto KeyObject: a secret (HS*, same floor and checks as
 * {@link importSecret}), a private key or a public key. Needs the node:crypto
 * backend (Node, Bun, Deno); elsewhere, import PEM or JWK instead.
 */
export function importKeyObject(
  key: KeyObject,
  alg: JwsAlgorithm,
  options: KeyImportOptions = {},
): TesseraKey {
  checkAlgorithm(alg);
  refuseUnknownOptions(options, KEY_IMPORT_OPTIONS, 'importKeyObject options');
  if (!isKeyObject(key)) throw new KeyImportError('Expected a node:crypto KeyObject');
  // A KeyObject is node:crypto material: it stays on that backend whatever new keys use.
  const backend = backendOf(key);
  if (key.type === 'secret') {
    if (!isHmacAlgorithm(alg)) throw new KeyImportError(`A secret key cannot be used with ${alg}`);
    return importSecret(key.export(), alg, options);
  }
  return bindAsymmetric(backend, key, alg, checkKid(options.kid));
}

/** Is `value` a node:crypto KeyObject? Always false where node:crypto is absent. */
function isKeyObject(value: unknown): value is KeyObject {
  const KeyObjectClass = nodeModules()?.crypto.KeyObject;
  return KeyObjectClass !== undefined && value instanceof KeyObjectClass;
}

/**
 * Import whatever `input` is: a KeyObject, a PEM string, a JWK (object or JSON
 * text), or else an HMAC secret (string or bytes). `options.alg` is required
 * except for JWKs that carry or imply their algorithm.
 */
export function importKey(
  input: string | Uint8Array | KeyObject | Jwk,
  options: AnyKeyImportOptions = {},
): TesseraKey {
  refuseUnknownOptions(options, ALG_IMPORT_OPTIONS, 'importKey options');
  const { alg, kid } = options;
  if (isKeyObject(input)) return importKeyObject(input, requireAlg(alg, 'a KeyObject'), { kid });
  if (input instanceof Uint8Array) return importSecret(input, requireHmac(alg), { kid });
  if (typeof input === 'string') {
    if (input.includes('-----BEGIN ')) return importPem(input, requireAlg(alg, 'a PEM key'), { kid });
    if (input.trimStart().startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(input);
      } catch (error) {
        throw new KeyImportError('Key text starts with "{" but is not valid JSON', { cause: error });
      }
      return importJwk(parsed as Jwk, { alg, kid });
    }
    return importSecret(input, requireHmac(alg), { kid });
  }
  return importJwk(input, { alg, kid });
}

// ---- helpers ----

function bindAsymmetric(
  backend: CryptoBackend,
  key: KeyHandle,
  alg: JwsAlgorithm,
  kid: string | undefined,
): TesseraKey {
  const info = backend.info(key);
  assertKeyFitsAlgorithm(info, alg);
  if (info.type !== 'private') return bindKey(alg, key, kid);
  // Derive the public half once, here, so verification never derives anything.
  const publicKey = backend.publicOf(key);
  const bound = bindKey(alg, key, kid, publicKey);
  assertPairConsistent(backend, alg, key, publicKey);
  return bound;
}

/**
 * OpenSSL accepts an RSA private key whose numbers do not belong together (a
 * JWK with another key's `n`); every signature it made would then fail. One
 * sign-and-verify at import turns that into a clear error instead. On Web
 * Crypto, where signing is asynchronous, the RSA numbers were checked when the
 * key was read, and the probe runs in the background: it can only log.
 */
function assertPairConsistent(
  backend: CryptoBackend,
  alg: JwsAlgorithm,
  key: KeyHandle,
  publicKey: KeyHandle,
): void {
  let check: void | Promise<void>;
  try {
    check = backend.checkPair(alg, key, publicKey);
  } catch (error) {
    throw new KeyImportError('The private key is inconsistent: its signatures do not verify', {
      cause: error,
    });
  }
  if (check instanceof Promise) check.catch(() => undefined);
}

/** A hint for a private key whose encoding lacks its public key, which only node:crypto can derive. */
function missingPublicHint(error: unknown): string {
  return error instanceof MissingPublicKeyError
    ? ': it does not carry its public key, which Web Crypto cannot derive synchronously (import it as a JWK with its public members, or as PKCS#8 v2)'
    : '';
}

function checkAlgorithm(alg: unknown): asserts alg is JwsAlgorithm {
  if (!isJwsAlgorithm(alg)) throw new KeyImportError(`Unsupported algorithm: ${String(alg).slice(0, 20)}`);
}

function checkKid(kid: unknown): string | undefined {
  if (kid === undefined) return undefined;
  if (typeof kid !== 'string' || kid === '') throw new KeyImportError('kid must be a non-empty string');
  return kid;
}

function requireAlg(alg: JwsAlgorithm | undefined, what: string): JwsAlgorithm {
  if (alg === undefined) throw new KeyImportError(`options.alg is required to import ${what}`);
  return alg;
}

function requireHmac(alg: JwsAlgorithm | undefined): HmacAlgorithm {
  if (alg === undefined || !isHmacAlgorithm(alg)) {
    throw new KeyImportError(
      `A secret can only be imported for HS256, HS384 or HS512${alg === undefined ? ' (options.alg is missing)' : `, not ${alg}`}`,
    );
  }
  return alg;
}

/** A string member of an untrusted JWK, or undefined; any other type is refused. */
function member(jwk: Jwk, name: keyof Jwk): string | undefined {
  const value: unknown = (jwk as unknown as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new KeyImportError(`JWK member "${name}" must be a string`);
  return value;
}

function keyOps(jwk: Jwk): readonly string[] | undefined {
  const ops: unknown = jwk.key_ops;
  if (ops === undefined) return undefined;
  if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'string')) {
    throw new KeyImportError('JWK "key_ops" must be an array of strings');
  }
  if (!ops.includes('verify') && !ops.includes('sign')) {
    throw new KeyImportError('JWK "key_ops" allows neither "sign" nor "verify"');
  }
  return ops;
}

/**
 * Honour `key_ops`: a key that may not sign is bound verify-only; a public key
 * must be allowed to verify. A key listed for `sign` alone still verifies its
 * own tokens: that needs nothing the signer does not already hold.
 */
function applyKeyOps(key: TesseraKey, ops: readonly string[]): TesseraKey {
  if (key.type === 'public') {
    if (!ops.includes('verify')) throw new KeyImportError('JWK "key_ops" does not allow "verify"');
    return key;
  }
  if (ops.includes('sign')) return key;
  if (key.type === 'private') return bindKey(key.alg, key.verifying.key, key.kid);
  return Object.freeze({ ...key, signing: undefined });
}

const CURVE_ALGORITHMS: Readonly<Record<string, JwsAlgorithm>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  Ed25519: 'EdDSA',
  Ed448: 'EdDSA',
};

function resolveAlgorithm(jwk: Jwk, kty: string, requested: JwsAlgorithm | undefined): JwsAlgorithm {
  if (requested !== undefined) checkAlgorithm(requested);
  const declared = member(jwk, 'alg');
  if (declared !== undefined && !isJwsAlgorithm(declared)) {
    throw new KeyImportError(
      `JWK "alg" ${JSON.stringify(declared.slice(0, 20))} is not a supported JWS algorithm`,
    );
  }
  if (requested !== undefined && declared !== undefined && requested !== declared) {
    throw new KeyImportError(`JWK says "alg": "${declared}" but ${requested} was requested`);
  }
  const chosen = requested ?? declared;
  if (chosen !== undefined) return chosen;
  const crv = member(jwk, 'crv');
  if ((kty === 'EC' || kty === 'OKP') && crv !== undefined) {
    const implied = Object.hasOwn(CURVE_ALGORITHMS, crv) ? CURVE_ALGORITHMS[crv] : undefined;
    if (implied !== undefined) return implied;
  }
  throw new KeyImportError(
    `Cannot tell which algorithm this ${kty.slice(0, 10)} JWK is for: give it an "alg" or pass options.alg`,
  );
}

/** Members each key type needs, public first; `d` marks a private key. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly (keyof Jwk)[]>> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};
const RSA_PRIVATE_MEMBERS: readonly (keyof Jwk)[] = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

function readAsymmetricJwk(backend: CryptoBackend, jwk: Jwk, kty: string, alg: JwsAlgorithm): KeyHandle {
  const required = Object.hasOwn(PUBLIC_MEMBERS, kty) ? PUBLIC_MEMBERS[kty] : undefined;
  if (required === undefined) throw new KeyImportError(`Unsupported JWK key type "${kty.slice(0, 10)}"`);
  const spec = ALGORITHMS[alg];
  const crv = member(jwk, 'crv');
  if (kty === 'RSA' && spec.family !== 'rsa' && spec.family !== 'rsa-pss') {
    throw new KeyImportError(`An RSA JWK cannot be used with ${alg}`);
  }
  if (kty === 'EC' && (spec.family !== 'ecdsa' || crv !== spec.jwkCurve)) {
    throw new KeyImportError(
      `An EC JWK on curve ${crv?.slice(0, 20) ?? '(none)'} cannot be used with ${alg}`,
    );
  }
  if (kty === 'OKP' && (spec.family !== 'eddsa' || (crv !== 'Ed25519' && crv !== 'Ed448'))) {
    throw new KeyImportError(
      `An OKP JWK on curve ${crv?.slice(0, 20) ?? '(none)'} cannot be used with ${alg}`,
    );
  }
  if (jwk.oth !== undefined) throw new KeyImportError('Multi-prime RSA keys ("oth") are not supported');

  const isPrivate = jwk.d !== undefined;
  const names: (keyof Jwk)[] = [...required];
  if (isPrivate) names.push(...(kty === 'RSA' ? RSA_PRIVATE_MEMBERS : (['d'] as const)));
  // Only the members the backend needs, each checked as strict base64url, so
  // nothing unexpected in the JWK reaches OpenSSL or Web Crypto.
  const clean: Record<string, string> = { kty };
  for (const name of names) {
    const value = member(jwk, name);
    if (value === undefined) throw new KeyImportError(`${kty} JWK lacks "${name}"`);
    if (name !== 'crv' && decodeBase64Url(value) === undefined) {
      throw new KeyImportError(`JWK member "${name}" is not strict base64url`);
    }
    clean[name] = value;
  }
  let key: KeyHandle;
  try {
    key = backend.readJwk(clean, isPrivate);
  } catch (error) {
    throw new KeyImportError(`Invalid ${kty} JWK`, { cause: error });
  }
  if (isPrivate) assertPublicHalfMatches(backend, key, clean, required);
  return key;
}

/**
 * A private JWK repeats its public half. If the two disagree the JWK is corrupt,
 * and publishing the derived public key would hide it: refuse instead.
 */
function assertPublicHalfMatches(
  backend: CryptoBackend,
  key: KeyHandle,
  given: Record<string, string>,
  names: readonly (keyof Jwk)[],
): void {
  const derived = backend.exportJwk(backend.publicOf(key)) as Record<string, unknown>;
  for (const name of names) {
    if (name === 'crv') continue;
    const expected = decodeBase64Url(String(derived[name] ?? ''));
    const actual = decodeBase64Url(given[name] ?? '');
    if (
      expected === undefined ||
      actual === undefined ||
      !timingSafeEqualBytes(stripLeadingZeros(expected), stripLeadingZeros(actual))
    ) {
      throw new KeyImportError(`JWK member "${name}" does not match its private key`);
    }
  }
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}
