/**
 * Sessions as real clients use them, on every store: memory, SQLite, PostgreSQL,
 * MariaDB (MySQL dialect), Redis without and with its local cache.
 *
 * - two tabs (and ten) refreshing one refresh token inside the grace window all
 *   get a usable pair, and every one of them refreshes on;
 * - outside the window a replay revokes the whole family, access tokens included;
 * - a Flask-style `userIdentity` (a user object in, an id out) does not break
 *   refresh, which re-issues from the verified identity claim;
 * - a refresh token from `createRefreshToken()` is single-use under rotation, and
 *   so is a refresh token minted before any family existed.
 */
import { type RefreshResult, TokenManager } from 'tessera-auth';
import { afterAll, describe, expect, it } from 'vitest';
import { codeOf } from '../error-code.js';
import { type Clock, everyStore } from './every-store.js';

const SECRET = 'sessions-every-store-secret-0123456789abcdef';
const GRACE = 5;
const { backends, cleanup } = await everyStore('sess');
afterAll(cleanup);

interface User {
  readonly id: string;
  readonly name: string;
}

describe.each(backends)('sessions on %s', (_name, available, make) => {
  async function setup(options: { userIdentity?: boolean } = {}) {
    // A real clock reading (Redis expires keys in real time), moved by hand.
    const clock: Clock = { now: Math.floor(Date.now() / 1000) };
    const { store } = await make(clock);
    const jwt = new TokenManager({
      secret: SECRET,
      store,
      rotation: { graceSeconds: GRACE },
      now: () => clock.now,
      ...(options.userIdentity
        ? {
            // Flask-JWT-Extended's documented pattern: a user object in, its id out.
            callbacks: { userIdentity: (user: unknown) => (user as User).id.toUpperCase() },
          }
        : {}),
    });
    return { clock, store, jwt };
  }

  async function jtiOf(jwt: TokenManager, token: string | undefined): Promise<unknown> {
    expect(token).toBeDefined();
    return (await jwt.decodeToken(token as string)).jti;
  }

  it.runIf(available)('two tabs refreshing at once both stay signed in, and each refreshes on', async () => {
    const { jwt, clock } = await setup();
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    const [a, b] = (await Promise.all([
      jwt.refreshTokens(pair.refreshToken),
      jwt.refreshTokens(pair.refreshToken),
    ])) as [RefreshResult, RefreshResult];
    // Both got the one successor of the family: the same jti, in the same family.
    expect(await jtiOf(jwt, a.refreshToken)).toBe(await jtiOf(jwt, b.refreshToken));
    expect((await jwt.decodeToken(b.refreshToken!)).fam).toBe(pair.familyId);
    expect((await jwt.decodeToken(b.accessToken)).fam).toBe(pair.familyId);
    expect(await codeOf(jwt.verifyToken(a.accessToken))).toBe('ok');
    expect(await codeOf(jwt.verifyToken(b.accessToken))).toBe('ok');
    clock.now += 2;
    const a2 = await jwt.refreshTokens(a.refreshToken!);
    const b2 = await jwt.refreshTokens(b.refreshToken!);
    expect(await jtiOf(jwt, a2.refreshToken)).toBe(await jtiOf(jwt, b2.refreshToken));
    // And on again, well after the first window closed.
    clock.now += GRACE * 3;
    const a3 = await jwt.refreshTokens(a2.refreshToken!);
    expect(await codeOf(jwt.verifyToken(a3.accessToken))).toBe('ok');
    expect(await codeOf(jwt.verifyToken(pair.accessToken))).toBe('ok');
  });

  it.runIf(available)(
    'ten concurrent refreshes of one token: ten usable results, each refreshing on',
    async () => {
      const { jwt, clock } = await setup();
      const pair = await jwt.createTokenPair({ identity: 'bob' });
      const first = await Promise.all(Array.from({ length: 10 }, () => jwt.refreshTokens(pair.refreshToken)));
      const jtis = new Set(await Promise.all(first.map((r) => jtiOf(jwt, r.refreshToken))));
      expect(jtis.size).toBe(1);
      for (const result of first) expect(await codeOf(jwt.verifyToken(result.accessToken))).toBe('ok');
      clock.now += 1;
      // Every one of the ten refreshes on, all at once again.
      const second = await Promise.all(first.map((r) => jwt.refreshTokens(r.refreshToken!)));
      expect(new Set(await Promise.all(second.map((r) => jtiOf(jwt, r.refreshToken)))).size).toBe(1);
      for (const result of second) expect(await codeOf(jwt.verifyToken(result.accessToken))).toBe('ok');
      clock.now += 1;
      const third = await jwt.refreshTokens(second[9]!.refreshToken!);
      expect(await codeOf(jwt.verifyToken(third.accessToken))).toBe('ok');
    },
  );

  it.runIf(available)(
    'a replay after the grace window revokes the whole family, access tokens too',
    async () => {
      const { jwt, clock } = await setup();
      const pair = await jwt.createTokenPair({ identity: 'carol' });
      const other = await jwt.createTokenPair({ identity: 'carol' });
      const next = await jwt.refreshTokens(pair.refreshToken);
      clock.now += GRACE + 1;
      expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('refresh_token_reused');
      expect(await codeOf(jwt.refreshTokens(next.refreshToken!))).toBe('token_revoked');
      expect(await codeOf(jwt.verifyToken(next.accessToken))).toBe('token_revoked');
      expect(await codeOf(jwt.verifyToken(pair.accessToken))).toBe('token_revoked');
      // Another session of the same user is untouched.
      expect(await codeOf(jwt.verifyToken(other.accessToken))).toBe('ok');
      expect(await codeOf(jwt.refreshTokens(other.refreshToken))).toBe('ok');
    },
  );

  it.runIf(available)('userIdentity (a user object in, an id out) does not break refresh', async () => {
    const { jwt, clock } = await setup({ userIdentity: true });
    const user: User = { id: 'dave', name: 'Dave' };
    const pair = await jwt.createTokenPair({ identity: user });
    expect((await jwt.verifyToken(pair.accessToken)).identity).toBe('DAVE');
    const next = await jwt.refreshTokens(pair.refreshToken);
    // Re-issued from the verified claim: userIdentity is not run on it again.
    expect((await jwt.verifyToken(next.accessToken)).identity).toBe('DAVE');
    expect((await jwt.decodeToken(next.refreshToken!)).sub).toBe('DAVE');
    clock.now += 1;
    const again = await jwt.refreshTokens(next.refreshToken!);
    expect((await jwt.verifyToken(again.accessToken)).identity).toBe('DAVE');
    // The sessions are filed under the converted id.
    expect((await jwt.listSessions(user)).map((s) => s.familyId)).toEqual([pair.familyId]);
  });

  it.runIf(available)('a refresh token from createRefreshToken() is single-use under rotation', async () => {
    const { jwt, clock } = await setup();
    const refresh = await jwt.createRefreshToken({ identity: 'erin' });
    const family = (await jwt.decodeToken(refresh)).fam;
    expect(typeof family).toBe('string');
    expect((await jwt.listSessions('erin')).map((s) => s.familyId)).toEqual([family]);
    const next = await jwt.refreshTokens(refresh);
    expect((await jwt.decodeToken(next.refreshToken!)).fam).toBe(family);
    clock.now += GRACE + 1;
    expect(await codeOf(jwt.refreshTokens(refresh))).toBe('refresh_token_reused');
    expect(await codeOf(jwt.refreshTokens(next.refreshToken!))).toBe('token_revoked');
    // A call's own lifetime is the family's too.
    const short = await jwt.createRefreshToken({ identity: 'erin', expiresIn: 120 });
    const [session] = await jwt.listSessions('erin');
    expect(session).toMatchObject({
      familyId: (await jwt.decodeToken(short)).fam,
      expiresAt: clock.now + 120,
    });
  });

  it.runIf(available)(
    'a refresh token minted outside any family is redeemed once, then is reuse',
    async () => {
      const { jwt, clock } = await setup();
      // Minted before rotation was turned on (same key, no store): no `fam` claim.
      const before = new TokenManager({ secret: SECRET, now: () => clock.now });
      const legacy = await before.createRefreshToken({ identity: 'frank' });
      expect((await jwt.decodeToken(legacy)).fam).toBeUndefined();
      const next = await jwt.refreshTokens(legacy);
      const family = (await jwt.decodeToken(next.refreshToken!)).fam;
      expect(typeof family).toBe('string');
      // Retried within the window: the same successor.
      const retry = await jwt.refreshTokens(legacy);
      expect(await jtiOf(jwt, retry.refreshToken)).toBe(await jtiOf(jwt, next.refreshToken));
      clock.now += GRACE + 1;
      expect(await codeOf(jwt.refreshTokens(legacy))).toBe('refresh_token_reused');
      expect(await codeOf(jwt.verifyToken(next.accessToken))).toBe('token_revoked');
    },
  );
});
