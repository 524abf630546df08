/**
 * Browser harness of the console tests: build the console with vite, drive
 * Debian's Chromium (never a downloaded browser) with playwright-core, keep a
 * screenshot of each page under test/artifacts/console/ (gitignored), run
 * axe-core in the page, and look for tokens where a script could read them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/console/', import.meta.url));
const AXE_SOURCE = readFileSync(`${ROOT}node_modules/axe-core/axe.min.js`, 'utf8');

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 740 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/** Build the console into packages/server/web/dist, as `npm run build:web` does. */
export function buildConsole(): void {
  execFileSync(`${ROOT}node_modules/.bin/vite`, ['build', 'packages/server/web'], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 120_000,
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

/** A page in a new browser context (its own cookie jar), recording CSP violations and script errors. */
export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Paths the page requested from the service. */
  requests: string[];
}

export async function openConsole(browser: Browser, viewport: ViewportName): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    // A refused call logs "Failed to load resource ... 401/403/429": the flows cause those on purpose.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
  return { context, page, errors, requests };
}

/** Wait until the console has rendered the page of `path`. */
export async function ready(page: Page, path: string): Promise<void> {
  await page.waitForSelector(`main[data-ready="true"][data-page="${path}"]`, { timeout: 15_000 });
}

/** Go to a route of the console without waiting (it may send the reader elsewhere). */
export async function navigate(page: Page, base: string, path: string): Promise<void> {
  if (!page.url().startsWith(`${base}/console/`)) await page.goto(`${base}/console/#${path}`);
  else
    await page.evaluate((p) => {
      location.hash = `#${p}`;
    }, path);
}

/** Go to a route of the console and wait for it. */
export async function visit(page: Page, base: string, path: string): Promise<void> {
  await navigate(page, base, path);
  await ready(page, path);
}

export async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/console/#/signin`);
  await ready(page, '/signin');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await ready(page, '/');
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toBe(username);
}

/** A full-page screenshot kept as a test artifact. */
export async function snap(page: Page, name: string, viewport: ViewportName): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}${name}-${viewport}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** axe-core in the page (evaluated through the debugging protocol, which the page's CSP does not govern). */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${AXE_SOURCE};0`);
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    );
}

/** Everything a script of the page can read: the DOM, both storages, document.cookie. */
export async function scriptVisible(page: Page): Promise<string> {
  return page.evaluate(() => {
    const dump = (s: Storage) =>
      Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i) ?? '')}`).join('\n');
    const fields = Array.from(document.querySelectorAll('input, textarea, output'))
      .map((el) => (el as HTMLInputElement).value ?? '')
      .join('\n');
    return [
      document.documentElement.outerHTML,
      fields,
      dump(localStorage),
      dump(sessionStorage),
      document.cookie,
    ].join('\n---\n');
  });
}

/** The token cookies of a context (the test can read HttpOnly cookies; the page cannot). */
export async function tokenCookies(context: BrowserContext): Promise<{ access: string; refresh: string }> {
  const cookies = await context.cookies();
  const value = (name: string) => cookies.find((c) => c.name === name)?.value ?? '';
  return { access: value('access_token_cookie'), refresh: value('refresh_token_cookie') };
}

/** What sticks out of the viewport sideways: '' when the page fits, else the elements and by how much. */
export function sidewaysScroll(page: Page): Promise<string> {
  return page.evaluate(() => {
    const over = document.documentElement.scrollWidth - window.innerWidth;
    if (over <= 0) return '';
    const culprits = Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`,
      );
    return `${over}px too wide: ${culprits.join(', ')}`;
  });
}
