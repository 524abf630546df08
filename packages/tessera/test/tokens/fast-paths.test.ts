/**
 * The shortcuts of the hot paths answer exactly as the general paths do:
 * HMAC signatures compared as base64url text, and tokens minted without
 * callbacks under a header segment encoded once per key.
 */
import { randomBytes } from 'node:crypto';
import {
  createGuard,
  decodeJws,
  encodeBase64Url,
  InvalidSignatureError,
  importSecret,
  Keyring,
  MalformedTokenError,
  TokenManager,
  verifyJws,
} from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
}

describe('HMAC signatures compared as text', () => {
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`${alg}: the right signature passes; every other character at any position fails`, async () => {
      const m = new TokenManager({ algorithm: alg, secret: randomBytes(64) });
      const token = await m.createAccessToken({ identity: 'alice' });
      expect(m.verifier.verifySync(token).payload.sub).toBe('alice');
      const dot = token.lastIndexOf('.');
      const signature = token.slice(dot + 1);
      let refused = 0;
      for (let at = 0; at < signature.length; at++) {
        for (const c of [
          ALPHABET[(ALPHABET.indexOf(signature[at]!) + 1) % 64]!,
          signature[at] === 'A' ? 'Q' : 'A',
        ]) {
          const forged = `${token.slice(0, dot + 1)}${signature.slice(0, at)}${c}${signature.slice(at + 1)}`;
          if (forged === token) continue;
          let error: unknown;
          try {
            m.verifier.verifySync(forged);
          } catch (caught) {
            error = caught;
          }
          // The last character also carries unused bits: a change there can be refused as non-canonical first.
          expect(error instanceof InvalidSignatureError || error instanceof MalformedTokenError).toBe(true);
          if (at < signature.length - 1) expect(error).toBeInstanceOf(InvalidSignatureError);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(signature.length);
    });
  }

  it('a signature of another length is refused, however it starts', async () => {
    const m = new TokenManager({ algorithm: 'HS256', secret: randomBytes(32) });
    const token = await m.createAccessToken({ identity: 'alice' });
    const dot = token.lastIndexOf('.');
    const signature = token.slice(dot + 1);
    const longer = encodeBase64Url(
      Buffer.concat([Buffer.from(signature, 'base64url'), Buffer.from([0, 0, 0])]),
    );
    for (const forged of [
      `${token.slice(0, dot + 1)}${longer}`,
      `${token.slice(0, dot + 1)}${signature.slice(0, 40)}`,
    ]) {
      expect(() => m.verifier.verifySync(forged)).toThrow(InvalidSignatureError);
    }
  });

  it('verifyJws with the bound key agrees with the manager, for the signing and the verifying side', async () => {
    const key = importSecret(randomBytes(32), 'HS256');
    const m = new TokenManager({ algorithm: 'HS256', keys: new Keyring([key]) });
    const token = await m.createAccessToken({ identity: 'alice' });
    const decoded = decodeJws(token);
    expect(verifyJws(decoded, key.verifying)).toBe(true);
    expect(verifyJws(decoded, key.signing!)).toBe(true);
    const other = importSecret(randomBytes(32), 'HS256');
    expect(verifyJws(decoded, other.verifying)).toBe(false);
  });
});

describe('minting without callbacks', () => {
  it('writes the header the general path writes', async () => {
    const secret = randomBytes(32);
    const plain = new TokenManager({ algorithm: 'HS256', secret });
    // Any callback sends every mint down the general path.
    const withCallback = new TokenManager({
      algorithm: 'HS256',
      secret,
      callbacks: { additionalClaims: () => ({}) },
    });
    const a = await plain.createAccessToken({ identity: 'alice' });
    const b = await withCallback.createAccessToken({ identity: 'alice' });
    const c = await plain.createAccessToken({ identity: 'alice', additionalHeaders: {} });
    expect(a.slice(0, a.indexOf('.'))).toBe(b.slice(0, b.indexOf('.')));
    expect(a.slice(0, a.indexOf('.'))).toBe(c.slice(0, c.indexOf('.')));
    expect(headerOf(a)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(
      headerOf(await plain.createAccessToken({ identity: 'alice', additionalHeaders: { cty: 'x' } })),
    ).toEqual({
      alg: 'HS256',
      cty: 'x',
      typ: 'JWT',
    });
    // A call with header options leaves the next plain mint's header alone.
    expect(headerOf(await plain.createAccessToken({ identity: 'alice' }))).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
  });

  it('follows the keyring when the signing key changes', async () => {
    const ring = new Keyring([importSecret(randomBytes(32), 'HS256', { kid: 'k1' })]);
    const m = new TokenManager({ algorithm: 'HS256', keys: ring });
    expect(headerOf(await m.createAccessToken({ identity: 'alice' })).kid).toBe('k1');
    ring.add(importSecret(randomBytes(48), 'HS384', { kid: 'k2' })).use('k2');
    const rotated = await m.createAccessToken({ identity: 'alice' });
    expect(headerOf(rotated)).toEqual({ alg: 'HS384', kid: 'k2', typ: 'JWT' });
    expect(m.verifier.verifySync(rotated).header.kid).toBe('k2');
    ring.use('k1');
    expect(headerOf(await m.createAccessToken({ identity: 'alice' }))).toEqual({
      alg: 'HS256',
      kid: 'k1',
      typ: 'JWT',
    });
  });

  it('still refuses what it refused: no signing key, a bad identity, a bad lifetime (as rejections)', async () => {
    const verifyOnly = new TokenManager({
      algorithm: 'HS256',
      verificationKeys: new Keyring([importSecret(randomBytes(32), 'HS256')]),
    });
    await expect(verifyOnly.createAccessToken({ identity: 'alice' })).rejects.toThrow(/no signing key/);
    const m = new TokenManager({ algorithm: 'HS256', secret: randomBytes(32) });
    await expect(m.createAccessToken({ identity: '' })).rejects.toThrow(/cannot be empty/);
    await expect(m.createAccessToken({ identity: { id: 1 } })).rejects.toThrow(/must be a string/);
    await expect(m.createAccessToken({ identity: 'alice', expiresIn: 'soon' as never })).rejects.toThrow();
  });

  it('concurrent mints get distinct ids and verify', async () => {
    const m = new TokenManager({ algorithm: 'HS256', secret: randomBytes(32) });
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => m.createAccessToken({ identity: `u${i}` })),
    );
    const ids = new Set(tokens.map((t) => m.verifier.verifySync(t).payload.jti));
    expect(ids.size).toBe(50);
  });
});

describe('a header token found in the verified-token cache', () => {
  const request = (authorization: string | undefined) => ({
    method: 'GET',
    url: '/protected',
    header: (name: string) => (name.toLowerCase() === 'authorization' ? authorization : undefined),
  });
  const clock = { now: 1_700_000_000 };

  it('isCached: false without a cache or before a verification, true after, false once evicted, cleared or expired', async () => {
    const uncached = new TokenManager({ algorithm: 'HS256', secret: randomBytes(32) });
    const once = await uncached.createAccessToken({ identity: 'alice' });
    uncached.verifier.verifySync(once);
    expect(uncached.verifier.caches).toBe(false);
    expect(uncached.verifier.isCached(once)).toBe(false);

    const m = new TokenManager({
      algorithm: 'HS256',
      secret: randomBytes(32),
      verifiedTokenCache: 1,
      accessTokenExpires: 60,
      now: () => clock.now,
    });
    expect(m.verifier.caches).toBe(true);
    const a = await m.createAccessToken({ identity: 'alice' });
    const b = await m.createAccessToken({ identity: 'bob' });
    expect(m.verifier.isCached(a)).toBe(false);
    m.verifier.verifySync(a);
    expect(m.verifier.isCached(a)).toBe(true);
    // A one-entry cache: verifying b evicts a, which the entry found last must not bring back.
    m.verifier.verifySync(b);
    expect(m.verifier.isCached(a)).toBe(false);
    expect(m.verifier.isCached(b)).toBe(true);
    expect(m.verifier.verifySync(a).payload.sub).toBe('alice');
    expect(m.verifier.isCached(b)).toBe(false);
    m.verifier.clearCache();
    expect(m.verifier.isCached(a)).toBe(false);
    m.verifier.verifySync(a);
    expect(m.verifier.isCached(a)).toBe(true);
    clock.now += 120;
    expect(() => m.verifier.verifySync(a)).toThrow(/expired/i);
    expect(m.verifier.isCached(a)).toBe(false);
  });

  it('the guard answers every header as it does without the cache (the scan is skipped only for a cached token)', async () => {
    const secret = randomBytes(32);
    const plain = new TokenManager({ algorithm: 'HS256', secret });
    const cached = new TokenManager({ algorithm: 'HS256', secret, verifiedTokenCache: 100 });
    const token = await cached.createAccessToken({ identity: 'alice' });
    // Verified once, so the cached manager finds it in its cache from here on.
    cached.verifier.verifySync(token);
    const headers = [
      `Bearer ${token}`,
      `Bearer ${token}, Basic dXNlcjpwYXNz`,
      `Basic dXNlcjpwYXNz, Bearer ${token}`,
      `Bearer ${token} extra`,
      `Bearer  ${token}`,
      `Bearer\t${token}`,
      `bearer ${token}`,
      `Bearer ${token},`,
      `Bearer ${token.slice(0, -1)}`,
      token,
      undefined,
    ];
    const answer = async (manager: TokenManager, header: string | undefined) => {
      const result = await createGuard(manager)(request(header));
      return result.ok
        ? { ok: true, sub: result.jwt?.payload.sub }
        : { ok: false, code: result.error.code, status: result.response.status, body: result.response.body };
    };
    let accepted = 0;
    for (const header of headers) {
      const expected = await answer(plain, header);
      expect(await answer(cached, header), String(header)).toEqual(expected);
      if (expected.ok) accepted++;
    }
    expect(accepted).toBeGreaterThanOrEqual(3);
    expect(cached.verifier.isCached(token)).toBe(true);
  });
});
