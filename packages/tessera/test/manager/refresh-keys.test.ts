/**
 * `refreshKeys`: refresh tokens under keys of their own (an HMAC key the issuer
 * keeps to itself), access tokens under the manager's keys. A refresh key
 * signs refresh tokens only, a kid it holds never reaches the manager's keys,
 * and refresh tokens issued before under the manager's keys keep working.
 */
import {
  ConfigError,
  generateKey,
  importSecret,
  Keyring,
  MemoryStore,
  type TesseraKey,
  TokenManager,
  type TokenManagerOptions,
} from 'tessera-auth';
import { decodeProtectedHeader } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../error-code.js';

const REFRESH_SECRET = 'refresh-keys-test-secret-0123456789abcdef';
const signing = generateKey('EdDSA', { kid: 'sign-1' });
const refreshKey = importSecret(REFRESH_SECRET, 'HS256', { kid: 'refresh-1' });

function manager(extra: Partial<TokenManagerOptions> = {}): TokenManager {
  return new TokenManager({
    algorithm: 'EdDSA',
    keys: new Keyring([signing]),
    refreshKeys: new Keyring([refreshKey]),
    ...extra,
  });
}

describe('refreshKeys', () => {
  it('signs refresh tokens with the refresh key and access tokens with the manager’s', async () => {
    const jwt = manager();
    const access = await jwt.createAccessToken({ identity: 'alice' });
    const refresh = await jwt.createRefreshToken({ identity: 'alice' });
    expect(decodeProtectedHeader(access)).toMatchObject({ alg: 'EdDSA', kid: 'sign-1' });
    expect(decodeProtectedHeader(refresh)).toMatchObject({ alg: 'HS256', kid: 'refresh-1' });
    expect((await jwt.verify(access)).payload.sub).toBe('alice');
    expect((await jwt.verify(refresh, { refresh: true })).payload.sub).toBe('alice');
    // Alternating kinds keeps each header right (the minter caches header segments per key).
    for (let i = 0; i < 3; i++) {
      expect(decodeProtectedHeader(await jwt.createAccessToken({ identity: 'a' })).kid).toBe('sign-1');
      expect(decodeProtectedHeader(await jwt.createRefreshToken({ identity: 'a' })).kid).toBe('refresh-1');
    }
  });

  it('pairs and rotation: every refresh token of a session is under the refresh key', async () => {
    const jwt = manager({ store: new MemoryStore(), rotation: { enabled: true } });
    const pair = await jwt.createTokenPair({ identity: 'bob' });
    expect(decodeProtectedHeader(pair.refreshToken).kid).toBe('refresh-1');
    const next = await jwt.refreshTokens(pair.refreshToken);
    expect(decodeProtectedHeader(next.accessToken).kid).toBe('sign-1');
    expect(decodeProtectedHeader(next.refreshToken ?? '').kid).toBe('refresh-1');
    expect((await jwt.verify(next.accessToken)).payload.sub).toBe('bob');
    // Inside the grace window the old token is re-issued, still under the refresh key.
    const again = await jwt.refreshTokens(pair.refreshToken);
    expect(decodeProtectedHeader(again.refreshToken ?? '').kid).toBe('refresh-1');
  });

  it('refuses anything but a refresh token under a refresh key, cached or not', async () => {
    // Whoever holds the refresh secret could mint an access token under it: the manager refuses it.
    const forger = new TokenManager({ algorithm: 'HS256', keys: new Keyring([refreshKey]) });
    const forged = await forger.createAccessToken({ identity: 'mallory' });
    expect(decodeProtectedHeader(forged)).toMatchObject({ alg: 'HS256', kid: 'refresh-1' });
    const jwt = manager({ verifiedTokenCache: 100 });
    for (let i = 0; i < 2; i++) {
      expect(await codeOf(jwt.verifyToken(forged))).toBe('wrong_token_type');
      expect(await codeOf(jwt.decodeToken(forged))).toBe('wrong_token_type');
    }
    // And the manager's own access tokens never verify against the refresh key.
    const plain = new TokenManager({ algorithm: 'HS256', secret: REFRESH_SECRET });
    expect(await codeOf(jwt.verifyToken(await plain.createAccessToken({ identity: 'x' })))).not.toBe('ok');
  });

  it('a kid the refresh keys hold never falls back to the manager’s keys', async () => {
    // The manager's own keyring has an EdDSA key under the same kid: the refresh key answers for it.
    const twin = generateKey('EdDSA', { kid: 'refresh-1' });
    const jwt = manager({ keys: new Keyring([signing, twin]) });
    const signer = new TokenManager({ algorithm: 'EdDSA', keys: new Keyring([twin]) });
    const token = await signer.createRefreshToken({ identity: 'eve' });
    expect(await codeOf(jwt.verifyToken(token, { refresh: true }))).toBe('algorithm_not_allowed');
  });

  it('refresh tokens issued before under the manager’s keys keep verifying', async () => {
    const before = new TokenManager({ algorithm: 'EdDSA', keys: new Keyring([signing]) });
    const old = await before.createRefreshToken({ identity: 'carol' });
    expect(decodeProtectedHeader(old).kid).toBe('sign-1');
    const jwt = manager({ store: new MemoryStore(), rotation: { enabled: true } });
    expect((await jwt.verify(old, { refresh: true })).payload.sub).toBe('carol');
    const next = await jwt.refreshTokens(old);
    expect(decodeProtectedHeader(next.refreshToken ?? '').kid).toBe('refresh-1');
  });

  it('a header option cannot point a refresh token at another kid', async () => {
    const jwt = manager();
    const refresh = await jwt.createRefreshToken({ identity: 'dan', additionalHeaders: { kid: 'sign-1' } });
    expect(decodeProtectedHeader(refresh)).toMatchObject({ alg: 'HS256', kid: 'refresh-1' });
    expect((await jwt.verify(refresh, { refresh: true })).payload.sub).toBe('dan');
    const signed = await jwt.signPayload({
      sub: 'dan',
      type: 'refresh',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    expect(decodeProtectedHeader(signed).kid).toBe('refresh-1');
  });

  it('is checked at construction and at first use', async () => {
    expect(() => manager({ refreshKeys: {} as never })).toThrow(ConfigError);
    expect(() =>
      manager({ callbacks: { encodeKey: () => signing } as TokenManagerOptions['callbacks'] }),
    ).toThrow(/cannot be combined with the encodeKey or decodeKey callbacks/);
    const noKid = importSecret(REFRESH_SECRET, 'HS256');
    const jwt = manager({ refreshKeys: new Keyring([noKid as TesseraKey]) });
    await expect(jwt.createRefreshToken({ identity: 'x' })).rejects.toThrow(/must return a key with a kid/);
  });
});
