/**
 * Re-issue from what was verified: implicit cookie refresh keeps the session
 * family (so logout, revokeSession and revokeAllTokens reach the copies), never
 * runs `userIdentity` on the identity claim, and `refreshTokens` takes the token
 * the guard already verified instead of verifying it again.
 */
import {
  createGuard,
  importSecret,
  MemoryStore,
  type RequestLike,
  type TesseraKey,
  TokenManager,
  type TokenManagerOptions,
} from 'tessera-auth';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../error-code.js';

const SECRET = 'reissue-test-secret-0123456789abcdefghijkl';
const START = 1_800_000_000;

/** A GET request carrying the access cookie, as a browser sends it. */
function cookieRequest(token: string): RequestLike {
  const headers: Record<string, string> = { cookie: `access_token_cookie=${token}` };
  return { method: 'GET', url: '/me', header: (name) => headers[name.toLowerCase()] };
}

function cookieManager(extra: Partial<TokenManagerOptions> = {}) {
  const clock = { now: START };
  const jwt = new TokenManager({
    secret: SECRET,
    store: new MemoryStore({ now: () => clock.now }),
    tokenLocation: ['cookies'],
    cookies: { implicitRefresh: 300, secure: false },
    accessTokenExpires: 900,
    now: () => clock.now,
    ...extra,
  });
  return { clock, jwt };
}

/** Runs the guard on a cookie request near the token's expiry; returns the re-issued access token. */
async function implicitlyRefreshed(jwt: TokenManager, token: string): Promise<string> {
  const result = await createGuard(jwt)(cookieRequest(token));
  if (!result.ok) throw result.error;
  const cookie = result.setCookies.find((c) => c.startsWith('access_token_cookie='));
  expect(cookie).toBeDefined();
  return cookie!.slice('access_token_cookie='.length).split(';')[0]!;
}

describe('implicit cookie refresh keeps the session family', () => {
  it('the re-issued access token carries fam, is not fresh, and keeps the custom claims', async () => {
    const { clock, jwt } = cookieManager();
    const pair = await jwt.createTokenPair({ identity: 'alice', additionalClaims: { role: 'admin' } });
    clock.now += 700;
    const reissued = await jwt.decodeToken(await implicitlyRefreshed(jwt, pair.accessToken));
    expect(reissued).toMatchObject({ sub: 'alice', fam: pair.familyId, fresh: false, role: 'admin' });
    expect(reissued.exp).toBe(clock.now + 900);
  });

  it('logout with the refresh token signs out the re-issued copy too', async () => {
    const { clock, jwt } = cookieManager();
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    clock.now += 700;
    const copy = await implicitlyRefreshed(jwt, pair.accessToken);
    expect(await codeOf(jwt.verifyToken(copy))).toBe('ok');
    await jwt.logout(pair.refreshToken);
    expect(await codeOf(jwt.verifyToken(copy))).toBe('token_revoked');
  });

  it('revokeSession reaches the re-issued copy', async () => {
    const { clock, jwt } = cookieManager();
    const pair = await jwt.createTokenPair({ identity: 'bob' });
    clock.now += 700;
    const copy = await implicitlyRefreshed(jwt, pair.accessToken);
    expect(await jwt.revokeSession(pair.familyId!)).toBe(true);
    expect(await codeOf(jwt.verifyToken(copy))).toBe('token_revoked');
  });

  it('a copy re-issued in the same second as revokeAllTokens() dies with its session', async () => {
    const { clock, jwt } = cookieManager();
    const pair = await jwt.createTokenPair({ identity: 'carol' });
    clock.now += 700;
    const copy = await implicitlyRefreshed(jwt, pair.accessToken);
    await jwt.revokeAllTokens('carol');
    expect(await codeOf(jwt.verifyToken(copy))).toBe('token_revoked');
  });

  it('userIdentity (a user object in, an id out) is not run on the identity claim', async () => {
    const { clock, jwt } = cookieManager({
      callbacks: { userIdentity: (user: unknown) => (user as { id: string }).id.toUpperCase() },
    });
    const pair = await jwt.createTokenPair({ identity: { id: 'dave' } });
    clock.now += 700;
    const copy = await implicitlyRefreshed(jwt, pair.accessToken);
    expect((await jwt.verifyToken(copy)).identity).toBe('DAVE');
  });

  it('reissueAccessToken re-issues a verified access token in its family', async () => {
    const { jwt } = cookieManager();
    const pair = await jwt.createTokenPair({ identity: 'erin' });
    const verified = await jwt.verifyToken(pair.accessToken);
    const copy = await jwt.decodeToken(await jwt.reissueAccessToken(verified));
    expect(copy).toMatchObject({ sub: 'erin', fam: pair.familyId, type: 'access', fresh: false });
    expect(copy.jti).not.toBe(verified.payload.jti);
  });
});

describe('refreshTokens from the token the guard verified', () => {
  function counting() {
    const key = importSecret(SECRET, 'HS256');
    const calls = { decodeKey: 0 };
    const clock = { now: START };
    const jwt = new TokenManager({
      store: new MemoryStore({ now: () => clock.now }),
      now: () => clock.now,
      secret: SECRET,
      callbacks: {
        // Called once per signature check: counts them.
        decodeKey: (): TesseraKey => {
          calls.decodeKey += 1;
          return key;
        },
      },
    });
    return { jwt, calls, clock };
  }

  it('one signature check for a refresh through the guard', async () => {
    const { jwt, calls, clock } = counting();
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    const headers: Record<string, string> = { authorization: `Bearer ${pair.refreshToken}` };
    const req: RequestLike = { method: 'POST', url: '/refresh', header: (n) => headers[n.toLowerCase()] };
    const verdict = await createGuard(jwt, { refresh: true })(req);
    if (!verdict.ok) throw verdict.error;
    expect(calls.decodeKey).toBe(1);
    const next = await jwt.refreshTokens(verdict.jwt!);
    expect(calls.decodeKey).toBe(1);
    expect(next.presented.payload.jti).toBe(verdict.jwt!.payload.jti);
    expect(await codeOf(jwt.verifyToken(next.accessToken))).toBe('ok');
    // The verified token was spent, as the string would have been.
    clock.now += 60;
    expect(await codeOf(jwt.refreshTokens(pair.refreshToken))).toBe('refresh_token_reused');
  });

  it('a verified access token is refused as a refresh token', async () => {
    const { jwt } = counting();
    const pair = await jwt.createTokenPair({ identity: 'alice' });
    const access = await jwt.verifyToken(pair.accessToken);
    expect(await codeOf(jwt.refreshTokens(access))).toBe('wrong_token_type');
  });
});
