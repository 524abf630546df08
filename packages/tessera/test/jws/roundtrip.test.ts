/**
 * Sign and verify with every algorithm, and the strict-parsing rules of the
 * verification policy that sit between a token and its signature check.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AlgorithmNotAllowedError, KeyImportError, MalformedTokenError } from '../../src/errors.js';
import { ALGORITHM_NAMES, ALGORITHMS, type JwsAlgorithm } from '../../src/jws/algorithms.js';
import { decodeJws, decodeJwsPayload, signJws, verifyJws } from '../../src/jws/compact.js';
import { generateKey } from '../../src/keys/generate.js';
import { importKey, importKeyObject, importSecret } from '../../src/keys/import.js';
import { exportPem } from '../../src/keys/jwks.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { Keyring } from '../../src/keys/keyring.js';

const keys = new Map<JwsAlgorithm, TesseraKey>(
  ALGORITHM_NAMES.map((alg) => [alg, generateKey(alg, { kid: alg })]),
);

function keyFor(alg: JwsAlgorithm): TesseraKey {
  const key = keys.get(alg);
  if (key === undefined) throw new Error(`no key for ${alg}`);
  return key;
}

function sign(alg: JwsAlgorithm, payload: Record<string, unknown> = { sub: 'user-1', n: 1 }): string {
  const signing = keyFor(alg).signing;
  if (signing === undefined) throw new Error('generated keys sign');
  return signJws({ typ: 'JWT', kid: alg }, payload, signing);
}

function verify(token: string, key: TesseraKey): boolean {
  return verifyJws(decodeJws(token), key.verifying);
}

/** Replace the signature segment of `token`. */
function withSignature(token: string, signature: Buffer): string {
  return `${token.slice(0, token.lastIndexOf('.') + 1)}${signature.toString('base64url')}`;
}

describe('sign/verify round trip', () => {
  it.each(ALGORITHM_NAMES)('%s', (alg) => {
    const token = sign(alg, { sub: 'user-1', scope: ['a', 'b'], nested: { ok: true } });
    const decoded = decodeJws(token);
    expect(decoded.header).toMatchObject({ alg, kid: alg, typ: 'JWT' });
    expect(verifyJws(decoded, keyFor(alg).verifying)).toBe(true);
    expect(decodeJwsPayload(decoded)).toEqual({ sub: 'user-1', scope: ['a', 'b'], nested: { ok: true } });
    // A fresh key of the same algorithm does not verify it.
    expect(verify(token, generateKey(alg))).toBe(false);
  });

  it.each(ALGORITHM_NAMES)(
    '%s: a token does not verify under any other algorithm bound to other keys',
    (alg) => {
      const token = sign(alg);
      for (const other of ALGORITHM_NAMES)
        if (other !== alg) expect(verify(token, keyFor(other))).toBe(false);
    },
  );

  it('ECDSA signatures have exactly the curve length', () => {
    for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
      const signature = Buffer.from(sign(alg).split('.')[2] ?? '', 'base64url');
      expect(signature.length).toBe(ALGORITHMS[alg].signatureBytes);
    }
  });
});

describe('one RSA key material, two bound algorithms', () => {
  const rs = keyFor('RS256');
  const material = rs.signing?.key;
  if (material === undefined) throw new Error('private key expected');
  const ps = importKeyObject(material as KeyObject, 'PS256');
  const rs384 = importKeyObject(material as KeyObject, 'RS384');

  it('an RS256 token does not verify under a PS256-bound key of the same material', () => {
    const token = sign('RS256');
    expect(verify(token, rs)).toBe(true);
    expect(verify(token, ps)).toBe(false);
    expect(verify(token, rs384)).toBe(false);
  });

  it('nor a PS256 token under the RS256 binding', () => {
    if (ps.signing === undefined) throw new Error('private key expected');
    const token = signJws({}, { sub: 'x' }, ps.signing);
    expect(verify(token, ps)).toBe(true);
    expect(verify(token, rs)).toBe(false);
  });

  it('the header alg of a signed token is the key alg, whatever the caller wrote', () => {
    if (ps.signing === undefined) throw new Error('private key expected');
    const token = signJws({ alg: 'none' }, { sub: 'x' }, ps.signing);
    expect(decodeJws(token).header.alg).toBe('PS256');
  });
});

describe('ECDSA "psychic signatures" (CVE-2022-21449) and malformed lengths', () => {
  it.each(['ES256', 'ES384', 'ES512'] as const)('%s refuses r = 0 and s = 0, and any wrong length', (alg) => {
    const key = keyFor(alg);
    const token = sign(alg);
    const good = Buffer.from(token.split('.')[2] ?? '', 'base64url');
    const size = ALGORITHMS[alg].signatureBytes ?? 0;
    const half = size / 2;

    expect(verify(withSignature(token, Buffer.alloc(size)), key)).toBe(false);
    const rZero = Buffer.from(good);
    rZero.fill(0, 0, half);
    expect(verify(withSignature(token, rZero), key)).toBe(false);
    const sZero = Buffer.from(good);
    sZero.fill(0, half);
    expect(verify(withSignature(token, sZero), key)).toBe(false);

    // Too short, too long, and the DER encoding other libraries produce.
    expect(verify(withSignature(token, good.subarray(0, size - 1)), key)).toBe(false);
    expect(verify(withSignature(token, Buffer.concat([good, Buffer.from([0])])), key)).toBe(false);
    expect(verify(withSignature(token, Buffer.concat([Buffer.from([0]), good])), key)).toBe(false);
    const der = Buffer.concat([
      Buffer.from([0x30, size + 4, 0x02, half]),
      good.subarray(0, half),
      Buffer.from([0x02, half]),
      good.subarray(half),
    ]);
    expect(verify(withSignature(token, der), key)).toBe(false);

    expect(verify(token, key)).toBe(true);
  });
});

describe('strict compact parsing', () => {
  const token = sign('HS256');
  const [header = '', payload = '', signature = ''] = token.split('.');

  it('refuses a five-segment (JWE) token', () => {
    const jwe = `${header}.${payload}.${signature}.${payload}.${signature}`;
    expect(() => decodeJws(jwe)).toThrow(MalformedTokenError);
    expect(() => decodeJws(jwe)).toThrow(/JWE/);
    expect(() => decodeJws(`${header}.${payload}`)).toThrow(
      'The token must have three parts separated by dots',
    );
    expect(() => decodeJws(`${token}.`)).toThrow(MalformedTokenError);
  });

  it('refuses alphabet junk ("+", "/", "=", whitespace) anywhere', () => {
    const junk = ['+', '/', '=', ' ', '\t', '\n', '\r', '.', '%', '\u00a0', '\u200b'];
    const segments = [header, payload, signature];
    for (const character of junk) {
      for (let segment = 0; segment < 3; segment++) {
        const value = segments[segment] ?? '';
        for (const at of [0, value.length >> 1, value.length]) {
          const parts = [...segments];
          parts[segment] = value.slice(0, at) + character + value.slice(at);
          const mutated = parts.join('.');
          expect(
            () => decodeJws(mutated),
            `${JSON.stringify(character)} in segment ${segment} at ${at}`,
          ).toThrow(MalformedTokenError);
        }
      }
    }
    expect(() => decodeJws(` ${token}`)).toThrow(MalformedTokenError);
    expect(() => decodeJws(`${token}\n`)).toThrow(MalformedTokenError);
  });

  it('refuses standard-base64 signatures and padding', () => {
    const raw = Buffer.from(signature, 'base64url');
    expect(() => decodeJws(`${header}.${payload}.${raw.toString('base64')}`)).toThrow(MalformedTokenError);
    expect(() => decodeJws(`${header}.${payload}.${signature}=`)).toThrow(MalformedTokenError);
  });

  it('refuses non-canonical trailing bits in the signature', () => {
    // 32 HMAC bytes encode to 43 characters: the last carries 2 unused bits.
    expect(signature.length % 4).toBe(3);
    const last = signature.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const value = alphabet.indexOf(last);
    for (let bits = 1; bits < 4; bits++) {
      const twin = `${signature.slice(0, -1)}${alphabet[value | bits]}`;
      // Node decodes both strings to the same bytes...
      expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
      // ...but only the canonical one is a token.
      expect(() => decodeJws(`${header}.${payload}.${twin}`)).toThrow(MalformedTokenError);
    }
    expect(verify(token, keyFor('HS256'))).toBe(true);
  });

  it('refuses "none" in any spelling, and a header that is not an object', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${Buffer.from(JSON.stringify({ alg })).toString('base64url')}.${payload}.${signature}`;
      expect(() => decodeJws(unsigned)).toThrow(AlgorithmNotAllowedError);
    }
    const arrayHeader = `${Buffer.from('["HS256"]').toString('base64url')}.${payload}.${signature}`;
    expect(() => decodeJws(arrayHeader)).toThrow(MalformedTokenError);
  });

  it('the algorithm-confusion attack fails end to end', () => {
    // The attacker signs HS256 with the verifier's public key (PEM) as the secret.
    const rs = keyFor('RS256');
    const publicPem = exportPem(rs);
    const forgedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'RS256' })).toString('base64url');
    const input = `${forgedHeader}.${payload}`;
    const forged = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    const decoded = decodeJws(forged);
    // The keyring never hands the RSA key to an HS256 header...
    expect(() => new Keyring([rs]).verificationKeys(decoded.header)).toThrow(AlgorithmNotAllowedError);
    // ...the RSA key, bound to RS256, does not verify it...
    expect(verifyJws(decoded, rs.verifying)).toBe(false);
    // ...and no import path turns the PEM into an HMAC secret.
    expect(() => importSecret(publicPem, 'HS256')).toThrow(KeyImportError);
    expect(() => importKey(publicPem, { alg: 'HS256' })).toThrow(KeyImportError);
  });
});
