/**
 * The Flask-shaped endpoints end to end over HTTP on the SQLite default:
 * login, refresh rotation, logout, logout everywhere, me, register modes,
 * password change, sessions, cookie mode with CSRF, and the answers to bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  call,
  claims,
  createUser,
  login,
  nextSecond,
  startTestService,
  type TestService,
} from './support.js';

let svc: TestService;
let base = '';
let admin: { access_token: string; refresh_token: string };

beforeAll(async () => {
  svc = await startTestService({ registration: 'open' });
  base = svc.base;
  admin = await login(base, ADMIN.username, ADMIN.password);
});
afterAll(async () => {
  await svc.stop();
});

describe('health, keys and documents', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await call(base, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call(base, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('publishes the signing key, whose kid the tokens carry', async () => {
    const jwks = await call(base, 'GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('content-type')).toBe('application/jwk-set+json');
    const keys = jwks.body.keys as { kid: string; alg: string; d?: string }[];
    expect(keys).toHaveLength(1);
    expect(keys[0]!.alg).toBe('EdDSA');
    expect(keys[0]!.d).toBeUndefined();
    const header = JSON.parse(Buffer.from(admin.access_token.split('.')[0]!, 'base64url').toString()) as {
      kid: string;
    };
    expect(header.kid).toBe(keys[0]!.kid);
  });

  it('serves OpenAPI 3.1 and a reference page without scripts', async () => {
    const doc = await call(base, 'GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths as object)).toEqual(
      expect.arrayContaining(['/auth/login', '/api/token/', '/oauth/introspect', '/admin/keys/rotate']),
    );
    const page = await call(base, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('/auth/login');
    expect(page.text).not.toMatch(/<script|https?:\/\/(?!127)/);
  });

  it('sets security headers on every answer', async () => {
    const res = await call(base, 'GET', '/healthz');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('login, me, refresh, logout', () => {
  it('signs in and shows the user, with no-store and roles as a claim', async () => {
    const res = await call(base, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const access = res.body.access_token as string;
    expect(claims(access)).toMatchObject({ sub: ADMIN.username, type: 'access', roles: ['admin'] });
    const me = await call(base, 'GET', '/auth/me', { token: access });
    expect(me).toMatchObject({
      status: 200,
      body: { username: ADMIN.username, roles: ['admin'], disabled: false },
    });
    expect(me.body.password_hash).toBeUndefined();
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses wrong passwords and unknown users with the same answer', async () => {
    const wrong = await call(base, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: 'nope-nope' },
    });
    const unknown = await call(base, 'POST', '/auth/login', {
      json: { username: 'nobody-here', password: 'nope-nope' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toEqual({ msg: 'Bad username or password', code: 'invalid_credentials' });
  });

  it('refuses bad input with 4xx', async () => {
    expect((await call(base, 'POST', '/auth/login', { raw: '{not json' })).body).toMatchObject({
      code: 'invalid_json',
    });
    expect((await call(base, 'POST', '/auth/login', { raw: '{not json' })).status).toBe(400);
    expect((await call(base, 'POST', '/auth/login', { json: { username: 'x' } })).status).toBe(400);
    expect((await call(base, 'POST', '/auth/login', { json: [1, 2] })).status).toBe(400);
    expect((await call(base, 'POST', '/auth/login', { json: { username: 5, password: true } })).status).toBe(
      400,
    );
    const form = await call(base, 'POST', '/auth/login', { form: { username: 'a', password: 'b' } });
    expect(form.status).toBe(415);
    const big = await call(base, 'POST', '/auth/login', {
      json: { username: 'a', password: 'x'.repeat(70_000) },
    });
    expect(big).toMatchObject({ status: 413, body: { code: 'body_too_large' } });
    // Chunked, with no length announced: counted as it arrives.
    let sent = 0;
    const chunks = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 8) return controller.close();
        controller.enqueue(
          new TextEncoder().encode(`${sent === 0 ? '{"password":"' : ''}${'x'.repeat(10_000)}`),
        );
        sent++;
      },
    });
    const chunked = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toMatchObject({ code: 'body_too_large' });
    const method = await call(base, 'GET', '/auth/login');
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toContain('POST');
    expect((await call(base, 'PUT', '/auth/me')).status).toBe(405);
    expect((await call(base, 'GET', '/no/such/path')).status).toBe(404);
    expect((await call(base, 'GET', '/auth/me', { token: 'garbage' })).status).toBe(401);
    expect((await call(base, 'GET', '/auth/me')).status).toBe(401);
  });

  it('rotates refresh tokens and revokes the session on reuse', async () => {
    const first = await login(base, ADMIN.username, ADMIN.password);
    const second = await call(base, 'POST', '/auth/refresh', { token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    const rotated = second.body as { access_token: string; refresh_token: string };
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect((await call(base, 'GET', '/auth/me', { token: rotated.access_token })).status).toBe(200);
    // An access token is not a refresh token.
    expect(await call(base, 'POST', '/auth/refresh', { token: rotated.access_token })).toMatchObject({
      status: 401,
      body: { code: 'wrong_token_type' },
    });
    const third = await call(base, 'POST', '/auth/refresh', { token: rotated.refresh_token });
    expect(third.status).toBe(200);
    const reuse = await call(base, 'POST', '/auth/refresh', { token: first.refresh_token });
    expect(reuse).toMatchObject({ status: 401, body: { code: 'refresh_token_reused' } });
    const after = await call(base, 'GET', '/auth/me', {
      token: (third.body as { access_token: string }).access_token,
    });
    expect(after).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
  });

  it('carries the roles in every token: signed in, rotated, and from /api/token/', async () => {
    const first = await login(base, ADMIN.username, ADMIN.password);
    const rotated = await call(base, 'POST', '/auth/refresh', { token: first.refresh_token });
    const pair = await call(base, 'POST', '/api/token/', {
      json: { username: ADMIN.username, password: ADMIN.password },
    });
    const again = await call(base, 'POST', '/api/token/refresh/', { json: { refresh: pair.body.refresh } });
    const tokens = [
      first.access_token,
      first.refresh_token,
      rotated.body.access_token,
      rotated.body.refresh_token,
      pair.body.access,
      pair.body.refresh,
      again.body.access,
      again.body.refresh,
    ] as string[];
    for (const token of tokens) expect(claims(token).roles).toEqual(['admin']);
  });

  it('refuses a refresh token revoked on its own (not its session), as a header or a cookie', async () => {
    const { manager } = svc.service.context;
    const bearer = await login(base, ADMIN.username, ADMIN.password);
    await manager.revokeToken(claims(bearer.refresh_token));
    expect(await call(base, 'POST', '/auth/refresh', { token: bearer.refresh_token })).toMatchObject({
      status: 401,
      body: { code: 'token_revoked' },
    });
    const cookie = await call(base, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password, cookies: true },
    });
    const jar = cookie.headers
      .getSetCookie()
      .map((c) => c.split(';', 1)[0])
      .join('; ');
    const refreshCookie = /refresh_token_cookie=([^;]+)/.exec(jar)![1]!;
    await manager.revokeToken(claims(refreshCookie));
    expect(
      await call(base, 'POST', '/auth/refresh', {
        headers: { cookie: jar, 'x-csrf-token': cookie.body.csrf_refresh_token as string },
      }),
    ).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
  });

  it('logs out one session; the others keep working', async () => {
    const a = await login(base, ADMIN.username, ADMIN.password);
    const b = await login(base, ADMIN.username, ADMIN.password);
    expect((await call(base, 'POST', '/auth/logout', { token: a.access_token })).status).toBe(200);
    expect((await call(base, 'GET', '/auth/me', { token: a.access_token })).body).toMatchObject({
      code: 'token_revoked',
    });
    expect((await call(base, 'POST', '/auth/refresh', { token: a.refresh_token })).status).toBe(401);
    expect((await call(base, 'GET', '/auth/me', { token: b.access_token })).status).toBe(200);
  });

  it('logs out everywhere', async () => {
    const user = await createUser(base, admin.access_token, 'everywhere', 'password-everywhere');
    const other = await login(base, 'everywhere', 'password-everywhere');
    expect((await call(base, 'POST', '/auth/logout-all', { token: user.access_token })).status).toBe(200);
    for (const token of [user.access_token, other.access_token]) {
      expect((await call(base, 'GET', '/auth/me', { token })).status).toBe(401);
    }
    expect((await call(base, 'POST', '/auth/refresh', { token: other.refresh_token })).status).toBe(401);
    await nextSecond();
    expect(
      (
        await call(base, 'GET', '/auth/me', {
          token: (await login(base, 'everywhere', 'password-everywhere')).access_token,
        })
      ).status,
    ).toBe(200);
  });
});

describe('registration and passwords', () => {
  it('registers in open mode and refuses a taken name or a short password', async () => {
    const res = await call(base, 'POST', '/auth/register', {
      json: { username: 'newcomer', password: 'newcomer-pass', email: 'n@example.org' },
    });
    expect(res).toMatchObject({
      status: 201,
      body: { username: 'newcomer', roles: [], email: 'n@example.org' },
    });
    expect(
      (
        await call(base, 'POST', '/auth/register', {
          json: { username: 'newcomer', password: 'newcomer-pass' },
        })
      ).status,
    ).toBe(409);
    expect(
      (await call(base, 'POST', '/auth/register', { json: { username: 'shorty', password: 'short' } }))
        .status,
    ).toBe(400);
    expect(
      (
        await call(base, 'POST', '/auth/register', {
          json: { username: 'bad name!', password: 'long-enough' },
        })
      ).status,
    ).toBe(400);
    expect((await login(base, 'newcomer', 'newcomer-pass')).access_token).toBeTypeOf('string');
  });

  it('changes a password and revokes every token of the user', async () => {
    const first = await createUser(base, admin.access_token, 'changer', 'changer-old-pass');
    const second = await login(base, 'changer', 'changer-old-pass');
    const wrong = await call(base, 'POST', '/auth/password', {
      token: first.access_token,
      json: { current_password: 'not-it-at-all', new_password: 'changer-new-pass' },
    });
    expect(wrong.status).toBe(401);
    const short = await call(base, 'POST', '/auth/password', {
      token: first.access_token,
      json: { current_password: 'changer-old-pass', new_password: 'x' },
    });
    expect(short.status).toBe(400);
    const ok = await call(base, 'POST', '/auth/password', {
      token: first.access_token,
      json: { current_password: 'changer-old-pass', new_password: 'changer-new-pass' },
    });
    expect(ok.status).toBe(200);
    for (const token of [first.access_token, second.access_token]) {
      expect((await call(base, 'GET', '/auth/me', { token })).status).toBe(401);
    }
    expect((await call(base, 'POST', '/auth/refresh', { token: second.refresh_token })).status).toBe(401);
    expect(
      (
        await call(base, 'POST', '/auth/login', {
          json: { username: 'changer', password: 'changer-old-pass' },
        })
      ).status,
    ).toBe(401);
    await nextSecond();
    expect((await login(base, 'changer', 'changer-new-pass')).access_token).toBeTypeOf('string');
  });

  it('throttles guessing with 429 and Retry-After, the same for unknown accounts', async () => {
    await createUser(base, admin.access_token, 'target', 'target-password');
    const statuses: number[] = [];
    const ghost: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push(
        (await call(base, 'POST', '/auth/login', { json: { username: 'target', password: `guess-${i}` } }))
          .status,
      );
      ghost.push(
        (
          await call(base, 'POST', '/auth/login', {
            json: { username: 'ghost-user', password: `guess-${i}` },
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(ghost).toEqual(statuses);
    const locked = await call(base, 'POST', '/auth/login', {
      json: { username: 'target', password: 'target-password' },
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked.body).toMatchObject({ code: 'too_many_attempts' });
  });

  it('never locks an account out for right passwords sent at once', async () => {
    await createUser(base, admin.access_token, 'busy', 'busy-password-1');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(base, 'POST', '/auth/login', { json: { username: 'busy', password: 'busy-password-1' } }),
      ),
    );
    // At most five are checked at once (the account's budget); the others are asked to retry in a second.
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(5);
    for (const a of answers.filter((a) => a.status !== 200)) {
      expect(a.status).toBe(429);
      expect(a.headers.get('retry-after')).toBe('1');
    }
    expect((await login(base, 'busy', 'busy-password-1')).access_token).toBeTypeOf('string');
  });
});

describe('sessions', () => {
  it('lists my sessions with device and address, and revokes one', async () => {
    await createUser(base, admin.access_token, 'sessioned', 'sessioned-pass');
    const phone = await call(base, 'POST', '/auth/login', {
      json: { username: 'sessioned', password: 'sessioned-pass' },
      headers: { 'user-agent': 'Phone/1.0' },
    });
    const laptop = await login(base, 'sessioned', 'sessioned-pass');
    const list = await call(base, 'GET', '/auth/sessions', { token: laptop.access_token });
    expect(list.status).toBe(200);
    const sessions = list.body.sessions as {
      id: string;
      device: string;
      address: string;
      current: boolean;
      created_at: number;
      last_used_at: number;
    }[];
    expect(sessions.length).toBe(3);
    const phoneSession = sessions.find((s) => s.device === 'Phone/1.0')!;
    expect(phoneSession).toMatchObject({ address: '127.0.0.1', current: false });
    expect(phoneSession.created_at).toBeTypeOf('number');
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const revoked = await call(base, 'DELETE', `/auth/sessions/${phoneSession.id}`, {
      token: laptop.access_token,
    });
    expect(revoked.status).toBe(200);
    expect((await call(base, 'GET', '/auth/me', { token: phone.body.access_token as string })).status).toBe(
      401,
    );
    expect((await call(base, 'GET', '/auth/me', { token: laptop.access_token })).status).toBe(200);
    // Not mine, or not a session at all.
    expect(
      (await call(base, 'DELETE', `/auth/sessions/${phoneSession.id}`, { token: admin.access_token })).status,
    ).toBe(404);
    expect((await call(base, 'DELETE', '/auth/sessions/nope', { token: laptop.access_token })).status).toBe(
      404,
    );
  });
});

describe('cookie mode', () => {
  it('sets HttpOnly cookies and requires the CSRF value on unsafe methods', async () => {
    const res = await call(base, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password, cookies: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.access_token).toBeUndefined();
    const setCookies = res.headers.getSetCookie();
    const access = setCookies.find((c) => c.startsWith('access_token_cookie='))!;
    expect(access).toContain('HttpOnly');
    expect(setCookies.some((c) => c.startsWith('csrf_access_token=') && !c.includes('HttpOnly'))).toBe(true);
    const jar = setCookies.map((c) => c.split(';', 1)[0]).join('; ');
    expect((await call(base, 'GET', '/auth/me', { headers: { cookie: jar } })).status).toBe(200);
    // A POST without the double-submit value is refused; with it, it passes.
    expect(await call(base, 'POST', '/auth/refresh', { headers: { cookie: jar } })).toMatchObject({
      status: 403,
      body: { code: 'csrf_missing' },
    });
    const refreshed = await call(base, 'POST', '/auth/refresh', {
      headers: { cookie: jar, 'x-csrf-token': res.body.csrf_refresh_token as string },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.getSetCookie().some((c) => c.startsWith('access_token_cookie='))).toBe(true);
  });

  it('uses __Host- cookie names under https', async () => {
    const secure = await startTestService({ publicUrl: 'https://auth.example.org' });
    try {
      const res = await call(secure.base, 'POST', '/auth/login', {
        json: { username: ADMIN.username, password: ADMIN.password, cookies: true },
      });
      const cookies = res.headers.getSetCookie();
      expect(cookies.some((c) => c.startsWith('__Host-access_token_cookie=') && c.includes('Secure'))).toBe(
        true,
      );
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    } finally {
      await secure.stop();
    }
  });
});

describe('logs', () => {
  it('never log a password or a token', async () => {
    await call(base, 'POST', '/auth/login', { json: { username: ADMIN.username, password: ADMIN.password } });
    await call(base, 'GET', `/auth/me?jwt=${admin.access_token}`, { token: admin.access_token });
    const all = svc.logs.join('\n');
    expect(svc.logs.some((l) => l.includes('"path":"/auth/me"'))).toBe(true);
    expect(all).not.toContain(ADMIN.password);
    expect(all).not.toContain(admin.access_token.split('.')[2]!);
    expect(all).not.toContain(admin.refresh_token.split('.')[2]!);
  });
});
