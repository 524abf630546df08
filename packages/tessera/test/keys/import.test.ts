import {
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTesseraError, KeyImportError } from '../../src/errors.js';
import type { JwsAlgorithm } from '../../src/jws/algorithms.js';
import { decodeJws, signJws, verifyJws } from '../../src/jws/compact.js';
import type { HmacAlgorithm } from '../../src/keys/fit.js';
import { importJwk, importKey, importKeyObject, importPem, importSecret } from '../../src/keys/import.js';
import type { Jwk } from '../../src/keys/jwk.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { EC_CERT, EC_CERT_KEY, RSA_CERT } from './fixtures.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed25519 = generateKeyPairSync('ed25519');

const pem = (key: KeyObject, type: 'spki' | 'pkcs8' | 'pkcs1' | 'sec1'): string =>
  key.export({ format: 'pem', type } as never).toString();
const der = (key: KeyObject, type: 'spki' | 'pkcs8' | 'pkcs1' | 'sec1'): Buffer =>
  key.export({ format: 'der', type } as never) as Buffer;
const jwkOf = (key: KeyObject): Jwk => key.export({ format: 'jwk' }) as Jwk;

/** The import must fail with a KeyImportError whose message matches `pattern`. */
function refused(action: () => unknown, pattern: RegExp): KeyImportError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KeyImportError);
  expect(isTesseraError(caught, 'key_invalid')).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
  return caught as KeyImportError;
}

/** Sign with `signer` (or the key itself) and verify with `key`. */
function roundTrip(key: TesseraKey, signer: TesseraKey = key): boolean {
  if (signer.signing === undefined) throw new Error('signer cannot sign');
  const token = signJws({ typ: 'JWT' }, { sub: '1' }, signer.signing);
  return verifyJws(decodeJws(token), key.verifying);
}

describe('importSecret', () => {
  const floors: Array<[HmacAlgorithm, number]> = [
    ['HS256', 32],
    ['HS384', 48],
    ['HS512', 64],
  ];

  it.each(floors)('%s accepts a secret of exactly %i bytes, as bytes or as a string', (alg, floor) => {
    const key = importSecret(randomBytes(floor), alg, { kid: 'k1' });
    expect(key).toMatchObject({ alg, kid: 'k1', type: 'secret' });
    expect(roundTrip(key)).toBe(true);
    expect(importSecret('s'.repeat(floor), alg).alg).toBe(alg);
  });

  it.each(floors)('%s refuses a secret one byte shorter than %i, and the empty secret', (alg, floor) => {
    refused(() => importSecret(randomBytes(floor - 1), alg), new RegExp(`at least ${floor} bytes`));
    refused(() => importSecret('x'.repeat(floor - 1), alg), /RFC 7518/);
    refused(() => importSecret('', alg), /at least/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 16 characters, 32 bytes.
    expect(importSecret('é'.repeat(16), 'HS256').alg).toBe('HS256');
  });

  it('never repeats the secret in its message', () => {
    const secret = 'a-very-recognisable-but-short';
    const error = refused(() => importSecret(secret, 'HS256'), /at least 32 bytes/);
    expect(error.message).not.toContain(secret);
  });

  it('refuses asymmetric algorithms', () => {
    refused(() => importSecret(randomBytes(64), 'RS256' as HmacAlgorithm), /HS256, HS384 or HS512/);
  });

  describe('refuses public key material as an HMAC secret, in any encoding', () => {
    const spkiPem = pem(rsa.publicKey, 'spki');
    const cases: Array<[string, string | Uint8Array]> = [
      ['SPKI PEM', spkiPem],
      ['SPKI PEM with a prefix and indentation', `key: |\n    ${spkiPem.replace(/\n/g, '\n    ')}`],
      ['SPKI PEM with escaped newlines', spkiPem.replace(/\n/g, '\\n')],
      ['PKCS#1 RSA public PEM', pem(rsa.publicKey, 'pkcs1')],
      ['EC public PEM', pem(p256.publicKey, 'spki')],
      ['PKCS#8 private PEM', pem(rsa.privateKey, 'pkcs8')],
      ['X.509 certificate PEM', RSA_CERT],
      ['PEM as bytes', Buffer.from(spkiPem)],
      ['SPKI DER', der(rsa.publicKey, 'spki')],
      ['PKCS#1 DER', der(rsa.publicKey, 'pkcs1')],
      ['EC SPKI DER', der(p256.publicKey, 'spki')],
      ['Ed25519 SPKI DER', der(ed25519.publicKey, 'spki')],
      ['PKCS#8 DER', der(p256.privateKey, 'pkcs8')],
      ['SEC1 DER', der(p256.privateKey, 'sec1')],
      ['X.509 DER', Buffer.from(RSA_CERT.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')],
      ['SPKI base64 body without armour', der(rsa.publicKey, 'spki').toString('base64')],
      ['SPKI hex', der(p256.publicKey, 'spki').toString('hex')],
      ['JWK JSON', JSON.stringify(jwkOf(rsa.publicKey))],
      ['JWK JSON, pretty-printed', JSON.stringify(jwkOf(p256.publicKey), null, 2)],
      ['JWKS JSON', JSON.stringify({ keys: [jwkOf(ed25519.publicKey)] })],
      ['JWK with an escaped member name', `{"\\u006bty":"RSA","n":"${'A'.repeat(40)}"}`],
      ['OpenSSH public key', `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC${'x'.repeat(300)} user@host`],
      [
        'RFC 4716 SSH public key',
        `---- BEGIN SSH2 PUBLIC KEY ----\nAAAAB3NzaC1yc2E${'x'.repeat(60)}\n---- END SSH2 PUBLIC KEY ----`,
      ],
    ];
    it.each(cases)('%s', (_name, material) => {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        refused(() => importSecret(material, alg), /Refusing to use .* as an HMAC secret/);
      }
    });
  });
});

describe('importPem', () => {
  it('reads SPKI public, PKCS#8, PKCS#1 and SEC1 private keys, and a certificate', () => {
    const rsaPrivate = importPem(pem(rsa.privateKey, 'pkcs8'), 'RS256', { kid: 'r' });
    expect(rsaPrivate).toMatchObject({ alg: 'RS256', kid: 'r', type: 'private' });
    // The verifying half of a private key is its public key, derived once at import.
    expect((rsaPrivate.verifying.key as KeyObject).type).toBe('public');
    const rsaPkcs1 = importPem(pem(rsa.privateKey, 'pkcs1'), 'RS256');
    const rsaPublic = importPem(pem(rsa.publicKey, 'spki'), 'RS256');
    const rsaPublicPkcs1 = importPem(pem(rsa.publicKey, 'pkcs1'), 'RS256');
    expect(rsaPublic.type).toBe('public');
    expect(rsaPublic.signing).toBeUndefined();
    for (const verifier of [rsaPrivate, rsaPkcs1, rsaPublic, rsaPublicPkcs1]) {
      expect(roundTrip(verifier, rsaPkcs1)).toBe(true);
    }

    const ecSec1 = importPem(pem(p256.privateKey, 'sec1'), 'ES256');
    const ecPublic = importPem(pem(p256.publicKey, 'spki'), 'ES256');
    expect(roundTrip(ecPublic, ecSec1)).toBe(true);

    const edPrivate = importPem(pem(ed25519.privateKey, 'pkcs8'), 'EdDSA');
    expect(roundTrip(importPem(pem(ed25519.publicKey, 'spki'), 'EdDSA'), edPrivate)).toBe(true);
  });

  it('takes the public key of an X.509 certificate', () => {
    const fromCert = importPem(EC_CERT, 'ES256');
    expect(fromCert.type).toBe('public');
    expect(roundTrip(fromCert, importPem(EC_CERT_KEY, 'ES256'))).toBe(true);
    expect(importPem(RSA_CERT, 'PS256').type).toBe('public');
  });

  it('tolerates indentation, CRLF, escaped newlines and OpenSSL EC PARAMETERS', () => {
    const text = pem(p256.privateKey, 'sec1');
    expect(importPem(`  ${text.replace(/\n/g, '\r\n    ')}`, 'ES256').type).toBe('private');
    expect(importPem(text.replace(/\n/g, '\\n'), 'ES256').type).toBe('private');
    const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
    expect(importPem(params + text, 'ES256').type).toBe('private');
  });

  it('refuses HS* whatever the PEM holds', () => {
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      refused(() => importPem(pem(rsa.publicKey, 'spki'), alg), /never built from PEM/);
    }
  });

  it('refuses a key of the wrong type or curve for the algorithm', () => {
    refused(() => importPem(pem(p256.publicKey, 'spki'), 'RS256'), /RS256 needs an RSA key, got ec/);
    refused(() => importPem(pem(rsa.publicKey, 'spki'), 'ES256'), /ES256 needs an EC key/);
    refused(() => importPem(pem(p384.publicKey, 'spki'), 'ES256'), /ES256 needs curve P-256, got secp384r1/);
    refused(() => importPem(pem(p256.publicKey, 'spki'), 'ES512'), /ES512 needs curve P-521/);
    refused(() => importPem(pem(p256.publicKey, 'spki'), 'EdDSA'), /EdDSA needs an Ed25519 or Ed448/);
    refused(() => importPem(pem(ed25519.publicKey, 'spki'), 'PS256'), /RSA or RSA-PSS/);
    refused(() => importPem(pem(generateKeyPairSync('x25519').publicKey, 'spki'), 'EdDSA'), /got x25519/);
  });

  it('accepts an RSA-PSS key for PS* only, and refuses one pinned to another digest', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const key = importPem(pem(pss.privateKey, 'pkcs8'), 'PS256');
    expect(roundTrip(key)).toBe(true);
    refused(() => importPem(pem(pss.publicKey, 'spki'), 'RS256'), /RS256 needs an RSA key, got rsa-pss/);
    const pinned = generateKeyPairSync('rsa-pss', {
      modulusLength: 2048,
      hashAlgorithm: 'sha512',
      mgf1HashAlgorithm: 'sha512',
    });
    expect(importPem(pem(pinned.publicKey, 'spki'), 'PS512').alg).toBe('PS512');
    refused(() => importPem(pem(pinned.publicKey, 'spki'), 'PS256'), /pinned to sha512/);
  });

  it('refuses RSA keys under 2048 bits', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    refused(() => importPem(pem(small.publicKey, 'spki'), 'RS256'), /at least 2048 bits, got 1024/);
    refused(() => importPem(pem(small.privateKey, 'pkcs8'), 'PS256'), /at least 2048 bits/);
  });

  it('refuses encrypted, unknown, multiple and broken blocks', () => {
    const encrypted = rsa.privateKey.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: 'pw',
    });
    refused(() => importPem(encrypted.toString(), 'RS256'), /Encrypted private keys/);
    refused(
      () =>
        importPem('-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----', 'EdDSA'),
      /Unsupported PEM block/,
    );
    refused(
      () => importPem(pem(rsa.publicKey, 'spki') + pem(rsa.publicKey, 'spki'), 'RS256'),
      /found 2 blocks/,
    );
    refused(
      () => importPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'RS256'),
      /Cannot read/,
    );
    refused(() => importPem('not a pem', 'RS256'), /No PEM block/);
  });
});

describe('importJwk', () => {
  it('reads RSA, EC and OKP keys, public and private', () => {
    const signer = importJwk(jwkOf(rsa.privateKey), { alg: 'RS384', kid: 'rsa-1' });
    expect(signer).toMatchObject({ alg: 'RS384', kid: 'rsa-1', type: 'private' });
    expect(roundTrip(importJwk({ ...jwkOf(rsa.publicKey), alg: 'RS384' }), signer)).toBe(true);

    const ec = importJwk(jwkOf(p384.privateKey));
    expect(ec.alg).toBe('ES384');
    expect(roundTrip(importJwk(jwkOf(p384.publicKey)), ec)).toBe(true);

    const ed = importJwk(jwkOf(ed25519.privateKey));
    expect(ed.alg).toBe('EdDSA');
    expect(roundTrip(importJwk(jwkOf(ed25519.publicKey)), ed)).toBe(true);

    const ed448 = generateKeyPairSync('ed448');
    expect(roundTrip(importJwk(jwkOf(ed448.publicKey)), importJwk(jwkOf(ed448.privateKey)))).toBe(true);
  });

  it('reads oct keys with an HS* algorithm and enforces the floor', () => {
    const k = randomBytes(48).toString('base64url');
    const key = importJwk({ kty: 'oct', k, alg: 'HS384', kid: 'h' });
    expect(key).toMatchObject({ alg: 'HS384', kid: 'h', type: 'secret' });
    refused(
      () => importJwk({ kty: 'oct', k: randomBytes(31).toString('base64url') }, { alg: 'HS256' }),
      /at least 32/,
    );
    refused(() => importJwk({ kty: 'oct', k, alg: 'RS256' }), /only be used with HS/);
    refused(() => importJwk({ kty: 'oct', k: `${k}=` }, { alg: 'HS256' }), /strict base64url/);
  });

  it('refuses an oct JWK whose bytes are public key material', () => {
    const k = der(rsa.publicKey, 'spki').toString('base64url');
    refused(() => importJwk({ kty: 'oct', k }, { alg: 'HS256' }), /Refusing to use an SPKI public key/);
  });

  it('refuses an oct or RSA JWK without any algorithm: guessing is choosing for the attacker', () => {
    refused(
      () => importJwk({ kty: 'oct', k: randomBytes(64).toString('base64url') }),
      /Cannot tell which algorithm/,
    );
    refused(() => importJwk(jwkOf(rsa.publicKey)), /Cannot tell which algorithm this RSA JWK/);
  });

  it('refuses conflicting algorithms, and algorithms that do not fit the key', () => {
    refused(
      () => importJwk({ ...jwkOf(rsa.publicKey), alg: 'RS256' }, { alg: 'PS256' }),
      /says "alg": "RS256" but PS256/,
    );
    refused(
      () => importJwk({ ...jwkOf(p256.publicKey), alg: 'ES384' }),
      /curve P-256 cannot be used with ES384/,
    );
    refused(
      () => importJwk(jwkOf(p256.publicKey), { alg: 'RS256' }),
      /EC JWK on curve P-256 cannot be used with RS256/,
    );
    refused(() => importJwk(jwkOf(rsa.publicKey), { alg: 'HS256' }), /HS256 needs an "oct" JWK/);
    refused(() => importJwk({ ...jwkOf(rsa.publicKey), alg: 'RSA-OAEP' }), /not a supported JWS algorithm/);
    refused(() => importJwk({ ...jwkOf(rsa.publicKey), alg: 'none' }), /not a supported JWS algorithm/);
    refused(() => importJwk(jwkOf(generateKeyPairSync('x25519').publicKey)), /Cannot tell which algorithm/);
    refused(
      () => importJwk(jwkOf(generateKeyPairSync('x25519').publicKey), { alg: 'EdDSA' }),
      /curve X25519/,
    );
  });

  it('refuses 1024-bit RSA', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    refused(() => importJwk(jwkOf(small.publicKey), { alg: 'RS256' }), /at least 2048 bits/);
  });

  it('honours use and key_ops', () => {
    refused(() => importJwk({ ...jwkOf(p256.publicKey), use: 'enc' }), /"use" is "enc"/);
    expect(importJwk({ ...jwkOf(p256.publicKey), use: 'sig' }).alg).toBe('ES256');
    refused(
      () => importJwk({ ...jwkOf(p256.publicKey), key_ops: ['encrypt'] }),
      /neither "sign" nor "verify"/,
    );
    refused(() => importJwk({ ...jwkOf(p256.publicKey), key_ops: ['sign'] }), /does not allow "verify"/);
    expect(importJwk({ ...jwkOf(p256.publicKey), key_ops: ['verify'] }).type).toBe('public');
    // A private key that may not sign is imported verify-only.
    const verifyOnly = importJwk({ ...jwkOf(p256.privateKey), key_ops: ['verify'] });
    expect(verifyOnly.signing).toBeUndefined();
    expect(verifyOnly.type).toBe('public');
    const secret = importJwk(
      { kty: 'oct', k: randomBytes(32).toString('base64url'), key_ops: ['verify'] },
      { alg: 'HS256' },
    );
    expect(secret.signing).toBeUndefined();
    expect(importJwk({ ...jwkOf(p256.privateKey), key_ops: ['sign', 'verify'] }).signing).toBeDefined();
  });

  it('takes kid from options first, then from the JWK', () => {
    expect(importJwk({ ...jwkOf(p256.publicKey), kid: 'from-jwk' }).kid).toBe('from-jwk');
    expect(importJwk({ ...jwkOf(p256.publicKey), kid: 'from-jwk' }, { kid: 'opt' }).kid).toBe('opt');
    refused(
      () => importJwk({ ...jwkOf(p256.publicKey), kid: 7 } as unknown as Jwk),
      /"kid" must be a string/,
    );
  });

  it('refuses malformed JWKs', () => {
    refused(() => importJwk(null as unknown as Jwk), /JSON object/);
    refused(() => importJwk({} as Jwk), /no "kty"/);
    refused(() => importJwk({ kty: 'DSA' }, { alg: 'RS256' }), /Unsupported JWK key type/);
    const { y: _y, ...noY } = jwkOf(p256.publicKey) as Jwk & { y: string };
    refused(() => importJwk(noY), /lacks "y"/);
    refused(() => importJwk({ ...jwkOf(p256.publicKey), x: 'AAAA+/==' }), /not strict base64url/);
    refused(
      () => importJwk({ ...jwkOf(rsa.privateKey), oth: [{ r: 'AQ' }] }, { alg: 'RS256' }),
      /Multi-prime/,
    );
    const { p: _p, ...noP } = jwkOf(rsa.privateKey) as Jwk & { p: string };
    refused(() => importJwk(noP, { alg: 'RS256' }), /lacks "p"/);
  });

  it('refuses a private JWK whose public members belong to another key', () => {
    const other = generateKeyPairSync('ed25519');
    const mixed = { ...jwkOf(ed25519.privateKey), x: jwkOf(other.publicKey).x };
    refused(() => importJwk(mixed as Jwk), /"x" does not match its private key/);
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const mixedRsa = { ...jwkOf(rsa.privateKey), n: jwkOf(otherRsa.publicKey).n };
    refused(() => importJwk(mixedRsa as Jwk, { alg: 'RS256' }), /inconsistent|does not match/);
  });
});

describe('importKeyObject and importKey', () => {
  it('imports KeyObjects with the same checks', () => {
    expect(importKeyObject(rsa.privateKey, 'PS384').type).toBe('private');
    expect(importKeyObject(createSecretKey(randomBytes(64)), 'HS512').type).toBe('secret');
    refused(() => importKeyObject(createSecretKey(randomBytes(16)), 'HS256'), /at least 32/);
    refused(() => importKeyObject(createSecretKey(der(rsa.publicKey, 'spki')), 'HS256'), /Refusing/);
    refused(() => importKeyObject(rsa.publicKey, 'HS256'), /HS256 needs a secret/);
    refused(() => importKeyObject(createSecretKey(randomBytes(64)), 'RS256'), /cannot be used with RS256/);
  });

  it('dispatches on the shape of its input', () => {
    expect(importKey(pem(p256.publicKey, 'spki'), { alg: 'ES256' }).type).toBe('public');
    expect(importKey(JSON.stringify(jwkOf(p256.publicKey))).alg).toBe('ES256');
    expect(importKey(jwkOf(ed25519.publicKey)).alg).toBe('EdDSA');
    expect(importKey(randomBytes(32), { alg: 'HS256' }).type).toBe('secret');
    expect(importKey('k'.repeat(32), { alg: 'HS256', kid: 's' }).kid).toBe('s');
    expect(importKey(ed25519.privateKey, { alg: 'EdDSA' }).type).toBe('private');
    refused(() => importKey('k'.repeat(32)), /options.alg is missing/);
    refused(() => importKey(pem(p256.publicKey, 'spki')), /options.alg is required/);
    refused(() => importKey('k'.repeat(32), { alg: 'RS256' }), /not RS256/);
    refused(() => importKey('{not json'), /not valid JSON/);
  });

  it('refuses an empty kid', () => {
    refused(() => importSecret(randomBytes(32), 'HS256', { kid: '' }), /non-empty/);
  });

  it('binds the algorithm: the public key object alone carries no algorithm', () => {
    const publicKey = createPublicKey(rsa.privateKey);
    const algs: JwsAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    for (const alg of algs) expect(importKeyObject(publicKey, alg).verifying.alg).toBe(alg);
  });
});
