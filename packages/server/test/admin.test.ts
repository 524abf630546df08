/**
 * API keys, introspection (RFC 7662) and revocation (RFC 7009) for resource
 * servers, registration by invite, and the admin endpoints: users, roles,
 * disable, revoke everything, key rotation, audit.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  type Answer,
  call,
  claims,
  createUser,
  login,
  startTestService,
  type TestService,
  type Tokens,
} from './support.js';

let svc: TestService;
let base = '';
let admin: Tokens;

beforeAll(async () => {
  svc = await startTestService({ registration: 'invite' });
  base = svc.base;
  admin = await login(base, ADMIN.username, ADMIN.password);
});
afterAll(async () => {
  await svc.stop();
});

async function apiKey(token: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<Answer> {
  return call(base, 'POST', '/auth/api-keys', {
    token,
    json: { name: `key ${scopes.join(' ')}`, scopes, ...extra },
  });
}

describe('API keys', () => {
  it('are shown once, listed without the secret, accepted as Token and Bearer, and revocable', async () => {
    const user = await createUser(base, admin.access_token, 'keyholder', 'keyholder-pass');
    const made = await apiKey(user.access_token, ['read:profile']);
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    const key = made.body.key as string;
    expect(key).toMatch(/^tsk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(made.body.prefix as string)).toBe(true);
    const listed = await call(base, 'GET', '/auth/api-keys', { token: user.access_token });
    expect(listed.text).not.toContain(key);
    expect((listed.body.api_keys as unknown[]).length).toBe(1);
    for (const scheme of ['Token', 'Bearer']) {
      const me = await call(base, 'GET', '/auth/me', { token: key, scheme });
      expect(me).toMatchObject({ status: 200, body: { username: 'keyholder' } });
    }
    const after = await call(base, 'GET', '/auth/api-keys', { token: user.access_token });
    expect((after.body.api_keys as { last_used_at: number | null }[])[0]!.last_used_at).toBeTypeOf('number');
    // A wrong secret with the right prefix, an unknown key, a malformed one.
    expect(
      (await call(base, 'GET', '/auth/me', { token: `${key.slice(0, -2)}xx`, scheme: 'Token' })).status,
    ).toBe(401);
    expect((await call(base, 'GET', '/auth/me', { token: 'tsk_nope', scheme: 'Token' })).status).toBe(401);
    const id = made.body.id as string;
    expect((await call(base, 'DELETE', `/auth/api-keys/${id}`, { token: user.access_token })).status).toBe(
      200,
    );
    expect((await call(base, 'GET', '/auth/me', { token: key, scheme: 'Token' })).status).toBe(401);
    expect((await call(base, 'DELETE', `/auth/api-keys/${id}`, { token: user.access_token })).status).toBe(
      404,
    );
  });

  it('refuse privileged scopes to non-admins, bad scopes and expired keys', async () => {
    const user = await login(base, 'keyholder', 'keyholder-pass');
    expect((await apiKey(user.access_token, ['introspect'])).status).toBe(403);
    expect((await apiKey(user.access_token, ['everything'])).status).toBe(400);
    expect((await apiKey(user.access_token, [])).status).toBe(400);
    expect((await apiKey(user.access_token, ['read:profile'], { expires_in: 5 })).status).toBe(400);
    const key = (await apiKey(user.access_token, ['read:profile'], { expires_in: 60 })).body.key as string;
    expect((await call(base, 'GET', '/auth/me', { token: key, scheme: 'Token' })).status).toBe(200);
  });
});

describe('introspection and revocation for resource servers', () => {
  it('introspect active and revoked tokens; need an API key with the scope', async () => {
    const introspector = (await apiKey(admin.access_token, ['introspect'])).body.key as string;
    const revoker = (await apiKey(admin.access_token, ['revoke'])).body.key as string;
    const user = await createUser(base, admin.access_token, 'resource-user', 'resource-pass', ['editor']);

    expect(
      (await call(base, 'POST', '/oauth/introspect', { form: { token: user.access_token } })).status,
    ).toBe(401);
    const wrongScope = await call(base, 'POST', '/oauth/introspect', {
      token: revoker,
      scheme: 'Token',
      form: { token: user.access_token },
    });
    expect(wrongScope.status).toBe(403);

    const active = await call(base, 'POST', '/oauth/introspect', {
      token: introspector,
      scheme: 'Token',
      form: { token: user.access_token },
    });
    expect(active.status).toBe(200);
    expect(active.headers.get('cache-control')).toBe('no-store');
    expect(active.body).toMatchObject({
      active: true,
      sub: 'resource-user',
      username: 'resource-user',
      token_type: 'access',
      roles: ['editor'],
    });
    expect(active.body.exp).toBe(claims(user.access_token).exp);
    const refresh = await call(base, 'POST', '/oauth/introspect', {
      token: introspector,
      form: { token: user.refresh_token, token_type_hint: 'refresh_token' },
    });
    expect(refresh.body).toMatchObject({ active: true, token_type: 'refresh' });
    const json = await call(base, 'POST', '/oauth/introspect', {
      token: introspector,
      json: { token: 'not-a-token' },
    });
    expect(json).toMatchObject({ status: 200, body: { active: false } });
    expect((await call(base, 'POST', '/oauth/introspect', { token: introspector, form: {} })).status).toBe(
      400,
    );

    // Revoking the refresh token ends the session: its access token is no longer active either.
    const revoked = await call(base, 'POST', '/oauth/revoke', {
      token: revoker,
      form: { token: user.refresh_token },
    });
    expect(revoked).toMatchObject({ status: 200, body: {} });
    const after = await call(base, 'POST', '/oauth/introspect', {
      token: introspector,
      form: { token: user.access_token },
    });
    expect(after.body).toEqual({ active: false });
    expect((await call(base, 'GET', '/auth/me', { token: user.access_token })).status).toBe(401);
    // RFC 7009: an invalid token is answered 200 too.
    expect(
      (await call(base, 'POST', '/oauth/revoke', { token: revoker, form: { token: 'garbage' } })).status,
    ).toBe(200);
    expect(
      (await call(base, 'POST', '/oauth/revoke', { token: introspector, form: { token: 'garbage' } })).status,
    ).toBe(403);
  });
});

describe('registration by invite', () => {
  it('needs a valid single-use invite, which may grant roles', async () => {
    const payload = { username: 'invited', password: 'invited-pass' };
    expect((await call(base, 'POST', '/auth/register', { json: payload })).body).toMatchObject({
      code: 'invite_invalid',
    });
    const invite = await call(base, 'POST', '/admin/invites', {
      token: admin.access_token,
      json: { roles: ['editor'] },
    });
    expect(invite.status).toBe(201);
    const code = invite.body.invite as string;
    const made = await call(base, 'POST', '/auth/register', { json: { ...payload, invite: code } });
    expect(made).toMatchObject({ status: 201, body: { username: 'invited', roles: ['editor'] } });
    const again = await call(base, 'POST', '/auth/register', {
      json: { username: 'invited2', password: 'invited-pass', invite: code },
    });
    expect(again.status).toBe(403);
  });

  it('is refused when closed', async () => {
    const closed = await startTestService({ registration: 'closed' });
    try {
      const res = await call(closed.base, 'POST', '/auth/register', {
        json: { username: 'x', password: 'long-enough' },
      });
      expect(res).toMatchObject({ status: 403, body: { code: 'registration_closed' } });
    } finally {
      await closed.stop();
    }
  });
});

describe('admin', () => {
  it('is for admins only', async () => {
    const user = await createUser(base, admin.access_token, 'plain-user', 'plain-password');
    expect((await call(base, 'GET', '/admin/users', { token: user.access_token })).status).toBe(403);
    expect((await call(base, 'GET', '/admin/users')).status).toBe(401);
    const adminKey = (await apiKey(admin.access_token, ['admin'])).body.key as string;
    const listed = await call(base, 'GET', '/admin/users?limit=2', { token: adminKey, scheme: 'Token' });
    expect(listed.status).toBe(200);
    expect((listed.body.users as unknown[]).length).toBe(2);
    expect(listed.body.total).toBeGreaterThanOrEqual(3);
    expect((await call(base, 'GET', '/admin/users?limit=0', { token: admin.access_token })).status).toBe(400);
  });

  it('creates users, sets roles (revoking old tokens), disables and re-enables', async () => {
    const made = await call(base, 'POST', '/admin/users', {
      token: admin.access_token,
      json: { username: 'managed', password: 'managed-pass', roles: ['viewer'] },
    });
    expect(made).toMatchObject({ status: 201, body: { username: 'managed', roles: ['viewer'] } });
    expect(
      (
        await call(base, 'POST', '/admin/users', {
          token: admin.access_token,
          json: { username: 'managed', password: 'managed-pass' },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await call(base, 'POST', '/admin/users', {
          token: admin.access_token,
          json: { username: 'r', password: 'managed-pass', roles: ['Bad Role'] },
        })
      ).status,
    ).toBe(400);
    const tokens = await login(base, 'managed', 'managed-pass');
    expect(claims(tokens.access_token).roles).toEqual(['viewer']);

    const roles = await call(base, 'PATCH', '/admin/users/managed', {
      token: admin.access_token,
      json: { roles: ['viewer', 'editor'] },
    });
    expect(roles).toMatchObject({ status: 200, body: { roles: ['viewer', 'editor'] } });
    expect((await call(base, 'GET', '/auth/me', { token: tokens.access_token })).status).toBe(401);
    expect(
      (await call(base, 'PATCH', '/admin/users/managed', { token: admin.access_token, json: { unknown: 1 } }))
        .status,
    ).toBe(400);
    expect(
      (
        await call(base, 'PATCH', '/admin/users/nobody', {
          token: admin.access_token,
          json: { disabled: true },
        })
      ).status,
    ).toBe(404);

    const fresh = await call(base, 'POST', '/auth/login', {
      json: { username: 'managed', password: 'managed-pass' },
    });
    expect(fresh.status).toBe(200);
    const disabled = await call(base, 'PATCH', '/admin/users/managed', {
      token: admin.access_token,
      json: { disabled: true },
    });
    expect(disabled.body).toMatchObject({ disabled: true });
    expect((await call(base, 'GET', '/auth/me', { token: fresh.body.access_token as string })).status).toBe(
      401,
    );
    const refused = await call(base, 'POST', '/auth/login', {
      json: { username: 'managed', password: 'managed-pass' },
    });
    expect(refused).toMatchObject({ status: 401, body: { code: 'invalid_credentials' } });
    await call(base, 'PATCH', '/admin/users/managed', {
      token: admin.access_token,
      json: { disabled: false },
    });
    expect(
      (await call(base, 'GET', '/admin/users/managed', { token: admin.access_token })).body,
    ).toMatchObject({ disabled: false });
  });

  it('revokes everything of a user: tokens, sessions and API keys', async () => {
    const user = await createUser(base, admin.access_token, 'revokee', 'revokee-pass');
    const key = (await apiKey(user.access_token, ['read:profile'])).body.key as string;
    const res = await call(base, 'POST', '/admin/users/revokee/revoke', { token: admin.access_token });
    expect(res.status).toBe(200);
    expect((await call(base, 'GET', '/auth/me', { token: user.access_token })).status).toBe(401);
    expect((await call(base, 'POST', '/auth/refresh', { token: user.refresh_token })).status).toBe(401);
    expect((await call(base, 'GET', '/auth/me', { token: key, scheme: 'Token' })).status).toBe(401);
  });

  it('rotates keys now: new tokens use the new key, old tokens still verify, the JWKS has both', async () => {
    const before = await login(base, ADMIN.username, ADMIN.password);
    const rotated = await call(base, 'POST', '/admin/keys/rotate', { token: admin.access_token });
    expect(rotated.status).toBe(200);
    const kid = rotated.body.kid as string;
    const keys = rotated.body.keys as { kid: string; signing: boolean; expiresAt: number | null }[];
    expect(keys.find((k) => k.signing)!.kid).toBe(kid);
    expect(keys.find((k) => !k.signing)!.expiresAt).toBeTypeOf('number');
    const jwks = await call(base, 'GET', '/.well-known/jwks.json');
    expect((jwks.body.keys as { kid: string }[]).map((k) => k.kid)).toContain(kid);
    expect((jwks.body.keys as unknown[]).length).toBe(2);
    const after = await login(base, ADMIN.username, ADMIN.password);
    const header = JSON.parse(Buffer.from(after.access_token.split('.')[0]!, 'base64url').toString()) as {
      kid: string;
    };
    expect(header.kid).toBe(kid);
    expect((await call(base, 'GET', '/auth/me', { token: before.access_token })).status).toBe(200);
    const remote = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    for (const token of [before.access_token, after.access_token]) {
      expect((await jwtVerify(token, remote, { algorithms: ['EdDSA'] })).payload.sub).toBe(ADMIN.username);
    }
  });

  it('records an audit trail without secrets', async () => {
    const res = await call(base, 'GET', '/admin/audit?limit=500', { token: admin.access_token });
    expect(res.status).toBe(200);
    const types = (res.body.events as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'login',
        'login.failed',
        'user.created',
        'user.updated',
        'keys.rotated',
        'api_key.created',
      ]),
    );
    expect(res.text).not.toContain(ADMIN.password);
  });
});
