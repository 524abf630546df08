/**
 * The docs site builds, with its generated API reference, and has no dead links:
 * VitePress fails the build on a link to a page that does not exist (the config
 * keeps ignoreDeadLinks off), and this test checks that it still does, by building
 * a one-page site with the same config and a broken link.
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

interface Build {
  readonly ok: boolean;
  readonly output: string;
}

async function build(srcDir: string, outDir: string): Promise<Build> {
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

/** A one-page site with the real config and a link to a page that does not exist. */
function brokenSite(): string {
  // Inside the repository so that the copied config resolves `vitepress` from node_modules.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'tessera-docs-deadlink-'));
  mkdirSync(join(dir, '.vitepress'));
  for (const file of ['config.ts', 'paths.ts']) {
    copyFileSync(join(root, 'docs/.vitepress', file), join(dir, '.vitepress', file));
  }
  writeFileSync(join(dir, 'index.md'), '# Home\n\nSee [a page that is not there](./missing.md).\n');
  return dir;
}

describe('docs site', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tessera-docs-'));
  const broken = brokenSite();
  let site: Build;
  let brokenBuild: Build;

  beforeAll(async () => {
    // The API reference first: the site's links to /api/ are checked against it.
    await run(tsx, [join(root, 'docs/.vitepress/api.ts')], { cwd: root });
    [site, brokenBuild] = await Promise.all([build('docs', outDir), build(broken, join(broken, 'out'))]);
  }, 600_000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(broken, { recursive: true, force: true });
  });

  it('builds without dead links', () => {
    expect(site.output).not.toMatch(/dead link/i);
    expect(site.ok, site.output).toBe(true);
  });

  it('fails a build that links to a missing page (the dead-link check is on)', () => {
    expect(brokenBuild.ok).toBe(false);
    expect(brokenBuild.output).toMatch(/dead link.*missing/i);
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
      'concepts/tokens.html',
      'concepts/sessions.html',
      'concepts/revocation.html',
      'concepts/keys.html',
      'concepts/profiles.html',
      'recipes/key-rotation.html',
      'recipes/password-change.html',
      'recipes/rate-limiting.html',
      'recipes/api-keys.html',
      'errors.html',
      'migrating-from-jsonwebtoken.html',
      'migrating-from-jose.html',
      'migrating-from-express-jwt.html',
      'migrating-from-fastify-jwt.html',
      'migrating-from-flask-jwt-extended.html',
      'migrating-from-simplejwt.html',
      'reference/python-peers.html',
      'api/index.html',
      'api/modules/tessera-auth_express.html',
      'api/classes/tessera-auth.TokenManager.html',
      'api/core/index.html',
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
