/**
 * The node:crypto backend: synchronous, OpenSSL (or BoringSSL under Bun), the
 * fast path on every runtime that has it. `node:crypto` and `node:buffer` are
 * reached through `process.getBuiltinModule` when this backend is first used,
 * never by an import statement, so this file loads everywhere.
 *
 * @module
 */
import type * as NodeBuffer from 'node:buffer';
import type * as NodeCrypto from 'node:crypto';
import { ALGORITHMS } from '../jws/algorithms.js';
import type {
  Codec,
  CryptoBackend,
  DerStructure,
  GenerateParameters,
  KeyHandle,
  KeyInfo,
} from './backend.js';

type KeyObject = NodeCrypto.KeyObject;
type Buffer = NodeBuffer.Buffer;

interface NodeModules {
  readonly crypto: typeof NodeCrypto;
  readonly Buffer: typeof NodeBuffer.Buffer;
  readonly isUtf8: typeof NodeBuffer.isUtf8;
}

let modules: NodeModules | null | undefined;

/** node:crypto and node:buffer, or undefined where the runtime lacks them. */
export function nodeModules(): NodeModules | undefined {
  if (modules !== undefined) return modules ?? undefined;
  modules = null;
  const get = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process
    ?.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  try {
    const crypto = get('node:crypto') as typeof NodeCrypto | undefined;
    const buffer = get('node:buffer') as typeof NodeBuffer | undefined;
    if (
      typeof crypto?.createHmac === 'function' &&
      typeof crypto.KeyObject === 'function' &&
      typeof buffer?.Buffer === 'function' &&
      typeof buffer.isUtf8 === 'function'
    ) {
      modules = { crypto, Buffer: buffer.Buffer, isUtf8: buffer.isUtf8 };
    }
  } catch {
    // A runtime that refuses the lookup has no usable node:crypto.
  }
  return modules ?? undefined;
}

/** The Buffer-based codec; only called when {@link nodeModules} found Node's modules. */
export function nodeCodec(m: NodeModules): Codec {
  const { Buffer, isUtf8 } = m;
  return {
    base64UrlToBytes: (text) => Buffer.from(text, 'base64url'),
    bytesToBase64Url: (bytes) =>
      (bytes instanceof Buffer
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      ).toString('base64url'),
    utf8ToBase64Url: (text) => Buffer.from(text, 'utf8').toString('base64url'),
    utf8Decode: (bytes) =>
      (bytes instanceof Buffer
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      ).toString('utf8'),
    isUtf8: (bytes) => isUtf8(bytes),
  };
}

/** The node:crypto backend over the modules {@link nodeModules} found. */
export function createNodeBackend(m: NodeModules): CryptoBackend {
  const { crypto, Buffer } = m;
  const { createHmac, createPrivateKey, createPublicKey, createSecretKey, KeyObject, X509Certificate } =
    crypto;
  const PSS = {
    padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
    saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
  };
  const asBuffer = (bytes: Uint8Array): Buffer =>
    bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const DER_READERS: Readonly<Record<DerStructure, (der: Buffer) => KeyObject>> = {
    spki: (der) => createPublicKey({ key: der, format: 'der', type: 'spki' }),
    'pkcs1-public': (der) => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }),
    certificate: (der) => new X509Certificate(der).publicKey,
    pkcs8: (der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
    'pkcs1-private': (der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }),
    sec1: (der) => createPrivateKey({ key: der, format: 'der', type: 'sec1' }),
  };
  const SNIFF: ReadonlyArray<[string, DerStructure]> = [
    ['an SPKI public key', 'spki'],
    ['a PKCS#1 RSA public key', 'pkcs1-public'],
    ['a PKCS#8 private key', 'pkcs8'],
    ['a PKCS#1 RSA private key', 'pkcs1-private'],
    ['a SEC1 EC private key', 'sec1'],
    ['an X.509 certificate', 'certificate'],
  ];

  const backend: CryptoBackend = {
    name: 'node',
    synchronous: true,
    owns: (key) => key instanceof KeyObject,
    info(key): KeyInfo {
      const object = key as KeyObject;
      const details = object.asymmetricKeyDetails ?? {};
      return {
        type: object.type,
        asymmetricKeyType: object.asymmetricKeyType,
        modulusLength: details.modulusLength,
        publicExponent: details.publicExponent,
        namedCurve: details.namedCurve,
        hashAlgorithm: details.hashAlgorithm,
        mgf1HashAlgorithm: details.mgf1HashAlgorithm,
        saltLength: details.saltLength,
      };
    },
    // createSecretKey copies the bytes, so the caller's buffer can be wiped afterwards.
    secret: (bytes) => createSecretKey(asBuffer(bytes)),
    readDer: (structure, der) => DER_READERS[structure](asBuffer(der)),
    readJwk(jwk, isPrivate) {
      const input = { key: jwk as NodeCrypto.JsonWebKey, format: 'jwk' as const };
      return isPrivate ? createPrivateKey(input) : createPublicKey(input);
    },
    publicOf: (key) => ((key as KeyObject).type === 'private' ? createPublicKey(key as KeyObject) : key),
    exportJwk: (key) => asPlainRsa(m, key as KeyObject).export({ format: 'jwk' }) as Record<string, string>,
    exportPem: (key, type) => (key as KeyObject).export({ format: 'pem', type }).toString(),
    describeDer(bytes) {
      const der = asBuffer(bytes);
      for (const [kind, structure] of SNIFF) {
        try {
          DER_READERS[structure](der);
          return kind;
        } catch {
          // Not this structure; try the next.
        }
      }
      return undefined;
    },
    generate(alg, options: GenerateParameters): KeyHandle {
      const spec = ALGORITHMS[alg];
      switch (spec.family) {
        case 'hmac':
          return createSecretKey(crypto.randomBytes(spec.minSecretBytes ?? 64));
        case 'rsa':
        case 'rsa-pss':
          // Plain 'rsa' keys even for PS*: they export as JWK, and the algorithm
          // bound to the Tessera key is what restricts them to PSS.
          return crypto.generateKeyPairSync('rsa', { modulusLength: options.modulusLength }).privateKey;
        case 'ecdsa':
          return crypto.generateKeyPairSync('ec', { namedCurve: spec.curve ?? 'prime256v1' }).privateKey;
        case 'eddsa':
          return options.curve === 'Ed448'
            ? crypto.generateKeyPairSync('ed448').privateKey
            : crypto.generateKeyPairSync('ed25519').privateKey;
      }
    },
    signText(alg, key, input) {
      const spec = ALGORITHMS[alg];
      if (spec.family === 'hmac') {
        return createHmac(spec.hash!, key as KeyObject)
          .update(input, 'latin1')
          .digest('base64url');
      }
      return (backend.sign(alg, key, Buffer.from(input, 'latin1')) as Buffer).toString('base64url');
    },
    sign(alg, key, data) {
      const spec = ALGORITHMS[alg];
      const object = key as KeyObject;
      const bytes = asBuffer(data);
      switch (spec.family) {
        case 'hmac':
          return createHmac(spec.hash!, object).update(bytes).digest();
        case 'rsa':
          return crypto.sign(spec.hash!, bytes, object);
        case 'rsa-pss':
          return crypto.sign(spec.hash!, bytes, { key: object, ...PSS });
        case 'ecdsa':
          return crypto.sign(spec.hash!, bytes, { key: object, dsaEncoding: 'ieee-p1363' });
        case 'eddsa':
          return crypto.sign(null, bytes, object);
      }
    },
    verify(alg, key, data, signature) {
      const spec = ALGORITHMS[alg];
      const object = key as KeyObject;
      const sig = asBuffer(signature);
      if (spec.family === 'hmac') {
        // The signing input is base64url and dots: latin1 encodes it byte for byte, faster than UTF-8.
        const expected =
          typeof data === 'string'
            ? createHmac(spec.hash!, object).update(data, 'latin1').digest()
            : createHmac(spec.hash!, object).update(asBuffer(data)).digest();
        return sig.length === expected.length && crypto.timingSafeEqual(sig, expected);
      }
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : asBuffer(data);
      try {
        switch (spec.family) {
          case 'rsa':
            return crypto.verify(spec.hash!, bytes, object, sig);
          case 'rsa-pss':
            return crypto.verify(spec.hash!, bytes, { key: object, ...PSS }, sig);
          case 'ecdsa':
            return crypto.verify(spec.hash!, bytes, { key: object, dsaEncoding: 'ieee-p1363' }, sig);
          case 'eddsa':
            return crypto.verify(null, bytes, object, sig);
        }
      } catch {
        // OpenSSL throws for some malformed signatures (wrong length for the modulus);
        // a malformed signature is simply a signature that does not verify.
        return false;
      }
    },
    verifier(alg, key) {
      const spec = ALGORITHMS[alg];
      const object = key as KeyObject;
      if (spec.family === 'hmac') {
        const hash = spec.hash!;
        const { timingSafeEqual } = crypto;
        return (data, signature) => {
          const sig = asBuffer(signature);
          // The signing input is base64url and dots: latin1 encodes it byte for byte, faster than UTF-8.
          const expected =
            typeof data === 'string'
              ? createHmac(hash, object).update(data, 'latin1').digest()
              : createHmac(hash, object).update(asBuffer(data)).digest();
          return sig.length === expected.length && timingSafeEqual(sig, expected);
        };
      }
      return (data, signature) => backend.verify(alg, key, data, signature);
    },
    textVerifier(alg, key) {
      const spec = ALGORITHMS[alg];
      if (spec.family !== 'hmac') return undefined;
      const hash = spec.hash!;
      const object = key as KeyObject;
      // The digest straight to base64url skips a Buffer for it and the decoding of
      // the token's signature; the segment is canonical (the caller checked its
      // trailing bits), so equal text is equal bytes.
      return (input, segment) =>
        equalText(createHmac(hash, object).update(input, 'latin1').digest('base64url'), segment);
    },
    sha256: (bytes) => crypto.createHash('sha256').update(asBuffer(bytes)).digest(),
    checkPair(alg, privateKey, publicKey) {
      // OpenSSL accepts an RSA private key whose numbers do not belong together (a
      // JWK with another key's `n`); every signature it made would then fail.
      const probe = Buffer.from('tessera pairwise consistency check');
      const signature = backend.sign(alg, privateKey, probe) as Uint8Array;
      if (backend.verify(alg, publicKey, probe.toString('latin1'), signature) !== true) {
        throw new Error('inconsistent');
      }
    },
  };
  return backend;
}

/**
 * Constant-time comparison of two ASCII strings: every character is compared,
 * with no early exit, so the time depends on the length alone (public: a digest's).
 */
function equalText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * RSA-PSS keys (OID id-RSASSA-PSS) hold the same numbers as plain RSA keys, but
 * Node will not export them as JWK: a JWK has no way to say "PSS only". To
 * publish one we unwrap the RSA key inside its DER (SPKI BIT STRING, PKCS#8 OCTET
 * STRING) and export that. The PSS restriction is kept where it matters: the
 * algorithm bound to the Tessera key.
 */
function asPlainRsa(m: NodeModules, key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'rsa-pss') return key;
  const { createPrivateKey, createPublicKey } = m.crypto;
  if (key.type === 'public') {
    const spki = key.export({ format: 'der', type: 'spki' });
    // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
    const [, bits] = children(spki, 0);
    if (bits === undefined || spki[bits.tagAt] !== 0x03) throw malformed();
    // The first content byte of a BIT STRING counts unused bits (0 for a key).
    const rsaPublicKey = spki.subarray(bits.start + 1, bits.end);
    return createPublicKey({ key: rsaPublicKey, format: 'der', type: 'pkcs1' });
  }
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  // PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm AlgorithmIdentifier, privateKey OCTET STRING, ... }
  const [, , octets] = children(pkcs8, 0);
  if (octets === undefined || pkcs8[octets.tagAt] !== 0x04) throw malformed();
  return createPrivateKey({ key: pkcs8.subarray(octets.start, octets.end), format: 'der', type: 'pkcs1' });
}

interface Tlv {
  readonly tagAt: number;
  readonly start: number;
  readonly end: number;
}

/** The TLVs directly inside the SEQUENCE at `offset`. */
function children(der: Uint8Array, offset: number): Tlv[] {
  const outer = readTlv(der, offset);
  const result: Tlv[] = [];
  let at = outer.start;
  while (at < outer.end) {
    const tlv = readTlv(der, at);
    result.push(tlv);
    at = tlv.end;
  }
  return result;
}

function readTlv(der: Uint8Array, tagAt: number): Tlv {
  let at = tagAt + 1;
  const first = der[at++];
  if (first === undefined) throw malformed();
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw malformed();
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[at++];
      if (byte === undefined) throw malformed();
      length = length * 256 + byte;
    }
  }
  const end = at + length;
  if (end > der.length) throw malformed();
  return { tagAt, start: at, end };
}

function malformed(): Error {
  return new Error('RSA-PSS key has an unexpected DER structure');
}
