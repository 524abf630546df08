/**
 * Configuration that cannot fail silently: every options object of the manager
 * refuses unknown keys (naming the key and the closest known one), per-call
 * options too; rotation without a store is refused; identities a store cannot
 * key are refused when a token is created, not answered 503 at login.
 */
import { MemoryStore, TesseraError, TokenManager, type TokenManagerOptions } from 'tessera-auth';
import { describe, expect, it } from 'vitest';

const SECRET = 'configuration-test-secret-0123456789abcdefgh';
const NOW = 1_800_000_000;

/** The TesseraError `run` throws (synchronously or as a rejection). */
async function thrown(run: () => unknown): Promise<TesseraError> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TesseraError);
  return error as TesseraError;
}

// Options as an application in plain JavaScript (or with a cast) can pass them.
function build(options: Record<string, unknown>): TokenManager {
  return new TokenManager({ secret: SECRET, now: () => NOW, ...options } as TokenManagerOptions);
}

describe('unknown option keys are refused at construction', () => {
  it('tokenInBlocklist at the top level (it belongs in callbacks) is a ConfigError naming both', async () => {
    const error = await thrown(() => build({ tokenInBlocklist: () => true }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("'tokenInBlocklist'");
    expect(error.message).toContain('callbacks.tokenInBlocklist');
  });

  it('accessExpires is a ConfigError suggesting accessTokenExpires', async () => {
    const error = await thrown(() => build({ accessExpires: '5m' }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("Unknown option 'accessExpires' in TokenManager options");
    expect(error.message).toContain("did you mean 'accessTokenExpires'?");
  });

  it.each([
    ['cookies', { cookies: { implicitRefersh: 300 } }, 'implicitRefersh', 'implicitRefresh'],
    ['csrf', { csrf: { protects: false } }, 'protects', 'protect'],
    ['rotation', { rotation: { grace: 5 } }, 'grace', 'graceSeconds'],
    ['callbacks', { callbacks: { tokenInBlockList: () => true } }, 'tokenInBlockList', 'tokenInBlocklist'],
    ['errorHandlers', { errorHandlers: { expird: () => ({}) } }, 'expird', 'expired'],
    ['limits', { limits: { maxTokenLengt: 10 } }, 'maxTokenLengt', 'maxTokenLength'],
  ])('in %s', async (where, options, key, suggestion) => {
    const error = await thrown(() => build(options));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(`Unknown option '${key}' in ${where}`);
    expect(error.message).toContain(`did you mean '${suggestion}'?`);
  });

  it('a key far from every known one gets no suggestion, but the list of known keys', async () => {
    const error = await thrown(() => build({ zzzzzzzz: 1 }));
    expect(error.message).not.toContain('did you mean');
    expect(error.message).toContain('Known options:');
    expect(error.message).toContain('secret');
  });

  it('every documented option is accepted', () => {
    expect(() =>
      build({
        profile: 'standard',
        algorithm: 'HS256',
        kid: 'k1',
        accessTokenExpires: 60,
        refreshTokenExpires: '1d',
        slidingTokenExpires: 60,
        slidingTokenRefreshExpires: 120,
        identityClaim: 'sub',
        issuer: 'i',
        audience: 'a',
        decodeIssuer: 'i',
        decodeAudience: 'a',
        leeway: 0,
        encodeNbf: false,
        requireExp: true,
        typ: 'JWT',
        acceptedTyp: ['JWT'],
        limits: { maxTokenLength: 8192 },
        verifiedTokenCache: 10,
        tokenLocation: ['headers', 'cookies'],
        headerName: 'Authorization',
        headerType: 'Bearer',
        queryStringName: 'jwt',
        queryStringValuePrefix: '',
        jsonKey: 'access_token',
        refreshJsonKey: 'refresh_token',
        cookies: { accessName: 'a', refreshName: 'r', secure: true, sameSite: 'Lax', implicitRefresh: false },
        csrf: { protect: true, methods: ['POST'], checkForm: false },
        errorMessageKey: 'msg',
        store: new MemoryStore(),
        revocationFailOpen: false,
        rotation: { enabled: true, graceSeconds: 5, blacklistAfterRotation: false },
        callbacks: { tokenInBlocklist: () => false, userIdentity: (u: unknown) => u },
        errorHandlers: { expired: (_e: unknown, r: unknown) => r },
      }),
    ).not.toThrow();
  });
});

describe('unknown per-call options are refused', () => {
  const jwt = build({});

  it.each([
    ['createAccessToken', () => jwt.createAccessToken({ identity: 'a', expires: 5 } as never), 'expires'],
    ['createRefreshToken', () => jwt.createRefreshToken({ identity: 'a', fresh: true } as never), 'fresh'],
    ['createTokenPair', () => jwt.createTokenPair({ identity: 'a', meta: {} } as never), 'meta'],
    ['createSlidingToken', () => jwt.createSlidingToken({ identity: 'a', fresh: true } as never), 'fresh'],
  ])('%s', async (where, run, key) => {
    const error = await thrown(run);
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(`Unknown option '${key}' in ${where} options`);
  });

  it('decodeToken, verifyToken and refreshTokens', async () => {
    const token = await jwt.createAccessToken({ identity: 'a' });
    const decode = await thrown(() => jwt.decodeToken(token, { allowExpire: true } as never));
    expect(decode.message).toContain("Unknown option 'allowExpire' in decodeToken options");
    expect(decode.message).toContain("did you mean 'allowExpired'?");
    const verify = await thrown(() => jwt.verifyToken(token, { refersh: true } as never));
    expect(verify.message).toContain("Unknown option 'refersh' in verifyToken options");
    expect(verify.message).toContain("did you mean 'refresh'?");
    const refresh = await jwt.createRefreshToken({ identity: 'a' });
    const r = await thrown(() => jwt.refreshTokens(refresh, { csrf: 'x' } as never));
    expect(r.message).toContain("Unknown option 'csrf' in refreshTokens options");
  });
});

describe('rotation needs a store', () => {
  it('rotation.enabled without a store is refused at construction', async () => {
    const error = await thrown(() => build({ rotation: { enabled: true } }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('rotation.enabled needs a store');
  });

  it('rotation off without a store, and the default, are accepted', () => {
    expect(build({ rotation: { enabled: false } }).config.rotation.enabled).toBe(false);
    expect(build({}).config.rotation.enabled).toBe(false);
  });
});

describe('identities a store cannot key are refused at creation', () => {
  const store = () => new MemoryStore({ now: () => NOW });

  it.each([
    ['empty', ''],
    ['256 ASCII bytes', 'x'.repeat(256)],
    ['256 UTF-8 bytes in 128 characters', 'é'.repeat(128)],
  ])('%s: identity_invalid (400), at login and for single tokens', async (_name, identity) => {
    const jwt = build({ store: store() });
    const login = await thrown(() => jwt.createTokenPair({ identity }));
    expect(login.code).toBe('identity_invalid');
    expect(login.status).toBe(400);
    expect(login.message).toMatch(/identity/);
    expect((await thrown(() => jwt.createAccessToken({ identity }))).code).toBe('identity_invalid');
    expect((await thrown(() => jwt.createRefreshToken({ identity }))).code).toBe('identity_invalid');
    // Without a store too: the same token must work wherever it is checked.
    expect((await thrown(() => build({}).createAccessToken({ identity }))).code).toBe('identity_invalid');
  });

  it('255 UTF-8 bytes is the longest identity, and it logs in', async () => {
    const jwt = build({ store: store() });
    const identity = `${'é'.repeat(127)}x`;
    const pair = await jwt.createTokenPair({ identity });
    expect((await jwt.verifyToken(pair.accessToken)).identity).toBe(identity);
  });

  it('revokeAllTokens and listSessions refuse them the same way, before the store is asked', async () => {
    const jwt = build({ store: store() });
    expect((await thrown(() => jwt.revokeAllTokens(''))).code).toBe('identity_invalid');
    expect((await thrown(() => jwt.listSessions('z'.repeat(256)))).code).toBe('identity_invalid');
  });

  it('a userIdentity that converts to an empty id is refused the same way', async () => {
    const jwt = build({ store: store(), callbacks: { userIdentity: () => '' } });
    expect((await thrown(() => jwt.createTokenPair({ identity: { id: 1 } }))).code).toBe('identity_invalid');
  });

  it('a token from elsewhere with such an identity verifies (the store is only read), and refreshing it is identity_invalid, not a store failure', async () => {
    const jwt = build({ store: store() });
    const long = 'y'.repeat(300);
    const claims = { iat: NOW, jti: 'peer-1', sub: long, exp: NOW + 60 };
    // Signed by a peer sharing the key: the store never saw this user.
    const access = await jwt.signPayload({ ...claims, type: 'access', fresh: false });
    expect((await jwt.verifyToken(access)).identity).toBe(long);
    const refresh = await jwt.signPayload({ ...claims, jti: 'peer-2', type: 'refresh' });
    expect((await thrown(() => jwt.refreshTokens(refresh))).code).toBe('identity_invalid');
  });
});
