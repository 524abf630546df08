/**
 * Tessera's SimpleJWT views and DRF-style opaque tokens answer like the real
 * djangorestframework-simplejwt 5.2 and DRF 3.14: the same requests go to the
 * Django peer and to Tessera, and statuses and bodies must match.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRequestLike } from '../../src/adapters/fetch.js';
import { createOpaqueTokenGuard, generateOpaqueToken } from '../../src/http/opaque-token.js';
import { createSimpleJwtViews, type View } from '../../src/http/simplejwt-views.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import {
  PEER_HS_SECRET,
  PEER_USERS,
  type PythonPeer,
  pythonPeersAvailable,
  startDjangoPeer,
} from './peers.js';

const available = pythonPeersAvailable();
if (!available.ok && !process.env.CI) console.warn(`[interop] skipping SimpleJWT views: ${available.reason}`);
const run = available.ok || Boolean(process.env.CI);

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

async function post(
  base: string,
  path: string,
  init: { json?: unknown; raw?: string; type?: string; method?: string; auth?: string },
) {
  const headers: Record<string, string> = {};
  if (init.type !== undefined) headers['content-type'] = init.type;
  else if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.auth !== undefined) headers.authorization = init.auth;
  const res = await fetch(base + path, {
    method: init.method ?? 'POST',
    headers,
    body: init.raw ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body, headers: res.headers } satisfies Answer;
}

describe.runIf(run)('SimpleJWT views against djangorestframework-simplejwt', () => {
  let django: PythonPeer;
  let tessera: Server;
  let base = '';
  const apiKey = generateOpaqueToken();
  const lastLogins: unknown[] = [];

  beforeAll(async () => {
    django = await startDjangoPeer({ simpleJwt: { ROTATE_REFRESH_TOKENS: false } });
    const manager = new TokenManager({
      profile: 'simplejwt',
      secret: PEER_HS_SECRET,
      store: new MemoryStore(),
    });
    const users = new Map([
      ['alice', { id: 1, password: PEER_USERS.alice.password, active: true }],
      ['mallory', { id: 2, password: 'mallory-password', active: false }],
    ]);
    const views = createSimpleJwtViews(manager, {
      updateLastLogin: (identity) => {
        lastLogins.push(identity);
      },
      authenticate: (username, password) => {
        const user = users.get(username);
        return user?.active && user.password === password ? user.id : null;
      },
    });
    const apiKeys = new Map([[apiKey.hash, { id: 1, active: true }]]);
    const tokenGuard = createOpaqueTokenGuard({
      lookup: (hash) => apiKeys.get(hash),
      isActive: (u) => u.active,
    });
    const routes: Record<string, View> = {
      '/api/token/': views.tokenObtainPair,
      '/api/token/refresh/': views.tokenRefresh,
      '/api/token/verify/': views.tokenVerify,
      '/api/token/blacklist/': views.tokenBlacklist,
      '/api/token/sliding/': views.tokenObtainSliding,
      '/api/token/sliding/refresh/': views.tokenRefreshSliding,
      '/api/token-protected/': async (req) => {
        const result = await tokenGuard(req);
        if (!result.ok) return result.response;
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user_id: result.user.id }),
        };
      },
    };
    tessera = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: chunks.length > 0 && req.method !== 'GET' ? Buffer.concat(chunks) : undefined,
      });
      const route = routes[new URL(request.url).pathname];
      const answer =
        route === undefined ? { status: 404, headers: {}, body: '' } : await route(toRequestLike(request));
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
    await new Promise<void>((done) => tessera.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(tessera.address() as AddressInfo).port}`;
  }, 30_000);

  afterAll(async () => {
    await django?.stop();
    await new Promise<void>((done) => (tessera ? tessera.close(() => done()) : done()));
  });

  async function both(path: string, init: Parameters<typeof post>[2]): Promise<[Answer, Answer]> {
    return Promise.all([post(django.url, path, init), post(base, path, init)]);
  }

  function same([py, ts]: [Answer, Answer]): void {
    expect(ts.status).toBe(py.status);
    expect(ts.body).toEqual(py.body);
  }

  it('obtain: missing, blank and wrong credentials answer alike', async () => {
    same(await both('/api/token/', { json: {} }));
    same(await both('/api/token/', { json: { username: '', password: '' } }));
    const wrong = await both('/api/token/', { json: { username: 'alice', password: 'nope' } });
    same(wrong);
    expect(wrong[1].headers.get('www-authenticate')).toBe(wrong[0].headers.get('www-authenticate'));
    same(await both('/api/token/', { json: { username: 'mallory', password: 'mallory-password' } }));
  });

  it('obtain: method and media type errors answer alike', async () => {
    same(await both('/api/token/', { method: 'GET' }));
    same(await both('/api/token/', { raw: 'username=alice', type: 'text/plain' }));
  });

  it('D95: OPTIONS on every token view answers DRF metadata, byte for byte, with Allow', async () => {
    for (const path of [
      '/api/token/',
      '/api/token/refresh/',
      '/api/token/verify/',
      '/api/token/blacklist/',
      '/api/token/sliding/',
      '/api/token/sliding/refresh/',
    ]) {
      const [py, ts] = await Promise.all(
        [django.url, base].map((url) => fetch(url + path, { method: 'OPTIONS' })),
      );
      expect(py!.status).toBe(200);
      expect(ts!.status).toBe(200);
      expect(await ts!.text()).toBe(await py!.text());
      expect(ts!.headers.get('allow')).toBe(py!.headers.get('allow'));
      expect(ts!.headers.get('content-type')).toBe(py!.headers.get('content-type'));
    }
  });

  it('obtain pair: the same keys and claim layout', async () => {
    const [py, ts] = await both('/api/token/', {
      json: { username: 'alice', password: PEER_USERS.alice.password },
    });
    expect(ts.status).toBe(200);
    expect(Object.keys(ts.body as object)).toEqual(Object.keys(py.body as object));
    // UPDATE_LAST_LOGIN: the hook saw this login, and no failed one.
    expect(lastLogins).toEqual([1]);
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
    const pyBody = py.body as { access: string; refresh: string };
    const tsBody = ts.body as { access: string; refresh: string };
    expect(Object.keys(claims(tsBody.access))).toEqual(Object.keys(claims(pyBody.access)));
    expect(Object.keys(claims(tsBody.refresh))).toEqual(Object.keys(claims(pyBody.refresh)));
    // Each side accepts the other's tokens.
    expect(
      (await post(django.url, '/api/protected/', { method: 'GET', auth: `Bearer ${tsBody.access}` })).status,
    ).toBe(200);
    expect((await post(base, '/api/token/verify/', { json: { token: pyBody.access } })).status).toBe(200);
  });

  it('refresh, verify and blacklist: errors answer alike', async () => {
    const [py] = await both('/api/token/', {
      json: { username: 'alice', password: PEER_USERS.alice.password },
    });
    const { access, refresh } = py.body as { access: string; refresh: string };
    same(await both('/api/token/refresh/', { json: {} }));
    same(await both('/api/token/refresh/', { json: { refresh: 'garbage' } }));
    same(await both('/api/token/refresh/', { json: { refresh: access } }));
    same(await both('/api/token/verify/', { json: {} }));
    same(await both('/api/token/verify/', { json: { token: `${access}x` } }));
    same(await both('/api/token/blacklist/', { json: { refresh: access } }));
    const refreshed = await both('/api/token/refresh/', { json: { refresh } });
    expect(refreshed[1].status).toBe(200);
    expect(Object.keys(refreshed[1].body as object)).toEqual(Object.keys(refreshed[0].body as object));
  });

  it('blacklist: a blacklisted refresh token is refused by refresh and blacklist', async () => {
    const login = async (url: string) =>
      (await post(url, '/api/token/', { json: { username: 'alice', password: PEER_USERS.alice.password } }))
        .body as {
        refresh: string;
      };
    const [pyTokens, tsTokens] = await Promise.all([login(django.url), login(base)]);
    const py1 = await post(django.url, '/api/token/blacklist/', { json: { refresh: pyTokens.refresh } });
    const ts1 = await post(base, '/api/token/blacklist/', { json: { refresh: tsTokens.refresh } });
    same([py1, ts1]);
    same([
      await post(django.url, '/api/token/refresh/', { json: { refresh: pyTokens.refresh } }),
      await post(base, '/api/token/refresh/', { json: { refresh: tsTokens.refresh } }),
    ]);
    same([
      await post(django.url, '/api/token/blacklist/', { json: { refresh: pyTokens.refresh } }),
      await post(base, '/api/token/blacklist/', { json: { refresh: tsTokens.refresh } }),
    ]);
  });

  it('sliding: obtain and refresh keep jti and refresh_exp; an access token is refused alike', async () => {
    const [py, ts] = await both('/api/token/sliding/', {
      json: { username: 'alice', password: PEER_USERS.alice.password },
    });
    expect(ts.status).toBe(200);
    const token = (ts.body as { token: string }).token;
    const refreshed = await post(base, '/api/token/sliding/refresh/', { json: { token } });
    expect(refreshed.status).toBe(200);
    const claims = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const next = claims((refreshed.body as { token: string }).token);
    expect(next.jti).toBe(claims(token).jti);
    expect(next.refresh_exp).toBe(claims(token).refresh_exp);
    const pyAccess = await post(django.url, '/api/token/', {
      json: { username: 'alice', password: PEER_USERS.alice.password },
    });
    same(
      await both('/api/token/sliding/refresh/', {
        json: { token: (pyAccess.body as { access: string }).access },
      }),
    );
    // The Django peer accepts Tessera's sliding token at its own sliding refresh.
    expect((await post(django.url, '/api/token/sliding/refresh/', { json: { token } })).status).toBe(200);
    expect(py.status).toBe(200);
  });

  it('DRF TokenAuthentication: header errors answer alike; a valid key is accepted', async () => {
    for (const auth of [
      undefined,
      'Bearer abc',
      'Token',
      'Token a b',
      'Token 0123456789abcdef0123456789abcdef01234567',
    ]) {
      same(await both('/api/token-protected/', { method: 'GET', auth }));
    }
    const ok = await post(base, '/api/token-protected/', { method: 'GET', auth: `token ${apiKey.key}` });
    expect(ok).toMatchObject({ status: 200, body: { user_id: 1 } });
  });
});

// No peer needed: what the refresh views ask of the application's callbacks.
describe('SimpleJWT refresh views and the callbacks', () => {
  const request = (path: string, body: Record<string, string>) => ({
    method: 'POST',
    url: path,
    header: (name: string) => (name.toLowerCase() === 'content-type' ? 'application/json' : undefined),
    body: () => body,
  });

  it('never run userLookup (D86/D87), but still ask tokenInBlocklist without a store', async () => {
    const lookups: unknown[] = [];
    const blocked = new Set<string>();
    const manager = new TokenManager({
      profile: 'simplejwt',
      secret: PEER_HS_SECRET,
      callbacks: {
        userLookup: (_header, payload) => {
          lookups.push(payload.user_id);
          return null; // every user deleted
        },
        tokenInBlocklist: (_header, payload) => blocked.has(payload.jti as string),
      },
    });
    const views = createSimpleJwtViews(manager, { authenticate: () => 1 });
    const refresh = await manager.createRefreshToken({ identity: 7 });
    const sliding = await manager.createSlidingToken({ identity: 7 });
    expect((await views.tokenRefresh(request('/api/token/refresh/', { refresh }))).status).toBe(200);
    expect(
      (await views.tokenRefreshSliding(request('/api/token/sliding/refresh/', { token: sliding }))).status,
    ).toBe(200);
    expect(lookups).toEqual([]);
    blocked.add((await manager.decodeToken(refresh)).jti as string);
    const refused = await views.tokenRefresh(request('/api/token/refresh/', { refresh }));
    expect({ status: refused.status, body: JSON.parse(refused.body) }).toEqual({
      status: 401,
      body: { detail: 'Token is blacklisted', code: 'token_not_valid' },
    });
  });
});
