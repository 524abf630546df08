/**
 * The docs site builds, with its generated API reference, and has no dead links:
 * VitePress fails the build on a link to a page that does not exist (the config
 * keeps ignoreDeadLinks off), and this test checks that it still does.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const vitepress = join(root, 'node_modules', '.bin', 'vitepress');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

async function build(srcDir: string, outDir: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(vitepress, ['build', srcDir, '--outDir', outDir], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: stdout + stderr };
  }
}

describe('docs site', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tessera-docs-'));
  let result: { ok: boolean; output: string };

  beforeAll(async () => {
    await run(tsx, [join(root, 'docs/.vitepress/api.ts')], { cwd: root });
    result = await build('docs', outDir);
  }, 180_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('builds without dead links', () => {
    expect(result.output).not.toMatch(/dead link/i);
    expect(result.ok, result.output).toBe(true);
  });

  it('has every section the sidebar promises, and the API reference', () => {
    for (const page of [
      'index.html',
      'guide/getting-started.html',
      'guide/express.html',
      'guide/fastify.html',
      'guide/hono.html',
      'guide/koa.html',
      'guide/fetch.html',
      'guide/nestjs.html',
      'tutorial.html',
      'concepts/sessions.html',
      'recipes/password-change.html',
      'errors.html',
      'migrating-from-jsonwebtoken.html',
      'migrating-from-jose.html',
      'migrating-from-express-jwt.html',
      'migrating-from-fastify-jwt.html',
      'reference/python-peers.html',
      'api/index.html',
      'api/modules/tessera-auth_express.html',
      'api/classes/tessera-auth.TokenManager.html',
    ]) {
      expect(existsSync(join(outDir, page)), page).toBe(true);
    }
    // The reference is generated from the source: the root entry lists the manager.
    const rootModule = readFileSync(join(outDir, 'api/modules/tessera-auth.html'), 'utf8');
    expect(rootModule).toContain('TokenManager');
  });

  it('loads nothing from other sites', () => {
    const home = readFileSync(join(outDir, 'index.html'), 'utf8');
    const external = [...home.matchAll(/<(?:script|link)[^>]+(?:src|href)="(https?:)?\/\/[^"]+"/g)];
    expect(external.map((m) => m[0])).toEqual([]);
  });
});

describe('the dead-link check', () => {
  // Inside the repository so that the copied config resolves `vitepress` from node_modules.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, 'tessera-docs-deadlink-'));

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('fails a build with the site config that links to a missing page', async () => {
    mkdirSync(join(scratch, '.vitepress'));
    for (const file of ['config.ts', 'paths.ts']) {
      copyFileSync(join(root, 'docs/.vitepress', file), join(scratch, '.vitepress', file));
    }
    writeFileSync(join(scratch, 'index.md'), '# Home\n\nSee [a page that is not there](./missing.md).\n');
    const broken = await build(scratch, join(scratch, 'out'));
    expect(broken.ok).toBe(false);
    expect(broken.output).toMatch(/dead link.*missing/i);
  }, 120_000);
});
