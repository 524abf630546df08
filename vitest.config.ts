import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import the package by its public names ("tessera-auth", "tessera-auth/express", ...).
// Each name is aliased to the source file its exports entry points at, so tests
// exercise the real exports map without a build step.
const pkgDir = new URL('./packages/tessera/', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8')) as {
  name: string;
  exports: Record<string, { 'tessera-source'?: string }>;
};
const alias = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target['tessera-source'])
  .map(([subpath, target]) => ({
    find: new RegExp(`^${`${pkg.name}${subpath.slice(1)}`.replace(/[/.]/g, '\\$&')}$`),
    replacement: fileURLToPath(new URL(target['tessera-source'] as string, pkgDir)),
  }));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
