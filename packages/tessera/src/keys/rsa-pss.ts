/**
 * RSA-PSS keys (OID id-RSASSA-PSS) hold the same numbers as plain RSA keys, but
 * Node will not export them as JWK: a JWK has no way to say "PSS only". To
 * publish one we unwrap the RSA key inside its DER (SPKI BIT STRING, PKCS#8 OCTET
 * STRING) and export that. The PSS restriction is kept where it matters: the
 * algorithm bound to the Tessera key.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { KeyImportError } from '../errors.js';

/** The same key as a plain `rsa` KeyObject; other keys are returned unchanged. */
export function asPlainRsa(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'rsa-pss') return key;
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
function children(der: Buffer, offset: number): Tlv[] {
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

function readTlv(der: Buffer, tagAt: number): Tlv {
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

function malformed(): KeyImportError {
  return new KeyImportError('RSA-PSS key has an unexpected DER structure');
}
