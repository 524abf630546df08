import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The drivers are optional peer dependencies: a store module may name them in
// `import type` (erased at compile time) or load them with `import()` inside a
// factory, never with a static runtime import. Kysely is allowed statically in
// sql.ts only (that entry point exists to use it).
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
  ]) {
    it(file, () => {
      const allowed = file === 'sql.ts' ? ['kysely'] : [];
      const bad = runtimeImports(src(file)).filter((m) => DRIVERS.includes(m!) && !allowed.includes(m!));
      expect(bad).toEqual([]);
    });
  }

  it('the public store entry point loads without any driver', async () => {
    const mod = await import('../../src/stores/index.js');
    expect(typeof mod.MemoryStore).toBe('function');
  });
});
