/**
 * Refresh tokens under a key derived from the signing key (the standard
 * profile's default, TESSERA_REFRESH_KEY=derived): HS256, kid `<signing kid>.refresh`,
 * never in the JWKS; an access token forged under that key is refused; key
 * rotation, a restart and keys encrypted at rest keep sessions going; and
 * TESSERA_REFRESH_KEY=signing, and the Python profiles, sign refresh tokens
 * with the signing key as before.
 */
import { Keyring, TokenManager } from 'tessera-auth';
import { describe, expect, it } from 'vitest';
import {
  ADMIN,
  call,
  tokenHeader as header,
  login,
  removeDir,
  startTestService,
  tempDir,
} from './support.js';

describe('refresh tokens under the derived key', () => {
  it('are HS256 under `<signing kid>.refresh`, refresh on, and the key is never published', async () => {
    const svc = await startTestService();
    try {
      const tokens = await login(svc.base, ADMIN.username, ADMIN.password);
      const access = header(tokens.access_token);
      expect(access.alg).toBe('EdDSA');
      expect(header(tokens.refresh_token)).toEqual({
        alg: 'HS256',
        kid: `${access.kid}.refresh`,
        typ: 'JWT',
      });
      let refresh = tokens.refresh_token;
      for (let i = 0; i < 3; i++) {
        const next = await call(svc.base, 'POST', '/auth/refresh', { token: refresh });
        expect(next.status).toBe(200);
        expect(
          (await call(svc.base, 'GET', '/auth/me', { token: next.body.access_token as string })).status,
        ).toBe(200);
        refresh = next.body.refresh_token as string;
        expect(header(refresh).kid).toBe(`${access.kid}.refresh`);
      }
      const jwks = (await call(svc.base, 'GET', '/.well-known/jwks.json')).body as {
        keys: { kid: string; kty: string }[];
      };
      expect(jwks.keys.map((k) => k.kid)).toEqual([access.kid]);
      expect(jwks.keys.some((k) => k.kty === 'oct')).toBe(false);
      // A refresh token is no access token, and an access token is no refresh token.
      expect((await call(svc.base, 'GET', '/auth/me', { token: refresh })).status).toBe(401);
      expect((await call(svc.base, 'POST', '/auth/refresh', { token: tokens.access_token })).status).toBe(
        401,
      );
    } finally {
      await svc.stop();
    }
  });

  it('refuses an access token forged under the refresh key', async () => {
    const svc = await startTestService();
    try {
      // What someone holding the derived key could mint: an access token for the admin.
      const key = svc.service.context.keys.refreshKeys.signingKey();
      const forger = new TokenManager({ algorithm: 'HS256', keys: new Keyring([key]) });
      const forged = await forger.createAccessToken({
        identity: '1',
        additionalClaims: { roles: ['admin'] },
      });
      expect(header(forged).kid).toBe(key.kid);
      const answer = await call(svc.base, 'GET', '/auth/me', { token: forged });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('wrong_token_type');
    } finally {
      await svc.stop();
    }
  });

  it('survive a key rotation (the old key’s refresh tokens refresh in its grace) and a restart, encrypted at rest', async () => {
    const dataDir = tempDir();
    const keyEncryptionKey = Buffer.alloc(32, 9).toString('base64');
    try {
      const first = await startTestService({ dataDir, keyEncryptionKey });
      const before = await login(first.base, ADMIN.username, ADMIN.password);
      const rotated = await call(first.base, 'POST', '/admin/keys/rotate', { token: before.access_token });
      expect(rotated.status).toBe(200);
      const kid = rotated.body.kid as string;
      const next = await call(first.base, 'POST', '/auth/refresh', { token: before.refresh_token });
      expect(next.status).toBe(200);
      expect(header(next.body.refresh_token as string).kid).toBe(`${kid}.refresh`);
      await first.stop();

      const second = await startTestService({ dataDir, keyEncryptionKey });
      try {
        const again = await call(second.base, 'POST', '/auth/refresh', {
          token: next.body.refresh_token as string,
        });
        expect(again.status).toBe(200);
        expect(header(again.body.access_token as string).kid).toBe(kid);
      } finally {
        await second.stop();
      }
    } finally {
      removeDir(dataDir);
    }
  });

  it('TESSERA_REFRESH_KEY=signing and the Python profiles sign refresh tokens with the signing key', async () => {
    for (const overrides of [
      { refreshKey: 'signing' },
      { profile: 'flask-jwt-extended' },
      { profile: 'simplejwt' },
    ]) {
      const svc = await startTestService(overrides);
      try {
        const tokens = await login(svc.base, ADMIN.username, ADMIN.password);
        expect(header(tokens.refresh_token), JSON.stringify(overrides)).toMatchObject({
          alg: 'EdDSA',
          kid: header(tokens.access_token).kid,
        });
        expect((await call(svc.base, 'POST', '/auth/refresh', { token: tokens.refresh_token })).status).toBe(
          200,
        );
      } finally {
        await svc.stop();
      }
    }
  });
});
