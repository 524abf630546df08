/**
 * Two-way compatibility with the REAL djangorestframework-simplejwt 5.2.2
 * (docs/reference/python-peers.md section 4), through the peer app in ./peers/django_peer.py:
 *
 * 1. tokens SimpleJWT mints (access, refresh, sliding) verify in a Tessera
 *    simplejwt-profile manager with the same identity (`user_id`) and claims;
 * 2. tokens Tessera mints are accepted by SimpleJWT's views (protected route,
 *    refresh, verify, blacklist, sliding refresh) and are laid out like its own;
 * 3. a Tessera app on Express (simplejwt profile) answers the same request to a
 *    protected route with the same status, body and WWW-Authenticate as DRF;
 * 4. RS256 and ES256 tokens cross the boundary both ways.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressAuth } from '../../src/adapters/express.js';
import { jsonResponse } from '../../src/http/responses.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import {
  callPeer,
  generatePemKeyPair,
  type JsonValue,
  PEER_HS_SECRET,
  type PythonPeer,
  startDjangoPeer,
} from './peers.js';
import {
  bearer,
  bodyObject,
  type Claims,
  field,
  forge,
  gatePeers,
  type Listening,
  listen,
  nowSeconds,
  part,
  partText,
  payloadKeys,
  peers,
  stopAll,
  tamperSignature,
} from './support.js';

gatePeers('SimpleJWT interop');

const ALICE = { username: 'alice', password: 'alice-password' };
const HS256_HEADER = '{"alg":"HS256","typ":"JWT"}';
const HEX_JTI = /^[0-9a-f]{32}$/;
const CHALLENGE = 'Bearer realm="api"';

/** The Django peer's users (id, username, is_active). */
interface DjangoUser {
  readonly id: number;
  readonly username: string;
  readonly active: boolean;
}

const DJANGO_USERS = new Map<number, DjangoUser>([
  [1, { id: 1, username: 'alice', active: true }],
  [2, { id: 2, username: 'mallory', active: false }],
  [3, { id: 3, username: 'admin', active: true }],
]);

/** `User.objects.get(id=value)`: ints, and strings Python's int() reads (D29). */
function djangoUser(value: unknown): DjangoUser | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return DJANGO_USERS.get(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return DJANGO_USERS.get(Number(value));
  return undefined;
}

/** A simplejwt-profile manager over the shared secret, with Django's user table. */
function simpleJwtManager(): TokenManager<DjangoUser> {
  return new TokenManager<DjangoUser>({
    profile: 'simplejwt',
    secret: PEER_HS_SECRET,
    callbacks: {
      userLookup: (_header, payload) => {
        const user = djangoUser(payload.user_id);
        return user?.active ? user : null;
      },
    },
    errorHandlers: {
      // JWTAuthentication tells "not found" from "inactive" (D27, D28).
      user_lookup: (error, fallback) =>
        djangoUser(error.jwtPayload?.user_id)?.active === false
          ? jsonResponse(
              401,
              { detail: 'User is inactive', code: 'user_inactive' },
              { 'www-authenticate': CHALLENGE },
            )
          : fallback,
    },
  });
}

/** The Tessera twin of the Django peer's `/api/protected/`. */
interface Twin extends Listening {
  readonly manager: TokenManager<DjangoUser>;
}

async function startTwin(): Promise<Twin> {
  const manager = simpleJwtManager();
  const auth = createExpressAuth(manager);
  const app = express();
  const describeUser = (req: express.Request, res: express.Response) => {
    const jwt = auth.getJwt(req);
    const user = jwt?.user;
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json');
    // DRF's JSONRenderer: compact, insertion order, no newline.
    res.end(
      JSON.stringify({
        user_id: user?.id ?? null,
        username: user?.username ?? '',
        claims: jwt?.payload ?? null,
      }),
    );
  };
  app
    .route('/api/protected/')
    .get(auth.jwtRequired(), describeUser)
    .post(auth.jwtRequired(), describeUser)
    .options(auth.jwtRequired(), describeUser);
  const running = await listen(createServer(app));
  return { ...running, manager };
}

async function obtainPair(django: PythonPeer): Promise<{ access: string; refresh: string }> {
  const res = await callPeer(`${django.url}/api/token/`, { json: ALICE });
  expect(res.status, res.text).toBe(200);
  return { access: field(res.body, 'access'), refresh: field(res.body, 'refresh') };
}

async function obtainSliding(django: PythonPeer): Promise<string> {
  const res = await callPeer(`${django.url}/api/token/sliding/`, { json: ALICE });
  expect(res.status, res.text).toBe(200);
  return field(res.body, 'token');
}

async function mint(django: PythonPeer, body: Record<string, JsonValue>): Promise<string> {
  const res = await callPeer(`${django.url}/mint/`, { json: body });
  expect(res.status, res.text).toBe(200);
  return field(res.body, 'token');
}

/** A SimpleJWT-shaped access payload for user 1, valid 5 minutes; `undefined` members dropped. */
function simplePayload(overrides: Record<string, unknown> = {}): Claims {
  const now = nowSeconds();
  const payload: Claims = {
    token_type: 'access',
    exp: now + 300,
    iat: now,
    jti: randomUUID().replaceAll('-', ''),
    user_id: 1,
    ...overrides,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return payload;
}

function hs(payload: Claims, header: Claims = { alg: 'HS256', typ: 'JWT' }): string {
  return forge(header, payload, { secret: PEER_HS_SECRET });
}

const invalid = (message: string) => ({
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
});

// ---------------------------------------------------------------------------------------
// The comparison table: GET /api/protected/ at Django and at the Tessera twin.

interface Kit {
  readonly django: PythonPeer;
  readonly twin: Twin;
}

interface DjangoCase {
  readonly name: string;
  readonly method?: 'GET' | 'POST' | 'OPTIONS';
  /** Django's status, pinned. */
  readonly status: number;
  readonly headers: (kit: Kit) => Record<string, string> | Promise<Record<string, string>>;
  /** Django crashes (500): Tessera must answer a 4xx instead. */
  readonly djangoCrashes?: true;
  /** A `crit` case (see flask.test.ts): without PyJWT's deb12u1 patch Django accepts it and Tessera must refuse it. */
  readonly crit?: true;
}

let critWarned = false;

async function compareDjango(kit: Kit, row: DjangoCase): Promise<void> {
  const headers = await row.headers(kit);
  const request = { method: row.method ?? 'GET', headers };
  const [theirs, ours] = await Promise.all([
    callPeer(`${kit.django.url}/api/protected/`, request),
    callPeer(`${kit.twin.url}/api/protected/`, request),
  ]);
  if (row.crit && theirs.status === 200) {
    if (!critWarned) {
      critWarned = true;
      console.warn('[interop] the installed PyJWT ignores `crit`: Tessera must still refuse those tokens');
    }
    expect([ours.status, ours.body]).toEqual([401, invalid('Token is invalid or expired')]);
    return;
  }
  expect(theirs.status, `Django answered ${theirs.status}: ${theirs.text.slice(0, 300)}`).toBe(row.status);
  if (row.djangoCrashes) {
    expect(ours.status, ours.text).toBeGreaterThanOrEqual(400);
    expect(ours.status, ours.text).toBeLessThan(500);
    return;
  }
  const view = (res: typeof theirs) => {
    const body = bodyObject(res);
    return { status: res.status, detail: body.detail, code: body.code, messages: body.messages };
  };
  expect(view(ours), `Django ${theirs.text} | Tessera ${ours.text}`).toEqual(view(theirs));
  expect(ours.text, 'same body bytes').toBe(theirs.text);
  expect(ours.headers.get('www-authenticate')).toBe(theirs.headers.get('www-authenticate'));
  expect(ours.headers.get('content-type')).toBe(theirs.headers.get('content-type'));
}

const expired = () => nowSeconds() - 60;
const future = () => nowSeconds() + 3600;

const DJANGO_CASES: readonly DjangoCase[] = [
  {
    name: 'valid Tessera access token',
    status: 200,
    headers: async (k) => bearer(await k.twin.manager.createAccessToken({ identity: 1 })),
  },
  {
    name: 'valid SimpleJWT access token (/api/token/)',
    status: 200,
    headers: async (k) => bearer((await obtainPair(k.django)).access),
  },
  {
    name: 'user_id as a numeric string (D29)',
    status: 200,
    headers: () => bearer(hs(simplePayload({ user_id: '1' }))),
  },
  {
    name: 'extra spaces after Bearer (D14)',
    status: 200,
    headers: () => ({ authorization: `Bearer    ${hs(simplePayload())}` }),
  },
  {
    name: 'aud while no AUDIENCE is configured',
    status: 200,
    headers: () => bearer(hs(simplePayload({ aud: 'x' }))),
  },
  {
    name: 'kid header no key declares (PyJWT ignores kid with one key)',
    status: 200,
    headers: () => bearer(hs(simplePayload(), { alg: 'HS256', kid: 'key-2024', typ: 'JWT' })),
  },
  { name: 'no Authorization header (D09)', status: 401, headers: () => ({}) },
  { name: 'empty Authorization header', status: 401, headers: () => ({ authorization: '' }) },
  { name: 'other scheme `Token x` (D10)', status: 401, headers: () => ({ authorization: 'Token abc' }) },
  {
    name: 'lowercase `bearer` (D11)',
    status: 401,
    headers: () => ({ authorization: `bearer ${hs(simplePayload())}` }),
  },
  { name: '`Bearer` alone (D12)', status: 401, headers: () => ({ authorization: 'Bearer' }) },
  { name: '`Bearer a b` (D13)', status: 401, headers: () => ({ authorization: 'Bearer a b' }) },
  { name: '`Bearer x, , y`', status: 401, headers: () => ({ authorization: 'Bearer x, , y' }) },
  { name: "'garbage' (D15)", status: 401, headers: () => bearer('garbage') },
  { name: "'a.b.c'", status: 401, headers: () => bearer('a.b.c') },
  { name: 'bad signature (D16)', status: 401, headers: () => bearer(tamperSignature(hs(simplePayload()))) },
  { name: 'expired (D17)', status: 401, headers: () => bearer(hs(simplePayload({ exp: expired() }))) },
  {
    name: 'nbf in the future (D18)',
    status: 401,
    headers: () => bearer(hs(simplePayload({ nbf: future() }))),
  },
  {
    name: 'iat in the future (D19)',
    status: 401,
    headers: () => bearer(hs(simplePayload({ iat: future() }))),
  },
  {
    name: 'HS512 with the shared secret',
    status: 401,
    headers: () => bearer(hs(simplePayload(), { alg: 'HS512', typ: 'JWT' })),
  },
  {
    name: 'alg none',
    status: 401,
    headers: () => bearer(forge({ alg: 'none', typ: 'JWT' }, simplePayload(), { signature: '' })),
  },
  {
    name: 'crit with an unsupported extension (D89)',
    status: 401,
    crit: true,
    headers: () => bearer(hs(simplePayload(), { alg: 'HS256', crit: ['foo'], foo: 1, typ: 'JWT' })),
  },
  {
    name: 'expired and bad signature',
    status: 401,
    headers: () => bearer(tamperSignature(hs(simplePayload({ exp: expired() })))),
  },
  {
    name: 'refresh token used as access (D20)',
    status: 401,
    headers: async (k) => bearer(await k.twin.manager.createRefreshToken({ identity: 1 })),
  },
  {
    name: 'sliding token used as access (D59)',
    status: 401,
    headers: async (k) => bearer(await k.twin.manager.createSlidingToken({ identity: 1 })),
  },
  {
    name: 'expired refresh token: decoding fails before the type check',
    status: 401,
    headers: () => bearer(hs(simplePayload({ token_type: 'refresh', exp: expired() }))),
  },
  { name: 'no exp (D23)', status: 401, headers: () => bearer(hs(simplePayload({ exp: undefined }))) },
  { name: 'no jti (D24)', status: 401, headers: () => bearer(hs(simplePayload({ jti: undefined }))) },
  {
    name: 'no token_type (D25)',
    status: 401,
    headers: () => bearer(hs(simplePayload({ token_type: undefined }))),
  },
  {
    name: 'a Flask-JWT-Extended token (D31)',
    status: 401,
    headers: async () => {
      const flask = new TokenManager({ profile: 'flask-jwt-extended', secret: PEER_HS_SECRET });
      return bearer(await flask.createAccessToken({ identity: 'alice', fresh: true }));
    },
  },
  { name: 'no user_id (D26)', status: 401, headers: () => bearer(hs(simplePayload({ user_id: undefined }))) },
  {
    name: 'user id not in the database (D27)',
    status: 401,
    headers: () => bearer(hs(simplePayload({ user_id: 99 }))),
  },
  { name: 'inactive user (D28)', status: 401, headers: () => bearer(hs(simplePayload({ user_id: 2 }))) },
  {
    name: 'non-numeric user_id crashes Django (D85); Tessera answers 4xx',
    status: 500,
    djangoCrashes: true,
    headers: () => bearer(hs(simplePayload({ user_id: 'abc' }))),
  },
  { name: 'OPTIONS is authenticated too (D91)', method: 'OPTIONS', status: 401, headers: () => ({}) },
  {
    name: 'POST with a valid token',
    method: 'POST',
    status: 200,
    headers: async (k) => bearer(await k.twin.manager.createAccessToken({ identity: 3 })),
  },
];

// ---------------------------------------------------------------------------------------

describe.skipIf(!peers.ok)('SimpleJWT ⇄ Tessera, HS256 (rotation + blacklist)', () => {
  let django: PythonPeer;
  let twin: Twin;
  beforeAll(async () => {
    [django, twin] = await Promise.all([
      startDjangoPeer({ simpleJwt: { ROTATE_REFRESH_TOKENS: true, BLACKLIST_AFTER_ROTATION: true } }),
      startTwin(),
    ]);
  });
  afterAll(() => stopAll(django, twin));

  describe('1. SimpleJWT-minted tokens verify in Tessera', () => {
    it('access token: identity user_id, token_type, hex jti, same claims, user looked up', async () => {
      const { access } = await obtainPair(django);
      const verified = await twin.manager.verifyToken(access);
      expect(verified.identity).toBe(1);
      expect(verified.payload).toEqual(part(access, 1));
      expect(verified.payload.token_type).toBe('access');
      expect(verified.payload.jti).toMatch(HEX_JTI);
      expect(verified.user).toEqual(DJANGO_USERS.get(1));
    });

    it('refresh token: verifies as a refresh token; refused as access with "Token has wrong type"', async () => {
      const { refresh } = await obtainPair(django);
      const verified = await twin.manager.verifyToken(refresh, { refresh: true });
      expect(verified.identity).toBe(1);
      expect(verified.payload).toMatchObject({ token_type: 'refresh', user_id: 1 });
      expect(verified.payload.jti).toMatch(HEX_JTI);
      await expect(twin.manager.verifyToken(refresh)).rejects.toMatchObject({
        code: 'wrong_token_type',
        message: 'Token has wrong type',
      });
    });

    it('sliding token: verifies as sliding; Tessera refreshSlidingToken keeps jti and refresh_exp; Django takes it back', async () => {
      const sliding = await obtainSliding(django);
      const verified = await twin.manager.verifyToken(sliding, { tokenType: 'sliding' });
      expect(verified.identity).toBe(1);
      expect(verified.payload).toMatchObject({ token_type: 'sliding', user_id: 1 });
      expect(typeof verified.payload.refresh_exp).toBe('number');
      const renewed = await twin.manager.refreshSlidingToken(sliding);
      expect(part(renewed, 1)).toMatchObject({
        jti: verified.payload.jti,
        refresh_exp: verified.payload.refresh_exp,
      });
      const res = await callPeer(`${django.url}/api/token/sliding/refresh/`, { json: { token: renewed } });
      expect(res.status, res.text).toBe(200);
      expect(part(field(res.body, 'token'), 1)).toMatchObject({ jti: verified.payload.jti });
    });

    it('an access token from /api/token/refresh/ (iat copied from the refresh token, Q8) verifies', async () => {
      const { refresh } = await obtainPair(django);
      const res = await callPeer(`${django.url}/api/token/refresh/`, { json: { refresh } });
      expect(res.status, res.text).toBe(200);
      const access = field(res.body, 'access');
      expect(part(access, 1).iat).toBe(part(refresh, 1).iat);
      await expect(twin.manager.verifyToken(access)).resolves.toMatchObject({ identity: 1 });
    });

    it('custom claims survive; an expired token is token_expired', async () => {
      const claims = { scope: 'read write', tenant: { id: 9, name: 'Acme' }, flags: [1, 2] };
      const token = await mint(django, { user_id: 3, kind: 'access', claims });
      await expect(twin.manager.verifyToken(token)).resolves.toMatchObject({ identity: 3, payload: claims });
      const old = await mint(django, { user_id: 1, kind: 'access', lifetime_seconds: -10 });
      await expect(twin.manager.verifyToken(old)).rejects.toMatchObject({ code: 'token_expired' });
    });

    it('a SimpleJWT token at a Tessera flask-profile manager fails with "Missing claim: sub" (docs/reference/python-peers.md 6)', async () => {
      const { access } = await obtainPair(django);
      const flask = new TokenManager({ profile: 'flask-jwt-extended', secret: PEER_HS_SECRET });
      await expect(flask.decodeToken(access)).rejects.toMatchObject({
        code: 'claim_missing',
        message: 'Missing claim: sub',
      });
      await expect(flask.verifyToken(access)).rejects.toMatchObject({ message: 'Missing claim: sub' });
    });
  });

  describe('2. Tessera-minted tokens pass SimpleJWT', () => {
    it('access token at /api/protected/: same user and claims', async () => {
      const token = await twin.manager.createAccessToken({
        identity: 1,
        additionalClaims: { scope: 'read' },
      });
      const res = await callPeer(`${django.url}/api/protected/`, { headers: bearer(token) });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ user_id: 1, username: 'alice', claims: part(token, 1) });
    });

    it('refresh token at /api/token/refresh/ (rotation on): new access and refresh tokens Tessera verifies', async () => {
      const refresh = await twin.manager.createRefreshToken({ identity: 1 });
      const res = await callPeer(`${django.url}/api/token/refresh/`, { json: { refresh } });
      expect(res.status, res.text).toBe(200);
      const access = field(res.body, 'access');
      const rotated = field(res.body, 'refresh');
      await expect(twin.manager.verifyToken(access)).resolves.toMatchObject({ identity: 1 });
      await expect(twin.manager.verifyToken(rotated, { refresh: true })).resolves.toMatchObject({
        identity: 1,
      });
      // BLACKLIST_AFTER_ROTATION: the Tessera refresh token is now spent at Django (D37).
      const again = await callPeer(`${django.url}/api/token/refresh/`, { json: { refresh } });
      expect([again.status, again.body]).toEqual([
        401,
        { detail: 'Token is blacklisted', code: 'token_not_valid' },
      ]);
    });

    it('/api/token/verify/ accepts Tessera access, refresh and sliding tokens', async () => {
      const tokens = [
        await twin.manager.createAccessToken({ identity: 1 }),
        await twin.manager.createRefreshToken({ identity: 1 }),
        await twin.manager.createSlidingToken({ identity: 1 }),
      ];
      for (const token of tokens) {
        const res = await callPeer(`${django.url}/api/token/verify/`, { json: { token } });
        expect([res.status, res.text]).toEqual([200, '{}']);
      }
    });

    it('/api/token/blacklist/ blacklists a Tessera refresh token; refresh then fails (D52)', async () => {
      const refresh = await twin.manager.createRefreshToken({ identity: 1 });
      const res = await callPeer(`${django.url}/api/token/blacklist/`, { json: { refresh } });
      expect([res.status, res.text]).toEqual([200, '{}']);
      const after = await callPeer(`${django.url}/api/token/refresh/`, { json: { refresh } });
      expect([after.status, after.body]).toEqual([
        401,
        { detail: 'Token is blacklisted', code: 'token_not_valid' },
      ]);
      const access = await twin.manager.createAccessToken({ identity: 1 });
      const wrong = await callPeer(`${django.url}/api/token/blacklist/`, { json: { refresh: access } });
      expect([wrong.status, wrong.body]).toEqual([
        401,
        { detail: 'Token has wrong type', code: 'token_not_valid' },
      ]);
    });

    it('/api/token/sliding/refresh/ renews a Tessera sliding token with the same jti and refresh_exp', async () => {
      const sliding = await twin.manager.createSlidingToken({ identity: 1 });
      const res = await callPeer(`${django.url}/api/token/sliding/refresh/`, { json: { token: sliding } });
      expect(res.status, res.text).toBe(200);
      const renewed = field(res.body, 'token');
      const before = part(sliding, 1);
      expect(part(renewed, 1)).toMatchObject({
        jti: before.jti,
        refresh_exp: before.refresh_exp,
        user_id: 1,
      });
      await expect(twin.manager.verifyToken(renewed, { tokenType: 'sliding' })).resolves.toMatchObject({
        identity: 1,
      });
    });

    it('layout: payload key order and header bytes equal SimpleJWT tokens (access, refresh, sliding)', async () => {
      const theirs = await obtainPair(django);
      const theirSliding = await obtainSliding(django);
      const access = await twin.manager.createAccessToken({ identity: 1 });
      const refresh = await twin.manager.createRefreshToken({ identity: 1 });
      const sliding = await twin.manager.createSlidingToken({ identity: 1 });
      expect(payloadKeys(access)).toEqual(payloadKeys(theirs.access));
      expect(payloadKeys(refresh)).toEqual(payloadKeys(theirs.refresh));
      expect(payloadKeys(sliding)).toEqual(payloadKeys(theirSliding));
      expect(payloadKeys(access)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id']);
      expect(payloadKeys(sliding)).toEqual(['token_type', 'exp', 'iat', 'jti', 'refresh_exp', 'user_id']);
      for (const token of [access, refresh, sliding, theirs.access, theirs.refresh, theirSliding]) {
        expect(partText(token, 0)).toBe(HS256_HEADER);
        expect(token.split('.')[0]).toBe(theirs.access.split('.')[0]);
      }
      // Values follow SimpleJWT's conventions: hex jti, 5 min / 1 day / 5 min + 1 day.
      const a = part(access, 1);
      expect(a.jti).toMatch(HEX_JTI);
      expect(Number(a.exp) - Number(a.iat)).toBe(300);
      const r = part(refresh, 1);
      expect(Number(r.exp) - Number(r.iat)).toBe(86_400);
      const s = part(sliding, 1);
      expect([Number(s.exp) - Number(s.iat), Number(s.refresh_exp) - Number(s.iat)]).toEqual([300, 86_400]);
    });

    it('layout: an access token from Tessera refreshTokens() is laid out like /api/token/refresh/ output', async () => {
      const { refresh } = await obtainPair(django);
      const theirs = await callPeer(`${django.url}/api/token/refresh/`, { json: { refresh } });
      expect(theirs.status, theirs.text).toBe(200);
      const theirAccess = field(theirs.body, 'access');
      const ourRefresh = await twin.manager.createRefreshToken({ identity: 1 });
      const { accessToken } = await twin.manager.refreshTokens(ourRefresh);
      expect(part(accessToken, 1).iat).toBe(part(ourRefresh, 1).iat);
      expect(payloadKeys(accessToken)).toEqual(payloadKeys(theirAccess));
    });
  });

  describe('3. same request, same answer (Django /api/protected/ vs Tessera on Express)', () => {
    const context = (): Kit => ({ django, twin });
    for (const row of DJANGO_CASES) {
      it(`${row.method ?? 'GET'} /api/protected/: ${row.name}`, async () => {
        await compareDjango(context(), row);
      });
    }
  });
});

describe.skipIf(!peers.ok)('SimpleJWT ⇄ Tessera, RS256 and ES256 (SIGNING_KEY / VERIFYING_KEY)', () => {
  const algorithms = ['RS256', 'ES256'] as const;
  const keys = { RS256: generatePemKeyPair('RS256'), ES256: generatePemKeyPair('ES256') };
  const started = new Map<string, PythonPeer>();
  beforeAll(async () => {
    const list = await Promise.all(
      algorithms.map((alg) =>
        startDjangoPeer({
          simpleJwt: {
            ALGORITHM: alg,
            SIGNING_KEY: keys[alg].privateKey,
            VERIFYING_KEY: keys[alg].publicKey,
          },
        }),
      ),
    );
    for (const [index, alg] of algorithms.entries()) started.set(alg, list[index]!);
  });
  afterAll(() => stopAll(...started.values()));

  for (const alg of algorithms) {
    const peer = () => started.get(alg)!;

    it(`${alg}: SimpleJWT signs, Tessera verifies with the public key`, async () => {
      const { access, refresh } = await obtainPair(peer());
      expect(part(access, 0)).toEqual({ alg, typ: 'JWT' });
      const verifier = new TokenManager({
        profile: 'simplejwt',
        algorithm: alg,
        publicKey: keys[alg].publicKey,
      });
      const verified = await verifier.verifyToken(access);
      expect(verified.identity).toBe(1);
      expect(verified.payload).toEqual(part(access, 1));
      await expect(verifier.verifyToken(refresh, { refresh: true })).resolves.toMatchObject({ identity: 1 });
      const stranger = new TokenManager({
        profile: 'simplejwt',
        algorithm: alg,
        publicKey: generatePemKeyPair(alg).publicKey,
      });
      await expect(stranger.verifyToken(access)).rejects.toMatchObject({ code: 'signature_invalid' });
    });

    it(`${alg}: Tessera signs, SimpleJWT verifies (/api/protected/, /api/token/refresh/, /api/token/verify/)`, async () => {
      const signer = new TokenManager({
        profile: 'simplejwt',
        algorithm: alg,
        privateKey: keys[alg].privateKey,
      });
      const access = await signer.createAccessToken({ identity: 1 });
      expect(partText(access, 0)).toBe(`{"alg":"${alg}","typ":"JWT"}`);
      const res = await callPeer(`${peer().url}/api/protected/`, { headers: bearer(access) });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ user_id: 1, username: 'alice', claims: part(access, 1) });
      const refresh = await signer.createRefreshToken({ identity: 1 });
      const refreshed = await callPeer(`${peer().url}/api/token/refresh/`, { json: { refresh } });
      expect(refreshed.status, refreshed.text).toBe(200);
      await expect(signer.verifyToken(field(refreshed.body, 'access'))).resolves.toMatchObject({
        identity: 1,
      });
      const verify = await callPeer(`${peer().url}/api/token/verify/`, { json: { token: refresh } });
      expect([verify.status, verify.text]).toEqual([200, '{}']);
    });

    it(`${alg}: a token from another key, or HS256 keyed with the public PEM, is refused by both`, async () => {
      const verifier = new TokenManager({
        profile: 'simplejwt',
        algorithm: alg,
        publicKey: keys[alg].publicKey,
      });
      const stranger = new TokenManager({
        profile: 'simplejwt',
        algorithm: alg,
        privateKey: generatePemKeyPair(alg).privateKey,
      });
      const forged = await stranger.createAccessToken({ identity: 1 });
      const confused = forge({ alg: 'HS256', typ: 'JWT' }, simplePayload(), { secret: keys[alg].publicKey });
      for (const token of [forged, confused]) {
        const res = await callPeer(`${peer().url}/api/protected/`, { headers: bearer(token) });
        expect([res.status, res.body]).toEqual([401, invalid('Token is invalid or expired')]);
        await expect(verifier.verifyToken(token)).rejects.toThrow();
      }
    });
  }
});
