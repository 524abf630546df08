/**
 * Configuration: defaults, environment over file, validation messages, and
 * the key encryption at rest.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, ServiceConfigError } from '../src/config.js';
import { decodeKek, openPrivateKey, sealPrivateKey } from '../src/keys.js';
import { startService } from '../src/service.js';
import { ADMIN, call, login, removeDir, startTestService, tempDir } from './support.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '.data',
      profile: 'standard',
      signingAlgorithm: 'EdDSA',
      registration: 'closed',
      accessTokenExpires: 900,
      refreshTokenExpires: 30 * 86_400,
      keyRotation: 30 * 86_400,
      keyGrace: 30 * 86_400,
      corsOrigins: [],
    });
  });

  it('reads a JSON file under the environment', () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'tessera.json');
      writeFileSync(
        file,
        JSON.stringify({
          port: 9000,
          registration: 'open',
          accessTokenExpires: '5m',
          corsOrigins: ['https://a.example'],
        }),
      );
      const config = loadConfig({
        TESSERA_CONFIG: file,
        PORT: '9100',
        TESSERA_CORS_ORIGINS: 'https://b.example, https://c.example',
      });
      expect(config).toMatchObject({
        port: 9100,
        registration: 'open',
        accessTokenExpires: 300,
        corsOrigins: ['https://b.example', 'https://c.example'],
      });
      writeFileSync(file, '{nope');
      expect(() => loadConfig({ TESSERA_CONFIG: file })).toThrow(/TESSERA_CONFIG: cannot read/);
    } finally {
      removeDir(dir);
    }
  });

  it('names every bad setting', () => {
    const attempt = () =>
      loadConfig({
        PORT: '70000',
        DATABASE_URL: 'mysql://x',
        TESSERA_SIGNING_ALG: 'none',
        TESSERA_ACCESS_TTL: 'soon',
        TESSERA_KEY_ENCRYPTION_KEY: 'short',
      });
    expect(attempt).toThrow(ServiceConfigError);
    let message = '';
    try {
      attempt();
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'TESSERA_SIGNING_ALG',
      'TESSERA_ACCESS_TTL',
      'TESSERA_KEY_ENCRYPTION_KEY',
    ]) {
      expect(message).toContain(name);
    }
    expect(() => parseConfig({ keyGrace: 60, accessTokenExpires: 900 })).toThrow(/TESSERA_KEY_GRACE/);
    expect(() => parseConfig({ adminUsername: 'a', adminPassword: 'short' })).toThrow(
      /minimum password length/,
    );
  });
});

describe('startService options', () => {
  it('refuses an unknown option before opening anything', async () => {
    const dataDir = tempDir();
    try {
      const start = startService(parseConfig({ dataDir, port: 0 }), { logDestinaton: undefined } as never);
      await expect(start).rejects.toThrow(
        /Unknown option 'logDestinaton' in startService options; did you mean 'logDestination'/,
      );
    } finally {
      removeDir(dataDir);
    }
  });
});

describe('signing keys at rest', () => {
  const kek = decodeKek('11'.repeat(32))!;

  it('seals with AES-256-GCM bound to the kid', () => {
    const sealed = sealPrivateKey(kek, 'kid-1', '{"d":"secret"}');
    expect(sealed).not.toContain('secret');
    expect(openPrivateKey(kek, 'kid-1', sealed)).toBe('{"d":"secret"}');
    expect(() => openPrivateKey(kek, 'kid-2', sealed)).toThrow();
    expect(() => openPrivateKey(decodeKek('22'.repeat(32))!, 'kid-1', sealed)).toThrow();
  });

  it('are stored encrypted when a key-encryption key is set, and refuse to load without it', async () => {
    const dataDir = tempDir();
    const keyEncryptionKey = Buffer.alloc(32, 7).toString('base64');
    try {
      const svc = await startTestService({ dataDir, keyEncryptionKey, signingAlgorithm: 'ES256' });
      const token = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
      const { db, t } = svc.service.context.stores.database;
      const rows = (await db.selectFrom(t.signingKeys).selectAll().execute()) as {
        private_jwk: string;
        encrypted: number;
      }[];
      expect(rows).toHaveLength(1);
      expect(rows[0]!.encrypted).toBe(1);
      expect(rows[0]!.private_jwk).toMatch(/^aes256gcm-v1\./);
      expect(rows[0]!.private_jwk).not.toContain('"d"');
      await svc.stop();
      await expect(startTestService({ dataDir, signingAlgorithm: 'ES256' })).rejects.toThrow(
        /TESSERA_KEY_ENCRYPTION_KEY/,
      );
      const again = await startTestService({ dataDir, keyEncryptionKey, signingAlgorithm: 'ES256' });
      expect((await call(again.base, 'GET', '/auth/me', { token })).status).toBe(200);
      await again.stop();
    } finally {
      removeDir(dataDir);
    }
  });

  it('rotate on schedule: a key older than the rotation period is replaced at start', async () => {
    const dataDir = tempDir();
    try {
      const svc = await startTestService({ dataDir });
      const token = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
      const { db, t } = svc.service.context.stores.database;
      // Age the key past the 30 days.
      await db
        .updateTable(t.signingKeys)
        .set({ created_at: Math.floor(Date.now() / 1000) - 31 * 86_400 })
        .execute();
      await svc.stop();
      const next = await startTestService({ dataDir });
      const keys = next.service.context.keys.list();
      expect(keys).toHaveLength(2);
      expect(keys.filter((k) => k.signing)).toHaveLength(1);
      expect(keys.find((k) => !k.signing)!.expiresAt).toBeGreaterThan(Date.now() / 1000);
      expect((await call(next.base, 'GET', '/auth/me', { token })).status).toBe(200);
      await next.stop();
    } finally {
      removeDir(dataDir);
    }
  });
});
