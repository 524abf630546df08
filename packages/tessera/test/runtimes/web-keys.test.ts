/**
 * Key import on the Web Crypto backend, where Tessera reads DER and JWK itself:
 * the same refusals as node:crypto, at import, synchronously; and the portable
 * byte helpers (src/bytes.ts) against Node's Buffer.
 */
import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import fc from 'fast-check';
import {
  exportJwk,
  exportPem,
  importJwk,
  importPem,
  importSecret,
  type Jwk,
  KeyImportError,
  setCryptoBackend,
} from 'tessera-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  base64UrlToBytes,
  bytesToBase64,
  bytesToBase64Url,
  bytesToHex,
  isUtf8,
  timingSafeEqualStrings,
  utf8ByteLength,
} from '../../src/bytes.js';
import { ed25519PublicKey, sha512 } from '../../src/crypto/ed25519.js';
import { sha256 } from '../../src/crypto/select.js';
import { sha256 as portableSha256 } from '../../src/crypto/sha256.js';

beforeAll(() => setCryptoBackend('webcrypto'));
afterAll(() => setCryptoBackend('auto'));

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const jwkOf = (key: { export(o: { format: 'jwk' }): JsonWebKey }) =>
  key.export({ format: 'jwk' }) as Record<string, string>;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

describe('Web Crypto backend: key import refusals', () => {
  it('refuses an RSA private JWK whose numbers do not belong together', () => {
    const good = jwkOf(rsa.privateKey);
    expect(importJwk({ ...good, alg: 'RS256' } as Jwk).type).toBe('private');
    const other = jwkOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    expect(() => importJwk({ ...good, d: other.d, alg: 'RS256' } as Jwk)).toThrow(KeyImportError);
    expect(() => importJwk({ ...good, qi: other.qi, alg: 'RS256' } as Jwk)).toThrow(KeyImportError);
  });

  it('refuses an EC point that is not on the curve, or coordinates of the wrong length', () => {
    const pub = jwkOf(ec.publicKey);
    const x = Buffer.from(pub.x as string, 'base64url');
    x[31] = (x[31] as number) ^ 1;
    expect(() => importJwk({ ...pub, x: b64(x), alg: 'ES256' } as Jwk)).toThrow(KeyImportError);
    expect(() => importJwk({ ...pub, x: b64(x.subarray(1)), alg: 'ES256' } as Jwk)).toThrow(KeyImportError);
    expect(importJwk({ ...pub, alg: 'ES256' } as Jwk).type).toBe('public');
  });

  it('refuses a private EC or Ed25519 JWK whose public members belong to another key', () => {
    for (const [pair, alg] of [
      [generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'ES256'],
      [generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'ES384'],
      [generateKeyPairSync('ec', { namedCurve: 'P-521' }), 'ES512'],
      [generateKeyPairSync('ed25519'), 'EdDSA'],
    ] as const) {
      const own = jwkOf(pair.privateKey);
      expect(importJwk({ ...own, alg } as Jwk).type).toBe('private');
      const other =
        alg === 'EdDSA'
          ? jwkOf(generateKeyPairSync('ed25519').publicKey)
          : jwkOf(generateKeyPairSync('ec', { namedCurve: own.crv as string }).publicKey);
      expect(() => importJwk({ ...own, x: other.x, y: other.y, alg } as Jwk), alg).toThrow(KeyImportError);
    }
  });

  it('computes the public point of a SEC1 key that omits it, on every curve, as node:crypto does', () => {
    for (const crv of ['P-256', 'P-384', 'P-521']) {
      const pair = generateKeyPairSync('ec', { namedCurve: crv });
      const der = pair.privateKey.export({ format: 'der', type: 'sec1' });
      // ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING, [0] parameters, [1] publicKey }: drop [1].
      const stripped = stripSec1PublicKey(der);
      const pem = `-----BEGIN EC PRIVATE KEY-----\n${stripped.toString('base64')}\n-----END EC PRIVATE KEY-----`;
      const alg = crv === 'P-256' ? 'ES256' : crv === 'P-384' ? 'ES384' : 'ES512';
      const key = importPem(pem, alg);
      expect(exportJwk(key)).toEqual({ ...jwkOf(pair.publicKey), alg, use: 'sig' });
    }
  });

  it('reads every PEM structure node:crypto writes, deriving an Ed25519 public key PKCS#8 omits', () => {
    const pem = (key: { export(o: object): string | Buffer }, type: string) =>
      key.export({ format: 'pem', type }).toString();
    expect(importPem(pem(rsa.publicKey, 'spki'), 'RS256').type).toBe('public');
    expect(importPem(pem(rsa.publicKey, 'pkcs1'), 'PS256').type).toBe('public');
    expect(importPem(pem(rsa.privateKey, 'pkcs8'), 'RS256').type).toBe('private');
    expect(importPem(pem(rsa.privateKey, 'pkcs1'), 'RS512').type).toBe('private');
    expect(importPem(pem(ec.privateKey, 'sec1'), 'ES256').type).toBe('private');
    expect(importPem(pem(ec.privateKey, 'pkcs8'), 'ES256').type).toBe('private');
    expect(importPem(pem(ed.publicKey, 'spki'), 'EdDSA').type).toBe('public');
    // OpenSSL writes PKCS#8 v1 for Ed25519, without the public key: it is derived (RFC 8032 5.1.5).
    const fromPem = importPem(pem(ed.privateKey, 'pkcs8'), 'EdDSA');
    expect(exportJwk(fromPem)).toEqual({ ...jwkOf(ed.publicKey), alg: 'EdDSA', use: 'sig' });
    const key = importJwk({ ...jwkOf(ed.privateKey), alg: 'EdDSA' } as Jwk);
    expect(importPem(exportPem(key, { private: true }), 'EdDSA').type).toBe('private');
    // Ed448 has no such derivation here: refused with a clear message.
    expect(() => importPem(pem(generateKeyPairSync('ed448').privateKey, 'pkcs8'), 'EdDSA')).toThrow(
      /does not carry its public key/,
    );
    // And node:crypto reads what the Web Crypto backend writes.
    setCryptoBackend('node');
    try {
      expect(importPem(exportPem(key, { private: true }), 'EdDSA').type).toBe('private');
      expect(
        importPem(exportPem(importJwk({ ...jwkOf(rsa.privateKey), alg: 'RS256' } as Jwk)), 'RS256').type,
      ).toBe('public');
    } finally {
      setCryptoBackend('webcrypto');
    }
  });

  it('never throws anything but KeyImportError for arbitrary DER in a PEM block', () => {
    const der = rsa.publicKey.export({ format: 'der', type: 'spki' });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: der.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (at, byte) => {
          const mutated = Buffer.from(der);
          mutated[at] = byte;
          const pem = `-----BEGIN PUBLIC KEY-----\n${mutated.toString('base64')}\n-----END PUBLIC KEY-----`;
          try {
            importPem(pem, 'RS256');
          } catch (error) {
            expect(error).toBeInstanceOf(KeyImportError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses key material as an HMAC secret, recognised without node:crypto', () => {
    const der = ec.publicKey.export({ format: 'der', type: 'spki' });
    expect(() => importSecret(der, 'HS256')).toThrow(/SPKI public key/);
    expect(() => importSecret(der.toString('base64'), 'HS256')).toThrow(/base64-encoded/);
    expect(() => importSecret(der.toString('hex'), 'HS256')).toThrow(/hex-encoded/);
  });
});

describe('Ed25519 public key derivation (RFC 8032 5.1.5) and SHA-512', () => {
  it('matches node:crypto for random keys and inputs', () => {
    for (let i = 0; i < 20; i++) {
      const pair = generateKeyPairSync('ed25519');
      const { d, x } = jwkOf(pair.privateKey);
      expect(b64(ed25519PublicKey(Buffer.from(d as string, 'base64url')))).toBe(x);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(Buffer.from(sha512(bytes)).toString('hex')).toBe(
          createHash('sha512').update(bytes).digest('hex'),
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe('src/bytes.ts', () => {
  it('encodes and decodes base64url and base64 as Buffer does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const url = Buffer.from(bytes).toString('base64url');
        expect(bytesToBase64Url(bytes)).toBe(url);
        expect(Array.from(base64UrlToBytes(url) ?? [])).toEqual(Array.from(bytes));
        const std = Buffer.from(bytes).toString('base64');
        expect(bytesToBase64(bytes)).toBe(std);
        expect(Array.from(base64ToBytes(std) ?? [])).toEqual(Array.from(bytes));
      }),
    );
    expect(base64UrlToBytes('a')).toBeUndefined();
    expect(base64UrlToBytes('ab=c')).toBeUndefined();
  });

  it('counts UTF-8 bytes as Buffer.byteLength does, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
    );
    for (const text of ['\ud800', 'a\udc00b', '\ud83d\ude00', '\ud83d']) {
      expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });

  it('hashes with SHA-256 (node:crypto or portable) and writes hex as Node does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string(), (bytes, text) => {
        const expected = createHash('sha256').update(bytes).digest('hex');
        expect(bytesToHex(sha256(bytes))).toBe(expected);
        expect(bytesToHex(portableSha256(bytes))).toBe(expected);
        expect(bytesToHex(sha256(text))).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      }),
      { numRuns: 100 },
    );
  });

  it('validates UTF-8 and compares strings', () => {
    expect(isUtf8(new Uint8Array([0xc3, 0xa9]))).toBe(true);
    expect(isUtf8(new Uint8Array([0xc3]))).toBe(false);
    expect(isUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(false);
    expect(timingSafeEqualStrings('csrf-token', 'csrf-token')).toBe(true);
    expect(timingSafeEqualStrings('csrf-token', 'csrf-tokem')).toBe(false);
    expect(timingSafeEqualStrings('csrf', 'csrf-token')).toBe(false);
  });
});

/** The SEC1 DER without its optional [1] public key (short-form lengths only: P-256 and P-384; long form for P-521). */
function stripSec1PublicKey(der: Buffer): Buffer {
  // Parse the outer SEQUENCE header.
  let at = 1;
  let length = der[at++] as number;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[at++] as number);
  }
  const children: Buffer[] = [];
  while (at < der.length) {
    const start = at;
    const tag = der[at++] as number;
    let size = der[at++] as number;
    if (size & 0x80) {
      const count = size & 0x7f;
      size = 0;
      for (let i = 0; i < count; i++) size = size * 256 + (der[at++] as number);
    }
    at += size;
    if (tag !== 0xa1) children.push(der.subarray(start, at));
  }
  const body = Buffer.concat(children);
  const header =
    body.length < 0x80 ? Buffer.from([0x30, body.length]) : Buffer.from([0x30, 0x81, body.length]);
  return Buffer.concat([header, body]);
}
