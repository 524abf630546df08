/**
 * Keys out: JWK and PEM export, RFC 7638 thumbprints, and the public JWK Set a
 * service publishes. Private and secret material leaves only when the caller
 * asks for it by name; a published set never carries it.
 */
import { utf8Encode } from '../bytes.js';
import type { KeyHandle } from '../crypto/backend.js';
import { currentBackend } from '../crypto/select.js';
import { ConfigError, KeyImportError } from '../errors.js';
import { decodeBase64Url, encodeBase64Url } from '../jws/base64url.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { Jwk, JwkSet } from './jwk.js';
import type { TesseraKey } from './key.js';
import { Keyring } from './keyring.js';

/** Options of {@link exportJwk} and {@link exportPem}. */
export interface KeyExportOptions {
  /** Export the private key or the secret instead of the public key. Default false. */
  readonly private?: boolean;
}

/**
 * A key as a JWK with `kid` (when the key has one), `alg` and `use: "sig"`.
 * Public half by default; `{ private: true }` exports the private key, and is
 * the only way to export an HMAC secret.
 */
export function exportJwk(key: TesseraKey, options: KeyExportOptions = {}): Jwk {
  refuseUnknownOptions(options, EXPORT_OPTIONS, 'exportJwk options');
  const wantPrivate = options.private === true;
  let material: KeyHandle;
  let bound = key.verifying;
  if (key.type === 'secret') {
    if (!wantPrivate) {
      throw new ConfigError(
        'Refusing to export an HMAC secret; pass { private: true } if you really mean to',
      );
    }
    material = key.verifying.key;
  } else if (wantPrivate) {
    if (key.signing === undefined) throw new ConfigError('This key has no private half to export');
    material = key.signing.key;
    bound = key.signing;
  } else {
    material = key.verifying.key;
  }
  const exported = bound.backend.exportJwk(material);
  // Members in a stable order: identification first, then the key itself.
  const jwk: Record<string, unknown> = { kty: exported.kty };
  if (key.kid !== undefined) jwk.kid = key.kid;
  jwk.alg = key.alg;
  jwk.use = 'sig';
  for (const [name, value] of Object.entries(exported)) if (name !== 'kty') jwk[name] = value;
  return jwk as unknown as Jwk;
}

/** The members RFC 7638 section 3.2 hashes, per key type, already in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  oct: ['k', 'kty'],
};

/**
 * The RFC 7638 JWK thumbprint: SHA-256 over the required members, in
 * lexicographic order with no whitespace, base64url-encoded.
 */
export function thumbprint(jwk: Jwk): string {
  const kty: unknown = jwk.kty;
  const names =
    typeof kty === 'string' && Object.hasOwn(THUMBPRINT_MEMBERS, kty) ? THUMBPRINT_MEMBERS[kty] : undefined;
  if (names === undefined) {
    throw new KeyImportError('Cannot take the thumbprint of a JWK with an unknown "kty"');
  }
  const record = jwk as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const name of names) {
    const value = record[name];
    if (typeof value !== 'string') {
      throw new KeyImportError(`Cannot take the thumbprint: JWK lacks "${name}"`);
    }
    // One key, one thumbprint: a member in another spelling of the same bytes
    // (padding, non-zero trailing bits) would hash differently.
    if (name !== 'kty' && name !== 'crv' && decodeBase64Url(value) === undefined) {
      throw new KeyImportError(`Cannot take the thumbprint: JWK member "${name}" is not strict base64url`);
    }
    // JSON.stringify of a string is exactly the RFC 7159 string RFC 7638 asks for.
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return encodeBase64Url(currentBackend().sha256(utf8Encode(`{${parts.join(',')}}`)));
}

/**
 * The public JWK Set to publish for `keys` (or every key of a Keyring, retiring
 * ones included so their tokens keep verifying elsewhere). HMAC secrets are
 * skipped, never exported; each entry has `kty`, `kid` (the RFC 7638 thumbprint
 * when the key has none), `alg` and `use: "sig"`.
 */
export function toJwks(keys: Iterable<TesseraKey> | Keyring): JwkSet {
  const list = keys instanceof Keyring ? keys.keys() : keys;
  const out: Jwk[] = [];
  for (const key of list) {
    if (key.type === 'secret') continue;
    const jwk = exportJwk(key);
    out.push(key.kid === undefined ? withKid(jwk, thumbprint(jwk)) : jwk);
  }
  return { keys: out };
}

/**
 * A key as PEM: SPKI for the public half by default, PKCS#8 with
 * `{ private: true }`. Secrets have no PEM form and are refused.
 */
export function exportPem(key: TesseraKey, options: KeyExportOptions = {}): string {
  refuseUnknownOptions(options, EXPORT_OPTIONS, 'exportPem options');
  if (key.type === 'secret') throw new ConfigError('An HMAC secret has no PEM form');
  if (options.private === true) {
    if (key.signing === undefined) throw new ConfigError('This key has no private half to export');
    return key.signing.backend.exportPem(key.signing.key, 'pkcs8');
  }
  return key.verifying.backend.exportPem(key.verifying.key, 'spki');
}

const EXPORT_OPTIONS: readonly string[] = ['private'];

function withKid(jwk: Jwk, kid: string): Jwk {
  const { kty, ...rest } = jwk;
  return { kty, kid, ...rest };
}
