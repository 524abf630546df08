import { readFileSync } from 'node:fs';
import { ConfigError } from 'tessera-auth';
import { describe, expect, it } from 'vitest';
import { loadPeer } from '../../src/stores/peer.js';

// The drivers are optional peer dependencies: a store module may name them in
// `import type` (erased at compile time) or load them through loadPeer (a dynamic
// `import()` that names the package when it is missing), never with a static
// runtime import, Kysely included.
const DRIVERS = ['ioredis', 'pg', 'mysql2', 'better-sqlite3', 'kysely'];
const src = (name: string) => readFileSync(new URL(`../../src/stores/${name}`, import.meta.url), 'utf8');
const runtimeImports = (code: string) =>
  [...code.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);

describe('optional drivers are not loaded at import time', () => {
  for (const file of [
    'index.ts',
    'types.ts',
    'memory.ts',
    'rules.ts',
    'expiry-heap.ts',
    'redis.ts',
    'redis-cache.ts',
    'redis-commands.ts',
    'redis-generation.ts',
    'redis-mirror.ts',
    'redis-scripts.ts',
    'sql-migrations.ts',
    'sql.ts',
    'peer.ts',
  ]) {
    it(file, () => {
      const bad = runtimeImports(src(file)).filter((m) => DRIVERS.includes(m!));
      expect(bad).toEqual([]);
    });
  }

  it('the public store entry point loads without any driver', async () => {
    const mod = await import('../../src/stores/index.js');
    expect(typeof mod.MemoryStore).toBe('function');
  });
});

describe('a missing peer dependency', () => {
  it('is a ConfigError naming the package to install', async () => {
    const name = 'tessera-test-no-such-package';
    const error = await loadPeer(name, 'SqlStore.postgres').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config_invalid');
    expect((error as ConfigError).message).toBe(`install ${name} to use SqlStore.postgres: npm i ${name}`);
    expect((error as ConfigError).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('an installed package loads through the same helper', async () => {
    const mod = await loadPeer<typeof import('kysely')>('kysely', 'tessera-auth/stores/sql');
    expect(typeof mod.sql).toBe('function');
  });

  it('every store entry point loads its peers through it, naming the feature', () => {
    for (const [file, expected] of [
      [
        'sql.ts',
        [
          "'kysely'",
          "'pg', 'SqlStore.postgres'",
          "'mysql2', 'SqlStore.mysql'",
          "'better-sqlite3', 'SqlStore.sqlite'",
        ],
      ],
      ['redis.ts', ["'ioredis', 'RedisStore'"]],
    ] as const) {
      const code = src(file);
      expect(code).not.toMatch(/await import\(/);
      expect(code).toContain('loadPeer<');
      for (const call of expected) expect(code.replace(/\s+/g, ' ')).toContain(call);
    }
  });
});
