/**
 * Events: the typed emitter (delivery, unsubscribe, a failing listener caught and
 * reported once), and what the TokenManager and the Keyring emit: refused tokens
 * (directly and through a real Express server), refresh reuse, revoked sessions,
 * key rotation, and the sign-in refusal an application emits itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  importSecret,
  type KeyRotatedEvent,
  Keyring,
  MemoryStore,
  RefreshTokenReusedError,
  type SessionRevokedEvent,
  type SignInRefusedEvent,
  TesseraEvents,
  TokenManager,
  type TokenManagerEventMap,
  type TokenRefusedEvent,
} from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';

const SECRET = 'events-test-secret-0123456789-abcdefghijklmn';

function collect<K extends keyof TokenManagerEventMap>(
  manager: TokenManager,
  name: K,
): TokenManagerEventMap[K][] {
  const seen: TokenManagerEventMap[K][] = [];
  manager.events.on(name, (event) => {
    seen.push(event);
  });
  return seen;
}

describe('TesseraEvents', () => {
  it('delivers to listeners in order; off, once and the returned unsubscribe work', () => {
    const events = new TesseraEvents<{ ping: { n: number } }>();
    const seen: string[] = [];
    expect(events.listening('ping')).toBe(false);
    const offA = events.on('ping', (e) => seen.push(`a${e.n}`));
    events.once('ping', (e) => seen.push(`once${e.n}`));
    const b = (e: { n: number }) => seen.push(`b${e.n}`);
    events.on('ping', b);
    expect(events.listening('ping')).toBe(true);
    events.emit('ping', { n: 1 });
    events.emit('ping', { n: 2 });
    offA();
    events.off('ping', b);
    events.emit('ping', { n: 3 });
    expect(seen).toEqual(['a1', 'once1', 'b1', 'a2', 'b2']);
    expect(events.listening('ping')).toBe(false);
  });

  it('a throwing or rejecting listener never reaches the emitter, is reported once, and the others still run', async () => {
    const events = new TesseraEvents<{ ping: number }>();
    const reports: string[] = [];
    events.onListenerError((error, name) => reports.push(`${name}: ${(error as Error).message}`));
    const seen: number[] = [];
    events.on('ping', () => {
      throw new Error('sync boom');
    });
    events.on('ping', async () => {
      throw new Error('async boom');
    });
    events.on('ping', (n) => seen.push(n));
    expect(() => events.emit('ping', 1)).not.toThrow();
    events.emit('ping', 2);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen).toEqual([1, 2]);
    expect(reports.sort()).toEqual(['ping: async boom', 'ping: sync boom']);
  });

  it('a reporter that throws is swallowed too', () => {
    const events = new TesseraEvents<{ ping: number }>();
    events.onListenerError(() => {
      throw new Error('reporter boom');
    });
    events.on('ping', () => {
      throw new Error('listener boom');
    });
    expect(() => events.emit('ping', 1)).not.toThrow();
  });

  it('the default report is one console.error line per failing listener', () => {
    const events = new TesseraEvents<{ ping: number }>();
    const lines: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => lines.push(args);
    try {
      events.on('ping', () => {
        throw new Error('boom');
      });
      events.emit('ping', 1);
      events.emit('ping', 2);
    } finally {
      console.error = original;
    }
    expect(lines).toHaveLength(1);
    expect(String(lines[0]?.[0])).toContain('"ping"');
    expect(String(lines[0]?.[0])).toContain('boom');
  });
});

describe('TokenManager events', () => {
  it('token_refused carries the code, for verify (synchronous), verifyToken and decodeToken', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const refused = collect(manager, 'token_refused');
    const expired = await manager.createAccessToken({ identity: 'alice', expiresIn: -60 });
    expect(() => manager.verify(expired)).toThrow(/expired/);
    await expect(manager.verifyToken('a.b.c')).rejects.toMatchObject({ code: 'token_malformed' });
    await expect(manager.decodeToken('garbage')).rejects.toMatchObject({ code: 'token_malformed' });
    expect(refused.map((e) => [e.operation, e.code, e.kind])).toEqual([
      ['verify', 'token_expired', 'expired'],
      ['verify', 'token_malformed', 'invalid'],
      ['decode', 'token_malformed', 'invalid'],
    ]);
    expect(refused[0]?.error.jwtPayload?.sub).toBe('alice');
  });

  it('a listener that throws does not change what the caller gets', async () => {
    const manager = new TokenManager({ secret: SECRET });
    manager.events.onListenerError(() => undefined);
    manager.events.on('token_refused', () => {
      throw new Error('listener bug');
    });
    await expect(manager.verifyToken('a.b.c')).rejects.toMatchObject({ code: 'token_malformed' });
    const good = await manager.createAccessToken({ identity: 'bob' });
    expect((await manager.verifyToken(good)).identity).toBe('bob');
  });

  it('refresh reuse: refresh_reuse_detected and session_revoked (reuse_detected) with family and identity', async () => {
    const manager = new TokenManager({
      secret: SECRET,
      store: new MemoryStore(),
      rotation: { graceSeconds: 0 },
    });
    const reuse = collect(manager, 'refresh_reuse_detected');
    const revoked = collect(manager, 'session_revoked');
    const refused = collect(manager, 'token_refused');
    const pair = await manager.createTokenPair({ identity: 'carol' });
    await manager.refreshTokens(pair.refreshToken);
    const error = await manager.refreshTokens(pair.refreshToken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefreshTokenReusedError);
    const fam = JSON.parse(Buffer.from(pair.refreshToken.split('.')[1] ?? '', 'base64url').toString()).fam;
    expect(typeof fam).toBe('string');
    expect(reuse).toEqual([{ familyId: fam, jti: expect.any(String), identity: 'carol' }]);
    expect(revoked).toEqual([{ reason: 'reuse_detected', familyId: fam, identity: 'carol' }]);
    expect(refused.map((e) => [e.operation, e.code])).toEqual([['refresh', 'refresh_token_reused']]);
  });

  it('session_revoked on logout, revokeSession and revokeAllTokens', async () => {
    const manager = new TokenManager({ secret: SECRET, store: new MemoryStore() });
    const revoked: SessionRevokedEvent[] = collect(manager, 'session_revoked');
    const first = await manager.createTokenPair({ identity: 'dave' });
    const second = await manager.createTokenPair({ identity: 'dave' });
    await manager.logout(first.accessToken);
    const [session] = await manager.listSessions('dave');
    expect(session).toBeDefined();
    expect(await manager.revokeSession(session!.familyId)).toBe(true);
    expect(await manager.revokeSession('no-such-family')).toBe(false);
    await manager.revokeAllTokens('dave');
    const famOf = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString()).fam as string;
    expect(revoked).toEqual([
      { reason: 'logout', familyId: famOf(first.accessToken), identity: 'dave' },
      { reason: 'revoke_session', familyId: famOf(second.accessToken), identity: undefined },
      { reason: 'revoke_all', familyId: undefined, identity: 'dave' },
    ]);
  });

  it('key_rotated from the Keyring, on the ring and repeated by a manager built on it', () => {
    const ring = new Keyring([importSecret(`${SECRET}-1`, 'HS256', { kid: 'k1' })]);
    const manager = new TokenManager({ keys: ring });
    const onRing: KeyRotatedEvent[] = [];
    ring.events.on('key_rotated', (e) => onRing.push(e));
    const onManager = collect(manager, 'key_rotated');
    ring.add(importSecret(`${SECRET}-2`, 'HS256', { kid: 'k2' }));
    expect(onManager).toEqual([]); // adding a key does not change the signer
    ring.use('k2');
    ring.retire('k2', { graceSeconds: 60 });
    const expected = [
      { kid: 'k2', alg: 'HS256', previousKid: 'k1' },
      { kid: 'k1', alg: 'HS256', previousKid: 'k2' },
    ];
    expect(onRing).toEqual(expected);
    expect(onManager).toEqual(expected);
  });

  it('sign_in_refused is typed and emitted by the application', () => {
    const manager = new TokenManager({ secret: SECRET });
    const seen = collect(manager, 'sign_in_refused');
    expectTypeOf(seen).toEqualTypeOf<SignInRefusedEvent[]>();
    manager.events.emit('sign_in_refused', { reason: 'bad_credentials', identity: 'eve' });
    expect(seen).toEqual([{ reason: 'bad_credentials', identity: 'eve' }]);
  });

  it('nobody listening: nothing is wrapped and nothing is emitted', async () => {
    const manager = new TokenManager({ secret: SECRET });
    expect(manager.events.listening('token_refused')).toBe(false);
    const token = await manager.createAccessToken({ identity: 'frank' });
    const result = manager.verify(token);
    expect(result).not.toBeInstanceOf(Promise);
  });
});

describe('token_refused through a real Express server', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('a guarded route refusing an expired token emits token_refused once', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const refused: TokenRefusedEvent[] = collect(manager, 'token_refused');
    const auth = createExpressAuth(manager);
    const app = express();
    app.get('/protected', auth.jwtRequired(), (_req, res) => {
      res.json({ ok: true });
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/protected`;
    const expired = await manager.createAccessToken({ identity: 'gina', expiresIn: -60 });
    const response = await fetch(url, { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).toBe(401);
    const good = await manager.createAccessToken({ identity: 'gina' });
    expect((await fetch(url, { headers: { authorization: `Bearer ${good}` } })).status).toBe(200);
    expect(refused.map((e) => e.code)).toEqual(['token_expired']);
  });
});
