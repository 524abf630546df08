/**
 * The API around the asynchronous backend: the synchronous functions say what
 * to use instead, the maybe-synchronous ones answer synchronously when they can,
 * and keys of both backends verify each other's tokens in one process.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  ConfigError,
  cryptoBackend,
  exportJwk,
  generateKey,
  generateKeyAsync,
  importJwk,
  importKeyObject,
  importSecret,
  Keyring,
  PROFILES,
  setCryptoBackend,
} from 'tessera-auth';
import {
  decodeJws,
  signJws,
  signJwsAsync,
  signJwsMaybe,
  TokenVerifier,
  verifyJws,
  verifyJwsAsync,
  verifyJwsMaybe,
} from 'tessera-auth/core';
import { afterEach, describe, expect, it } from 'vitest';

afterEach(() => setCryptoBackend('auto'));

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!!';
const rules = {
  profile: PROFILES.standard,
  leeway: 0,
  requireExp: false,
  issuer: undefined,
  audience: undefined,
};

describe('synchronous and asynchronous entry points', () => {
  it('signJws and verifyJws refuse a Web Crypto key with a TypeError naming the async function', async () => {
    setCryptoBackend('webcrypto');
    const key = importSecret(SECRET, 'HS256');
    expect(() => signJws({}, { sub: 'a' }, key.signing!)).toThrow(/signJwsAsync/);
    const token = await signJwsAsync({}, { sub: 'a' }, key.signing!);
    expect(() => verifyJws(decodeJws(token), key.verifying)).toThrow(/verifyJwsAsync/);
    expect(await verifyJwsAsync(decodeJws(token), key.verifying)).toBe(true);
    const maybe = signJwsMaybe({}, { sub: 'a' }, key.signing!);
    expect(maybe).toBeInstanceOf(Promise);
    expect(await maybe).toBe(token);
    expect(verifyJwsMaybe(decodeJws(token), key.verifying)).toBeInstanceOf(Promise);
  });

  it('answer synchronously with a node:crypto key, the maybe functions included', () => {
    expect(cryptoBackend()).toBe('node');
    const key = importSecret(SECRET, 'HS256');
    const token = signJwsMaybe({}, { sub: 'a' }, key.signing!);
    expect(typeof token).toBe('string');
    expect(verifyJwsMaybe(decodeJws(token as string), key.verifying)).toBe(true);
  });

  it('generateKey makes HMAC secrets on Web Crypto, and points to generateKeyAsync for key pairs', async () => {
    setCryptoBackend('webcrypto');
    expect(generateKey('HS512').type).toBe('secret');
    expect(() => generateKey('ES256')).toThrow(ConfigError);
    expect(() => generateKey('ES256')).toThrow(/generateKeyAsync/);
    expect((await generateKeyAsync('ES256')).type).toBe('private');
  });

  it('TokenVerifier answers with a promise on Web Crypto, a value on node:crypto, for the same token', async () => {
    const nodeKey = importSecret(SECRET, 'HS256');
    setCryptoBackend('webcrypto');
    const webKey = importSecret(SECRET, 'HS256');
    const token = signJws({}, { sub: 'both' }, nodeKey.signing!);
    const onNode = new TokenVerifier({ keys: new Keyring([nodeKey]), rules, clock: () => 1 });
    const onWeb = new TokenVerifier({ keys: new Keyring([webKey]), rules, clock: () => 1 });
    const sync = onNode.verify(token);
    expect(sync).not.toBeInstanceOf(Promise);
    const async = onWeb.verify(token);
    expect(async).toBeInstanceOf(Promise);
    expect((await async).payload).toEqual({ sub: 'both' });
    expect(() => onWeb.verifySync(token)).toThrow(/node:crypto keys/);
  });

  it('a KeyObject stays on node:crypto whatever the current backend', () => {
    setCryptoBackend('webcrypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = importKeyObject(privateKey, 'ES256');
    expect(key.signing?.backend.name).toBe('node');
    const token = signJws({}, { sub: 'ko' }, key.signing!);
    expect(verifyJws(decodeJws(token), key.verifying)).toBe(true);
    expect(
      importJwk(JSON.parse(JSON.stringify(privateKey.export({ format: 'jwk' }))), { alg: 'ES256' }).signing
        ?.backend.name,
    ).toBe('webcrypto');
  });

  it("Ed448 on Node's Web Crypto: generate, sign, verify, cross-verify with node:crypto", async () => {
    setCryptoBackend('webcrypto');
    const key = await generateKeyAsync('EdDSA', { curve: 'Ed448' });
    const token = await signJwsAsync({}, { sub: 'ed448' }, key.signing!);
    expect(await verifyJwsAsync(decodeJws(token), key.verifying)).toBe(true);
    setCryptoBackend('node');
    const onNode = importJwk(JSON.parse(JSON.stringify(exportJwk(key))));
    expect(verifyJws(decodeJws(token), onNode.verifying)).toBe(true);
  });

  it('refuses an unknown backend name', () => {
    expect(() => setCryptoBackend('openssl' as never)).toThrow(ConfigError);
  });
});
