/**
 * The package as npm ships it: build a copy of the library with its own build
 * script (`npm pack` runs `prepack`), install the tarball into a fresh app per
 * framework (extracted as node_modules/tessera-auth; frameworks and @types linked
 * from the workspace, so the test stays offline), compile each app with `tsc`
 * under `strict` in every module mode, run it with Node and call it over HTTP.
 *
 * TESSERA_KEEP_PACK_DIR=1 keeps the temporary directories for a look afterwards;
 * TESSERA_PACK_SOURCE=head packs the last commit instead of the working tree.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_DEPENDENCIES,
  type AppReport,
  appSource,
  appTsconfig,
  DECLARATION_DEPENDENCIES,
  declarationsSource,
  FRAMEWORKS,
  type Framework,
  MODES,
  type Mode,
} from './apps.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const packageDir = join(root, 'packages/tessera');
const workspaceModules = join(root, 'node_modules');
const tsc = join(workspaceModules, 'typescript/bin/tsc');
const keep = process.env.TESSERA_KEEP_PACK_DIR === '1';
const fromHead = process.env.TESSERA_PACK_SOURCE === 'head';

/** The files the package copy needs to build itself. */
const PACKAGE_FILES = [
  'package.json',
  'tsconfig.json',
  'tsconfig.cjs.json',
  'scripts',
  'src',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
];

let work: string;
let tarball: string;
let packedFiles: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
  // The copy keeps the repo's layout (its tsconfig extends ../../tsconfig.base.json);
  // its node_modules is the workspace's, for tsc and the type-only framework imports.
  const build = join(work, 'build');
  const copy = join(build, 'packages/tessera');
  mkdirSync(copy, { recursive: true });
  if (fromHead) {
    const files = [
      'tsconfig.base.json',
      'CHANGELOG.md',
      ...PACKAGE_FILES.map((file) => `packages/tessera/${file}`),
    ];
    const existing = (await run('git', ['ls-tree', '--name-only', 'HEAD', ...files], { cwd: root })).stdout;
    await run(
      'sh',
      ['-c', `git archive HEAD ${existing.split('\n').filter(Boolean).join(' ')} | tar -x -C '${build}'`],
      {
        cwd: root,
      },
    );
  } else {
    cpSync(join(root, 'tsconfig.base.json'), join(build, 'tsconfig.base.json'));
    for (const file of PACKAGE_FILES) {
      if (existsSync(join(packageDir, file))) {
        cpSync(join(packageDir, file), join(copy, file), { recursive: true, dereference: true });
      }
    }
  }
  symlinkSync(workspaceModules, join(build, 'node_modules'), 'dir');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: copy,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(
      `npm pack (with the package's build) failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (packed === undefined) throw new Error(`npm pack printed no result: ${stdout}`);
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path);
}, 240_000);

afterAll(async () => {
  // Thousands of files (a copy of the package per app): slow on a busy disk.
  if (work !== undefined && !keep) await rm(work, { recursive: true, force: true });
}, 300_000);

describe('the packed tarball', () => {
  it('ships both builds, the types, README, LICENSE and CHANGELOG, and no tests', () => {
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cjs/package.json',
      'dist/cjs/index.js',
      'dist/cjs/index.d.ts',
      'dist/adapters/nestjs.js',
      'dist/cjs/adapters/nestjs.d.ts',
    ]) {
      expect(packedFiles, file).toContain(file);
    }
    expect(packedFiles.filter((file) => file.startsWith('test/') || file.includes('.test.'))).toEqual([]);
    expect(packedFiles.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it("ships the repo's CHANGELOG.md (the package's copy is identical)", () => {
    expect(readFileSync(join(packageDir, 'CHANGELOG.md'), 'utf8')).toBe(
      readFileSync(join(root, 'CHANGELOG.md'), 'utf8'),
    );
  });

  it('points every exports target at a file in the tarball', () => {
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const targets: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
      else if (value !== null && typeof value === 'object')
        for (const inner of Object.values(value)) collect(inner);
    };
    collect(pkg.exports);
    expect(targets.length).toBeGreaterThan(30);
    for (const target of targets) expect(packedFiles, target).toContain(target);
  });
});

/**
 * At most this many compilers and apps at once: tsc is CPU-bound. The concurrent
 * tests all start at once and queue here, hence their long timeouts.
 */
const limit = pool(Math.max(2, availableParallelism()));

describe.concurrent('the declarations', () => {
  // The ES module declarations (dist/*.d.ts) through nodenext, the CommonJS ones
  // (dist/cjs/*.d.ts) through node16 in a CommonJS app; errors in other packages'
  // declarations (a framework's own types) are theirs, and not counted here.
  it.each(['nodenext', 'node16'] as const)(
    'type-check without skipLibCheck under %s',
    async (mode) => {
      const app = await limit(() =>
        createApp('declarations', mode, DECLARATION_DEPENDENCIES, declarationsSource()),
      );
      const diagnostics = await limit(() => compile(app));
      expect(ownDiagnostics(diagnostics), diagnostics).toEqual([]);
    },
    600_000,
  );
});

describe.concurrent.each(FRAMEWORKS)('a fresh %s app', (framework) => {
  it.each(Object.keys(MODES) as Mode[])(
    'compiles under strict with module %s, runs, and answers over HTTP',
    async (mode) => {
      const app = await limit(() =>
        createApp(framework, mode, APP_DEPENDENCIES[framework], appSource(framework)),
      );
      const compiled = await limit(() => compile(app));
      expect(compiled, `tsc errors in ${framework}/${mode}`).toBe('');
      const started = await startApp(app);
      try {
        const { report } = started;
        const expectedFormat = MODES[mode].type === 'module' ? 'esm' : 'cjs';
        expect(report.format).toBe(expectedFormat);
        if (expectedFormat === 'cjs') {
          // require() picked the CommonJS build, not the ESM one through require(esm).
          expect(report.resolved).toMatch(/node_modules[\\/]tessera-auth[\\/]dist[\\/]cjs[\\/]index\.js$/);
        }
        const url = `http://127.0.0.1:${report.port}/protected`;
        const ok = await fetch(url, { headers: { authorization: `Bearer ${report.token}` } });
        expect(ok.status).toBe(200);
        expect(await ok.json()).toEqual({ logged_in_as: 'alice', user: 'alice' });
        const refused = await fetch(url);
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer');
        expect(await refused.json()).toMatchObject({ code: 'authorization_missing' });
      } finally {
        started.stop();
      }
    },
    600_000,
  );
});

async function createApp(
  framework: Framework | 'declarations',
  mode: Mode,
  dependencies: readonly string[],
  source: string,
): Promise<string> {
  const dir = join(work, 'apps', `${framework}-${mode}`);
  const modules = join(dir, 'node_modules');
  const installed = join(modules, 'tessera-auth');
  mkdirSync(installed, { recursive: true });
  mkdirSync(join(dir, 'src'));
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  for (const name of ['@types/node', ...dependencies]) {
    const link = join(modules, name);
    mkdirSync(join(link, '..'), { recursive: true });
    symlinkSync(join(workspaceModules, name), link, 'dir');
  }
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `${framework}-${mode}-app`, private: true, type: MODES[mode].type }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(appTsconfig(framework, mode), null, 2)}\n`);
  writeFileSync(join(dir, 'src/main.ts'), source);
  return dir;
}

/** tsc's diagnostics, or '' when the app compiled. */
async function compile(dir: string): Promise<string> {
  try {
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

/** tsc's diagnostics in the package's files or the app's own, one string each. */
function ownDiagnostics(output: string): string[] {
  const blocks = output.split(/\n(?=\S)/).filter((block) => /error TS\d+/.test(block));
  return blocks.filter((block) => {
    const file = block.split('(', 1)[0] ?? '';
    return !file.includes('node_modules') || /node_modules[\\/]tessera-auth[\\/]/.test(file);
  });
}

async function startApp(dir: string): Promise<{ report: AppReport; stop(): void }> {
  const child: ChildProcess = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = () => {
    if (child.exitCode === null) child.kill();
  };
  try {
    const report = await new Promise<AppReport>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        try {
          resolve(JSON.parse(line) as AppReport);
        } catch {
          reject(new Error(`the app printed ${line}`));
        }
      });
      child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening: ${stderr}`)));
    });
    return { report, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/** Run at most `size` tasks at a time. */
function pool(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
