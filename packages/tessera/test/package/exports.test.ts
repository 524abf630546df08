/**
 * The public API, entry point by entry point: the names each one exports at run
 * time (`Object.keys(await import(entry))`) and the type-only names its
 * declarations add, held in exports.snapshot.json. A change to the API shows
 * in review as a change to that file; update it with `npx vitest run -u
 * packages/tessera/test/package/exports.test.ts`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const packageDir = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', packageDir), 'utf8')) as {
  name: string;
  exports: Record<string, string | { 'tessera-source'?: string }>;
};
const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === 'object' && target['tessera-source'] !== undefined
    ? [
        {
          name: `${pkg.name}${subpath.slice(1)}`,
          source: fileURLToPath(new URL(target['tessera-source'], packageDir)),
        },
      ]
    : [],
);

/** Type-only exports of each source entry, as the declarations will have them. */
function typeOnlyExports(): Map<string, string[]> {
  const program = ts.createProgram(
    entries.map((entry) => entry.source),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();
  const result = new Map<string, string[]>();
  for (const entry of entries) {
    const file = program.getSourceFile(entry.source);
    const symbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
    if (symbol === undefined) throw new Error(`no module symbol for ${entry.source}`);
    const names = checker
      .getExportsOfModule(symbol)
      .filter((exported) => {
        const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        return (target.flags & ts.SymbolFlags.Value) === 0;
      })
      .map((exported) => exported.name)
      .sort();
    result.set(entry.name, names);
  }
  return result;
}

describe('the public API', () => {
  it('is the snapshot, entry point by entry point', async () => {
    const types = typeOnlyExports();
    const api: Record<string, { values: string[]; types: string[] }> = {};
    for (const entry of entries) {
      const values = Object.keys((await import(entry.name)) as object).sort();
      api[entry.name] = { values, types: types.get(entry.name) ?? [] };
    }
    await expect(`${JSON.stringify(api, null, 2)}\n`).toMatchFileSnapshot('./exports.snapshot.json');
  }, 120_000);

  it('keeps the root entry to what an application uses', async () => {
    const root = Object.keys(await import('tessera-auth'));
    const core = Object.keys(await import('tessera-auth/core'));
    // Building blocks live in tessera-auth/core only.
    for (const name of [
      'signJws',
      'verifyJws',
      'decodeBase64Url',
      'encodeBase64Url',
      'ALGORITHMS',
      'KeyIndex',
      'TokenVerifier',
    ]) {
      expect(root, name).not.toContain(name);
      expect(core, name).toContain(name);
    }
    // What an application calls stays at the root.
    for (const name of [
      'TokenManager',
      'MemoryStore',
      'Keyring',
      'RemoteJwks',
      'importKey',
      'generateKey',
      'toJwks',
      'createGuard',
      'TesseraError',
      'PROFILES',
    ]) {
      expect(root, name).toContain(name);
    }
    // Every root name is also in core: one import serves code that builds on Tessera.
    expect(root.filter((name) => !core.includes(name))).toEqual([]);
  });
});
