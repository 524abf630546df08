/**
 * What a benchmark measures must be the code users run: the compiled package
 * (packages/tessera/dist, as npm ships it) and plain JavaScript around it.
 *
 * tsx compiles with esbuild's keepNames, which wraps every function expression
 * in a `__name(fn, "name")` call: each closure made per request then costs an
 * Object.defineProperty. Measured on the Fastify route with the cache, that made
 * Tessera's source about a fifth slower than its build. So `npm run bench` builds
 * the library with tsc before anything is imported, every bench module imports it
 * by its package name (which resolves to dist/ without the tessera-source
 * condition), and the servers the HTTP and store benchmarks start are transpiled
 * here, file for file, to plain ESM.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// A sibling of bench/ at the same depth, so relative paths in the scripts still hold.
const outDir = join(root, '.bench-build');

let transpiled = false;

/**
 * The plain-JavaScript path of `bench/<name>.ts` (every bench module is
 * transpiled once per process, without keepNames).
 */
export function plainScript(name: string): string {
  if (!transpiled) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
    for (const file of readdirSync(here)) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const result = ts.transpileModule(readFileSync(join(here, file), 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      writeFileSync(join(outDir, file.replace(/\.ts$/, '.js')), result.outputText);
    }
    transpiled = true;
  }
  return join(outDir, `${name}.js`);
}
