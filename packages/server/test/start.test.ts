/**
 * `npm start` itself, as a newcomer runs it: it builds, listens, prints where
 * and how to sign in (a generated admin password, once), serves, and stops
 * cleanly on SIGTERM. Configuration mistakes exit with status 2 and name the setting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { call, login, removeDir, tempDir } from './support.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dataDir = tempDir();
afterAll(() => removeDir(dataDir));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that the signal reaches node under npm's shell.
    detached: true,
  });
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    text += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitFor(started: Started, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = pattern.exec(started.output());
    if (match !== null) return match;
    if (Date.now() > deadline || started.child.exitCode !== null) {
      throw new Error(
        `no ${pattern} within ${ms} ms (exit ${started.child.exitCode}); output:\n${started.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stop(started: Started): Promise<number | null> {
  if (started.child.pid !== undefined && started.child.exitCode === null)
    process.kill(-started.child.pid, 'SIGTERM');
  return started.exited;
}

describe('npm start', () => {
  it('listens, prints the first admin once, serves, and stops on SIGTERM', async () => {
    const first = run('npm', ['start'], { TESSERA_DATA_DIR: dataDir, PORT: '0' });
    try {
      const [, url] = await waitFor(first, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 170_000);
      const [, username, password] = await waitFor(first, /First admin created: (\S+) \/ (\S+)/, 5000);
      const tokens = await login(url!, username!, password!);
      expect((await call(url!, 'GET', '/auth/me', { token: tokens.access_token })).body).toMatchObject({
        username: 'admin',
        roles: ['admin'],
      });
      // npm itself dies of the signal; what matters is that the service is gone with it.
      await stop(first);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      await stop(first);
    }
    const second = run('node', ['packages/server/dist/main.js'], { TESSERA_DATA_DIR: dataDir, PORT: '0' });
    try {
      const [, url] = await waitFor(second, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
      expect(second.output()).not.toContain('First admin created');
      expect((await call(url!, 'GET', '/readyz')).status).toBe(200);
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 240_000);

  it('exits with status 2 on bad configuration, naming the setting', async () => {
    const badPort = run('node', ['packages/server/dist/main.js'], {
      TESSERA_DATA_DIR: dataDir,
      PORT: 'eighty',
    });
    expect(await badPort.exited).toBe(2);
    expect(badPort.output()).toMatch(/PORT \(port\)/);

    const file = join(dataDir, 'config.json');
    writeFileSync(file, JSON.stringify({ registration: 'sometimes', acessTokenExpires: '1h' }));
    const badFile = run('node', ['packages/server/dist/main.js'], {
      TESSERA_DATA_DIR: dataDir,
      TESSERA_CONFIG: file,
    });
    expect(await badFile.exited).toBe(2);
    expect(badFile.output()).toMatch(/acessTokenExpires/);
    expect(badFile.output()).toMatch(/TESSERA_REGISTRATION/);

    const halfAdmin = run('node', ['packages/server/dist/main.js'], {
      TESSERA_DATA_DIR: dataDir,
      TESSERA_ADMIN_USERNAME: 'boss',
    });
    expect(await halfAdmin.exited).toBe(2);
    expect(halfAdmin.output()).toMatch(/TESSERA_ADMIN_PASSWORD/);
  }, 60_000);
});
