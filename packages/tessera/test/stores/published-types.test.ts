/**
 * The published types of the store entry points name only their own driver:
 * an app on PostgreSQL compiles against `tessera-auth/stores/sql` with only
 * `pg` and `kysely` installed (no mysql2 or better-sqlite3 types), strict and
 * without skipLibCheck. Builds the declarations with tsc into a temporary
 * directory, then compiles a tiny consumer there (checking @types/node in full
 * takes tsc several seconds of CPU: the timeouts are generous).
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const src = join(root, 'packages/tessera/src');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const dir = mkdtempSync(join(tmpdir(), 'tessera-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DRIVERS = ['pg', 'mysql2', 'better-sqlite3', 'ioredis', 'kysely'];

function runTsc(project: string): string {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim();
}

function declarations(at: string): string[] {
  return readdirSync(at, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
}

describe('published types of the store entry points', () => {
  const dist = join(dir, 'dist');

  it('name no other driver than their own', () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.base.json'),
        compilerOptions: {
          rootDir: src,
          outDir: dist,
          emitDeclarationOnly: true,
          declarationMap: false,
          customConditions: [],
          lib: ['ES2023', 'DOM'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: [join(src, 'stores/sql.ts'), join(src, 'stores/redis.ts')],
      }),
    );
    expect(runTsc(join(dir, 'tsconfig.json'))).toBe('');
    const files = declarations(dist);
    expect(files).toContain(join('stores', 'sql.d.ts'));
    for (const file of files) {
      const code = readFileSync(join(dist, file), 'utf8');
      const named = [...code.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
      const own = file.startsWith(join('stores', 'redis'))
        ? ['ioredis']
        : file === join('stores', 'sql.d.ts') || file === join('stores', 'sql-compiled.d.ts')
          ? ['kysely']
          : [];
      expect({ file, drivers: named.filter((n) => DRIVERS.includes(n) && !own.includes(n)) }).toEqual({
        file,
        drivers: [],
      });
    }
  }, 120_000);

  it('a PostgreSQL-only consumer compiles with only pg and kysely installed', () => {
    const app = join(dir, 'consumer');
    const modules = join(app, 'node_modules');
    const pkg = join(modules, 'tessera-auth');
    mkdirSync(join(modules, '@types'), { recursive: true });
    cpSync(dist, join(pkg, 'dist'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'tessera-auth',
        type: 'module',
        exports: { './stores/sql': { types: './dist/stores/sql.d.ts' } },
      }),
    );
    // pg, its type package and what those import; kysely. Nothing else.
    const deps = ['kysely', 'pg', 'pg-types', 'pg-protocol', 'pg-pool', 'pg-connection-string', 'pgpass'];
    for (const name of [...deps, 'postgres-array', 'postgres-bytea', 'postgres-date', 'postgres-interval']) {
      try {
        symlinkSync(join(root, 'node_modules', name), join(modules, name));
      } catch {
        // absent from this install: not needed by its type package
      }
    }
    for (const name of ['pg', 'node'])
      symlinkSync(join(root, 'node_modules/@types', name), join(modules, '@types', name));
    try {
      symlinkSync(join(root, 'node_modules/undici-types'), join(modules, 'undici-types'));
    } catch {
      // older @types/node: not needed
    }
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', type: 'module', private: true }),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(app, 'app.ts'),
      [
        "import pg from 'pg';",
        "import { SqlStore } from 'tessera-auth/stores/sql';",
        "const own = await SqlStore.postgres(new pg.Pool({ database: 'test' }), { tablePrefix: 'app_' });",
        "const configured = await SqlStore.postgres({ host: '127.0.0.1', port: 5432, max: 4 });",
        'await Promise.all([own.migrate(), configured.close()]);',
        '',
      ].join('\n'),
    );
    for (const absent of ['mysql2', 'better-sqlite3', 'ioredis']) {
      expect(readdirSync(modules)).not.toContain(absent);
    }
    const output = runTsc(join(app, 'tsconfig.json'));
    expect(output).toBe('');
    // And the check can fail: a consumer that uses mysql2 does not compile here.
    writeFileSync(join(app, 'app.ts'), "import mysql from 'mysql2';\nexport const m = mysql;\n");
    expect(runTsc(join(app, 'tsconfig.json'))).toMatch(/Cannot find module 'mysql2'/);
  }, 240_000);
});
