/**
 * TokenManager: configuration errors, lifetimes, the claim and header layout of
 * docs/reference/python-peers.md 3.4 / 4.4, every callback (sync and async), the order of checks
 * of docs/reference/python-peers.md 3.5, the verified-token cache, and the simplejwt profile.
 * Every time-dependent test injects `now`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ErrorCode, TesseraError } from '../../src/errors.js';
import type { JwsAlgorithm } from '../../src/jws/algorithms.js';
import { importSecret } from '../../src/keys/import.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { Keyring } from '../../src/keys/keyring.js';
import type { TokenLocation, TokenManagerOptions } from '../../src/manager/options.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { ProfileName } from '../../src/tokens/profile.js';

const NOW = 1_800_000_000;
const SECRET = 'manager-test-secret-0123456789-abcdefghijkl';
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Options = TokenManagerOptions<unknown>;

function manager(extra: Partial<Options> = {}): TokenManager {
  return new TokenManager({ secret: SECRET, now: () => NOW, ...extra });
}

/** A manager whose clock the test moves. */
function clocked(extra: Partial<Options> = {}): { m: TokenManager; set: (t: number) => void } {
  let now = NOW;
  const m = new TokenManager({ secret: SECRET, now: () => now, ...extra });
  return { m, set: (t) => (now = t) };
}

function decodeSegment(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function headerText(token: string): string {
  return Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8');
}

function configError(build: () => unknown): TesseraError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TesseraError);
  const error = thrown as TesseraError;
  expect(error.kind).toBe('configuration');
  expect(error.status).toBe(500);
  return error;
}

async function rejected(action: Promise<unknown>, code: ErrorCode): Promise<TesseraError> {
  let thrown: unknown;
  try {
    await action;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(TesseraError);
  const error = thrown as TesseraError;
  expect(error.code, error.message).toBe(code);
  return error;
}

describe('configuration errors', () => {
  it('a missing secret is a ConfigError that says what is needed', () => {
    const error = configError(() => new TokenManager({ now: () => NOW }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('secret is required for HS256: at least 32 random bytes');
    expect(configError(() => new TokenManager({ algorithm: 'HS512' })).message).toContain(
      'at least 64 random bytes',
    );
  });

  it('a short secret is refused at construction with the floor in the message', () => {
    for (const [alg, floor] of [
      ['HS256', 32],
      ['HS384', 48],
      ['HS512', 64],
    ] as const) {
      const error = configError(() => new TokenManager({ algorithm: alg, secret: randomBytes(floor - 1) }));
      expect(error.message).toContain(`${alg} needs a secret of at least ${floor} bytes`);
      expect(error.message).toContain(`this one has ${floor - 1}`);
    }
    configError(() => new TokenManager({ secret: '' }));
  });

  it('an unknown algorithm or profile is a ConfigError', () => {
    for (const algorithm of ['HS257', 'none', 'hs256', 'RS1']) {
      const error = configError(
        () => new TokenManager({ secret: SECRET, algorithm: algorithm as JwsAlgorithm }),
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(`algorithm '${algorithm}' is not supported`);
    }
    const profile = configError(() => new TokenManager({ secret: SECRET, profile: 'django' as ProfileName }));
    expect(profile).toBeInstanceOf(ConfigError);
    expect(profile.message).toContain("(got 'django')");
  });

  it('keys that do not fit the algorithm are ConfigErrors', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(configError(() => new TokenManager({ publicKey: pem })).message).toContain('HMAC algorithm');
    expect(configError(() => new TokenManager({ algorithm: 'RS256', secret: SECRET })).message).toContain(
      'asymmetric',
    );
    expect(configError(() => new TokenManager({ algorithm: 'RS256' })).message).toContain('needs privateKey');
    expect(configError(() => new TokenManager({ algorithm: 'RS256', publicKey: privateKey })).message).toBe(
      'publicKey must be a public key',
    );
  });

  it('an asymmetric manager with only a public key verifies but refuses to sign', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = new TokenManager({ algorithm: 'ES256', privateKey, now: () => NOW });
    const verifyOnly = new TokenManager({
      algorithm: 'ES256',
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      now: () => NOW,
    });
    const token = await signer.createAccessToken({ identity: 'alice' });
    await expect(verifyOnly.verifyToken(token)).resolves.toMatchObject({ identity: 'alice' });
    for (const attempt of [
      verifyOnly.createAccessToken({ identity: 'alice' }),
      verifyOnly.createRefreshToken({ identity: 'alice' }),
      verifyOnly.signPayload({ sub: 'alice' }),
    ]) {
      let thrown: unknown;
      try {
        await attempt;
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toContain('no signing key');
    }
  });

  it('an unknown token location is a ConfigError naming it', () => {
    const error = configError(() => manager({ tokenLocation: ['headers', 'body' as TokenLocation] }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe("tokenLocation 'body' is not one of headers, cookies, query_string, json");
    expect(configError(() => manager({ tokenLocation: [] })).message).toContain('at least one location');
  });

  it('bad durations are ConfigErrors naming the option', () => {
    const cases: Array<[Partial<Options>, string]> = [
      [
        { accessTokenExpires: '15x' },
        "accessTokenExpires must be seconds or a string like '15m', '12h', '30d' (got '15x')",
      ],
      [{ refreshTokenExpires: 'soon' }, 'refreshTokenExpires must be seconds'],
      [{ accessTokenExpires: 0 }, 'accessTokenExpires must be positive'],
      [{ accessTokenExpires: -60 }, 'accessTokenExpires must be positive'],
      [{ accessTokenExpires: '0m' }, 'accessTokenExpires must be positive'],
      [{ accessTokenExpires: Number.NaN }, 'accessTokenExpires must be a finite number of seconds'],
      [{ leeway: '5 minutes' }, 'leeway must be seconds'],
      [{ leeway: -1 }, 'leeway must not be negative'],
      [{ slidingTokenExpires: '1y' }, 'slidingTokenExpires must be seconds'],
    ];
    for (const [options, message] of cases) {
      const error = configError(() => manager(options));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(message);
    }
  });

  it('cookie settings that cannot work are ConfigErrors (hostPrefix with a domain, SameSite None without Secure)', () => {
    const host = configError(() => manager({ cookies: { hostPrefix: true, domain: 'example.com' } }));
    expect(host).toBeInstanceOf(ConfigError);
    expect(host.message).toContain('__Host-');
    configError(() => manager({ cookies: { hostPrefix: true, secure: false } }));
    configError(() => manager({ cookies: { sameSite: 'None', secure: false } }));
    configError(() => manager({ cookies: { accessName: 'bad name;' } }));
    configError(() => manager({ verifiedTokenCache: -1 }));
    configError(() => manager({ limits: { maxTokenLength: 0 } }));
    configError(() => manager({ headerName: '' }));
    configError(() => manager({ decodeAudience: [] }));
    expect(() => manager({ cookies: { hostPrefix: true } })).not.toThrow();
  });
});

describe('lifetimes', () => {
  it('are seconds or duration strings, with profile defaults', async () => {
    const cases: Array<[Partial<Options>, number, number]> = [
      [{}, 900, 30 * 86_400],
      [{ accessTokenExpires: 60, refreshTokenExpires: 3600 }, 60, 3600],
      [{ accessTokenExpires: '15m', refreshTokenExpires: '30d' }, 900, 2_592_000],
      [{ accessTokenExpires: '1h30m', refreshTokenExpires: '2w' }, 5400, 1_209_600],
      [{ profile: 'simplejwt' }, 300, 86_400],
      [{ profile: 'flask-jwt-extended' }, 900, 2_592_000],
    ];
    for (const [options, access, refresh] of cases) {
      const m = manager(options);
      const a = decodeSegment(await m.createAccessToken({ identity: 'alice' }), 1);
      const r = decodeSegment(await m.createRefreshToken({ identity: 'alice' }), 1);
      expect(a.exp).toBe(NOW + access);
      expect(r.exp).toBe(NOW + refresh);
      expect(a.iat).toBe(NOW);
    }
    const m = manager();
    expect(decodeSegment(await m.createAccessToken({ identity: 'a', expiresIn: '2h' }), 1).exp).toBe(
      NOW + 7200,
    );
    expect(decodeSegment(await m.createAccessToken({ identity: 'a', expiresIn: 42 }), 1).exp).toBe(NOW + 42);
  });

  it('expiresIn false gives no exp; such a token verifies only where exp is not required', async () => {
    const standard = manager();
    const token = await standard.createAccessToken({ identity: 'alice', expiresIn: false });
    const payload = decodeSegment(token, 1);
    expect(payload).not.toHaveProperty('exp');
    await rejected(standard.verifyToken(token), 'claim_missing');
    await expect(manager({ requireExp: false }).verifyToken(token)).resolves.toMatchObject({
      identity: 'alice',
    });
    const flask = manager({ profile: 'flask-jwt-extended', accessTokenExpires: false });
    const forever = await flask.createAccessToken({ identity: 'alice' });
    expect(decodeSegment(forever, 1)).not.toHaveProperty('exp');
    await expect(flask.verifyToken(forever)).resolves.toBeTruthy();
  });
});

describe('claim and header layout (docs/reference/python-peers.md 3.4)', () => {
  it('access tokens: fresh, iat, jti, type, sub, nbf, exp in that order', async () => {
    for (const profile of ['standard', 'flask-jwt-extended'] as const) {
      const token = await manager({ profile }).createAccessToken({ identity: 'alice' });
      const payload = decodeSegment(token, 1);
      expect(Object.keys(payload)).toEqual(['fresh', 'iat', 'jti', 'type', 'sub', 'nbf', 'exp']);
      expect(payload).toMatchObject({
        fresh: false,
        iat: NOW,
        type: 'access',
        sub: 'alice',
        nbf: NOW,
        exp: NOW + 900,
      });
      expect(payload.jti).toMatch(UUID4);
      expect(headerText(token)).toBe('{"alg":"HS256","typ":"JWT"}');
    }
  });

  it('with cookies, audience, issuer and additional claims: the full peer layout', async () => {
    const m = manager({
      tokenLocation: ['headers', 'cookies'],
      audience: 'peer-aud',
      issuer: 'peer-iss',
      callbacks: { additionalClaims: () => ({ role: 'admin' }) },
    });
    const access = decodeSegment(await m.createAccessToken({ identity: 'alice', fresh: true }), 1);
    const refresh = decodeSegment(await m.createRefreshToken({ identity: 'alice' }), 1);
    const layout = ['fresh', 'iat', 'jti', 'type', 'sub', 'nbf', 'csrf', 'aud', 'iss', 'exp', 'role'];
    expect(Object.keys(access)).toEqual(layout);
    expect(Object.keys(refresh)).toEqual(layout);
    expect(access).toMatchObject({
      fresh: true,
      type: 'access',
      aud: 'peer-aud',
      iss: 'peer-iss',
      role: 'admin',
    });
    expect(refresh).toMatchObject({ fresh: false, type: 'refresh', exp: NOW + 30 * 86_400 });
    expect(access.csrf).toMatch(UUID4);
    expect(refresh.csrf).toMatch(UUID4);
    expect(access.csrf).not.toBe(refresh.csrf);
    expect(access.jti).not.toBe(refresh.jti);
    // The same layout as a real token from the Flask peer (docs/reference/python-peers.md 3.4).
    const peer = {
      fresh: true,
      iat: 1795709377,
      jti: 'ac2274d5-b5bc-414f-84cf-e5523f08d36f',
      type: 'access',
      sub: 'alice',
      nbf: 1795709377,
      csrf: '7b26978b-4a8f-4747-8ec2-5bcddec7deb5',
      aud: 'peer-aud',
      iss: 'peer-iss',
      exp: 1795709379,
      role: 'admin',
    };
    expect(Object.keys(access)).toEqual(Object.keys(peer));
    // CSRF protection off: no csrf claim.
    const off = manager({ tokenLocation: ['cookies'], csrf: { protect: false } });
    expect(decodeSegment(await off.createAccessToken({ identity: 'a' }), 1)).not.toHaveProperty('csrf');
  });

  it('fresh is a boolean, or a timestamp when given as a duration', async () => {
    const { m, set } = clocked();
    expect(decodeSegment(await m.createAccessToken({ identity: 'a', fresh: true }), 1).fresh).toBe(true);
    expect(decodeSegment(await m.createAccessToken({ identity: 'a', fresh: false }), 1).fresh).toBe(false);
    expect(decodeSegment(await m.createAccessToken({ identity: 'a' }), 1).fresh).toBe(false);
    const timed = await m.createAccessToken({ identity: 'a', fresh: '10m' });
    expect(decodeSegment(timed, 1).fresh).toBe(NOW + 600);
    expect(decodeSegment(await m.createAccessToken({ identity: 'a', fresh: 30 }), 1).fresh).toBe(NOW + 30);
    // Fresh until the timestamp, then not.
    set(NOW + 600);
    await expect(m.verifyToken(timed, { fresh: true })).resolves.toBeTruthy();
    set(NOW + 601);
    await rejected(m.verifyToken(timed, { fresh: true }), 'fresh_token_required');
    await expect(m.verifyToken(timed)).resolves.toBeTruthy();
  });

  it('jti is a UUID (hex without dashes in the simplejwt profile), new for every token', async () => {
    const m = manager();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const jti = decodeSegment(await m.createAccessToken({ identity: 'a' }), 1).jti as string;
      expect(jti).toMatch(UUID4);
      ids.add(jti);
    }
    expect(ids.size).toBe(20);
    const simple = decodeSegment(
      await manager({ profile: 'simplejwt' }).createAccessToken({ identity: 1 }),
      1,
    );
    expect(simple.jti).toMatch(/^[0-9a-f]{32}$/);
  });

  it('the header has sorted keys, typ JWT, and kid when configured', async () => {
    const withKid = await manager({ kid: 'key-2026' }).createAccessToken({ identity: 'a' });
    expect(headerText(withKid)).toBe('{"alg":"HS256","kid":"key-2026","typ":"JWT"}');
    const extra = await manager({ kid: 'k' }).createAccessToken({
      identity: 'a',
      additionalHeaders: { zz: 1, 'x-tenant': 't1', b: true },
    });
    expect(Object.keys(decodeSegment(extra, 0))).toEqual(['alg', 'b', 'kid', 'typ', 'x-tenant', 'zz']);
    const typed = await manager({ typ: 'at+jwt' }).createAccessToken({ identity: 'a' });
    expect(decodeSegment(typed, 0).typ).toBe('at+jwt');
  });
});

describe('callbacks, sync and async', () => {
  const both = <T>(value: T): Array<() => T | Promise<T>> => [() => value, async () => value];

  it('additionalClaims: merged into access and refresh tokens; the call argument wins', async () => {
    for (const cb of both({ role: 'admin', org: 'acme' })) {
      const seen: unknown[] = [];
      const m = manager({
        callbacks: {
          additionalClaims: (identity) => {
            seen.push(identity);
            return cb();
          },
        },
      });
      const a = decodeSegment(
        await m.createAccessToken({ identity: 'alice', additionalClaims: { org: 'other' } }),
        1,
      );
      const r = decodeSegment(await m.createRefreshToken({ identity: 'alice' }), 1);
      expect(a).toMatchObject({ role: 'admin', org: 'other' });
      expect(r).toMatchObject({ role: 'admin', org: 'acme' });
      expect(Object.keys(a).slice(-2)).toEqual(['role', 'org']);
      expect(seen).toEqual(['alice', 'alice']);
    }
  });

  it('additionalHeaders: added to the header, but alg can never be overridden', async () => {
    for (const cb of both({ alg: 'none', 'x-tenant': 'acme' })) {
      const m = manager({ callbacks: { additionalHeaders: () => cb() } });
      const token = await m.createAccessToken({
        identity: 'alice',
        additionalHeaders: { alg: 'HS512', cty: 'x' },
      });
      const header = decodeSegment(token, 0);
      expect(header).toEqual({ alg: 'HS256', cty: 'x', typ: 'JWT', 'x-tenant': 'acme' });
      await expect(m.verifyToken(token)).resolves.toMatchObject({ identity: 'alice' });
    }
  });

  it('userIdentity: turns the object passed in into the identity claim', async () => {
    for (const cb of [
      (u: unknown) => (u as { id: string }).id,
      async (u: unknown) => (u as { id: string }).id,
    ]) {
      const m = manager({ callbacks: { userIdentity: cb } });
      const token = await m.createAccessToken({ identity: { id: 'u-1', name: 'Alice' } });
      expect(decodeSegment(token, 1).sub).toBe('u-1');
      await expect(m.verifyToken(token)).resolves.toMatchObject({ identity: 'u-1' });
    }
    // The standard profile needs a string sub: numbers become strings, objects are refused.
    expect(decodeSegment(await manager().createAccessToken({ identity: 42 }), 1).sub).toBe('42');
    let thrown: unknown;
    try {
      await manager().createAccessToken({ identity: { id: 1 } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
  });

  it('userLookup: the user is returned; null or undefined is user_lookup_failed "Error loading the user <id>"', async () => {
    const users = new Map([['alice', { name: 'Alice' }]]);
    for (const lookup of [
      (_h: unknown, p: { sub?: string }) => users.get(p.sub ?? '') ?? null,
      async (_h: unknown, p: { sub?: string }) => users.get(p.sub ?? ''),
    ]) {
      const m = manager({ callbacks: { userLookup: lookup } });
      await expect(m.verifyToken(await m.createAccessToken({ identity: 'alice' }))).resolves.toMatchObject({
        identity: 'alice',
        user: { name: 'Alice' },
      });
      const error = await rejected(
        m.verifyToken(await m.createAccessToken({ identity: 'bob' })),
        'user_lookup_failed',
      );
      expect(error.message).toBe('No user was found for this token');
      expect(error.pythonMessage).toBe('Error loading the user bob');
      expect(error.status).toBe(401);
      expect(error.jwtPayload?.sub).toBe('bob');
    }
    // Without userLookup, user is undefined.
    const plain = manager();
    expect((await plain.verifyToken(await plain.createAccessToken({ identity: 'x' }))).user).toBeUndefined();
  });

  it('userLookup failure messages format the identity the way Python str() does (flask profile)', async () => {
    const m = manager({ profile: 'flask-jwt-extended', callbacks: { userLookup: () => null } });
    const cases: Array<[unknown, string]> = [
      [42, 'Error loading the user 42'],
      ['alice', 'Error loading the user alice'],
      [true, 'Error loading the user True'],
      [{ id: 1, name: 'alice' }, "Error loading the user {'id': 1, 'name': 'alice'}"],
      [[1, 'a'], "Error loading the user [1, 'a']"],
    ];
    for (const [identity, message] of cases) {
      const token = await m.createAccessToken({ identity });
      const error = await rejected(m.verifyToken(token), 'user_lookup_failed');
      expect(error.message).toBe(message);
    }
  });

  it('tokenInBlocklist: true revokes; it receives the verified header and payload', async () => {
    for (const answer of [(v: boolean) => v, async (v: boolean) => v]) {
      const calls: Array<[Record<string, unknown>, Record<string, unknown>]> = [];
      const m = manager({
        callbacks: {
          tokenInBlocklist: (header, payload) => {
            calls.push([{ ...header }, { ...payload }]);
            return answer(payload.jti === 'revoked');
          },
        },
      });
      const ok = await m.createAccessToken({ identity: 'alice' });
      await expect(m.verifyToken(ok)).resolves.toBeTruthy();
      const bad = await m.createAccessToken({ identity: 'alice', additionalClaims: { jti: 'revoked' } });
      const error = await rejected(m.verifyToken(bad), 'token_revoked');
      expect(error.message).toBe('The token has been revoked');
      expect(calls).toHaveLength(2);
      expect(calls[1]?.[0]).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(calls[1]?.[1]).toMatchObject({ jti: 'revoked', sub: 'alice', type: 'access' });
      // skipRevocationCheck skips it.
      await expect(m.verifyToken(bad, { skipRevocationCheck: true })).resolves.toBeTruthy();
    }
  });

  it('tokenVerification: false is claims_verification_failed (403)', async () => {
    const verifiers: Array<NonNullable<NonNullable<Options['callbacks']>['tokenVerification']>> = [
      (_h, p) => p.role === 'admin',
      async (_h, p) => p.role === 'admin',
    ];
    for (const verify of verifiers) {
      const m = manager({ callbacks: { tokenVerification: verify } });
      await expect(
        m.verifyToken(await m.createAccessToken({ identity: 'a', additionalClaims: { role: 'admin' } })),
      ).resolves.toBeTruthy();
      const error = await rejected(
        m.verifyToken(await m.createAccessToken({ identity: 'a' })),
        'claims_verification_failed',
      );
      expect(error.status).toBe(403);
      expect(error.message).toBe("The token's claims were refused");
    }
  });

  it('encodeKey and decodeKey: two tenants with different keys', async () => {
    const keys: Record<string, TesseraKey> = {
      acme: importSecret(randomBytes(32), 'HS256', { kid: 'acme' }),
      globex: importSecret(randomBytes(48), 'HS384', { kid: 'globex' }),
    };
    const tenantOf = (identity: unknown): string => String(identity).split(':')[0] ?? '';
    const decodeCalls: Array<Record<string, unknown>> = [];
    const m = new TokenManager({
      now: () => NOW,
      callbacks: {
        encodeKey: async (identity) => keys[tenantOf(identity)] as TesseraKey,
        decodeKey: (_header, unverified) => {
          decodeCalls.push(unverified);
          return keys[tenantOf(unverified.sub)] ?? [];
        },
      },
    });
    const acme = await m.createAccessToken({ identity: 'acme:alice' });
    const globex = await m.createAccessToken({ identity: 'globex:bob' });
    expect(decodeSegment(acme, 0)).toEqual({ alg: 'HS256', kid: 'acme', typ: 'JWT' });
    expect(decodeSegment(globex, 0)).toEqual({ alg: 'HS384', kid: 'globex', typ: 'JWT' });
    await expect(m.verifyToken(acme)).resolves.toMatchObject({ identity: 'acme:alice' });
    await expect(m.verifyToken(globex)).resolves.toMatchObject({ identity: 'globex:bob' });
    expect(decodeCalls.map((p) => p.sub)).toEqual(['acme:alice', 'globex:bob']);
    // A token of one tenant claiming to be another's: the other tenant's key does not verify it.
    const [h, , s] = acme.split('.');
    const payload = { ...decodeSegment(acme, 1), sub: 'globex:alice' };
    const crossed = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await rejected(m.verifyToken(crossed), 'signature_invalid');
    // A tenant-signed token with an unknown tenant finds no key.
    const stranger = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'initech:x' })).toString('base64url')}.${s}`;
    await rejected(m.verifyToken(stranger), 'signature_invalid');
  });
});

describe('flask-jwt-extended profile type rules', () => {
  it('a token without type is an access token (F70); an unknown type passes as access (F74)', async () => {
    const m = manager({ profile: 'flask-jwt-extended' });
    await expect(m.verifyToken(await m.signPayload({ sub: 'alice' }))).resolves.toMatchObject({
      identity: 'alice',
    });
    await expect(m.verifyToken(await m.signPayload({ sub: 'alice', type: 'foo' }))).resolves.toBeTruthy();
    await rejected(
      m.verifyToken(await m.signPayload({ sub: 'alice' }), { refresh: true }),
      'wrong_token_type',
    );
    await rejected(m.verifyToken(await m.signPayload({ sub: 'alice', type: 'refresh' })), 'wrong_token_type');
  });
});

describe('decodeToken', () => {
  it('allowExpired returns the payload of an expired token, still checking the signature', async () => {
    const { m, set } = clocked();
    const token = await m.createAccessToken({ identity: 'alice', expiresIn: 60 });
    set(NOW + 3600);
    await rejected(m.decodeToken(token), 'token_expired');
    await expect(m.decodeToken(token, { allowExpired: true })).resolves.toMatchObject({
      sub: 'alice',
      exp: NOW + 60,
    });
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`;
    await expect(m.decodeToken(tampered, { allowExpired: true })).rejects.toBeInstanceOf(TesseraError);
    // Does not check the type: a refresh token decodes.
    set(NOW);
    await expect(m.decodeToken(await m.createRefreshToken({ identity: 'alice' }))).resolves.toMatchObject({
      type: 'refresh',
    });
  });

  it('answers every refusal as a rejected promise, never a synchronous throw, and tells token_refused once', async () => {
    const m = new TokenManager({ secret: SECRET });
    const refused: string[] = [];
    m.events.on('token_refused', (event) => refused.push(`${event.operation}:${event.code}`));
    let answers: Promise<unknown>[] = [];
    expect(() => {
      answers = [
        m.decodeToken('not-a-token'),
        m.decodeToken('not-a-token', { allowExpire: true } as never),
        m.decodeToken(42 as never),
      ];
    }).not.toThrow();
    for (const answer of answers) await expect(answer).rejects.toBeInstanceOf(TesseraError);
    // The unknown option is a configuration error of the call, not a refused token.
    expect(refused).toEqual(['decode:token_malformed', 'decode:token_malformed']);
  });
});

describe('verifyToken order of checks (docs/reference/python-peers.md 3.5)', () => {
  it('expiry before type (F94): an expired refresh token at an access route is token_expired', async () => {
    const { m, set } = clocked();
    const refresh = await m.createRefreshToken({ identity: 'alice', expiresIn: 10 });
    set(NOW + 11);
    await rejected(m.verifyToken(refresh), 'token_expired');
  });

  it('type before freshness: a refresh token at a fresh access route is wrong_token_type', async () => {
    const m = manager();
    await rejected(
      m.verifyToken(await m.createRefreshToken({ identity: 'a' }), { fresh: true }),
      'wrong_token_type',
    );
  });

  it('freshness before blocklist (F95): a revoked non-fresh token at a fresh route is fresh_token_required', async () => {
    let blocklistCalls = 0;
    const m = manager({
      callbacks: {
        tokenInBlocklist: () => {
          blocklistCalls++;
          return true;
        },
      },
    });
    const token = await m.createAccessToken({ identity: 'a', fresh: false });
    await rejected(m.verifyToken(token, { fresh: true }), 'fresh_token_required');
    expect(blocklistCalls).toBe(0);
    await rejected(m.verifyToken(token), 'token_revoked');
  });

  it('blocklist before claims verification: a revoked token never reaches tokenVerification', async () => {
    let verifications = 0;
    const m = manager({
      callbacks: {
        tokenInBlocklist: () => true,
        tokenVerification: () => {
          verifications++;
          return false;
        },
      },
    });
    await rejected(m.verifyToken(await m.createAccessToken({ identity: 'a' })), 'token_revoked');
    expect(verifications).toBe(0);
  });

  it('type before claims verification (F96)', async () => {
    const m = manager({ callbacks: { tokenVerification: () => false } });
    await rejected(m.verifyToken(await m.createRefreshToken({ identity: 'a' })), 'wrong_token_type');
    await rejected(m.verifyToken(await m.createAccessToken({ identity: 'a' })), 'claims_verification_failed');
  });

  it('claims verification before user lookup (F97)', async () => {
    let lookups = 0;
    const m = manager({
      callbacks: {
        tokenVerification: () => false,
        userLookup: () => {
          lookups++;
          return null;
        },
      },
    });
    await rejected(m.verifyToken(await m.createAccessToken({ identity: 'a' })), 'claims_verification_failed');
    expect(lookups).toBe(0);
  });
});

describe('verified-token cache (verifiedTokenCache: 100)', () => {
  it('a cached token is refused once it expires', async () => {
    const { m, set } = clocked({ verifiedTokenCache: 100 });
    const token = await m.createAccessToken({ identity: 'alice', expiresIn: 60 });
    await expect(m.verifyToken(token)).resolves.toBeTruthy();
    set(NOW + 59);
    await expect(m.verifyToken(token)).resolves.toBeTruthy();
    set(NOW + 60);
    await rejected(m.verifyToken(token), 'token_expired');
    // allowExpired still decodes it (through the full path).
    await expect(m.decodeToken(token, { allowExpired: true })).resolves.toMatchObject({ sub: 'alice' });
  });

  it('revocation is still checked on a cache hit', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const blocked = new Set<string>();
    const m = manager({
      verifiedTokenCache: 100,
      store,
      callbacks: { tokenInBlocklist: (_h, p) => blocked.has(String(p.jti)) },
    });
    const first = await m.createAccessToken({ identity: 'alice' });
    const second = await m.createAccessToken({ identity: 'alice' });
    await m.verifyToken(first);
    await m.verifyToken(second);
    await store.revokeToken(String(decodeSegment(first, 1).jti), NOW + 1000);
    await rejected(m.verifyToken(first), 'token_revoked');
    blocked.add(String(decodeSegment(second, 1).jti));
    await rejected(m.verifyToken(second), 'token_revoked');
  });

  it('type, freshness and CSRF are still checked on a cache hit', async () => {
    const m = manager({ verifiedTokenCache: 100, tokenLocation: ['cookies'] });
    const refresh = await m.createRefreshToken({ identity: 'alice' });
    await m.verifyToken(refresh, { refresh: true });
    await rejected(m.verifyToken(refresh), 'wrong_token_type');
    const access = await m.createAccessToken({ identity: 'alice' });
    await m.verifyToken(access);
    await rejected(m.verifyToken(access, { fresh: true }), 'fresh_token_required');
    await rejected(m.verifyToken(access, { csrfValue: 'nope' }), 'csrf_mismatch');
  });

  it('the cached payload is frozen, so one caller cannot change what the next one sees', async () => {
    const m = manager({ verifiedTokenCache: 100 });
    const token = await m.createAccessToken({
      identity: 'alice',
      additionalClaims: { roles: ['user'], meta: { a: 1 } },
    });
    const first = await m.verifyToken(token);
    const second = await m.verifyToken(token);
    expect(Object.isFrozen(second.payload)).toBe(true);
    expect(Object.isFrozen(second.payload.roles)).toBe(true);
    expect(Object.isFrozen(second.payload.meta)).toBe(true);
    expect(Object.isFrozen(second.header)).toBe(true);
    expect(() => {
      (first.payload as Record<string, unknown>).sub = 'mallory';
    }).toThrow(TypeError);
    expect(() => {
      (second.payload.roles as string[]).push('admin');
    }).toThrow(TypeError);
    const third = await m.verifyToken(token);
    expect(third.payload).toMatchObject({ sub: 'alice', roles: ['user'], meta: { a: 1 } });
  });

  it("a token sharing a cached token's tail (the cache key) is verified in full, and the cached one stays", async () => {
    const m = manager({ verifiedTokenCache: 100 });
    const token = await m.createAccessToken({ identity: 'alice' });
    await m.verifyToken(token);
    // Same signature, other payload: the cache finds the entry by the last characters,
    // sees a different token, and leaves it to the signature check.
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'mallory', type: 'access', exp: NOW + 600 })).toString('base64url')}.${signature}`;
    expect(forged.slice(-16)).toBe(token.slice(-16));
    await rejected(m.verifyToken(forged), 'signature_invalid');
    await expect(m.verifyToken(token)).resolves.toMatchObject({ identity: 'alice' });
  });

  it('a cached token stops verifying once its key is removed from the keyring', async () => {
    const ring = new Keyring([importSecret(randomBytes(32), 'HS256', { kid: 'old' })]);
    const m = new TokenManager({ keys: ring, verifiedTokenCache: 100, now: () => NOW });
    const token = await m.createAccessToken({ identity: 'alice' });
    await expect(m.verifyToken(token)).resolves.toBeTruthy();
    ring.add(importSecret(randomBytes(32), 'HS256', { kid: 'new' })).use('new');
    expect(ring.remove('old')).toBe(true);
    // Keyring.remove: "Tokens it signed stop verifying immediately". Without a cache they do:
    const uncached = new TokenManager({ keys: ring, now: () => NOW });
    await rejected(uncached.verifyToken(token), 'key_not_found');
    // ... and the cache must not keep a removed (say, compromised) key's tokens alive.
    await rejected(m.verifyToken(token), 'key_not_found');
  });
});

describe('simplejwt profile', () => {
  const simple = (extra: Partial<Options> = {}): TokenManager => manager({ profile: 'simplejwt', ...extra });

  it('layout: token_type, exp, iat, jti (hex), user_id; aud and iss appended last', async () => {
    const m = simple();
    const access = await m.createAccessToken({ identity: 1 });
    const payload = decodeSegment(access, 1);
    expect(Object.keys(payload)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id']);
    expect(payload).toMatchObject({ token_type: 'access', exp: NOW + 300, iat: NOW, user_id: 1 });
    expect(payload.jti).toMatch(/^[0-9a-f]{32}$/);
    expect(headerText(access)).toBe('{"alg":"HS256","typ":"JWT"}');
    const refresh = decodeSegment(await m.createRefreshToken({ identity: 1 }), 1);
    expect(refresh).toMatchObject({ token_type: 'refresh', exp: NOW + 86_400 });
    const withAudIss = simple({ audience: 'peer-aud', issuer: 'peer-iss' });
    const full = decodeSegment(
      await withAudIss.createAccessToken({ identity: 1, additionalClaims: { role: 'x' } }),
      1,
    );
    expect(Object.keys(full)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'role', 'aud', 'iss']);
    await expect(m.verifyToken(access)).resolves.toMatchObject({ identity: 1 });
  });

  it('sliding tokens carry refresh_exp and verify only where sliding tokens are expected', async () => {
    const m = simple();
    const sliding = await m.createSlidingToken({ identity: 1 });
    const payload = decodeSegment(sliding, 1);
    expect(Object.keys(payload)).toEqual(['token_type', 'exp', 'iat', 'jti', 'refresh_exp', 'user_id']);
    expect(payload).toMatchObject({ token_type: 'sliding', exp: NOW + 300, refresh_exp: NOW + 86_400 });
    await expect(m.verifyToken(sliding, { tokenType: 'sliding' })).resolves.toMatchObject({ identity: 1 });
    expect((await rejected(m.verifyToken(sliding), 'wrong_token_type')).message).toBe('Token has wrong type');
  });

  it("messages: 'Token has no type', 'Token has wrong type', \"Token has no 'exp' claim\", 'Token has no id'", async () => {
    const m = simple();
    const base = { token_type: 'access', exp: NOW + 60, iat: NOW, jti: 'f'.repeat(32), user_id: 1 };
    const without = (name: keyof typeof base): Record<string, unknown> => {
      const copy: Record<string, unknown> = { ...base };
      delete copy[name];
      return copy;
    };
    const cases: Array<[Record<string, unknown>, ErrorCode, string]> = [
      [without('token_type'), 'wrong_token_type', 'Token has no type'],
      [{ ...base, token_type: 'refresh' }, 'wrong_token_type', 'Token has wrong type'],
      [{ ...base, token_type: 'untyped' }, 'wrong_token_type', 'Token has wrong type'],
      [without('exp'), 'claim_missing', "Token has no 'exp' claim"],
      [without('jti'), 'claim_missing', 'Token has no id'],
      // SimpleJWT's order: exp, then jti, then type.
      [{ user_id: 1, iat: NOW }, 'claim_missing', "Token has no 'exp' claim"],
      [{ user_id: 1, exp: NOW + 60 }, 'claim_missing', 'Token has no id'],
    ];
    for (const [payload, code, message] of cases) {
      const token = await m.signPayload(payload);
      const error = await rejected(m.verifyToken(token), code);
      expect(error.message).toBe(message);
    }
    await expect(m.verifyToken(await m.signPayload(base))).resolves.toMatchObject({ identity: 1 });
  });
});
