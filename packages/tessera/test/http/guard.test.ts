/**
 * The framework-neutral layer on its own: replaceable error handlers, cookie
 * attributes per profile, RFC 6750 challenges, and the SimpleJWT header rules.
 * (The same behaviours over real HTTP on every adapter: test/conformance.)
 */
import { describe, expect, it } from 'vitest';
import { setAccessCookies, setRefreshCookies, unsetJwtCookies } from '../../src/http/cookies.js';
import { createGuard, type GuardResult } from '../../src/http/guard.js';
import { createOpaqueTokenGuard } from '../../src/http/opaque-token.js';
import { createRefreshHandler } from '../../src/http/refresh.js';
import type { RequestLike } from '../../src/http/request.js';
import type { ErrorHandler, ErrorHandlers, TokenManagerOptions } from '../../src/manager/options.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';

const SECRET = 'http-layer-test-secret-0123456789abcdef';
const NOW = 1_800_000_000;

function request(headers: Record<string, string> = {}, method = 'GET'): RequestLike {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url: '/protected', header: (name) => lower[name.toLowerCase()] };
}

function manager(options: Partial<TokenManagerOptions> = {}): TokenManager {
  return new TokenManager({ secret: SECRET, now: () => NOW, ...options });
}

function refused(result: GuardResult<unknown>) {
  if (result.ok) throw new Error('expected a refusal');
  return result;
}

describe('error handlers replace the answer for their kind only', () => {
  const kinds: Array<[keyof ErrorHandlers, (jwt: TokenManager) => Promise<RequestLike>, object?]> = [
    ['unauthorized', async () => request()],
    ['invalid', async () => request({ authorization: 'Bearer not-a-token' })],
    [
      'expired',
      async (jwt) =>
        request({
          authorization: `Bearer ${await jwt.createAccessToken({ identity: 'a', expiresIn: -10 })}`,
        }),
    ],
    [
      'revoked',
      async (jwt) =>
        request({ authorization: `Bearer ${await jwt.createAccessToken({ identity: 'revoked' })}` }),
    ],
    [
      'user_lookup',
      async (jwt) =>
        request({ authorization: `Bearer ${await jwt.createAccessToken({ identity: 'ghost' })}` }),
    ],
    [
      'claims_verification',
      async (jwt) =>
        request({
          authorization: `Bearer ${await jwt.createAccessToken({ identity: 'a', additionalClaims: { deny: true } })}`,
        }),
    ],
  ];
  for (const [kind, makeRequest] of kinds) {
    it(`${kind}`, async () => {
      const calls: string[] = [];
      const handler: ErrorHandler = (error, response) => {
        calls.push(error.code);
        return { ...response, status: 418, body: JSON.stringify({ replaced: kind }) };
      };
      const handlers: ErrorHandlers = { [kind]: handler };
      const jwt = manager({
        errorHandlers: handlers,
        callbacks: {
          tokenInBlocklist: (_h, p) => p.sub === 'revoked',
          userLookup: (_h, p) => (p.sub === 'ghost' ? null : { id: p.sub }),
          tokenVerification: (_h, p) => p.deny !== true,
        },
      });
      const result = refused(await createGuard(jwt)(await makeRequest(jwt)));
      expect(result.response.status).toBe(418);
      expect(JSON.parse(result.response.body)).toEqual({ replaced: kind });
      expect(calls).toHaveLength(1);
      expect(result.error.kind).toBe(kind);
      // The same failure without the handler keeps the default answer.
      const plain = manager({
        callbacks: {
          tokenInBlocklist: (_h, p) => p.sub === 'revoked',
          userLookup: (_h, p) => (p.sub === 'ghost' ? null : { id: p.sub }),
          tokenVerification: (_h, p) => p.deny !== true,
        },
      });
      const defaultAnswer = refused(await createGuard(plain)(await makeRequest(plain)));
      expect(defaultAnswer.response.status).not.toBe(418);
    });
  }

  it('needs_fresh, csrf and unavailable', async () => {
    const seen: string[] = [];
    const record =
      (name: string) =>
      (
        error: { code: string },
        response: { status: number; headers: Readonly<Record<string, string>>; body: string },
      ) => {
        seen.push(`${name}:${error.code}`);
        return response;
      };
    const failing = new MemoryStore();
    await failing.close();
    const jwt = manager({
      tokenLocation: ['headers', 'cookies'],
      store: failing,
      errorHandlers: {
        needs_fresh: record('needs_fresh'),
        csrf: record('csrf'),
        unavailable: record('unavailable'),
      },
    });
    const stale = await jwt.createAccessToken({ identity: 'a', fresh: false });
    refused(
      await createGuard(jwt, { fresh: true, skipRevocationCheck: true })(
        request({ authorization: `Bearer ${stale}` }),
      ),
    );
    refused(await createGuard(jwt)(request({ cookie: `access_token_cookie=${stale}` }, 'POST')));
    const unavailable = refused(await createGuard(jwt)(request({ authorization: `Bearer ${stale}` })));
    expect(unavailable.response.status).toBe(503);
    expect(seen).toEqual([
      'needs_fresh:fresh_token_required',
      'csrf:csrf_missing',
      'unavailable:store_unavailable',
    ]);
  });
});

describe('RFC 6750 challenges (standard profile)', () => {
  it('names no error without credentials, invalid_request for a malformed header, invalid_token for a bad token', async () => {
    const guard = createGuard(manager());
    expect(refused(await guard(request())).response.headers['www-authenticate']).toBe('Bearer');
    expect(refused(await guard(request({ authorization: 'Bearer a b' }))).response).toMatchObject({
      status: 400,
      headers: { 'www-authenticate': expect.stringMatching(/^Bearer error="invalid_request"/) },
    });
    const bad = refused(await guard(request({ authorization: 'Bearer a.b.c' }))).response;
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(
      /^Bearer error="invalid_token", error_description="[^"\\]*"$/,
    );
  });

  it('never echoes the token, and keeps error_description to the characters RFC 6750 allows', async () => {
    const jwt = manager({ tokenLocation: ['cookies'] });
    const token = await jwt.createAccessToken({ identity: 'a', expiresIn: -5 });
    const result = refused(await createGuard(jwt)(request({ cookie: `access_token_cookie=${token}` })));
    const challenge = result.response.headers['www-authenticate'] ?? '';
    expect(challenge).not.toContain(token);
    expect(result.response.body).not.toContain(token);
    const missing = refused(await createGuard(jwt)(request())).response;
    // "Missing cookie \"access_token_cookie\"": the quotes may not appear inside the quoted string.
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const description = /error_description="([^"]*)"/.exec(challenge)?.[1] ?? '';
    expect(description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
  });

  it('uses RFC 9470 for step-up and insufficient_scope for refused claims', async () => {
    const jwt = manager({ callbacks: { tokenVerification: () => false } });
    const token = await jwt.createAccessToken({ identity: 'a' });
    const stepUp = refused(
      await createGuard(jwt, { fresh: true })(request({ authorization: `Bearer ${token}` })),
    );
    expect(stepUp.response.status).toBe(401);
    expect(stepUp.response.headers['www-authenticate']).toMatch(/error="insufficient_user_authentication"/);
    const scope = refused(await createGuard(jwt)(request({ authorization: `Bearer ${token}` })));
    expect(scope.response.status).toBe(403);
    expect(scope.response.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
  });
});

describe('cookies', () => {
  it('standard profile: Secure, HttpOnly, SameSite=Lax; the CSRF cookie readable by scripts', async () => {
    const jwt = manager({ tokenLocation: ['cookies'] });
    const [token, csrf] = setAccessCookies(jwt.config, await jwt.createAccessToken({ identity: 'a' }));
    expect(token).toMatch(
      /^access_token_cookie=[\w-]+\.[\w-]+\.[\w-]+; Secure; HttpOnly; Path=\/; SameSite=Lax$/,
    );
    expect(csrf).toMatch(/^csrf_access_token=[0-9a-f-]{36}; Secure; Path=\/; SameSite=Lax$/);
  });

  it('__Host- prefix: Secure, Path=/, no Domain', async () => {
    const jwt = manager({ tokenLocation: ['cookies'], cookies: { hostPrefix: true } });
    const cookies = setAccessCookies(jwt.config, await jwt.createAccessToken({ identity: 'a' }));
    expect(cookies[0]).toMatch(/^__Host-access_token_cookie=.*; Secure; HttpOnly; Path=\/; SameSite=Lax$/);
    expect(cookies[1]).toMatch(/^__Host-csrf_access_token=/);
    expect(cookies.join(' ')).not.toMatch(/Domain=/);
    // and the guard reads the prefixed name
    const token = cookies[0]!.split(';')[0]!;
    const result = await createGuard(jwt)(request({ cookie: token }));
    expect(result.ok).toBe(true);
  });

  it('__Host- prefix: the refresh cookie keeps Path=/, and a per-call domain is refused, not dropped', async () => {
    const jwt = manager({ tokenLocation: ['cookies'], cookies: { hostPrefix: true } });
    const refresh = setRefreshCookies(jwt.config, await jwt.createRefreshToken({ identity: 'a' }));
    expect(refresh[0]).toMatch(/^__Host-refresh_token_cookie=.*; Secure; HttpOnly; Path=\/; SameSite=Lax$/);
    const token = await jwt.createAccessToken({ identity: 'a' });
    expect(() => setAccessCookies(jwt.config, token, { domain: 'example.com' })).toThrow(
      /__Host-\) cookies cannot have a domain/,
    );
    expect(() => unsetJwtCookies(jwt.config, { domain: 'example.com' })).toThrow(/cannot have a domain/);
  });

  it('the refresh cookie is sent to the refresh route only in the standard profile, everywhere in flask', async () => {
    const standard = manager({ tokenLocation: ['cookies'] });
    const line = setRefreshCookies(standard.config, await standard.createRefreshToken({ identity: 'a' }))[0]!;
    expect(line).toContain('; Path=/auth/refresh;');
    // The CSRF cookie stays readable by the page's script everywhere.
    expect(
      setRefreshCookies(standard.config, await standard.createRefreshToken({ identity: 'a' }))[1],
    ).toContain('; Path=/;');
    const flask = manager({ profile: 'flask-jwt-extended', tokenLocation: ['cookies'] });
    const flaskLine = setRefreshCookies(flask.config, await flask.createRefreshToken({ identity: 'a' }))[0]!;
    expect(flaskLine).toMatch(/; Path=\/$/);
  });

  it('persistent cookies last as long as the token; unsetting expires them all', async () => {
    const jwt = manager({
      tokenLocation: ['cookies'],
      cookies: { session: false },
      accessTokenExpires: '10m',
    });
    const [token] = setAccessCookies(jwt.config, await jwt.createAccessToken({ identity: 'a' }));
    expect(token).toMatch(/; Expires=[^;]+ GMT; Max-Age=600; /);
    const cleared = unsetJwtCookies(jwt.config);
    expect(cleared).toHaveLength(4);
    for (const cookie of cleared) expect(cookie).toMatch(/^[\w-]+=; Expires=Thu, 01 Jan 1970 00:00:00 GMT;/);
  });
});

describe('simplejwt profile header rules', () => {
  it('other schemes and lowercase bearer are "not provided"; two values is bad_authorization_header', async () => {
    const guard = createGuard(manager({ profile: 'simplejwt' }));
    for (const header of ['Token abc', 'bearer abc', '']) {
      const result = refused(await guard(request(header === '' ? {} : { authorization: header })));
      expect(JSON.parse(result.response.body)).toEqual({
        detail: 'Authentication credentials were not provided.',
      });
      expect(result.response.headers['www-authenticate']).toBe('Bearer realm="api"');
    }
    const two = refused(await guard(request({ authorization: 'Bearer a b' })));
    expect(JSON.parse(two.response.body)).toEqual({
      detail: 'Authorization header must contain two space-delimited values',
      code: 'bad_authorization_header',
    });
  });

  it('authenticates OPTIONS like any method, as DRF does', async () => {
    const result = refused(await createGuard(manager({ profile: 'simplejwt' }))(request({}, 'OPTIONS')));
    expect(result.response.status).toBe(401);
    const exempt = await createGuard(manager())(request({}, 'OPTIONS'));
    expect(exempt).toMatchObject({ ok: true, jwt: null });
  });
});

describe('options objects of the http layer refuse unknown keys at configuration time', () => {
  it('createGuard, createRefreshHandler and createOpaqueTokenGuard name the key and the closest one', () => {
    const jwt = manager();
    expect(() => createGuard(jwt, { optionl: true } as never)).toThrow(/'optionl'.*did you mean 'optional'/);
    expect(() => createRefreshHandler(jwt, { location: ['headers'] } as never)).toThrow(
      /'location'.*did you mean 'locations'/,
    );
    expect(() => createOpaqueTokenGuard({ lookup: () => null, keywrd: 'Key' } as never)).toThrow(
      /'keywrd'.*did you mean 'keyword'/,
    );
  });
});
