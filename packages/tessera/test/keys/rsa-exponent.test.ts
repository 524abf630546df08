/**
 * RSA public exponents: a key with e = 1 makes every signature equal to its
 * padded message, so anyone can forge tokens; even or tiny exponents are not RSA
 * keys anyone should trust. The floor is 65537 (FIPS 186-5), odd, on every import path.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  importJwk,
  importKey,
  importKeyObject,
  importPem,
  type Jwk,
  KeyImportError,
  RemoteJwks,
  type TesseraKey,
} from 'tessera-auth';
import { decodeJws, verifyJws } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const base = generateKeyPairSync('rsa', { modulusLength: 2048 });
const baseJwk = base.publicKey.export({ format: 'jwk' }) as { n: string; e: string };

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

function exponentBytes(e: bigint): Uint8Array {
  let hex = e.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

/** A public RSA JWK with the modulus of a real key and the exponent `e`. */
const jwkWithExponent = (e: bigint): Jwk => ({
  kty: 'RSA',
  n: baseJwk.n,
  e: b64url(exponentBytes(e)),
  alg: 'RS256',
});

const keyObjectWithExponent = (e: bigint): KeyObject =>
  createPublicKey({ key: jwkWithExponent(e) as never, format: 'jwk' });

/** An RS256 token forged for an e = 1 key: the signature is the EMSA-PKCS1-v1_5 encoding itself. */
function forgeForExponentOne(): string {
  const header = b64url(Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })));
  const payload = b64url(Buffer.from(JSON.stringify({ sub: 'admin', exp: 4_000_000_000 })));
  const digest = createHash('sha256').update(`${header}.${payload}`).digest();
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]);
  const k = Buffer.from(baseJwk.n, 'base64url').length;
  const em = Buffer.concat([
    Buffer.from([0x00, 0x01]),
    Buffer.alloc(k - digestInfo.length - 3, 0xff),
    Buffer.from([0x00]),
    digestInfo,
  ]);
  return `${header}.${payload}.${b64url(em)}`;
}

function refused(action: () => unknown): void {
  expect(action).toThrow(KeyImportError);
  expect(action).toThrow(/public exponent/);
}

describe('RSA public exponent floor', () => {
  it('refuses e = 1, whose tokens anyone can forge', () => {
    const forged = forgeForExponentOne();
    let key: TesseraKey | undefined;
    try {
      key = importJwk(jwkWithExponent(1n));
    } catch (error) {
      expect(error).toBeInstanceOf(KeyImportError);
    }
    // On code without the floor the forged token verifies: that is the attack.
    if (key !== undefined) expect(verifyJws(decodeJws(forged), key.verifying)).toBe(false);
    expect(key).toBeUndefined();
  });

  for (const e of [1n, 2n, 4n, 3n, 17n, 65535n, 65536n, 65538n]) {
    it(`refuses e = ${e} on every import path`, () => {
      refused(() => importJwk(jwkWithExponent(e)));
      refused(() => importKey(jwkWithExponent(e)));
      refused(() => importKeyObject(keyObjectWithExponent(e), 'RS256'));
      refused(() => importKeyObject(keyObjectWithExponent(e), 'PS256'));
      const spki = keyObjectWithExponent(e).export({ format: 'pem', type: 'spki' }).toString();
      const pkcs1 = keyObjectWithExponent(e).export({ format: 'pem', type: 'pkcs1' }).toString();
      refused(() => importPem(spki, 'RS256'));
      refused(() => importPem(pkcs1, 'PS384'));
      refused(() => importKey(spki, { alg: 'RS512' }));
    });
  }

  it('refuses a private key with e = 3 (PEM and JWK)', () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    refused(() => importPem(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'RS256'));
    refused(() => importJwk(pair.privateKey.export({ format: 'jwk' }) as Jwk, { alg: 'RS256' }));
    refused(() => importKeyObject(pair.privateKey, 'PS256'));
  });

  it('skips such keys in a remote JWKS, keeping the good ones', async () => {
    const good = { ...(baseJwk as Jwk), kty: 'RSA', kid: 'good', alg: 'RS256' } as Jwk;
    const bad = { ...jwkWithExponent(1n), kid: 'bad' };
    const body = JSON.stringify({ keys: [bad, good] });
    const jwks = new RemoteJwks('https://idp.example.com/jwks', {
      fetch: async () => new Response(body, { status: 200 }),
    });
    await expect((async () => jwks.verificationKeys({ alg: 'RS256', kid: 'good' }))()).resolves.toHaveLength(
      1,
    );
    await expect((async () => jwks.verificationKeys({ alg: 'RS256', kid: 'bad' }))()).rejects.toMatchObject({
      code: 'key_not_found',
      pythonMessage: 'No key matches kid "bad"',
    });
  });

  it('accepts e = 65537 and larger odd exponents', () => {
    expect(importJwk(jwkWithExponent(65537n)).alg).toBe('RS256');
    expect(importJwk(jwkWithExponent(65539n)).alg).toBe('RS256');
    expect(importKeyObject(base.privateKey, 'RS256').type).toBe('private');
  });
});
