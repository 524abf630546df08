/**
 * The run-time facts the manager's types rest on (types.test-d.ts holds the
 * types themselves): declared claims and identity come back as they were put
 * in, and with a userLookup a verified token always has a user, since a lookup
 * that finds nobody refuses the token, on every path (verifyToken, the
 * synchronous-when-possible verify, and the guard the adapters use).
 */
import { createGuard, type RequestLike, TokenManager, type UserLookupError } from 'tessera-auth';
import { describe, expect, expectTypeOf, it } from 'vitest';

interface User {
  readonly id: string;
}

interface Claims {
  readonly roles: readonly string[];
  readonly tenant?: string;
}

const SECRET = 'tessera-typed-manager-secret-0123456789abcdef';
const USERS = new Map<string, User>([['alice', { id: 'alice' }]]);

function typedManager(): TokenManager<User, Claims, string> {
  return new TokenManager<User, Claims, string>({
    secret: SECRET,
    callbacks: { userLookup: (_header, payload) => USERS.get(String(payload.sub)) },
  });
}

function bearer(token: string, method = 'GET'): RequestLike {
  return {
    method,
    url: '/',
    header: (name) => (name.toLowerCase() === 'authorization' ? `Bearer ${token}` : undefined),
    body: () => undefined,
  };
}

describe('a manager with declared claims and identity', () => {
  it('gives back the claims and identity it was given, and the user userLookup found', async () => {
    const manager = typedManager();
    const token = await manager.createAccessToken({
      identity: 'alice',
      additionalClaims: { roles: ['admin', 'ops'], tenant: 't1' },
    });
    const verified = await manager.verifyToken(token);
    expect(verified.identity).toBe('alice');
    expect(verified.payload.roles).toEqual(['admin', 'ops']);
    expect(verified.payload.tenant).toBe('t1');
    expect(verified.user).toEqual({ id: 'alice' });
    const pair = await manager.createTokenPair({ identity: 'alice', additionalClaims: { roles: ['ops'] } });
    const refreshed = await manager.refreshTokens(pair.refreshToken);
    // Re-issued tokens keep the application's claims.
    expect((await manager.verifyToken(refreshed.accessToken)).payload.roles).toEqual(['ops']);
  });

  it('never hands out a token without its user: a lookup that finds nobody refuses it, on every path', async () => {
    const manager = typedManager();
    const nobody = await manager.createAccessToken({ identity: 'mallory' });
    await expect(manager.verifyToken(nobody)).rejects.toMatchObject({ code: 'user_lookup_failed' });
    let refused: unknown;
    try {
      await manager.verify(nobody);
    } catch (error) {
      refused = error;
    }
    expect((refused as UserLookupError).code).toBe('user_lookup_failed');
    const verdict = await createGuard(manager)(bearer(nobody));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.error.code).toBe('user_lookup_failed');
      expect(verdict.response.status).toBe(401);
    }
    const found = await createGuard(manager)(bearer(await manager.createAccessToken({ identity: 'alice' })));
    expect(found.ok && found.jwt?.user).toEqual({ id: 'alice' });
    if (found.ok && found.jwt !== null) expectTypeOf(found.jwt.user).toEqualTypeOf<User>();
  });

  it('the guard lets an OPTIONS request through with a null context (the adapters end it on required routes)', async () => {
    const verdict = await createGuard(typedManager())(bearer('not even a token', 'OPTIONS'));
    expect(verdict).toMatchObject({ ok: true, jwt: null });
  });
});
