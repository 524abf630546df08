/**
 * Real clients: two Chromium pages of ONE browser context (one cookie jar)
 * against an Express app in cookie mode with CSRF, rotation on and a store.
 * Both pages refresh at the same moment, round after round, and both must stay
 * signed in; a logout in one signs the other out. Run on the memory store,
 * SQLite, Redis and PostgreSQL (the last two need their services: they fail
 * under CI when absent, and are skipped with a printed reason elsewhere).
 */
import { createServer } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { MemoryStore, TokenManager, type TokenStore } from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { RedisStore } from 'tessera-auth/stores/redis';
import { SqlStore } from 'tessera-auth/stores/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenNode, type Started } from '../adapters/scenarios.js';
import { pingRedis, runId, serviceAvailable, services } from '../stores/services.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const SECRET = 'two-tabs-browser-test-secret-0123456789abcdef';
const ROUNDS = 5;

/**
 * Holds refresh requests marked `x-together: 2` until both have arrived, so both
 * tabs' requests are on the wire (their cookies attached) before either answer
 * changes the jar: the two refreshes meet in the store at the same moment.
 */
function together(): express.RequestHandler {
  let waiting: Array<() => void> = [];
  return (req, _res, next) => {
    if (req.get('x-together') !== '2') return next();
    waiting.push(() => next());
    if (waiting.length < 2) return;
    const all = waiting;
    waiting = [];
    for (const go of all) go();
  };
}

/** The refresh jti of each answer's refresh cookie, in the order they were sent. */
function recordIssued(issued: string[]): express.RequestHandler {
  return (_req, res, next) => {
    res.on('finish', () => {
      const cookies = res.getHeader('set-cookie');
      const line = (Array.isArray(cookies) ? cookies : []).find((c) => c.startsWith('refresh_token_cookie='));
      if (line === undefined) return;
      const token = line.split(';', 1)[0]!.slice('refresh_token_cookie='.length);
      if (token !== '') issued.push(String(decodeJwt(token).jti));
    });
    next();
  };
}

function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** The app: login, a protected route, the refresh handler and logout. */
function buildApp(store: TokenStore) {
  const issued: string[] = [];
  const manager = new TokenManager({
    secret: SECRET,
    store,
    tokenLocation: ['cookies'],
    // Plain http on loopback in this test; production cookies stay Secure.
    cookies: { secure: false, sameSite: 'Strict' },
    rotation: { enabled: true, graceSeconds: 10 },
  });
  const auth = createExpressAuth(manager);
  const app = express();
  app.get('/', (_req, res) => {
    res.type('html').send('<!doctype html><title>tessera</title><p>two tabs</p>');
  });
  app.post('/auth/login', async (_req, res, next) => {
    try {
      const pair = await manager.createTokenPair({ identity: 'alice' });
      auth.setAccessCookies(res, pair.accessToken);
      auth.setRefreshCookies(res, pair.refreshToken);
      res.json({ login: true });
    } catch (error) {
      next(error);
    }
  });
  app.get('/api/me', auth.jwtRequired(), (req, res) => {
    res.json({ who: auth.getJwtIdentity(req) });
  });
  app.post('/auth/refresh', together(), recordIssued(issued), auth.refresh());
  app.post('/auth/logout', auth.jwtRequired(), async (req, res, next) => {
    try {
      await manager.logout(auth.getJwt(req)!.payload);
      auth.unsetJwtCookies(res);
      res.json({ logout: true });
    } catch (error) {
      next(error);
    }
  });
  return { app, issued };
}

/** What a page's script does: the calls a single-page app makes with fetch. */
interface PageAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The HttpOnly refresh cookie as the browser holds it (scripts cannot read it). */
async function refreshCookie(context: BrowserContext | undefined): Promise<string | undefined> {
  const cookies = await context?.cookies();
  return cookies?.find((c) => c.name === 'refresh_token_cookie')?.value;
}

function csrfCookie(page: Page, name: string): Promise<string> {
  return page.evaluate((cookieName) => {
    const match = document.cookie.split('; ').find((c) => c.startsWith(`${cookieName}=`));
    return match === undefined ? '' : decodeURIComponent(match.slice(cookieName.length + 1));
  }, name);
}

function pagePost(
  page: Page,
  path: string,
  csrfName: string,
  extra: Record<string, string> = {},
): Promise<PageAnswer> {
  return page.evaluate(
    async ({ target, cookieName, headers }) => {
      const match = document.cookie.split('; ').find((c) => c.startsWith(`${cookieName}=`));
      const csrf = match === undefined ? '' : decodeURIComponent(match.slice(cookieName.length + 1));
      const response = await fetch(target, { method: 'POST', headers: { ...headers, 'X-CSRF-TOKEN': csrf } });
      return { status: response.status, body: await response.json() };
    },
    { target: path, cookieName: csrfName, headers: extra },
  );
}

function pageGet(page: Page, path: string): Promise<PageAnswer> {
  return page.evaluate(async (target) => {
    const response = await fetch(target);
    return { status: response.status, body: await response.json() };
  }, path);
}

const refresh = (page: Page) => pagePost(page, '/auth/refresh', 'csrf_refresh_token');
const refreshTogether = (page: Page) =>
  pagePost(page, '/auth/refresh', 'csrf_refresh_token', { 'x-together': '2' });
const me = (page: Page) => pageGet(page, '/api/me');

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 60_000);
afterAll(() => browser?.close());

/** The scenario, on one store. */
function twoTabs(name: string, makeStore: () => Promise<{ store: TokenStore; done: () => Promise<void> }>) {
  describe(`two tabs, one cookie jar: ${name}`, () => {
    let server: Started;
    let app: ReturnType<typeof buildApp>;
    let context: BrowserContext;
    let done: () => Promise<void>;
    let tabs: [Page, Page];

    beforeAll(async () => {
      const made = await makeStore();
      done = made.done;
      app = buildApp(made.store);
      server = await listenNode(createServer(app.app));
      context = await browser.newContext();
      tabs = [await context.newPage(), await context.newPage()];
      for (const tab of tabs) await tab.goto(server.url);
    }, 60_000);
    afterAll(async () => {
      await context?.close();
      await server?.close();
      await done?.();
    });

    it('both tabs refresh at the same moment, round after round, and stay signed in; logout in one signs both out', async () => {
      const [one, two] = tabs;
      const login = await pagePost(one, '/auth/login', 'csrf_access_token');
      expect(login.status).toBe(200);
      expect(await me(two)).toEqual({ status: 200, body: { who: 'alice' } });

      for (let round = 1; round <= ROUNDS; round++) {
        const before = await refreshCookie(context);
        const csrfBefore = await csrfCookie(one, 'csrf_refresh_token');
        const answers = await Promise.all([refreshTogether(one), refreshTogether(two)]);
        for (const answer of answers) {
          expect(answer, `round ${round}: ${JSON.stringify(answers)}`).toMatchObject({
            status: 200,
            body: { refreshed: true },
          });
        }
        // Converged: both answers carry the same successor (the same refresh jti), so whichever
        // the jar kept last, it is the family's current refresh token.
        const [first, second] = app.issued.splice(0);
        expect(first, `round ${round}`).toBeTruthy();
        expect(second, `round ${round}: the two tabs got different successors`).toBe(first);
        // The jar now holds a successor: the refresh token was rotated this round, and the
        // session kept its CSRF value (one value per session), so a tab that read it earlier
        // still sends what the new cookies expect.
        expect(await refreshCookie(context)).not.toBe(before);
        expect(await csrfCookie(one, 'csrf_refresh_token')).toBe(csrfBefore);
        const seen = await Promise.all([me(one), me(two)]);
        expect(seen, `round ${round}`).toEqual([
          { status: 200, body: { who: 'alice' } },
          { status: 200, body: { who: 'alice' } },
        ]);
      }
      app.issued.splice(0);
      // Each tab refreshes again on its own.
      expect((await refresh(two)).status).toBe(200);
      expect((await refresh(one)).status).toBe(200);

      const out = await pagePost(two, '/auth/logout', 'csrf_access_token');
      expect(out).toEqual({ status: 200, body: { logout: true } });
      const after = await me(one);
      expect(after.status).toBe(401);
      expect(after.body).toMatchObject({ code: 'authorization_missing' });
      // The jar lost its cookies, and the session's refresh token is revoked server-side too.
      expect((await refresh(one)).status).toBe(401);
    });
  });
}

twoTabs('memory store', async () => {
  const store = new MemoryStore();
  return { store, done: () => store.close() };
});

twoTabs('SQLite', async () => {
  const store = await SqlStore.sqlite(':memory:');
  await store.migrate();
  return { store, done: () => store.close() };
});

const redisUp = await serviceAvailable('Redis', pingRedis);
if (redisUp) {
  twoTabs('Redis', async () => {
    const prefix = `tessera-test:tabs:${runId()}:`;
    const store = new RedisStore({ redis: { ...services.redis }, prefix });
    return {
      store,
      done: async () => {
        await store.close();
        const admin = new Redis({ ...services.redis });
        try {
          const keys = await admin.keys(`${prefix}*`);
          if (keys.length > 0) await admin.del(...keys);
        } finally {
          admin.disconnect();
        }
      },
    };
  });
}

const pgUp = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ ...services.postgres, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
});
if (pgUp) {
  twoTabs('PostgreSQL', async () => {
    const prefix = `tabs_${runId()}_`;
    const store = await SqlStore.postgres({ ...services.postgres }, { tablePrefix: prefix });
    await store.migrate();
    return {
      store,
      done: async () => {
        await store.close();
        const client = new pg.Client(services.postgres);
        await client.connect();
        try {
          const { rows } = await client.query<{ name: string }>(
            'SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE $1',
            [`${prefix}%`],
          );
          for (const { name } of rows) await client.query(`DROP TABLE IF EXISTS "${name}"`);
        } finally {
          await client.end();
        }
      },
    };
  });
}
