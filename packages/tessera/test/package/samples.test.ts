/**
 * Every ```ts sample of the READMEs, docs/ and the library's TSDoc compiles
 * (strict) against the package's types: one tsc run over a temp project with a
 * module per sample; each failure names the file, the block and the line.
 * Fence a fragment that cannot stand alone as ```ts no-check, or put
 * `<!-- not-compiled -->` on the line before it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSamples, exportedNames, markdownSamples, type Sample, sampleModule } from './samples.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));

// A sample with a known type error, to show that failures are found and placed.
const CANARY_FILE = 'canary.md';
const canary = markdownSamples(
  CANARY_FILE,
  "Intro.\n\n```ts\nimport { TokenManager } from 'tessera-auth';\n\nconst lifetime: number = new TokenManager({ secret: 'x' });\n```\n",
  'common',
);

const samples = collectSamples(root);
const files = [...new Set(samples.map((sample) => sample.file))];
let errors: Map<string, string[]>;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tessera-samples-'));
  // The workspace's node_modules: tessera-auth resolves (through the tessera-source
  // condition) to the library's sources, the frameworks to their installed types.
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        customConditions: ['tessera-source'],
        lib: ['ES2023', 'DOM'],
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        // NestJS samples use parameter decorators, as NestJS apps compile them.
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
      include: ['*.ts'],
    }),
  );
  const exportsCache = new Map<string, string[]>();
  const exportsOf = (module: string) => {
    let names = exportsCache.get(module);
    if (names === undefined) {
      names = exportedNames(readFileSync(module, 'utf8'));
      exportsCache.set(module, names);
    }
    return names;
  };
  // Runtime exports of the entry points a fragment may use without importing.
  const entryExports: Record<string, string[]> = {
    'tessera-auth': Object.keys(await import('tessera-auth')),
  };
  const placed = new Map<string, { sample: Sample; offset: number }>();
  for (const [i, sample] of [...canary, ...samples].entries()) {
    const name = `sample${String(i).padStart(4, '0')}.ts`;
    const { text, offset } = sampleModule(sample, exportsOf, entryExports);
    writeFileSync(join(work, name), text);
    placed.set(name, { sample, offset });
  }
  let output = '';
  try {
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', work], {
      cwd: work,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    output = `${(error as { stdout?: string }).stdout ?? ''}`;
  }
  errors = new Map();
  // Diagnostics in the library's own sources are not the samples' (the typecheck covers them).
  for (const block of output.split(/\n(?=\S)/)) {
    const m = /^(sample\d+\.ts)\((\d+),(\d+)\): (error TS\d+: [\s\S]*)$/.exec(block.trim());
    if (m === null) continue;
    const where = placed.get(m[1] as string);
    if (where === undefined) continue;
    const line = where.sample.line + Number(m[2]) - 1 - where.offset;
    const message = `${where.sample.file}:${line} (block ${where.sample.index}): ${(m[4] as string).replace(/\s+/g, ' ')}`;
    errors.set(where.sample.file, [...(errors.get(where.sample.file) ?? []), message]);
  }
}, 300_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('code samples compile against the package types', () => {
  it('finds samples in the READMEs, docs and TSDoc', () => {
    expect(files).toContain('packages/tessera/README.md');
    expect(files).toContain('packages/tessera/src/adapters/express.ts');
    expect(samples.length).toBeGreaterThan(20);
  });

  it('reports a failing sample with its file, block and line', () => {
    expect(errors.get(CANARY_FILE)).toEqual([
      expect.stringMatching(
        /^canary\.md:6 \(block 1\): error TS2322: Type 'TokenManager<unknown, NoClaims, unknown>' is not assignable to type 'number'/,
      ),
    ]);
  });

  it.each(files)('%s', (file) => {
    const found = errors.get(file) ?? [];
    expect(found, `\n${found.join('\n')}\n`).toEqual([]);
  });
});
