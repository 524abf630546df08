/**
 * Two service processes sharing one Redis: a logout on one is refused on the
 * other within the documented delay; Redis stopped mid-run makes the other fail
 * closed, and once Redis is back (with its data) it recovers without losing the
 * revocation. Runs its own redis-server on a free port so that stopping it
 * disturbs no other test.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TokenManager } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'two-processes-secret-0123456789abcdef';
const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!haveRedis && !process.env.CI) console.warn('[redis-processes] skipping: redis-server is not installed');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

describe.runIf(haveRedis || Boolean(process.env.CI))('two processes sharing Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  const prefix = `tessera-procs:${Date.now().toString(36)}:`;
  let port = 0;
  let redis: ChildProcess | undefined;
  let instance: ChildProcess;
  let answers: Interface;
  const pending: Array<(line: string) => void> = [];

  async function startRedis(): Promise<void> {
    // Append-only file in a private directory: a restart keeps the revocations.
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'])
          .stdout?.toString()
          .trim() === 'PONG',
      10_000,
    );
  }

  async function stopRedis(): Promise<void> {
    const child = redis;
    redis = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Ask the other process to verify a token; its answer is the outcome code. */
  function verifyThere(token: string): Promise<string> {
    return new Promise((resolve) => {
      pending.push(resolve);
      instance.stdin?.write(`${token}\n`);
    });
  }

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    const script = fileURLToPath(new URL('./redis-instance.ts', import.meta.url));
    instance = spawn(process.execPath, ['--import', 'tsx', script, String(port), prefix, SECRET], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    answers = createInterface({ input: instance.stdout! });
    await new Promise<void>((resolve) => {
      answers.once('line', () => resolve());
    });
    answers.on('line', (line) => pending.shift()?.(line));
  }, 30_000);

  afterAll(async () => {
    instance?.stdin?.end();
    instance?.kill('SIGTERM');
    await stopRedis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses on one process what the other revoked, fails closed while Redis is down, and recovers', async () => {
    const store = new RedisStore({
      redis: { host: '127.0.0.1', port, maxRetriesPerRequest: 1 },
      prefix,
      onError: () => {},
    });
    const here = new TokenManager({ secret: SECRET, store });
    try {
      const session = await here.createTokenPair({ identity: 'alice' });
      const other = await here.createTokenPair({ identity: 'bob' });
      expect(await verifyThere(session.accessToken)).toBe('ok');

      await here.logout(session.accessToken);
      const delay = await waitFor(
        async () => (await verifyThere(session.accessToken)) === 'token_revoked',
        2000,
      );
      console.log(`revocation seen by the other process after ${delay.toFixed(1)} ms`);

      await stopRedis();
      await waitFor(async () => (await verifyThere(other.accessToken)) === 'store_unavailable', 5000);

      await startRedis();
      await waitFor(async () => (await verifyThere(other.accessToken)) === 'ok', 15_000);
      // Nothing was lost: the logout made before the outage still holds.
      expect(await verifyThere(session.accessToken)).toBe('token_revoked');
    } finally {
      await store.close();
    }
  }, 60_000);
});
