/**
 * Just enough DER (ITU-T X.690) for the key structures Tessera reads and writes
 * without node:crypto: SPKI, PKCS#8, PKCS#1, SEC1 and the public key of an X.509
 * certificate, to and from JWK members. Strict: definite lengths only, no
 * trailing bytes, every structure checked field by field.
 *
 * @module
 */
import { bytesToBase64Url, concatBytes } from '../bytes.js';
import { ecPublicPoint } from './ec.js';
import { ed25519PublicKey } from './ed25519.js';

/** JWK members as base64url strings, plus `kty` and `crv`. */
export type JwkMembers = Record<string, string>;

/** A parsed key: its JWK members and, for RSA-PSS keys, what the key pins. */
export interface ParsedKey {
  readonly jwk: JwkMembers;
  readonly isPrivate: boolean;
  /** `rsa-pss` when the key's OID restricts it to PSS. */
  readonly rsaPss?: { hash?: string; mgf1Hash?: string; saltLength?: number };
}

class DerError extends Error {}

interface Node {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function read(der: Uint8Array, at: number, limit = der.length): Node & { next: number } {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) throw new DerError('truncated');
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[start++];
      if (byte === undefined) throw new DerError('truncated');
      length = length * 256 + byte;
    }
  }
  const end = start + length;
  if (end > limit) throw new DerError('overrun');
  return { tag, start, end, next: end };
}

/** The elements of the constructed node, each checked against `tags` when given. */
function items(der: Uint8Array, node: Node): Node[] {
  const out: Node[] = [];
  let at = node.start;
  while (at < node.end) {
    const child = read(der, at, node.end);
    out.push(child);
    at = child.next;
  }
  return out;
}

function whole(der: Uint8Array, tag: number): Node {
  const node = read(der, 0);
  if (node.tag !== tag || node.end !== der.length) throw new DerError('not one element');
  return node;
}

function expect(node: Node | undefined, tag: number): Node {
  if (node === undefined || node.tag !== tag) throw new DerError(`expected tag ${tag}`);
  return node;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const NULL = 0x05;
const OID = 0x06;

function bytesOf(der: Uint8Array, node: Node): Uint8Array {
  return der.subarray(node.start, node.end);
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** An unsigned INTEGER's magnitude, without the sign byte DER may add. */
function unsigned(der: Uint8Array, node: Node): Uint8Array {
  const value = bytesOf(der, expect(node, INTEGER));
  if (value.length === 0 || (value[0] as number) & 0x80) throw new DerError('negative integer');
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  return value.subarray(start);
}

/** Left-pad to a fixed width (EC coordinates and scalars). */
function fixed(bytes: Uint8Array, width: number): Uint8Array {
  let start = 0;
  while (bytes.length - start > width && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  if (trimmed.length > width) throw new DerError('value too long');
  const out = new Uint8Array(width);
  out.set(trimmed, width - trimmed.length);
  return out;
}

const OIDS = {
  rsaEncryption: '2a864886f70d010101',
  rsassaPss: '2a864886f70d01010a',
  mgf1: '2a864886f70d010108',
  ecPublicKey: '2a8648ce3d0201',
  ed25519: '2b6570',
  ed448: '2b6571',
} as const;

/** The NIST curves: OID, JWK name, coordinate width. */
export const CURVES: Readonly<Record<string, { oid: string; crv: string; size: number }>> = {
  'P-256': { oid: '2a8648ce3d030107', crv: 'P-256', size: 32 },
  'P-384': { oid: '2b81040022', crv: 'P-384', size: 48 },
  'P-521': { oid: '2b81040023', crv: 'P-521', size: 66 },
};

const HASH_OIDS: Readonly<Record<string, string>> = {
  '608648016503040201': 'sha256',
  '608648016503040202': 'sha384',
  '608648016503040203': 'sha512',
  '2b0e03021a': 'sha1',
};

function curveByOid(oid: string): { crv: string; size: number } {
  for (const curve of Object.values(CURVES)) if (curve.oid === oid) return curve;
  throw new DerError('unsupported curve');
}

/** `04 || x || y` (or a compressed point, refused) into JWK x and y. */
function ecPoint(point: Uint8Array, size: number): { x: string; y: string } {
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) {
    throw new DerError('only uncompressed EC points are supported');
  }
  return {
    x: bytesToBase64Url(point.subarray(1, 1 + size)),
    y: bytesToBase64Url(point.subarray(1 + size)),
  };
}

function rsaPublicMembers(der: Uint8Array, node: Node): JwkMembers {
  const [n, e, extra] = items(der, expect(node, SEQUENCE));
  if (n === undefined || e === undefined || extra !== undefined) throw new DerError('RSAPublicKey');
  return { kty: 'RSA', n: bytesToBase64Url(unsigned(der, n)), e: bytesToBase64Url(unsigned(der, e)) };
}

function rsaPrivateMembers(der: Uint8Array, node: Node): JwkMembers {
  const fields = items(der, expect(node, SEQUENCE));
  // version 0 (two primes); version 1 carries otherPrimeInfos, refused.
  const [version, ...numbers] = fields;
  if (version === undefined || hex(bytesOf(der, expect(version, INTEGER))) !== '00') {
    throw new DerError('multi-prime or unknown RSAPrivateKey version');
  }
  if (numbers.length !== 8) throw new DerError('RSAPrivateKey');
  const names = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];
  const jwk: JwkMembers = { kty: 'RSA' };
  names.forEach((name, i) => {
    jwk[name] = bytesToBase64Url(unsigned(der, numbers[i] as Node));
  });
  return jwk;
}

/** RSASSA-PSS-params (RFC 4055): what a PSS key pins, absent fields meaning the SHA-1 defaults. */
function pssParameters(der: Uint8Array, params: Node | undefined): NonNullable<ParsedKey['rsaPss']> {
  if (params === undefined) return {};
  const out: { hash?: string; mgf1Hash?: string; saltLength?: number } = {};
  const algorithmName = (node: Node): string => {
    const [oid] = items(der, expect(node, SEQUENCE));
    return HASH_OIDS[hex(bytesOf(der, expect(oid, OID)))] ?? 'unknown';
  };
  for (const field of items(der, expect(params, SEQUENCE))) {
    const [inner] = items(der, field);
    if (inner === undefined) continue;
    if (field.tag === 0xa0) out.hash = algorithmName(inner);
    else if (field.tag === 0xa1) {
      const [mgfOid, mgfParams] = items(der, expect(inner, SEQUENCE));
      if (hex(bytesOf(der, expect(mgfOid, OID))) !== OIDS.mgf1 || mgfParams === undefined) {
        throw new DerError('unsupported mask generation');
      }
      out.mgf1Hash = algorithmName(mgfParams);
    } else if (field.tag === 0xa2)
      out.saltLength = Number.parseInt(hex(bytesOf(der, expect(inner, INTEGER))), 16);
  }
  return out;
}

/** SubjectPublicKeyInfo (RFC 5280 4.1.2.7). */
export function parseSpki(der: Uint8Array): ParsedKey {
  return spkiAt(der, whole(der, SEQUENCE));
}

function spkiAt(der: Uint8Array, node: Node): ParsedKey {
  const [algorithm, key, extra] = items(der, expect(node, SEQUENCE));
  if (algorithm === undefined || key === undefined || extra !== undefined) throw new DerError('SPKI');
  const [oidNode, params] = items(der, expect(algorithm, SEQUENCE));
  const oid = hex(bytesOf(der, expect(oidNode, OID)));
  const bits = bytesOf(der, expect(key, BIT_STRING));
  if (bits[0] !== 0) throw new DerError('unused bits in key');
  const content = bits.subarray(1);
  switch (oid) {
    case OIDS.rsaEncryption:
    case OIDS.rsassaPss: {
      if (oid === OIDS.rsaEncryption && params !== undefined && params.tag !== NULL)
        throw new DerError('params');
      const jwk = rsaPublicMembers(content, whole(content, SEQUENCE));
      return oid === OIDS.rsassaPss
        ? { jwk, isPrivate: false, rsaPss: pssParameters(der, params) }
        : { jwk, isPrivate: false };
    }
    case OIDS.ecPublicKey: {
      const curve = curveByOid(hex(bytesOf(der, expect(params, OID))));
      return { jwk: { kty: 'EC', crv: curve.crv, ...ecPoint(content, curve.size) }, isPrivate: false };
    }
    case OIDS.ed25519:
    case OIDS.ed448: {
      const size = oid === OIDS.ed25519 ? 32 : 57;
      if (content.length !== size || params !== undefined) throw new DerError('OKP key');
      return {
        jwk: { kty: 'OKP', crv: oid === OIDS.ed25519 ? 'Ed25519' : 'Ed448', x: bytesToBase64Url(content) },
        isPrivate: false,
      };
    }
    default:
      throw new DerError('unsupported key algorithm');
  }
}

/** RSAPublicKey (PKCS#1). */
export function parsePkcs1Public(der: Uint8Array): ParsedKey {
  return { jwk: rsaPublicMembers(der, whole(der, SEQUENCE)), isPrivate: false };
}

/** RSAPrivateKey (PKCS#1). */
export function parsePkcs1Private(der: Uint8Array): ParsedKey {
  return { jwk: rsaPrivateMembers(der, whole(der, SEQUENCE)), isPrivate: true };
}

/** ECPrivateKey (SEC1, RFC 5915); `curveOid` comes from PKCS#8 when the key omits it. */
function ecPrivate(der: Uint8Array, node: Node, curveOid?: string): ParsedKey {
  const [version, secret, ...rest] = items(der, expect(node, SEQUENCE));
  if (version === undefined || hex(bytesOf(der, expect(version, INTEGER))) !== '01')
    throw new DerError('SEC1');
  let oid = curveOid;
  let point: Uint8Array | undefined;
  for (const field of rest) {
    const [inner] = items(der, field);
    if (inner === undefined) continue;
    if (field.tag === 0xa0) {
      const own = hex(bytesOf(der, expect(inner, OID)));
      if (oid !== undefined && own !== oid) throw new DerError('curve mismatch');
      oid = own;
    } else if (field.tag === 0xa1) {
      const bits = bytesOf(der, expect(inner, BIT_STRING));
      if (bits[0] !== 0) throw new DerError('unused bits');
      point = bits.subarray(1);
    }
  }
  if (oid === undefined) throw new DerError('no curve');
  const curve = curveByOid(oid);
  const d = fixed(bytesOf(der, expect(secret, OCTET_STRING)), curve.size);
  // The public point is optional in SEC1: compute it when the key leaves it out.
  const publicMembers = point === undefined ? derivedPoint(curve, d) : ecPoint(point, curve.size);
  return {
    jwk: { kty: 'EC', crv: curve.crv, ...publicMembers, d: bytesToBase64Url(d) },
    isPrivate: true,
  };
}

function derivedPoint(curve: { crv: string; size: number }, d: Uint8Array): { x: string; y: string } {
  let scalar = 0n;
  for (const byte of d) scalar = (scalar << 8n) | BigInt(byte);
  const { x, y } = ecPublicPoint(curve.crv, scalar);
  const toBytes = (value: bigint): Uint8Array => {
    const out = new Uint8Array(curve.size);
    let rest = value;
    for (let i = curve.size - 1; i >= 0; i--) {
      out[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return out;
  };
  return { x: bytesToBase64Url(toBytes(x)), y: bytesToBase64Url(toBytes(y)) };
}

/** A private key whose encoding does not carry its public half (derivable only by node:crypto). */
export class MissingPublicKeyError extends Error {
  constructor() {
    super('the private key does not carry its public key');
  }
}

/** ECPrivateKey (SEC1). */
export function parseSec1(der: Uint8Array): ParsedKey {
  return ecPrivate(der, whole(der, SEQUENCE));
}

/** PrivateKeyInfo / OneAsymmetricKey (PKCS#8, RFC 5958). */
export function parsePkcs8(der: Uint8Array): ParsedKey {
  const [version, algorithm, privateKey, ...rest] = items(der, whole(der, SEQUENCE));
  const v = hex(bytesOf(der, expect(version, INTEGER)));
  if (v !== '00' && v !== '01') throw new DerError('PKCS#8 version');
  const [oidNode, params] = items(der, expect(algorithm, SEQUENCE));
  const oid = hex(bytesOf(der, expect(oidNode, OID)));
  const inner = bytesOf(der, expect(privateKey, OCTET_STRING));
  switch (oid) {
    case OIDS.rsaEncryption:
    case OIDS.rsassaPss: {
      const jwk = rsaPrivateMembers(inner, whole(inner, SEQUENCE));
      return oid === OIDS.rsassaPss
        ? { jwk, isPrivate: true, rsaPss: pssParameters(der, params) }
        : { jwk, isPrivate: true };
    }
    case OIDS.ecPublicKey:
      return ecPrivate(inner, whole(inner, SEQUENCE), hex(bytesOf(der, expect(params, OID))));
    case OIDS.ed25519:
    case OIDS.ed448: {
      const size = oid === OIDS.ed25519 ? 32 : 57;
      const seed = bytesOf(inner, whole(inner, OCTET_STRING));
      if (seed.length !== size) throw new DerError('OKP private key');
      // OneAsymmetricKey v2 may carry the public key as [1] IMPLICIT BIT STRING;
      // OpenSSL writes v1 without it, and for Ed25519 it is derived here.
      const publicField = rest.find((field) => field.tag === 0x81);
      let x: Uint8Array;
      if (publicField !== undefined) {
        const bits = bytesOf(der, publicField);
        if (bits[0] !== 0 || bits.length !== size + 1) throw new DerError('OKP public key');
        x = bits.subarray(1);
      } else if (oid === OIDS.ed25519) {
        x = ed25519PublicKey(seed);
      } else {
        throw new MissingPublicKeyError();
      }
      return {
        jwk: {
          kty: 'OKP',
          crv: oid === OIDS.ed25519 ? 'Ed25519' : 'Ed448',
          x: bytesToBase64Url(x),
          d: bytesToBase64Url(seed),
        },
        isPrivate: true,
      };
    }
    default:
      throw new DerError('unsupported key algorithm');
  }
}

/** The subject public key of an X.509 certificate (the certificate itself is not validated). */
export function parseCertificate(der: Uint8Array): ParsedKey {
  const [tbs] = items(der, whole(der, SEQUENCE));
  const fields = items(der, expect(tbs, SEQUENCE));
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki, ...
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const spki = fields[offset + 5];
  if (spki === undefined) throw new DerError('certificate');
  return spkiAt(der, spki);
}

// ---- writing ----

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concatBytes(Uint8Array.from(header), content);
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const seq = (...parts: Uint8Array[]): Uint8Array => tlv(SEQUENCE, concatBytes(...parts));
const oidOf = (hexOid: string): Uint8Array => tlv(OID, fromHex(hexOid));
const int = (magnitude: Uint8Array): Uint8Array => {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return tlv(INTEGER, (trimmed[0] as number) & 0x80 ? concatBytes(Uint8Array.of(0), trimmed) : trimmed);
};
const bitString = (bytes: Uint8Array): Uint8Array => tlv(BIT_STRING, concatBytes(Uint8Array.of(0), bytes));
const octets = (bytes: Uint8Array): Uint8Array => tlv(OCTET_STRING, bytes);

/** Members decoded by the caller: `get(name)` returns the bytes of a JWK member. */
type Members = (name: string) => Uint8Array;

/** SPKI DER for a public key given as JWK members. */
export function writeSpki(kty: string, crv: string | undefined, get: Members): Uint8Array {
  if (kty === 'RSA') {
    return seq(
      seq(oidOf(OIDS.rsaEncryption), tlv(NULL, new Uint8Array(0))),
      bitString(seq(int(get('n')), int(get('e')))),
    );
  }
  if (kty === 'EC') {
    const curve = CURVES[crv ?? ''];
    if (curve === undefined) throw new DerError('curve');
    const point = concatBytes(Uint8Array.of(4), fixed(get('x'), curve.size), fixed(get('y'), curve.size));
    return seq(seq(oidOf(OIDS.ecPublicKey), oidOf(curve.oid)), bitString(point));
  }
  return seq(seq(oidOf(crv === 'Ed448' ? OIDS.ed448 : OIDS.ed25519)), bitString(get('x')));
}

/** PKCS#8 DER for a private key given as JWK members. */
export function writePkcs8(kty: string, crv: string | undefined, get: Members): Uint8Array {
  const version = tlv(INTEGER, Uint8Array.of(0));
  if (kty === 'RSA') {
    const numbers = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map((name) => int(get(name)));
    const rsa = seq(tlv(INTEGER, Uint8Array.of(0)), ...numbers);
    return seq(version, seq(oidOf(OIDS.rsaEncryption), tlv(NULL, new Uint8Array(0))), octets(rsa));
  }
  if (kty === 'EC') {
    const curve = CURVES[crv ?? ''];
    if (curve === undefined) throw new DerError('curve');
    const point = concatBytes(Uint8Array.of(4), fixed(get('x'), curve.size), fixed(get('y'), curve.size));
    const ec = seq(
      tlv(INTEGER, Uint8Array.of(1)),
      octets(fixed(get('d'), curve.size)),
      tlv(0xa1, bitString(point)),
    );
    return seq(version, seq(oidOf(OIDS.ecPublicKey), oidOf(curve.oid)), octets(ec));
  }
  // Version 1, as OpenSSL writes and reads it (it refuses the v2 public key field).
  return seq(version, seq(oidOf(crv === 'Ed448' ? OIDS.ed448 : OIDS.ed25519)), octets(octets(get('d'))));
}
