/**
 * The manager, the stores and the opaque tokens no longer use node:crypto or
 * Buffer (so the public entry loads on every runtime). What they compute must
 * equal what Node computed before, because some of it is stored: an opaque
 * token's hash, the family id given to an adopted refresh token, and the byte
 * limits a store checks. Each is compared here with node:crypto and Buffer.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  decodeJws,
  decodeJwsPayload,
  generateOpaqueToken,
  hashOpaqueToken,
  MemoryStore,
  TokenManager,
} from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const SECRET = 'node-parity-secret-of-at-least-32-bytes!';
const NOW = 1_800_000_000;

/** Strings with every kind of UTF-16 unit, lone surrogates included. */
const anyText = fc.string({ unit: 'binary', maxLength: 200 });

describe('stored forms equal node:crypto', () => {
  it('hashOpaqueToken is the hex SHA-256 of the key as UTF-8', () => {
    fc.assert(
      fc.property(anyText, (key) => {
        expect(hashOpaqueToken(key)).toBe(createHash('sha256').update(key, 'utf8').digest('hex'));
      }),
    );
    expect(hashOpaqueToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('generateOpaqueToken makes 40 lowercase hex characters, different each time, stored as their hash', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { key, hash } = generateOpaqueToken();
      expect(key).toMatch(/^[0-9a-f]{40}$/);
      expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
      keys.add(key);
    }
    expect(keys.size).toBe(50);
  });

  it('a refresh token minted outside a family is adopted as jti-<base64url SHA-256 of its jti>', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const manager = new TokenManager({
      secret: SECRET,
      now: () => NOW,
      store,
      rotation: { enabled: true },
    });
    const outside = new TokenManager({ secret: SECRET, now: () => NOW });
    const loose = await outside.createRefreshToken({ identity: 'alice' });
    const { jti } = decodeJwsPayload(decodeJws(loose)) as { jti: string };
    await manager.refreshTokens(loose);
    const sessions = await store.listSessions('alice', NOW);
    expect(sessions.map((s) => s.familyId)).toEqual([
      `jti-${createHash('sha256').update(jti).digest('base64url')}`,
    ]);
  });
});

describe('store limits count UTF-8 bytes as Buffer.byteLength does', () => {
  async function accepted(jti: string): Promise<boolean> {
    const store = new MemoryStore({ now: () => NOW });
    try {
      await store.createFamily({ familyId: 'f', userKey: 'u', jti, now: NOW, expiresAt: NOW + 60 });
      return true;
    } catch (error) {
      if (error instanceof RangeError) return false;
      throw error;
    }
  }

  it('an id is accepted exactly when it has at most 255 UTF-8 bytes', async () => {
    // Lengths around the limit: 1-, 2-, 3- and 4-byte characters and lone surrogates (3 bytes as U+FFFD).
    const pieces = fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00', 'x\ud800y');
    await fc.assert(
      fc.asyncProperty(fc.array(pieces, { minLength: 40, maxLength: 140 }), async (parts) => {
        const id = parts.join('');
        expect(await accepted(id), `${Buffer.byteLength(id, 'utf8')} bytes`).toBe(
          Buffer.byteLength(id, 'utf8') <= 255,
        );
      }),
    );
    expect(await accepted(`${'é'.repeat(127)}a`)).toBe(true);
    expect(await accepted('é'.repeat(128))).toBe(false);
    expect(await accepted('\ud800'.repeat(85))).toBe(true);
    expect(await accepted('\ud800'.repeat(86))).toBe(false);
  });

  it('an identity of 255 UTF-8 bytes makes a token, one of 256 is refused', async () => {
    const manager = new TokenManager({ secret: SECRET, now: () => NOW });
    await expect(manager.createAccessToken({ identity: '€'.repeat(85) })).resolves.toMatch(/\./);
    await expect(manager.createAccessToken({ identity: `${'€'.repeat(85)}a` })).rejects.toMatchObject({
      code: 'identity_invalid',
    });
  });
});
