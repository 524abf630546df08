/**
 * Routes that accept other token classes than AccessToken (SimpleJWT's
 * AUTH_TOKEN_CLASSES), against the real SimpleJWT 5.2.2: a sliding-only route names
 * SlidingToken in its refusals (D61); a route that accepts access and sliding
 * tokens tries each class in turn and lists each in its envelope (D62), checking a
 * sliding class's blacklist before the type (D63). Same requests to the Django peer
 * and to Tessera on Express (`jwtRequired({ tokenClasses })`); statuses and bodies
 * must match.
 */
import express from 'express';
import {
  ConfigError,
  createSimpleJwtViews,
  jsonResponse,
  MemoryStore,
  type SimpleJwtTokenClass,
  TokenManager,
  UserLookupError,
} from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPeer, PEER_HS_SECRET, type PeerResponse, type PythonPeer, startDjangoPeer } from './peers.js';
import { gatePeers, type Listening, listen, peers } from './support.js';

gatePeers('SimpleJWT token classes');

interface User {
  readonly id: number;
  readonly username: string;
  readonly active: boolean;
}
const USERS = new Map<number, User>([
  [1, { id: 1, username: 'alice', active: true }],
  [2, { id: 2, username: 'mallory', active: false }],
  [3, { id: 3, username: 'admin', active: true }],
]);

/** Tessera's twin of the peer: /api/protected/ with these classes, and the blacklist view. */
async function twin(route: { tokenClasses?: SimpleJwtTokenClass[]; tokenType?: string }): Promise<Listening> {
  const jwt = new TokenManager<User>({
    profile: 'simplejwt',
    secret: PEER_HS_SECRET,
    store: new MemoryStore(),
    callbacks: {
      userLookup: (_header, payload) => {
        const user = typeof payload.user_id === 'number' ? USERS.get(payload.user_id) : undefined;
        if (user !== undefined && !user.active) throw new UserLookupError('User is inactive');
        return user;
      },
    },
    errorHandlers: {
      user_lookup: (error, response) =>
        error.message === 'User is inactive'
          ? jsonResponse(
              401,
              { detail: 'User is inactive', code: 'user_inactive' },
              { 'www-authenticate': 'Bearer realm="api"' },
            )
          : response,
    },
  });
  const auth = createExpressAuth(jwt);
  const views = createSimpleJwtViews(jwt, { authenticate: () => null });
  const app = express();
  app.use(express.json());
  app.post('/api/token/blacklist/', async (req, res) => {
    const answer = await views.tokenBlacklist({
      method: req.method,
      url: req.originalUrl,
      header: (n) => req.get(n),
      body: () => req.body,
    });
    res.status(answer.status).set(answer.headers).send(answer.body);
  });
  app.get('/api/protected/', auth.jwtRequired(route), (req, res) => {
    const user = auth.getCurrentUser(req);
    res.json({ user_id: user?.id, username: user?.username, claims: auth.getJwt(req)?.payload });
  });
  return listen(app);
}

async function get(base: string, token: string): Promise<PeerResponse> {
  return callPeer(`${base}/api/protected/`, { headers: { authorization: `Bearer ${token}` } });
}

function same(py: PeerResponse, ts: PeerResponse): void {
  expect({ status: ts.status, body: ts.body }).toEqual({ status: py.status, body: py.body });
  expect(ts.headers.get('www-authenticate')).toBe(py.headers.get('www-authenticate'));
}

describe.skipIf(!peers.ok)('token classes: Tessera routes answer like AUTH_TOKEN_CLASSES', () => {
  let both: PythonPeer;
  let slidingOnly: PythonPeer;
  let tsBoth: Listening;
  let tsSliding: Listening;

  beforeAll(async () => {
    [both, slidingOnly, tsBoth, tsSliding] = await Promise.all([
      startDjangoPeer({ simpleJwt: { AUTH_TOKEN_CLASSES: ['access', 'sliding'] } }),
      startDjangoPeer({ simpleJwt: { AUTH_TOKEN_CLASSES: ['sliding'] } }),
      twin({ tokenClasses: ['access', 'sliding'] }),
      twin({ tokenType: 'sliding' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([both?.stop(), slidingOnly?.stop(), tsBoth?.close(), tsSliding?.close()]);
  });

  async function mint(body: Record<string, unknown>): Promise<string> {
    const res = await callPeer(`${both.url}/mint/`, { json: body as never });
    expect(res.status, res.text).toBe(200);
    return (res.body as { token: string }).token;
  }

  it('D61: a sliding-only route names SlidingToken in its refusals', async () => {
    for (const token of [
      'garbage',
      await mint({ kind: 'access' }),
      await mint({ kind: 'sliding', lifetime_seconds: -5 }),
    ]) {
      const [py, ts] = await Promise.all([get(slidingOnly.url, token), get(tsSliding.url, token)]);
      expect(py.text).toContain('"token_class":"SlidingToken"');
      same(py, ts);
    }
    const sliding = await mint({ kind: 'sliding' });
    const [py, ts] = await Promise.all([get(slidingOnly.url, sliding), get(tsSliding.url, sliding)]);
    expect(py.status).toBe(200);
    same(py, ts);
  });

  it('D62: access and sliding classes: a refused token lists both, in order', async () => {
    const tokens = [
      'garbage',
      await mint({ kind: 'refresh' }),
      await mint({ kind: 'access', claims: { token_type: null } }),
      await mint({ kind: 'sliding', lifetime_seconds: -5 }),
    ];
    for (const token of tokens) {
      const [py, ts] = await Promise.all([get(both.url, token), get(tsBoth.url, token)]);
      expect((py.body as { messages: unknown[] }).messages).toHaveLength(2);
      same(py, ts);
    }
  });

  it('a token without jti: SimpleJWT crashes in the sliding class (500, as D84); Tessera answers 401', async () => {
    const token = await mint({ kind: 'access', claims: { jti: null } });
    const [py, ts] = await Promise.all([get(both.url, token), get(tsBoth.url, token)]);
    expect(py.status).toBe(500);
    expect({ status: ts.status, body: ts.body }).toEqual({
      status: 401,
      body: {
        detail: 'Given token not valid for any token type',
        code: 'token_not_valid',
        messages: [
          { token_class: 'AccessToken', token_type: 'access', message: 'Token has no id' },
          { token_class: 'SlidingToken', token_type: 'sliding', message: 'Token has no id' },
        ],
      },
    });
  });

  it('D62: the first class that passes wins; user errors are not a class error', async () => {
    for (const token of [
      await mint({ kind: 'access' }),
      await mint({ kind: 'sliding' }),
      await mint({ kind: 'sliding', user_id: 99 }),
      await mint({ kind: 'access', user_id: 2 }),
      await mint({ kind: 'sliding', claims: { user_id: null } }),
    ]) {
      same(...(await Promise.all([get(both.url, token), get(tsBoth.url, token)])));
    }
  });

  it('D63: a blacklisted refresh token: "wrong type" as AccessToken, "blacklisted" as SlidingToken', async () => {
    const refresh = await mint({ kind: 'refresh' });
    for (const base of [both.url, tsBoth.url]) {
      const res = await callPeer(`${base}/api/token/blacklist/`, { json: { refresh } });
      expect(res.status, res.text).toBe(200);
    }
    const [py, ts] = await Promise.all([get(both.url, refresh), get(tsBoth.url, refresh)]);
    expect(py.body).toMatchObject({
      messages: [{ message: 'Token has wrong type' }, { message: 'Token is blacklisted' }],
    });
    same(py, ts);
  });

  it('tokenClasses is checked at configuration time', () => {
    const jwt = new TokenManager({ profile: 'simplejwt', secret: PEER_HS_SECRET });
    const auth = createExpressAuth(jwt);
    expect(() => auth.jwtRequired({ tokenClasses: [] })).toThrow(ConfigError);
    expect(() => auth.jwtRequired({ tokenClasses: ['untyped' as SimpleJwtTokenClass] })).toThrow(ConfigError);
    expect(() => auth.jwtRequired({ tokenClasses: ['access'], refresh: true })).toThrow(ConfigError);
    const standard = createExpressAuth(new TokenManager({ secret: PEER_HS_SECRET }));
    expect(() => standard.jwtRequired({ tokenClasses: ['access'] })).toThrow(ConfigError);
  });
});
