/**
 * A Redis restarted WITHOUT persistence comes back empty: every revocation is
 * gone. The stores that were connected before notice (generation marker) and
 * write a store-wide cut-off, so a token revoked before the restart is refused
 * after it, with and without the local cache; tokens minted before the loss are
 * refused too (users sign in again); tokens minted after it verify. Runs its own
 * redis-server on a free port and restarts it on the same port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TesseraError, TokenManager } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'redis-restart-secret-0123456789abcdef';
const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!haveRedis && !process.env.CI) console.warn('[redis-restart] skipping: redis-server is not installed');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The outcome of verifying a token: "ok" or the error code. */
function outcome(manager: TokenManager, token: string): Promise<string> {
  return manager.verifyToken(token).then(
    () => 'ok',
    (error: unknown) => (error instanceof TesseraError ? error.code : `crash: ${String(error)}`),
  );
}

describe.runIf(haveRedis || Boolean(process.env.CI))('Redis restarted without persistence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-empty-'));
  const prefix = `tessera-restart:${Date.now().toString(36)}:`;
  let port = 0;
  let redis: ChildProcess | undefined;

  async function startRedis(): Promise<void> {
    // No RDB snapshots, no append-only file: a restart loses everything.
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'no', '--save', ''],
      { stdio: 'ignore' },
    );
    const started = performance.now();
    while (
      spawnSync('redis-cli', ['-p', String(port), 'ping'])
        .stdout?.toString()
        .trim() !== 'PONG'
    ) {
      if (performance.now() - started > 10_000) throw new Error('redis-server did not start');
      await sleep(20);
    }
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

  const errors: unknown[] = [];
  const open = (localCache: boolean) =>
    new RedisStore({
      redis: { host: '127.0.0.1', port, retryStrategy: () => 50 },
      prefix,
      localCache,
      onError: (e) => errors.push(e),
    });

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
  }, 30_000);

  afterAll(async () => {
    await stopRedis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses after the restart what was revoked before it, with and without localCache; new tokens verify', async () => {
    const plain = open(false);
    const cached = open(true);
    await Promise.all([plain.ready(), cached.ready()]);
    const a = new TokenManager({ secret: SECRET, store: plain });
    const b = new TokenManager({ secret: SECRET, store: cached });
    let fresh: RedisStore | undefined;
    try {
      const loggedOut = await a.createTokenPair({ identity: 'alice' });
      const stillIn = await b.createTokenPair({ identity: 'bob' });
      await a.logout(loggedOut.accessToken);
      expect(await outcome(a, loggedOut.accessToken)).toBe('token_revoked');
      await expect.poll(() => outcome(b, loggedOut.accessToken), { timeout: 2000 }).toBe('token_revoked');
      expect(await outcome(a, stillIn.accessToken)).toBe('ok');
      expect(await outcome(b, stillIn.accessToken)).toBe('ok');

      const revocationKeys = () =>
        spawnSync('redis-cli', ['-p', String(port), '--scan', '--pattern', `${prefix}[jr]*`])
          .stdout.toString()
          .trim();
      expect(revocationKeys()).not.toBe('');

      await stopRedis();
      await startRedis();
      // Same port, empty data: the revocations are gone (the stores may already have
      // written their marker and cut-off again, so look for the revocation keys only).
      expect(revocationKeys()).toBe('');

      // Every answer from the restart on: never "ok" for the revoked token, only
      // store_unavailable until the store has checked the data, then token_revoked.
      const seen = new Set<string>();
      for (const manager of [a, b]) {
        const started = performance.now();
        for (;;) {
          const code = await outcome(manager, loggedOut.accessToken);
          seen.add(code);
          if (code !== 'store_unavailable') break;
          if (performance.now() - started > 10_000) throw new Error('the store did not recover within 10 s');
          await sleep(10);
        }
      }
      expect([...seen].sort()).toEqual(
        seen.has('store_unavailable') ? ['store_unavailable', 'token_revoked'] : ['token_revoked'],
      );
      expect(await outcome(a, loggedOut.accessToken)).toBe('token_revoked');
      expect(await outcome(b, loggedOut.accessToken)).toBe('token_revoked');
      // Minted before the loss: refused too (the lost data cannot vouch for it).
      expect(await outcome(a, stillIn.accessToken)).toBe('token_revoked');
      expect(await outcome(b, stillIn.accessToken)).toBe('token_revoked');
      await expect(a.refreshTokens(stillIn.refreshToken)).rejects.toMatchObject({ code: 'token_revoked' });
      // Exactly one of the two wrote the cut-off; the other found it done.
      expect(plain.dataLossesDetected + cached.dataLossesDetected).toBe(1);
      expect(errors.some((e) => e instanceof Error && e.message.startsWith('Redis lost its data'))).toBe(
        true,
      );

      // The cut-off covers the second of the detection: tokens minted from the next one verify.
      const cutoff = Number(
        spawnSync('redis-cli', ['-p', String(port), 'get', `${prefix}g`])
          .stdout.toString()
          .split('|')[0],
      );
      expect(cutoff).toBeGreaterThan(0);
      while (Date.now() / 1000 < cutoff) await sleep(20);
      const after = await a.createTokenPair({ identity: 'alice' });
      expect(await outcome(a, after.accessToken)).toBe('ok');
      expect(await outcome(b, after.accessToken)).toBe('ok');
      const refreshed = await b.refreshTokens(after.refreshToken);
      expect(await outcome(a, refreshed.accessToken)).toBe('ok');

      // A store that starts only now learns the cut-off from Redis.
      fresh = open(true);
      await fresh.ready();
      const c = new TokenManager({ secret: SECRET, store: fresh });
      expect(await outcome(c, loggedOut.accessToken)).toBe('token_revoked');
      expect(await outcome(c, stillIn.accessToken)).toBe('token_revoked');
      expect(await outcome(c, after.accessToken)).toBe('ok');

      // And what is revoked after the restart is revoked everywhere, as before.
      await c.logout(after.accessToken);
      expect(await outcome(c, after.accessToken)).toBe('token_revoked');
      expect(await outcome(a, after.accessToken)).toBe('token_revoked');
      await expect.poll(() => outcome(b, after.accessToken), { timeout: 2000 }).toBe('token_revoked');
    } finally {
      await Promise.all([plain.close(), cached.close(), fresh?.close()]);
    }
  }, 60_000);
});
