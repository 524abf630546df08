import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, KeyImportError } from '../../src/errors.js';
import { ALGORITHM_NAMES, ALGORITHMS } from '../../src/jws/algorithms.js';
import { decodeJws, signJws, verifyJws } from '../../src/jws/compact.js';
import { generateKey } from '../../src/keys/generate.js';
import { importJwk, importPem } from '../../src/keys/import.js';
import type { Jwk } from '../../src/keys/jwk.js';
import { exportJwk, exportPem, thumbprint, toJwks } from '../../src/keys/jwks.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { Keyring } from '../../src/keys/keyring.js';

/** RFC 7638 section 3.1: the example RSA key and its published thumbprint. */
const RFC7638_KEY: Jwk = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

const SECRET_MEMBERS = ['d', 'k', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

function verifiesWith(signer: TesseraKey, verifier: TesseraKey): boolean {
  if (signer.signing === undefined) throw new Error('signer cannot sign');
  return verifyJws(decodeJws(signJws({}, { sub: 'x' }, signer.signing)), verifier.verifying);
}

describe('thumbprint (RFC 7638)', () => {
  it('matches the section 3.1 example', () => {
    expect(thumbprint(RFC7638_KEY)).toBe(RFC7638_THUMBPRINT);
  });

  it('ignores optional members and member order', () => {
    const { kty, n, e } = RFC7638_KEY;
    expect(thumbprint({ e, n, kty } as Jwk)).toBe(RFC7638_THUMBPRINT);
    expect(thumbprint({ ...RFC7638_KEY, use: 'sig', key_ops: ['verify'] })).toBe(RFC7638_THUMBPRINT);
  });

  it('is the same for a private key and its public half', () => {
    const key = generateKey('ES384');
    expect(thumbprint(exportJwk(key, { private: true }))).toBe(thumbprint(exportJwk(key)));
  });

  it('refuses an unknown kty or a missing required member', () => {
    expect(() => thumbprint({ kty: 'DSA' })).toThrow(KeyImportError);
    expect(() => thumbprint({ kty: 'EC', crv: 'P-256', x: 'AA' })).toThrow(/lacks "y"/);
  });
});

describe('exportJwk', () => {
  it('exports the public half by default, with kid, alg and use', () => {
    const key = generateKey('ES256', { kid: 'e1' });
    const jwk = exportJwk(key);
    expect(jwk).toMatchObject({ kty: 'EC', kid: 'e1', alg: 'ES256', use: 'sig', crv: 'P-256' });
    expect(jwk.d).toBeUndefined();
    expect(Object.keys(jwk).slice(0, 4)).toEqual(['kty', 'kid', 'alg', 'use']);
  });

  it('exports private material only when asked, and it round-trips', () => {
    for (const alg of ALGORITHM_NAMES) {
      const key = generateKey(alg, { kid: alg });
      const jwk = exportJwk(key, { private: true });
      expect(jwk.d ?? jwk.k).toBeDefined();
      const back = importJwk(jwk);
      expect(back).toMatchObject({ alg, kid: alg, type: key.type });
      expect(verifiesWith(back, key)).toBe(true);
      expect(verifiesWith(key, back)).toBe(true);
    }
  });

  it('never exports a secret unless { private: true } is given', () => {
    const secret = generateKey('HS256');
    expect(() => exportJwk(secret)).toThrow(ConfigError);
    expect(exportJwk(secret, { private: true }).k).toBeDefined();
  });

  it('refuses a private export of a public key', () => {
    const publicOnly = importJwk(exportJwk(generateKey('EdDSA')));
    expect(() => exportJwk(publicOnly, { private: true })).toThrow(/no private half/);
  });

  it('exports RSA-PSS keys (which Node cannot export as JWK) as their RSA numbers', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const key = importPem(pss.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'PS256');
    const publicJwk = exportJwk(key);
    expect(publicJwk).toMatchObject({ kty: 'RSA', alg: 'PS256', e: 'AQAB' });
    expect(verifiesWith(key, importJwk(publicJwk))).toBe(true);
    const privateJwk = exportJwk(key, { private: true });
    expect(verifiesWith(importJwk(privateJwk), key)).toBe(true);
  });
});

describe('toJwks', () => {
  const keys = ALGORITHM_NAMES.map((alg, i) => generateKey(alg, i % 2 === 0 ? { kid: `k-${alg}` } : {}));

  it('publishes public keys only: never d, k, p, q, dp, dq, qi', () => {
    const jwks = toJwks(keys);
    const text = JSON.stringify(jwks);
    for (const jwk of jwks.keys) for (const name of SECRET_MEMBERS) expect(jwk).not.toHaveProperty(name);
    for (const name of SECRET_MEMBERS) expect(text).not.toContain(`"${name}":`);
    // HMAC secrets are left out entirely.
    expect(jwks.keys.map((jwk) => jwk.alg).sort()).toEqual(
      ALGORITHM_NAMES.filter((alg) => ALGORITHMS[alg].family !== 'hmac').sort(),
    );
  });

  it('gives every entry kty, kid, alg and use "sig"; kid defaults to the RFC 7638 thumbprint', () => {
    for (const jwk of toJwks(keys).keys) {
      expect(jwk.use).toBe('sig');
      expect(typeof jwk.kty).toBe('string');
      expect(typeof jwk.alg).toBe('string');
      const source = keys.find((key) => key.alg === jwk.alg);
      expect(jwk.kid).toBe(source?.kid ?? thumbprint(jwk));
    }
  });

  it('accepts a Keyring, and what it publishes imports and verifies', () => {
    const ring = new Keyring(keys.filter((key) => key.type !== 'secret'));
    const published = toJwks(ring);
    expect(published.keys).toHaveLength(10);
    for (const jwk of published.keys) {
      const verifier = importJwk(jwk);
      expect(verifier.type).toBe('public');
      const signer = keys.find((key) => key.alg === verifier.alg);
      expect(signer !== undefined && verifiesWith(signer, verifier)).toBe(true);
    }
  });
});

describe('exportPem', () => {
  it('exports SPKI by default and PKCS#8 when asked; both import back', () => {
    const key = generateKey('ES512', { kid: 'p' });
    const publicPem = exportPem(key);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const privatePem = exportPem(key, { private: true });
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(verifiesWith(importPem(privatePem, 'ES512'), importPem(publicPem, 'ES512'))).toBe(true);
  });

  it('refuses secrets and private exports of public keys', () => {
    expect(() => exportPem(generateKey('HS512'))).toThrow(ConfigError);
    const publicOnly = importPem(exportPem(generateKey('RS256')), 'RS256');
    expect(() => exportPem(publicOnly, { private: true })).toThrow(/no private half/);
  });
});

describe('generateKey', () => {
  it.each(ALGORITHM_NAMES)('%s: a key of the right kind that signs and verifies', (alg) => {
    const key = generateKey(alg, { kid: `gen-${alg}` });
    const spec = ALGORITHMS[alg];
    expect(key.alg).toBe(alg);
    expect(key.kid).toBe(`gen-${alg}`);
    if (spec.family === 'hmac') {
      expect(key.type).toBe('secret');
      expect((key.verifying.key as KeyObject).symmetricKeySize).toBe(spec.minSecretBytes);
    } else {
      expect(key.type).toBe('private');
      expect((key.verifying.key as KeyObject).type).toBe('public');
    }
    if (spec.family === 'rsa' || spec.family === 'rsa-pss') {
      expect((key.verifying.key as KeyObject).asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
    if (spec.family === 'ecdsa')
      expect((key.verifying.key as KeyObject).asymmetricKeyDetails?.namedCurve).toBe(spec.curve);
    expect(verifiesWith(key, key)).toBe(true);
  });

  it('generates Ed448 on request, and larger RSA moduli', () => {
    expect((generateKey('EdDSA', { curve: 'Ed448' }).verifying.key as KeyObject).asymmetricKeyType).toBe(
      'ed448',
    );
    expect((generateKey('EdDSA').verifying.key as KeyObject).asymmetricKeyType).toBe('ed25519');
    expect(
      (generateKey('PS256', { modulusLength: 3072 }).verifying.key as KeyObject).asymmetricKeyDetails
        ?.modulusLength,
    ).toBe(3072);
  });

  it('refuses options that do not apply, and weak RSA', () => {
    expect(() => generateKey('RS256', { modulusLength: 1024 })).toThrow(ConfigError);
    expect(() => generateKey('ES256', { modulusLength: 4096 })).toThrow(/modulusLength applies/);
    expect(() => generateKey('ES256', { curve: 'Ed448' })).toThrow(/curve applies/);
    expect(() => generateKey('none' as never)).toThrow(ConfigError);
  });

  it('never repeats a secret', () => {
    const a = exportJwk(generateKey('HS256'), { private: true }).k;
    const b = exportJwk(generateKey('HS256'), { private: true }).k;
    expect(a).not.toBe(b);
  });
});
