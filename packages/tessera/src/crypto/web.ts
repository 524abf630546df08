/**
 * The Web Crypto backend (`crypto.subtle`): every runtime without node:crypto
 * (Cloudflare Workers, browsers) and any runtime on request. Signing and
 * verification are asynchronous there; key import stays synchronous because the
 * key is parsed and checked here, in JavaScript (DER, JWK members, RSA numbers,
 * EC points), and handed to `crypto.subtle.importKey` only on first use.
 *
 * @module
 */
import { base64UrlToBytes, bytesToBase64, bytesToBase64Url, latin1Encode, randomBytes } from '../bytes.js';
import { ALGORITHMS, type JwsAlgorithm } from '../jws/algorithms.js';
import type { CryptoBackend, DerStructure, GenerateParameters, KeyHandle, KeyInfo } from './backend.js';
import {
  CURVES,
  type ParsedKey,
  parseCertificate,
  parsePkcs1Private,
  parsePkcs1Public,
  parsePkcs8,
  parseSec1,
  parseSpki,
  writePkcs8,
  writeSpki,
} from './der.js';
import { ecPublicPoint, onCurve, validScalar } from './ec.js';
import { ed25519PublicKey } from './ed25519.js';
import { sha256 } from './sha256.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];
const NODE_CURVE: Readonly<Record<string, string>> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};
const HASH: Readonly<Record<string, string>> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** A key held for Web Crypto: its checked JWK members, and the CryptoKeys made from them, per algorithm. */
class WebKey {
  readonly #crypto = new Map<JwsAlgorithm, Promise<CryptoKey>>();
  /** The imported keys once ready: the hot path then skips a promise per call. */
  readonly #ready = new Map<JwsAlgorithm, CryptoKey>();
  /** Operation parameters per algorithm, built once. */
  readonly #params = new Map<JwsAlgorithm, AlgorithmIdentifier | RsaPssParams | EcdsaParams>();
  #public: WebKey | undefined;

  constructor(
    readonly info: KeyInfo,
    readonly jwk: Readonly<Record<string, string>>,
  ) {
    Object.freeze(jwk);
  }

  publicKey(): WebKey {
    if (this.info.type !== 'private') return this;
    if (this.#public === undefined) {
      const members: Record<string, string> = {};
      for (const [name, value] of Object.entries(this.jwk))
        if (!PRIVATE_MEMBERS.includes(name)) members[name] = value;
      this.#public = new WebKey({ ...this.info, type: 'public' }, members);
    }
    return this.#public;
  }

  cryptoKey(alg: JwsAlgorithm): CryptoKey | Promise<CryptoKey> {
    const ready = this.#ready.get(alg);
    if (ready !== undefined) return ready;
    let key = this.#crypto.get(alg);
    if (key === undefined) {
      key = importForAlgorithm(this, alg).then((imported) => {
        this.#ready.set(alg, imported);
        return imported;
      });
      this.#crypto.set(alg, key);
    }
    return key;
  }

  params(alg: JwsAlgorithm): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
    let params = this.#params.get(alg);
    if (params === undefined) {
      params = operationParameters(alg, this);
      this.#params.set(alg, params);
    }
    return params;
  }
}

function importParameters(
  alg: JwsAlgorithm,
  jwk: Readonly<Record<string, string>>,
): AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams | HmacImportParams {
  const spec = ALGORITHMS[alg];
  const hash = HASH[spec.hash ?? ''] ?? 'SHA-256';
  switch (spec.family) {
    case 'hmac':
      return { name: 'HMAC', hash };
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash };
    case 'rsa-pss':
      return { name: 'RSA-PSS', hash };
    case 'ecdsa':
      return { name: 'ECDSA', namedCurve: spec.jwkCurve ?? 'P-256' };
    case 'eddsa':
      return { name: jwk.crv === 'Ed448' ? 'Ed448' : 'Ed25519' };
  }
}

function operationParameters(
  alg: JwsAlgorithm,
  key: WebKey,
): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  const spec = ALGORITHMS[alg];
  const hash = HASH[spec.hash ?? ''] ?? 'SHA-256';
  switch (spec.family) {
    case 'hmac':
      return 'HMAC';
    case 'rsa':
      return 'RSASSA-PKCS1-v1_5';
    case 'rsa-pss':
      // The salt is as long as the digest (RFC 7518 section 3.5).
      return { name: 'RSA-PSS', saltLength: spec.hash === 'sha512' ? 64 : spec.hash === 'sha384' ? 48 : 32 };
    case 'ecdsa':
      return { name: 'ECDSA', hash };
    case 'eddsa':
      return { name: key.jwk.crv === 'Ed448' ? 'Ed448' : 'Ed25519' };
  }
}

function importForAlgorithm(key: WebKey, alg: JwsAlgorithm): Promise<CryptoKey> {
  const subtle = globalThis.crypto.subtle;
  const params = importParameters(alg, key.jwk);
  if (key.info.type === 'secret') {
    return subtle.importKey('raw', bytes(key.jwk.k ?? ''), params, false, ['sign', 'verify']);
  }
  // Only the key members: no alg, use or key_ops for Web Crypto to second-guess.
  const usage: KeyUsage[] = key.info.type === 'private' ? ['sign'] : ['verify'];
  return subtle.importKey('jwk', { ...key.jwk } as JsonWebKey, params, false, usage);
}

function bytes(member: string): Uint8Array<ArrayBuffer> {
  const decoded = base64UrlToBytes(member);
  if (decoded === undefined) throw new Error('not base64url');
  return decoded as Uint8Array<ArrayBuffer>;
}

function toBigInt(value: Uint8Array): bigint {
  let out = 0n;
  for (const byte of value) out = (out << 8n) | BigInt(byte);
  return out;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** Check the members and describe the key, as node:crypto would on import. */
function describe(
  jwk: Readonly<Record<string, string>>,
  isPrivate: boolean,
  pss?: ParsedKey['rsaPss'],
): KeyInfo {
  const type = isPrivate ? 'private' : 'public';
  switch (jwk.kty) {
    case 'RSA': {
      const n = toBigInt(bytes(jwk.n ?? ''));
      const e = toBigInt(bytes(jwk.e ?? ''));
      if (n === 0n || e === 0n) throw new Error('RSA members are zero');
      if (isPrivate) {
        // The numbers must belong together; OpenSSL checks as much, so do we.
        const [d, p, q, dp, dq, qi] = ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((name) =>
          toBigInt(bytes(jwk[name] ?? '')),
        );
        if (
          p === undefined ||
          q === undefined ||
          d === undefined ||
          dp === undefined ||
          dq === undefined ||
          qi === undefined ||
          p < 2n ||
          q < 2n ||
          p * q !== n ||
          dp !== d % (p - 1n) ||
          dq !== d % (q - 1n) ||
          (e * dp) % (p - 1n) !== 1n % (p - 1n) ||
          (qi * q) % p !== 1n
        ) {
          throw new Error('RSA private key numbers are inconsistent');
        }
      }
      return {
        type,
        asymmetricKeyType: pss === undefined ? 'rsa' : 'rsa-pss',
        modulusLength: bitLength(n),
        publicExponent: e,
        hashAlgorithm: pss?.hash,
        mgf1HashAlgorithm: pss?.mgf1Hash,
        saltLength: pss?.saltLength,
      };
    }
    case 'EC': {
      const crv = jwk.crv ?? '';
      const curve = CURVES[crv];
      if (curve === undefined) throw new Error('unsupported curve');
      const xb = bytes(jwk.x ?? '');
      const yb = bytes(jwk.y ?? '');
      if (xb.length !== curve.size || yb.length !== curve.size)
        throw new Error('EC coordinates of the wrong length');
      const x = toBigInt(xb);
      const y = toBigInt(yb);
      if (!onCurve(crv, x, y)) throw new Error('EC point is not on the curve');
      if (isPrivate) {
        const db = bytes(jwk.d ?? '');
        const d = toBigInt(db);
        if (db.length !== curve.size || !validScalar(crv, d))
          throw new Error('EC private scalar out of range');
        // The public point must be the private scalar's, as node:crypto's probe would find.
        const derived = ecPublicPoint(crv, d);
        if (derived.x !== x || derived.y !== y)
          throw new Error('EC public point does not match the private key');
      }
      return { type, asymmetricKeyType: 'ec', namedCurve: NODE_CURVE[crv] };
    }
    case 'OKP': {
      const size = jwk.crv === 'Ed25519' ? 32 : jwk.crv === 'Ed448' ? 57 : 0;
      if (size === 0) throw new Error('unsupported curve');
      if (bytes(jwk.x ?? '').length !== size) throw new Error('OKP key of the wrong length');
      if (isPrivate) {
        const d = bytes(jwk.d ?? '');
        if (d.length !== size) throw new Error('OKP private key of the wrong length');
        if (jwk.crv === 'Ed25519' && bytesToBase64Url(ed25519PublicKey(d)) !== jwk.x) {
          throw new Error('Ed25519 public key does not match the private key');
        }
      }
      return { type, asymmetricKeyType: jwk.crv === 'Ed25519' ? 'ed25519' : 'ed448' };
    }
    default:
      throw new Error('unsupported key type');
  }
}

function fromParsed(parsed: ParsedKey): WebKey {
  return new WebKey(describe(parsed.jwk, parsed.isPrivate, parsed.rsaPss), { ...parsed.jwk });
}

const PARSERS: Readonly<Record<DerStructure, (der: Uint8Array) => ParsedKey>> = {
  spki: parseSpki,
  'pkcs1-public': parsePkcs1Public,
  pkcs8: parsePkcs8,
  'pkcs1-private': parsePkcs1Private,
  sec1: parseSec1,
  certificate: parseCertificate,
};

const SNIFF: ReadonlyArray<[string, DerStructure]> = [
  ['an SPKI public key', 'spki'],
  ['a PKCS#1 RSA public key', 'pkcs1-public'],
  ['a PKCS#8 private key', 'pkcs8'],
  ['a PKCS#1 RSA private key', 'pkcs1-private'],
  ['a SEC1 EC private key', 'sec1'],
  ['an X.509 certificate', 'certificate'],
];

function pem(label: string, der: Uint8Array): string {
  const body = bytesToBase64(der).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const encoder = new TextEncoder();

/** Some engines throw for a signature of the wrong length: it simply does not verify. */
function notVerified(): boolean {
  return false;
}

/** The Web Crypto backend. */
export function createWebBackend(): CryptoBackend {
  const subtle = globalThis.crypto.subtle;
  const backend: CryptoBackend = {
    name: 'webcrypto',
    synchronous: false,
    owns: (key) => key instanceof WebKey,
    info: (key) => (key as WebKey).info,
    secret: (secret) => new WebKey({ type: 'secret' }, { kty: 'oct', k: bytesToBase64Url(secret) }),
    readDer: (structure, der) => fromParsed(PARSERS[structure](der)),
    readJwk: (jwk, isPrivate) => new WebKey(describe(jwk, isPrivate), { ...jwk }),
    publicOf: (key) => (key as WebKey).publicKey(),
    exportJwk: (key) => ({ ...(key as WebKey).jwk }),
    exportPem(key, type) {
      const { jwk } = key as WebKey;
      const get = (name: string): Uint8Array => bytes(jwk[name] ?? '');
      return type === 'spki'
        ? pem('PUBLIC KEY', writeSpki(jwk.kty ?? '', jwk.crv, get))
        : pem('PRIVATE KEY', writePkcs8(jwk.kty ?? '', jwk.crv, get));
    },
    describeDer(der) {
      for (const [kind, structure] of SNIFF) {
        try {
          PARSERS[structure](der);
          return kind;
        } catch {
          // Not this structure; try the next.
        }
      }
      return undefined;
    },
    generate(alg: JwsAlgorithm, options: GenerateParameters): KeyHandle | Promise<KeyHandle> {
      const spec = ALGORITHMS[alg];
      if (spec.family === 'hmac') return backend.secret(randomBytes(spec.minSecretBytes ?? 64));
      const params =
        spec.family === 'rsa' || spec.family === 'rsa-pss'
          ? {
              ...(importParameters(alg, {}) as RsaHashedImportParams),
              modulusLength: options.modulusLength,
              publicExponent: Uint8Array.of(1, 0, 1),
            }
          : spec.family === 'eddsa'
            ? { name: options.curve }
            : importParameters(alg, {});
      return (async () => {
        const pair = (await subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
        const jwk = (await subtle.exportKey('jwk', pair.privateKey)) as Record<string, unknown>;
        const members: Record<string, string> = {};
        for (const name of ['kty', 'crv', 'n', 'e', 'x', 'y', ...PRIVATE_MEMBERS]) {
          if (typeof jwk[name] === 'string') members[name] = jwk[name] as string;
        }
        return backend.readJwk(members, true);
      })();
    },
    async sign(alg, key, data) {
      const webKey = key as WebKey;
      const cryptoKey = await webKey.cryptoKey(alg);
      return new Uint8Array(
        await subtle.sign(webKey.params(alg), cryptoKey, data as Uint8Array<ArrayBuffer>),
      );
    },
    verify: (alg, key, data, signature) => backend.verifier(alg, key)(data, signature),
    verifier(alg, key) {
      // Everything that does not depend on the token is settled here, once per bound
      // key: the operation parameters, and the CryptoKey as soon as it is imported.
      // A call then costs the encoding of the signing input and one subtle.verify.
      const webKey = key as WebKey;
      const params = webKey.params(alg);
      let ready: CryptoKey | undefined;
      return (data, signature) => {
        // The signing input is base64url and dots: its UTF-8 bytes are its latin1 bytes.
        const bytes = (typeof data === 'string' ? encoder.encode(data) : data) as Uint8Array<ArrayBuffer>;
        const sig = signature as Uint8Array<ArrayBuffer>;
        if (ready !== undefined) return subtle.verify(params, ready, sig, bytes).catch(notVerified);
        const cryptoKey = webKey.cryptoKey(alg);
        if (cryptoKey instanceof Promise) {
          return cryptoKey.then((imported) => {
            ready = imported;
            return subtle.verify(params, imported, sig, bytes).catch(notVerified);
          });
        }
        ready = cryptoKey;
        return subtle.verify(params, cryptoKey, sig, bytes).catch(notVerified);
      };
    },
    sha256,
    async checkPair(alg, privateKey, publicKey) {
      const probe = latin1Encode('tessera pairwise consistency check');
      const signature = await backend.sign(alg, privateKey, probe);
      if ((await backend.verify(alg, publicKey, 'tessera pairwise consistency check', signature)) !== true) {
        throw new Error('inconsistent');
      }
    },
  };
  return backend;
}
