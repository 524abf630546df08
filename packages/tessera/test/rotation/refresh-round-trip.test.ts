/**
 * A refresh in one store operation, on every store (memory, SQLite, PostgreSQL,
 * MariaDB, Redis without and with its local cache): `refreshTokens(tokenString)`
 * and `auth.refresh()` leave the store's revocation check to the rotation
 * (`TokenStore.rotationChecksRevocation`, `RotateRequest.presented`), and a
 * revoked refresh token is still refused exactly as a guarded route refuses it.
 *
 * The store calls are counted by a proxy around the real store (nothing is
 * mocked), and what reaches the database by the backend's own counter (SQL
 * statements, Redis commands: see every-store.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryStore, TokenManager, type TokenManagerOptions, type TokenStore } from 'tessera-auth';
import type { RotateRequest } from 'tessera-auth/core';
import { createExpressAuth } from 'tessera-auth/express';
import { afterAll, describe, expect, it } from 'vitest';
import { codeOf } from '../error-code.js';
import { type Backend, type Clock, everyStore } from './every-store.js';

const SECRET = 'refresh-round-trip-secret-0123456789abcdef';
const GRACE = 5;
const { backends, cleanup } = await everyStore('rt');
afterAll(cleanup);

/** A real store behind a proxy that records every call made to it. */
function counted(store: TokenStore, options: { withoutCapability?: boolean } = {}) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const proxy = new Proxy(store, {
    get(target, property) {
      // A custom store written before the capability existed.
      if (property === 'rotationChecksRevocation' && options.withoutCapability) return undefined;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: proxy,
    methods: () => calls.map((c) => c.method),
    rotations: () => calls.filter((c) => c.method === 'rotateFamily').map((c) => c.args[0] as RotateRequest),
    reset: () => {
      calls.length = 0;
    },
  };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly challenge: string | null;
}

/**
 * A real Express server: `auth.refresh()`, a plain guarded route
 * (`jwtRequired({ refresh: true })`, which checks revocation itself: the
 * reference answer), and a guarded route that hands its context to
 * `refreshTokens`.
 */
async function serve(manager: TokenManager) {
  const auth = createExpressAuth(manager);
  const app = express();
  app.post('/auth/refresh', auth.refresh());
  app.post('/guarded/check', auth.jwtRequired({ refresh: true }), (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/guarded/refresh', auth.jwtRequired({ refresh: true }), (req, res, next) => {
    manager
      .refreshTokens(auth.getJwt(req)!)
      .then((r) => res.json({ access_token: r.accessToken, refresh_token: r.refreshToken }), next);
  });
  // A guard told to skip its revocation check: the rotation must still refuse a revoked token.
  app.post(
    '/unchecked/refresh',
    auth.jwtRequired({ refresh: true, skipRevocationCheck: true }),
    (req, res, next) => {
      manager
        .refreshTokens(auth.getJwt(req)!)
        .then((r) => res.json({ access_token: r.accessToken, refresh_token: r.refreshToken }), next);
    },
  );
  app.use(auth.errorHandler());
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async post(path: string, token: string): Promise<Answer> {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as Record<string, unknown>;
      return { status: response.status, body, challenge: response.headers.get('www-authenticate') };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function setup(
  make: (clock: Clock) => Promise<Backend>,
  options: { withoutCapability?: boolean } = {},
) {
  // A real clock reading (Redis expires keys in real time), moved by hand.
  const clock: Clock = { now: Math.floor(Date.now() / 1000) };
  const backend = await make(clock);
  const count = counted(backend.store, options);
  const managerOptions: TokenManagerOptions<unknown> = {
    secret: SECRET,
    store: count.store,
    rotation: { graceSeconds: GRACE },
    now: () => clock.now,
  };
  const jwt = new TokenManager(managerOptions);
  const http = await serve(jwt);
  return { clock, backend, count, jwt, http };
}

describe.each(backends)('a refresh on %s', (name, available, make) => {
  it.runIf(available)(
    'each revocation rule refuses the refresh token through refreshTokens and auth.refresh(), as a guarded route does',
    async () => {
      const { clock, backend, jwt, http } = await setup(make);
      try {
        const rules: Array<[string, (user: string, token: string, familyId: string) => Promise<void>]> = [
          ['its jti', async (_user, token) => jwt.revokeToken(token)],
          [
            'its session (revokeSession)',
            async (_user, _token, familyId) => void (await jwt.revokeSession(familyId)),
          ],
          ['its session (logout)', async (_user, token) => jwt.logout(token)],
          ['everything of its user (revokeAllTokens)', async (user) => jwt.revokeAllTokens(user)],
          [
            "its user's cut-off alone",
            async (user) => backend.store.revokeUserBefore(user, clock.now + 1, clock.now + 3600),
          ],
        ];
        // Last: it revokes everything under the store's prefix.
        if (backend.loseData !== undefined)
          rules.push(['the store-wide cut-off (Redis lost its data)', backend.loseData]);
        for (const [i, [rule, revoke]] of rules.entries()) {
          const user = `user-${i}`;
          const pair = await jwt.createTokenPair({ identity: user });
          // A successor (the family has moved once): the usual token a client refreshes with.
          clock.now += 1;
          const token = (await jwt.refreshTokens(pair.refreshToken)).refreshToken!;
          clock.now += GRACE + 1;
          await revoke(user, token, pair.familyId!);
          const reference = await http.post('/guarded/check', token);
          expect(reference.status, `${name}, ${rule}`).toBe(401);
          expect(reference.body.code, `${name}, ${rule}`).toBe('token_revoked');
          expect(await codeOf(jwt.refreshTokens(token)), `${name}, ${rule}`).toBe('token_revoked');
          expect(await http.post('/auth/refresh', token), `${name}, ${rule}`).toEqual(reference);
          expect(await http.post('/guarded/refresh', token), `${name}, ${rule}`).toEqual(reference);
          expect(await http.post('/unchecked/refresh', token), `${name}, ${rule}`).toEqual(reference);
          if (rule === 'its jti') {
            // Refused as revoked, not as reuse: the session is untouched and still listed.
            expect((await jwt.listSessions(user)).map((s) => s.familyId)).toEqual([pair.familyId]);
          }
        }
      } finally {
        await http.close();
      }
    },
  );

  it.runIf(available)(
    'one store call per refresh through refreshTokens(string) and auth.refresh(); one check at most after a guard',
    async () => {
      const { clock, backend, count, jwt, http } = await setup(make);
      try {
        const pair = await jwt.createTokenPair({ identity: 'alice' });
        // Warm-up: Redis loads its script on first use.
        let token = (await jwt.refreshTokens(pair.refreshToken)).refreshToken!;
        const claims = async (t: string) => {
          const p = await jwt.decodeToken(t);
          return { jti: p.jti, userKey: 'alice', iat: p.iat, familyId: pair.familyId };
        };
        const measure = async <T>(run: () => Promise<T>) => {
          count.reset();
          const before = backend.backendCalls();
          const result = await run();
          const after = backend.backendCalls();
          return {
            result,
            backend: before === undefined || after === undefined ? undefined : after - before,
          };
        };

        clock.now += 1;
        const direct = await measure(() => jwt.refreshTokens(token));
        expect(count.methods()).toEqual(['rotateFamily']);
        expect(count.rotations()[0]!.presented).toEqual(await claims(token));
        if (direct.backend !== undefined) expect(direct.backend).toBe(1);
        token = direct.result.refreshToken!;

        clock.now += 1;
        const viaHttp = await measure(() => http.post('/auth/refresh', token));
        expect(viaHttp.result.status).toBe(200);
        expect(count.methods()).toEqual(['rotateFamily']);
        expect(count.rotations()[0]!.presented).toEqual(await claims(token));
        if (viaHttp.backend !== undefined) expect(viaHttp.backend).toBe(1);
        token = viaHttp.result.body.refresh_token as string;

        // A guard checked the token; refreshTokens(context) does not ask isRevoked again. The
        // rotation is still handed the presented token: a check inside it costs no round trip.
        clock.now += 1;
        const guarded = await measure(() => http.post('/guarded/refresh', token));
        expect(guarded.result.status).toBe(200);
        const methods = count.methods();
        const asked = methods.filter((m) => m === 'isRevoked').length;
        expect(asked).toBeLessThanOrEqual(1);
        expect(methods.filter((m) => m === 'isRevoked' || m === 'isRevokedNow').length).toBeGreaterThan(0);
        expect(methods.at(-1)).toBe('rotateFamily');
        expect(methods.filter((m) => m === 'rotateFamily')).toHaveLength(1);
        expect(count.rotations()[0]!.presented).toEqual(await claims(token));
        if (guarded.backend !== undefined) expect(guarded.backend).toBe(asked + 1);
        token = guarded.result.body.refresh_token as string;

        // Grace and reuse are unchanged on the one-call path.
        clock.now += 1;
        const next = await jwt.refreshTokens(token);
        const retry = await jwt.refreshTokens(token);
        expect((await jwt.decodeToken(retry.refreshToken!)).jti).toBe(
          (await jwt.decodeToken(next.refreshToken!)).jti,
        );
        clock.now += GRACE + 1;
        expect(await codeOf(jwt.refreshTokens(token))).toBe('refresh_token_reused');
        expect(await codeOf(jwt.refreshTokens(next.refreshToken!))).toBe('token_revoked');
      } finally {
        await http.close();
      }
    },
  );

  it.runIf(available)(
    'a revoked family-less refresh token is refused after a guard that skipped its check',
    async () => {
      const { clock, jwt, http } = await setup(make);
      try {
        // Minted where rotation is off (same key): no family, so the rotation cannot take it.
        const plain = new TokenManager({ secret: SECRET, now: () => clock.now });
        const token = await plain.createRefreshToken({ identity: 'carol' });
        await jwt.revokeToken(token);
        clock.now += 1;
        const answer = await http.post('/unchecked/refresh', token);
        expect(answer.status).toBe(401);
        expect(answer.body.code).toBe('token_revoked');
        expect(await jwt.listSessions('carol')).toEqual([]);
      } finally {
        await http.close();
      }
    },
  );

  it.runIf(available)(
    'a store without rotationChecksRevocation is asked isRevoked first, and never given presented',
    async () => {
      const { clock, count, jwt, http } = await setup(make, { withoutCapability: true });
      try {
        const pair = await jwt.createTokenPair({ identity: 'bob' });
        clock.now += 1;
        count.reset();
        const next = await jwt.refreshTokens(pair.refreshToken);
        const methods = count.methods();
        expect(methods.filter((m) => m === 'isRevoked' || m === 'isRevokedNow').length).toBeGreaterThan(0);
        expect(methods.at(-1)).toBe('rotateFamily');
        expect(count.rotations()).toHaveLength(1);
        expect(count.rotations()[0]!.presented).toBeUndefined();

        clock.now += 1;
        count.reset();
        const answer = await http.post('/auth/refresh', next.refreshToken!);
        expect(answer.status).toBe(200);
        expect(count.methods().indexOf('rotateFamily')).toBeGreaterThan(0);
        expect(count.rotations()[0]!.presented).toBeUndefined();

        const token = answer.body.refresh_token as string;
        await jwt.revokeToken(token);
        expect(await codeOf(jwt.refreshTokens(token))).toBe('token_revoked');
        expect((await http.post('/auth/refresh', token)).body.code).toBe('token_revoked');
      } finally {
        await http.close();
      }
    },
  );

  it.runIf(available)(
    'a store that cannot answer fails the refresh closed: store_unavailable, 503',
    async () => {
      const { clock, backend, jwt, http } = await setup(make);
      try {
        const pair = await jwt.createTokenPair({ identity: 'carol' });
        clock.now += 1;
        await backend.store.close();
        expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('store_unavailable');
        const answer = await http.post('/auth/refresh', pair.refreshToken);
        expect(answer.status).toBe(503);
        expect(answer.body.code).toBe('store_unavailable');
      } finally {
        await http.close();
      }
    },
  );
});

describe('the callbacks around a refresh whose store check is in the rotation', () => {
  function manager(store: TokenStore, blocked: Set<unknown>, users: Set<unknown>) {
    return new TokenManager({
      secret: SECRET,
      store,
      rotation: { graceSeconds: 0 },
      callbacks: {
        tokenInBlocklist: (_header, payload) => blocked.has(payload.jti),
        userLookup: (_header, payload) => (users.has(payload.sub) ? { id: payload.sub } : null),
      },
    });
  }

  it('tokenInBlocklist refuses before the rotation; a refusal by another callback is token_revoked when the store revoked the token', async () => {
    const blocked = new Set<unknown>();
    const users = new Set<unknown>(['dave', 'erin']);
    const count = counted(new MemoryStore());
    const jwt = manager(count.store, blocked, users);

    // Blocked by the application: refused as revoked, and the family did not move.
    const pair = await jwt.createTokenPair({ identity: 'dave' });
    blocked.add((await jwt.decodeToken(pair.refreshToken)).jti);
    count.reset();
    expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('token_revoked');
    expect(count.methods()).not.toContain('rotateFamily');
    blocked.clear();
    expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('ok');

    // A user the lookup no longer finds: user_lookup_failed, and the token is not spent...
    const other = await jwt.createTokenPair({ identity: 'erin' });
    users.delete('erin');
    count.reset();
    const reference = await codeOf(jwt.verifyToken(other.refreshToken, { refresh: true }));
    expect(reference).toBe('user_lookup_failed');
    expect(await codeOf(jwt.refreshTokens(other.refreshToken))).toBe(reference);
    expect(count.methods()).not.toContain('rotateFamily');
    // ...unless the store has revoked it: then, as when the store is asked first, token_revoked.
    await jwt.revokeToken(other.refreshToken);
    expect(await codeOf(jwt.verifyToken(other.refreshToken, { refresh: true }))).toBe('token_revoked');
    expect(await codeOf(jwt.refreshTokens(other.refreshToken))).toBe('token_revoked');
  });
});
