/**
 * Graceful shutdown drains requests in flight; every signing algorithm the
 * configuration offers signs and verifies end to end; registration counts
 * against the client address's budget.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config.js';
import { ADMIN, call, login, startTestService } from './support.js';

describe('graceful shutdown', () => {
  it('finishes the requests in flight, then refuses new connections', async () => {
    const svc = await startTestService();
    try {
      // Sign-ins take an argon2 verification: long enough to be in flight when close() starts.
      const inFlight = Array.from({ length: 4 }, () =>
        call(svc.base, 'POST', '/auth/login', {
          json: { username: ADMIN.username, password: ADMIN.password },
        }),
      );
      while (svc.service.requestsInFlight() < 4) await new Promise((r) => setTimeout(r, 1));
      const closing = svc.service.close();
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      await closing;
      await expect(fetch(`${svc.base}/healthz`)).rejects.toThrow();
      expect(svc.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    } finally {
      await svc.stop();
    }
  });
});

describe('drain pause', () => {
  it('answers 503 on /readyz at once, keeps serving for drainDelay, then closes the listener', async () => {
    const svc = await startTestService({ drainDelay: 1 });
    try {
      expect((await call(svc.base, 'GET', '/readyz')).status).toBe(200);
      const closing = svc.service.close();
      // The load balancer's next probe sees the instance leaving, while requests still get answers.
      const ready = await call(svc.base, 'GET', '/readyz');
      expect(ready).toMatchObject({ status: 503, body: { status: 'draining' } });
      expect((await call(svc.base, 'GET', '/healthz')).status).toBe(200);
      expect((await login(svc.base, ADMIN.username, ADMIN.password)).access_token).toBeTypeOf('string');
      await closing;
      await expect(fetch(`${svc.base}/healthz`)).rejects.toThrow();
      expect(svc.logs.some((l) => l.includes('"seconds":1') && l.includes('draining'))).toBe(true);
    } finally {
      await svc.stop();
    }
  });

  it('is 0 unless configured (5 s by default when NODE_ENV=production)', () => {
    expect(parseConfig({}).drainDelay).toBe(0);
    expect(loadConfig({ NODE_ENV: 'production' }).drainDelay).toBe(5);
    expect(loadConfig({ NODE_ENV: 'production', TESSERA_DRAIN_DELAY: '0' }).drainDelay).toBe(0);
    expect(loadConfig({ TESSERA_DRAIN_DELAY: '10s' }).drainDelay).toBe(10);
    expect(() => loadConfig({ TESSERA_DRAIN_DELAY: '-1' })).toThrow(/TESSERA_DRAIN_DELAY/);
    expect(() => loadConfig({ TESSERA_DRAIN_DELAY: '1h' })).toThrow(/TESSERA_DRAIN_DELAY/);
  });
});

describe('signing algorithms', () => {
  for (const alg of ['EdDSA', 'RS256', 'PS256', 'ES256', 'ES384', 'HS256'] as const) {
    it(`${alg}: tokens verify at the service${alg.startsWith('HS') ? '' : ' and through the JWKS'}`, async () => {
      const svc = await startTestService({ signingAlgorithm: alg });
      try {
        const tokens = await login(svc.base, ADMIN.username, ADMIN.password);
        const header = JSON.parse(
          Buffer.from(tokens.access_token.split('.')[0]!, 'base64url').toString(),
        ) as {
          alg: string;
        };
        expect(header.alg).toBe(alg);
        expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(200);
        const jwks = await call(svc.base, 'GET', '/.well-known/jwks.json');
        if (alg.startsWith('HS')) {
          // A shared secret is never published.
          expect(jwks.body).toEqual({ keys: [] });
        } else {
          const remote = createRemoteJWKSet(new URL(`${svc.base}/.well-known/jwks.json`));
          expect((await jwtVerify(tokens.access_token, remote, { algorithms: [alg] })).payload.sub).toBe(
            ADMIN.username,
          );
        }
      } finally {
        await svc.stop();
      }
    });
  }
});

describe('registration', () => {
  it('counts against the address budget: 429 once it is spent', async () => {
    const svc = await startTestService({ registration: 'open' });
    try {
      // A small budget would need a rule option; the default address budget is 100 per 15 minutes.
      const statuses: number[] = [];
      for (let i = 0; i < 101; i++) {
        const res = await call(svc.base, 'POST', '/auth/register', {
          json: { username: `u${i}`, password: '' },
        });
        statuses.push(res.status);
      }
      // Invalid bodies are refused before the budget is consulted: nothing is counted.
      expect(new Set(statuses)).toEqual(new Set([400]));
      let last = 0;
      for (let i = 0; i < 101; i++) {
        last = (
          await call(svc.base, 'POST', '/auth/register', {
            json: { username: `user${i}`, password: 'long-enough-1' },
          })
        ).status;
        if (last === 429) break;
      }
      expect(last).toBe(429);
    } finally {
      await svc.stop();
    }
  }, 120_000);
});
