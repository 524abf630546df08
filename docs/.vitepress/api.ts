/**
 * The API reference: TypeDoc over every entry point of the `tessera-auth` package,
 * written as HTML into the site's generated public directory (see paths.ts): VitePress
 * copies it to /api/, and its dead-link check finds the pages there. Never committed.
 *
 * Run: `npx tsx docs/.vitepress/api.ts` (part of `npm run docs:build`).
 */
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Application, LogLevel } from 'typedoc';
import { generatedPublicDir } from './paths.js';

const packageDir = fileURLToPath(new URL('../../packages/tessera/', import.meta.url));

interface ExportEntry {
  readonly 'tessera-source'?: string;
}

interface EntryPoint {
  /** The import users write: `tessera-auth`, `tessera-auth/express`, ... */
  readonly specifier: string;
  /** The source file, relative to the package's src/ (`adapters/express.ts`). */
  readonly source: string;
}

/** The package's entry points, read from its exports map (source files, one per subpath). */
export function entryPoints(): EntryPoint[] {
  const pkg = JSON.parse(readFileSync(`${packageDir}package.json`, 'utf8')) as {
    name: string;
    exports: Record<string, ExportEntry | string>;
  };
  const entries: EntryPoint[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const source = typeof target === 'object' ? target['tessera-source'] : undefined;
    if (!source?.endsWith('.ts')) continue;
    entries.push({ specifier: pkg.name + subpath.slice(1), source: source.replace(/^\.\/src\//, '') });
  }
  return entries;
}

/** The subpath whose modules re-export the whole package: documented as a reference of its own. */
const BUILDING_BLOCKS = 'tessera-auth/core';

/**
 * One TypeDoc run over `entries` into `out`. TypeDoc documents a symbol once, under an
 * entry point that exports it, so the building-blocks entry (which re-exports the root's
 * names) gets its own run: otherwise `TokenManager` would be filed under it.
 */
async function renderReference(entries: readonly EntryPoint[], out: string, name: string): Promise<void> {
  const app = await Application.bootstrapWithPlugins({
    entryPoints: entries.map((entry) => `${packageDir}src/${entry.source}`),
    tsconfig: `${packageDir}tsconfig.json`,
    name,
    readme: 'none',
    excludePrivate: true,
    excludeInternal: true,
    // The reference documents the public types; type errors are the typecheck's job.
    skipErrorChecking: true,
    disableSources: true,
    githubPages: false,
    hideGenerator: true,
    logLevel: LogLevel.Error,
    validation: { notExported: false, invalidLink: false, rewrittenLink: false },
  });
  const project = await app.convert();
  if (!project) throw new Error(`TypeDoc could not convert ${entries.map((e) => e.specifier).join(', ')}`);
  // TypeDoc names modules by file path (`adapters/express`); readers import package names.
  const byPath = new Map(entries.map((entry) => [entry.source.replace(/\.ts$/, ''), entry.specifier]));
  if (entries.length === 1 && entries[0] !== undefined) project.name = entries[0].specifier;
  for (const module of project.children ?? []) module.name = byPath.get(module.name) ?? module.name;
  await app.generateDocs(project, out);
}

/**
 * Generate the reference into <generated public dir>/api/ (the application's entry
 * points) and api/core/ (the building blocks). Written to a scratch directory first and
 * moved into place, so a reader (a build running meanwhile) never sees half a reference.
 */
export async function generateApiReference(): Promise<string> {
  mkdirSync(generatedPublicDir, { recursive: true });
  const out = `${generatedPublicDir}api`;
  const scratch = `${generatedPublicDir}.api-${process.pid}`;
  const entries = entryPoints();
  const application = entries.filter((entry) => entry.specifier !== BUILDING_BLOCKS);
  const blocks = entries.filter((entry) => entry.specifier === BUILDING_BLOCKS);
  rmSync(scratch, { recursive: true, force: true });
  await renderReference(application, scratch, 'tessera-auth API');
  if (blocks.length > 0) await renderReference(blocks, `${scratch}/core`, `${BUILDING_BLOCKS} API`);
  rmSync(out, { recursive: true, force: true });
  renameSync(scratch, out);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const out = await generateApiReference();
  console.log(`API reference in ${out} (${Date.now() - started} ms)`);
}
