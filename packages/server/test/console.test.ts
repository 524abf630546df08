/**
 * The web console at /console, driven in Debian's Chromium against the
 * started service, at desktop (1280x800) and phone (375x740) width: sign in
 * with cookies and CSRF, sessions, API keys, the token inspector, admin users,
 * keys and events; axe-core on every page, a screenshot of each kept under
 * test/artifacts/console/, and no refresh token anywhere a script can read.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { TokenManager } from 'tessera-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../tessera/test/stores/services.js';
import type { AppEnv } from '../src/context.js';
import { consoleRoutes } from '../src/routes/console.js';
import {
  axeViolations,
  buildConsole,
  launchChromium,
  navigate,
  openConsole,
  ready,
  scriptVisible,
  sidewaysScroll,
  signIn,
  snap,
  tokenCookies,
  VIEWPORTS,
  type ViewportName,
  visit,
} from './console-support.js';
import { ADMIN, call, login, startTestService, type TestService } from './support.js';

// Debian's Chromium (never a downloaded browser): required under CI, skipped with the reason elsewhere.
const browserUp = await serviceAvailable('chromium', async () =>
  accessSync('/usr/bin/chromium', constants.X_OK),
);

let browser: Browser;

beforeAll(async () => {
  buildConsole();
  if (browserUp) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

const PAGES = [
  ['/', 'account'],
  ['/sessions', 'sessions'],
  ['/api-keys', 'api-keys'],
  ['/inspector', 'inspector'],
  ['/admin/users', 'admin-users'],
  ['/admin/keys', 'admin-keys'],
  ['/admin/events', 'admin-events'],
] as const;

for (const viewport of Object.keys(VIEWPORTS) as ViewportName[]) {
  describe.skipIf(!browserUp)(`console at ${viewport} width`, { timeout: 90_000 }, () => {
    let svc: TestService;
    let adminToken: string;
    const password = 'correct-horse-battery';

    /** A user made through the admin API. */
    const makeUser = async (username: string, roles: string[] = []) => {
      const res = await call(svc.base, 'POST', '/admin/users', {
        token: adminToken,
        json: { username, password, roles },
      });
      expect(res.status).toBe(201);
    };

    beforeAll(async () => {
      svc = await startTestService();
      adminToken = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
    });
    afterAll(async () => {
      await svc?.stop();
    });

    it('serves the console with its own strict Content-Security-Policy', async () => {
      const page = await fetch(`${svc.base}/console/`);
      expect(page.status).toBe(200);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      const html = await page.text();
      // Everything bundled and served here: no inline script, no other origin.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/(src|href)="https?:/);
      const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${svc.base}${script}`);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await fetch(`${svc.base}/console`, { redirect: 'manual' })).headers.get('location')).toBe(
        '/console/',
      );
      expect((await fetch(`${svc.base}/console/assets/nope.js`)).status).toBe(404);
    });

    it('walks every page signed in as an admin: screenshots, axe-core, no refresh token readable', async () => {
      const { context, page, errors } = await openConsole(browser, viewport);
      try {
        await page.goto(`${svc.base}/console/`);
        await ready(page, '/signin');
        await snap(page, 'signin', viewport);
        expect(await axeViolations(page)).toEqual([]);

        // Keyboard only: the username field has focus, Tab moves on, Enter submits.
        await page.keyboard.type(ADMIN.username);
        await page.keyboard.press('Tab');
        await page.keyboard.type(ADMIN.password);
        await page.keyboard.press('Enter');
        await ready(page, '/');
        expect(await page.getByTestId('signed-in-user').textContent()).toBe(ADMIN.username);
        const { access, refresh } = await tokenCookies(context);
        expect(refresh).toMatch(/^eyJ/);
        expect(access).toMatch(/^eyJ/);
        const cookies = await context.cookies();
        expect(cookies.find((c) => c.name === 'refresh_token_cookie')?.httpOnly).toBe(true);
        expect(cookies.find((c) => c.name === 'access_token_cookie')?.httpOnly).toBe(true);

        for (const [path, name] of PAGES) {
          await visit(page, svc.base, path);
          await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toBe(ADMIN.username);
          await snap(page, name, viewport);
          expect(await axeViolations(page), `axe on ${path}`).toEqual([]);
          const visible = await scriptVisible(page);
          expect(visible, `refresh token readable on ${path}`).not.toContain(refresh);
          expect(visible, `access token readable on ${path}`).not.toContain(access);
          // The page fits the viewport: nothing scrolls sideways.
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          expect(overflow, `horizontal overflow on ${path}`).toBeLessThanOrEqual(0);
        }
        // The skip link moves focus to the content and leaves the route alone.
        await page.keyboard.press('Home');
        await page.locator('a.skip').focus();
        await page.keyboard.press('Enter');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
        expect(await page.evaluate(() => location.hash)).toBe('#/admin/events');
        // The navigation works from the keyboard: focus the Sessions link, press Enter.
        await page.getByRole('link', { name: 'Sessions' }).focus();
        await page.keyboard.press('Enter');
        await ready(page, '/sessions');
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('sessions list this browser; revoking a session signs that browser out', async () => {
      const username = `sess-${viewport}`;
      await makeUser(username);
      const first = await openConsole(browser, viewport);
      const second = await openConsole(browser, viewport);
      try {
        await signIn(first.page, svc.base, username, password);
        await signIn(second.page, svc.base, username, password);
        await visit(second.page, svc.base, '/sessions');
        const rows = second.page.locator('main tbody tr');
        await expect.poll(() => rows.count()).toBe(2);
        const mine = rows.filter({ hasText: 'This browser' });
        expect(await mine.count()).toBe(1);
        expect(await mine.textContent()).toContain('Headless Chrome on Linux');
        expect(await mine.textContent()).toContain('127.0.0.1');
        await snap(second.page, 'sessions-two', viewport);

        // Revoke the other browser's session.
        await rows
          .filter({ hasNotText: 'This browser' })
          .getByRole('button', { name: /Revoke session/ })
          .click();
        await expect
          .poll(() => second.page.getByRole('status').first().textContent())
          .toContain('Session revoked');
        await expect.poll(() => rows.count()).toBe(1);

        // The first browser's next call is refused, its refresh too: it lands on the sign-in page.
        await navigate(first.page, svc.base, '/sessions');
        await ready(first.page, '/signin');
        expect(await first.page.getByTestId('signed-in-user').count()).toBe(0);
        // The second browser is still signed in.
        await visit(second.page, svc.base, '/');
        expect(await second.page.getByTestId('signed-in-user').textContent()).toBe(username);
      } finally {
        await first.context.close();
        await second.context.close();
      }
    });

    it('an API key is shown once, then only by its prefix, and works', async () => {
      const username = `keys-${viewport}`;
      await makeUser(username);
      const { context, page } = await openConsole(browser, viewport);
      try {
        await signIn(page, svc.base, username, password);
        await visit(page, svc.base, '/api-keys');
        await page.getByLabel('Name').fill('CI deploy');
        await page.getByRole('button', { name: 'Create key' }).click();
        const shown = page.getByTestId('new-api-key');
        await expect.poll(() => shown.textContent()).toMatch(/^tsk_/);
        const secret = (await shown.textContent())!;
        await snap(page, 'api-key-created', viewport);
        expect(await axeViolations(page)).toEqual([]);

        // The key works as its owner, with its scope.
        const me = await call(svc.base, 'GET', '/auth/me', { token: secret, scheme: 'Token' });
        expect(me.status).toBe(200);
        expect(me.body.username).toBe(username);

        // Leave the page and come back: the list shows the prefix, never the secret.
        await visit(page, svc.base, '/sessions');
        await visit(page, svc.base, '/api-keys');
        const row = page.locator('main tbody tr', { hasText: 'CI deploy' });
        await expect.poll(() => row.count()).toBe(1);
        const prefix = (await row.locator('code.prefix').textContent())!.replace('…', '');
        expect(prefix.length).toBeGreaterThan(4);
        expect(secret.startsWith(prefix)).toBe(true);
        expect(await scriptVisible(page)).not.toContain(secret);
        expect(await page.getByTestId('new-api-key').count()).toBe(0);

        // Revoke: the key stops working.
        await row.getByRole('button', { name: 'Revoke API key CI deploy' }).click();
        await expect.poll(() => page.locator('main tbody tr', { hasText: 'CI deploy' }).count()).toBe(0);
        expect((await call(svc.base, 'GET', '/auth/me', { token: secret, scheme: 'Token' })).status).toBe(
          401,
        );
      } finally {
        await context.close();
      }
    });

    it('the inspector names an expired token, a tampered one, an unknown kid and a malformed one', async () => {
      const { context, page } = await openConsole(browser, viewport);
      // Signed by the service's own key, issued 4 minutes ago for 60 seconds: expired 3 minutes ago.
      const past = new TokenManager({
        keys: svc.service.context.keys,
        accessTokenExpires: 60,
        now: () => Math.floor(Date.now() / 1000) - 240,
      });
      const expired = await past.createAccessToken({ identity: 'someone' });
      try {
        await signIn(page, svc.base, ADMIN.username, ADMIN.password);
        const { access } = await tokenCookies(context);
        await visit(page, svc.base, '/inspector');
        const token = page.getByLabel('Token', { exact: true });
        const findings = page.getByTestId('findings');

        await token.fill(expired);
        await expect.poll(() => findings.textContent()).toContain('Signature valid');
        expect(await findings.textContent()).toContain('Expired 3 minutes ago');
        expect(await page.getByTestId('countdown').textContent()).toContain('Expired 3 minutes ago');
        await snap(page, 'inspector-expired', viewport);
        expect(await sidewaysScroll(page)).toBe('');
        expect(await axeViolations(page)).toEqual([]);

        // A live token: valid signature and a countdown that moves.
        await token.fill(access);
        await expect.poll(() => findings.textContent()).toContain('Signature valid');
        const before = await page.getByTestId('countdown').textContent();
        expect(before).toMatch(/^Expires in \d\d:\d\d/);
        await expect
          .poll(() => page.getByTestId('countdown').textContent(), { timeout: 5000 })
          .not.toBe(before);

        // Tampered: the payload changed after signing.
        const [header, payload, signature] = access.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
        const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['admin', 'superuser'] })).toString(
          'base64url',
        );
        await token.fill(`${header}.${forged}.${signature}`);
        await expect.poll(() => findings.textContent()).toContain('Signature does not match');
        await snap(page, 'inspector-tampered', viewport);
        // Long tokens, kids and claims wrap: nothing scrolls sideways.
        expect(await sidewaysScroll(page)).toBe('');

        // Unknown kid.
        const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
        const otherKid = Buffer.from(JSON.stringify({ ...head, kid: 'not-a-key-of-ours' })).toString(
          'base64url',
        );
        await token.fill(`${otherKid}.${payload}.${signature}`);
        await expect.poll(() => findings.textContent()).toContain('Unknown kid: no key "not-a-key-of-ours"');

        // Wrong algorithm: the service's kid, another alg.
        const wrongAlg = Buffer.from(JSON.stringify({ ...head, alg: 'ES256' })).toString('base64url');
        await token.fill(`${wrongAlg}.${payload}.${signature}`);
        await expect.poll(() => findings.textContent()).toContain('Wrong algorithm: the token says ES256');

        // alg none, and malformed input.
        const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        await token.fill(`${none}.${payload}.`);
        await expect.poll(() => findings.textContent()).toContain('Unsigned: alg is "none"');
        await token.fill('not.a-token');
        await expect.poll(() => findings.textContent()).toContain('Malformed: a JWT has three parts');
        await token.fill(`${header}.%%%.${signature}`);
        await expect.poll(() => findings.textContent()).toContain('payload is not base64url');

        // Against a JWKS URL (the service's own, by its absolute address).
        await token.fill(access);
        await page.getByLabel('A JWKS URL', { exact: true }).check();
        await page.getByLabel('JWKS URL', { exact: true }).fill(`${svc.base}/.well-known/jwks.json`);
        await page.getByRole('button', { name: 'Inspect' }).click();
        await expect.poll(() => findings.textContent()).toContain(`of ${svc.base}/.well-known/jwks.json`);
        expect(await findings.textContent()).toContain('Signature valid');
      } finally {
        await context.close();
      }
    });

    it('admin disables a user: the user is signed out and their sign-in is refused', async () => {
      const username = `bob-${viewport}`;
      await makeUser(username);
      const admin = await openConsole(browser, viewport);
      const bob = await openConsole(browser, viewport);
      try {
        await signIn(bob.page, svc.base, username, password);
        await signIn(admin.page, svc.base, ADMIN.username, ADMIN.password);
        await visit(admin.page, svc.base, '/admin/users');
        await admin.page.getByLabel('Search users').fill(username);
        await admin.page.getByRole('button', { name: 'Search' }).click();
        const row = admin.page.locator('main tbody tr', { hasText: username });
        await expect.poll(() => admin.page.locator('main tbody tr').count()).toBe(1);
        await row.getByRole('button', { name: `Disable ${username}` }).click();
        await expect.poll(() => row.textContent()).toContain('Disabled');
        await snap(admin.page, 'admin-user-disabled', viewport);

        // Bob's open console is signed out at its next call.
        await navigate(bob.page, svc.base, '/sessions');
        await ready(bob.page, '/signin');
        // And signing in again is refused.
        await bob.page.getByLabel('Username').fill(username);
        await bob.page.getByLabel('Password').fill(password);
        await bob.page.getByRole('button', { name: 'Sign in' }).click();
        await expect
          .poll(() => bob.page.getByRole('status').last().textContent())
          .toContain('Bad username or password');
        expect(await bob.page.getByTestId('signed-in-user').count()).toBe(0);
        await snap(bob.page, 'signin-refused', viewport);

        // Roles: give bob a role from the console; the admin API reports it.
        await row.getByLabel(`Roles of ${username}`).fill('auditor');
        await row.getByRole('button', { name: 'Save' }).click();
        await expect
          .poll(
            async () =>
              (await call(svc.base, 'GET', `/admin/users/${username}`, { token: adminToken })).body.roles,
          )
          .toEqual(['auditor']);

        // Enable again: the sign-in works.
        await row.getByRole('button', { name: `Enable ${username}` }).click();
        await expect.poll(() => row.textContent()).toContain('Active');
        await signIn(bob.page, svc.base, username, password);

        // Revoke everything (two steps): bob is signed out again.
        await row.getByRole('button', { name: `Revoke everything of ${username}` }).click();
        await row.getByRole('button', { name: /Confirm revoke: every token/ }).click();
        await expect
          .poll(() => admin.page.getByRole('status').first().textContent())
          .toContain('was revoked');
        await navigate(bob.page, svc.base, '/sessions');
        await ready(bob.page, '/signin');
      } finally {
        await admin.context.close();
        await bob.context.close();
      }
    });

    it('admin keys: rotate now makes a new signing key; the schedule shows the next rotation', async () => {
      const { context, page } = await openConsole(browser, viewport);
      try {
        await signIn(page, svc.base, ADMIN.username, ADMIN.password);
        await visit(page, svc.base, '/admin/keys');
        const rows = page.locator('main tbody tr');
        const before = await rows.count();
        const signingBefore = await rows.filter({ hasText: 'Signing' }).locator('code').textContent();
        expect(await page.locator('main dl.facts').textContent()).toMatch(/Next rotation.*in (29|30) days/);
        await page.getByRole('button', { name: 'Rotate now' }).click();
        await expect.poll(() => rows.count()).toBe(before + 1);
        const signingAfter = await rows
          .filter({ hasText: /^(?!.*Verifying only).*Signing/ })
          .locator('code')
          .textContent();
        expect(signingAfter).not.toBe(signingBefore);
        const jwks = (await call(svc.base, 'GET', '/.well-known/jwks.json')).body as {
          keys: { kid: string }[];
        };
        expect(jwks.keys.map((k) => k.kid)).toContain(signingAfter);
        await snap(page, 'admin-keys-rotated', viewport);
      } finally {
        await context.close();
      }
    });

    it('admin events: failed sign-ins, throttling and reuse show in the list and the chart', async () => {
      const victim = `target-${viewport}`;
      await makeUser(victim);
      // Five wrong passwords, then the account is throttled.
      for (let i = 0; i < 6; i++) {
        await call(svc.base, 'POST', '/auth/login', {
          json: { username: victim, password: 'wrong-password' },
        });
      }
      // Reuse: a refresh token spent two rotations ago is presented again (outside any grace window).
      await makeUser(`reuse-${viewport}`);
      const r0 = (await login(svc.base, `reuse-${viewport}`, password)).refresh_token;
      const r1 = await call(svc.base, 'POST', '/auth/refresh', { token: r0 });
      expect(r1.status).toBe(200);
      const r2 = await call(svc.base, 'POST', '/auth/refresh', { token: r1.body.refresh_token as string });
      expect(r2.status).toBe(200);
      const replay = await call(svc.base, 'POST', '/auth/refresh', { token: r0 });
      expect(replay.body.code, replay.text).toBe('refresh_token_reused');

      const { context, page } = await openConsole(browser, viewport);
      try {
        await signIn(page, svc.base, ADMIN.username, ADMIN.password);
        await visit(page, svc.base, '/admin/events');
        const list = page.locator('main tbody');
        await expect.poll(() => list.textContent()).toContain('Refresh token reuse detected');
        expect(
          await page
            .locator('main tbody tr', { hasText: 'Failed sign-in' })
            .filter({ hasText: victim })
            .count(),
        ).toBe(5);
        expect(
          await page.locator('main tbody tr', { hasText: 'Throttled' }).filter({ hasText: victim }).count(),
        ).toBe(1);
        const totals = (await page.getByTestId('activity-totals').textContent())!;
        const refusals = Number(/(\d+) refusals/.exec(totals)?.[1]);
        const signIns = Number(/(\d+) sign-ins/.exec(totals)?.[1]);
        expect(refusals).toBeGreaterThanOrEqual(6);
        expect(signIns).toBeGreaterThanOrEqual(2);
        expect(await page.locator('svg.chart rect.refusals').count()).toBeGreaterThan(0);
        expect(await page.locator('svg.chart rect.sign-ins').count()).toBeGreaterThan(0);
        await page.getByLabel('Range').selectOption('1h');
        await expect.poll(() => page.locator('svg.chart text.axis').count()).toBeGreaterThan(5);
        await snap(page, 'admin-events-activity', viewport);
        expect(await axeViolations(page)).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('sign out and sign out everywhere', async () => {
      const username = `out-${viewport}`;
      await makeUser(username);
      const a = await openConsole(browser, viewport);
      const b = await openConsole(browser, viewport);
      try {
        await signIn(a.page, svc.base, username, password);
        await a.page.getByRole('button', { name: 'Sign out', exact: true }).click();
        await ready(a.page, '/signin');
        expect((await tokenCookies(a.context)).access).toBe('');

        await signIn(a.page, svc.base, username, password);
        await signIn(b.page, svc.base, username, password);
        await b.page.getByRole('button', { name: 'Sign out everywhere' }).click();
        await ready(b.page, '/signin');
        await navigate(a.page, svc.base, '/api-keys');
        await ready(a.page, '/signin');
      } finally {
        await a.context.close();
        await b.context.close();
      }
    });

    it('a non-admin sees no admin pages and the console API refuses them', async () => {
      const username = `plain-${viewport}`;
      await makeUser(username);
      const { context, page } = await openConsole(browser, viewport);
      try {
        await signIn(page, svc.base, username, password);
        expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
        await page.evaluate(() => {
          location.hash = '#/admin/users';
        });
        await ready(page, '/');
        const token = (await login(svc.base, username, password)).access_token;
        for (const path of ['/admin/console/users', '/admin/console/keys', '/admin/console/activity']) {
          expect((await call(svc.base, 'GET', path, { token })).status).toBe(403);
          expect((await call(svc.base, 'GET', path)).status).toBe(401);
        }
      } finally {
        await context.close();
      }
    });
  });
}

describe.skipIf(!browserUp)('silent refresh', { timeout: 60_000 }, () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ accessTokenExpires: 2 });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('renews the access cookie with the refresh cookie when it expires, without a sign-in', async () => {
    const { context, page, requests, errors } = await openConsole(browser, 'desktop');
    try {
      await signIn(page, svc.base, ADMIN.username, ADMIN.password);
      const before = await tokenCookies(context);
      await new Promise((r) => setTimeout(r, 3_000));
      await visit(page, svc.base, '/sessions');
      expect(requests).toContain('POST /auth/refresh');
      expect(await page.locator('main tbody tr', { hasText: 'This browser' }).count()).toBe(1);
      const after = await tokenCookies(context);
      expect(after.access).not.toBe(before.access);
      expect(after.refresh).not.toBe(before.refresh);
      expect(await page.getByTestId('signed-in-user').textContent()).toBe(ADMIN.username);
      expect(await scriptVisible(page)).not.toContain(after.refresh);

      // Signing out with an expired access cookie still revokes the session (refresh, then logout).
      await new Promise((r) => setTimeout(r, 3_000));
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await ready(page, '/signin');
      const token = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
      const sessions = (await call(svc.base, 'GET', '/auth/sessions', { token })).body.sessions as {
        device: string;
      }[];
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.filter((s) => s.device.includes('HeadlessChrome'))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('console route without a build', () => {
  it('answers 503 with the command to run, and serves nothing outside the build', async () => {
    const svc = await startTestService();
    const empty = mkdtempSync(join(tmpdir(), 'tessera-console-'));
    try {
      const app = new Hono<AppEnv>();
      consoleRoutes(app, svc.service.context, empty);
      const res = await app.request('/console/');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { msg: string }).msg).toContain('npm run build:web');
      expect(svc.logs.some((line) => line.includes('the web console is not built'))).toBe(true);
      // The built console: only files of the build, by exact name.
      for (const path of ['/console/..%2Fpackage.json', '/console/../../package.json', '/console/assets/']) {
        expect((await fetch(`${svc.base}${path}`)).status).toBe(404);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
      await svc.stop();
    }
  });
});
