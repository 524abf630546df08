/**
 * Configuration: defaults, environment over file, validation messages, and
 * the key encryption at rest.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, ServiceConfigError } from '../src/config.js';
import { decodeKek, openPrivateKey, sealPrivateKey } from '../src/keys.js';
import { configurePasswords, passwordParameters } from '../src/passwords/index.js';
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
      sqliteSynchronous: 'normal',
    });
  });

  it('runs SQLite in WAL mode with synchronous NORMAL by default, FULL when asked', async () => {
    expect(() => loadConfig({ TESSERA_SQLITE_SYNCHRONOUS: 'off' })).toThrow(/TESSERA_SQLITE_SYNCHRONOUS/);
    for (const [setting, level] of [
      [undefined, 1],
      ['normal', 1],
      ['full', 2],
    ] as const) {
      const svc = await startTestService(setting === undefined ? {} : { sqliteSynchronous: setting });
      try {
        const { db } = svc.service.context.stores.database;
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
        const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
        expect(mode.rows[0]?.journal_mode).toBe('wal');
        expect(sync.rows[0]?.synchronous, String(setting)).toBe(level);
      } finally {
        await svc.stop();
      }
    }
  });

  it("reads users through prepared statements that never see another request's open transaction", async () => {
    const svc = await startTestService();
    try {
      const { users, stores } = svc.service.context;
      const { db, t } = stores.database;
      const row = { password_hash: 'x', email: null, roles: '[]', disabled: 0, created_at: 1 };
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto(t.users)
          .values({ username: 'uncommitted', ...row })
          .execute();
        expect(await users.byUsername('uncommitted')).toBeUndefined();
      });
      expect((await users.byUsername('uncommitted'))?.username).toBe('uncommitted');
      const id = (await users.byUsername('uncommitted'))!.id;
      expect((await users.byId(id))?.username).toBe('uncommitted');
      expect(await users.byUsername('UNCOMMITTED')).toBeUndefined();
    } finally {
      await svc.stop();
    }
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

  it("takes the argon2id cost and the hashing concurrency, OWASP's setting by default", () => {
    expect(loadConfig({})).toMatchObject({
      argon2MemoryKiB: 19_456,
      argon2Iterations: 2,
      argon2Parallelism: 1,
    });
    expect(loadConfig({}).passwordConcurrency).toBeUndefined();
    expect(loadConfig({}).passwordNice).toBe(10);
    expect(
      loadConfig({
        TESSERA_ARGON2_MEMORY_KIB: '65536',
        TESSERA_ARGON2_ITERATIONS: '3',
        TESSERA_ARGON2_PARALLELISM: '4',
        TESSERA_PASSWORD_CONCURRENCY: '2',
        TESSERA_PASSWORD_NICE: '0',
      }),
    ).toMatchObject({
      argon2MemoryKiB: 65_536,
      argon2Iterations: 3,
      argon2Parallelism: 4,
      passwordConcurrency: 2,
      passwordNice: 0,
    });
    expect(() => loadConfig({ TESSERA_PASSWORD_NICE: '20' })).toThrow(/TESSERA_PASSWORD_NICE/);
    expect(() => loadConfig({ TESSERA_ARGON2_MEMORY_KIB: 'lots' })).toThrow(/TESSERA_ARGON2_MEMORY_KIB/);
    expect(() => loadConfig({ TESSERA_ARGON2_ITERATIONS: '0' })).toThrow(/TESSERA_ARGON2_ITERATIONS/);
    expect(() => loadConfig({ TESSERA_PASSWORD_CONCURRENCY: '0' })).toThrow(/TESSERA_PASSWORD_CONCURRENCY/);
    // 8 KiB per lane, and no more work than a stored hash may ask for.
    expect(() => loadConfig({ TESSERA_ARGON2_MEMORY_KIB: '16', TESSERA_ARGON2_PARALLELISM: '4' })).toThrow(
      /at least 32 with parallelism 4/,
    );
    expect(() => loadConfig({ TESSERA_ARGON2_MEMORY_KIB: '131072', TESSERA_ARGON2_ITERATIONS: '5' })).toThrow(
      /memory × iterations/,
    );
  });

  it('applies the password settings at start: new hashes carry the configured cost', async () => {
    const svc = await startTestService({
      argon2MemoryKiB: 8192,
      argon2Iterations: 3,
      argon2Parallelism: 2,
      passwordConcurrency: 2,
      passwordNice: 5,
    });
    try {
      expect(passwordParameters()).toMatchObject({
        memoryCost: 8192,
        timeCost: 3,
        parallelism: 2,
        maxConcurrent: 2,
        nice: 5,
      });
      const admin = await svc.service.context.users.byUsername(ADMIN.username);
      expect(admin?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=8192,t=3,p=2\$/);
      // And it verifies: the admin signs in.
      await login(svc.base, ADMIN.username, ADMIN.password);
    } finally {
      await svc.stop();
      configurePasswords({});
    }
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
