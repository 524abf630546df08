/**
 * Running one row of the scenario table: the managers' configuration, the
 * row's token (minted, re-signed or tampered), the request sent over real HTTP
 * and the check of the answer against the row's expectation. Shared by the
 * Node run (conformance.test.ts) and the other runtimes' (test/runtimes/).
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { signJws } from '../../src/jws/compact.js';
import { generateKey } from '../../src/keys/generate.js';
import { importSecret } from '../../src/keys/import.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import type {
  ConfigOverrides,
  Profile,
  ProfileExpectation,
  RequestSpec,
  Scenario,
  TokenRecipe,
} from './scenarios.js';
import { conformanceCallbacks, type TestUser } from './web-apps.js';

/** The managers' clock: fixed, so every time claim in the table is exact. */
export const NOW = Math.floor(Date.now() / 1000);
export const SECRET = 'conformance-hs256-secret-of-at-least-32-bytes!';
const OTHER_SECRET = 'another-hs256-secret-also-at-least-32-bytes!!';

const hsKey = importSecret(SECRET, 'HS256');
const otherKey = importSecret(OTHER_SECRET, 'HS256');
const hs512Key = importSecret('conformance-hs512-secret-'.padEnd(64, 'x'), 'HS512');
let rsaKey: TesseraKey | undefined;

/** jtis the tokenInBlocklist callback refuses (jtis are UUIDs: shared safely by all managers). */
export const revokedJtis = new Set<string>();

export function buildManager(profile: Profile, config: ConfigOverrides | undefined): TokenManager<TestUser> {
  return new TokenManager<TestUser>({
    ...config,
    profile,
    secret: SECRET,
    now: () => NOW,
    callbacks: conformanceCallbacks(revokedJtis),
  });
}

// ---------------------------------------------------------------------------
// Tokens

const RELATIVE_TIME = /^@now(?:([+-])(\d+(?:\.\d+)?))?$/;

/** Replace `@now±N` strings with numbers, deeply. */
export function resolveTimes(value: unknown): unknown {
  if (typeof value === 'string') {
    const m = RELATIVE_TIME.exec(value);
    if (m === null) return value;
    const offset = m[2] === undefined ? 0 : Number(m[2]);
    return m[1] === '-' ? NOW - offset : NOW + offset;
  }
  if (Array.isArray(value)) return value.map(resolveTimes);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTimes(v)]));
  }
  return value;
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface Minted {
  readonly token: string;
  readonly csrf: string | undefined;
}

export async function mint(manager: TokenManager<TestUser>, recipe: TokenRecipe): Promise<Minted> {
  if (recipe.raw !== undefined) return { token: recipe.raw, csrf: undefined };
  const common = {
    identity: recipe.identity ?? 'alice',
    additionalClaims: resolveTimes(recipe.claims ?? {}) as Record<string, unknown>,
    additionalHeaders: recipe.header === undefined ? undefined : { ...recipe.header },
    expiresIn: recipe.expiresIn,
  };
  let token =
    recipe.kind === 'refresh'
      ? await manager.createRefreshToken(common)
      : await manager.createAccessToken({ ...common, fresh: recipe.fresh });
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = decodeSegment(h);
  const payload = decodeSegment(p);
  for (const claim of recipe.omit ?? []) delete payload[claim];
  if (recipe.payloadText !== undefined) {
    token = signJws(header, recipe.payloadText, hsKey.signing!);
  } else {
    switch (recipe.signWith) {
      case undefined:
        if (recipe.omit !== undefined) token = signJws(header, payload, hsKey.signing!);
        break;
      case 'other-secret':
        token = signJws(header, payload, otherKey.signing!);
        break;
      case 'HS512':
        token = signJws(header, payload, hs512Key.signing!);
        break;
      case 'RS256':
        rsaKey ??= generateKey('RS256');
        token = signJws(header, payload, rsaKey.signing!);
        break;
      case 'none':
      case 'NoNe':
        token = `${b64json({ ...header, alg: recipe.signWith })}.${b64json(payload)}.`;
        break;
      case 'tamper':
        token = `${h}.${b64json({ ...payload, sub: 'mallory' })}.${s}`;
        break;
    }
  }
  if (recipe.revoked && typeof payload.jti === 'string') revokedJtis.add(payload.jti);
  return { token, csrf: typeof payload.csrf === 'string' ? payload.csrf : undefined };
}

// ---------------------------------------------------------------------------
// Requests

export interface Placeholders {
  readonly token: string;
  readonly csrf: string;
  readonly accessCsrf: string;
}

function fill(value: string, ph: Placeholders): string {
  return value
    .replaceAll('$access-csrf', ph.accessCsrf)
    .replaceAll('$csrf', ph.csrf)
    .replaceAll('$token', ph.token);
}

function fillDeep(value: unknown, ph: Placeholders): unknown {
  if (typeof value === 'string') return fill(value, ph);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, ph));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, ph)]));
  }
  return value;
}

export async function placeholders(
  manager: TokenManager<TestUser>,
  spec: RequestSpec,
): Promise<Placeholders> {
  const minted = spec.token === undefined ? undefined : await mint(manager, spec.token);
  const needsAccessCsrf = JSON.stringify(spec).includes('$access-csrf');
  const accessCsrf = needsAccessCsrf ? (await mint(manager, {})).csrf : undefined;
  return { token: minted?.token ?? '', csrf: minted?.csrf ?? '', accessCsrf: accessCsrf ?? '' };
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  readonly ms: number;
}

export async function send(base: string, row: Scenario, ph: Placeholders): Promise<Answer> {
  const spec = row.request;
  // `base` may carry a path (an app mounted under a prefix on the other runtimes).
  const url = new URL(`${base}${row.route}`);
  for (const [name, value] of Object.entries(spec.query ?? {})) url.searchParams.set(name, fill(value, ph));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name] = fill(value, ph);
  const cookies = Object.entries(spec.cookies ?? {}).map(([name, value]) => `${name}=${fill(value, ph)}`);
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  let body: string | undefined;
  if (spec.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(fillDeep(spec.json, ph));
  } else if (spec.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(fillDeep(spec.form, ph) as Record<string, string>).toString();
  } else if (spec.raw !== undefined) {
    headers['content-type'] = spec.raw.contentType;
    body = spec.raw.body;
  }
  const started = performance.now();
  if (spec.headerLines !== undefined) {
    const lines: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(headers)) lines[name.toLowerCase()] = [value];
    for (const [name, value] of spec.headerLines) {
      const key = name.toLowerCase();
      lines[key] = [...(lines[key] ?? []), fill(value, ph)];
    }
    const answer = await rawRequest(url, spec.method ?? 'GET', lines, body);
    return { ...answer, ms: performance.now() - started };
  }
  const response = await fetch(url, { method: spec.method ?? 'GET', headers, body, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers, ms: performance.now() - started };
}

/** A request through node:http, which sends an array header value as repeated lines. */
function rawRequest(
  url: URL,
  method: string,
  headers: Record<string, string[]>,
  body: string | undefined,
): Promise<Omit<Answer, 'ms'>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
        }
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: out });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------
// Assertions

const JWT = '[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const HTTP_DATE = '[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT';

function cookiePattern(expected: string): RegExp {
  const escaped = expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${escaped.replaceAll('<jwt>', JWT).replaceAll('<uuid>', UUID).replaceAll('<date>', HTTP_DATE)}$`,
  );
}

export async function check(
  answer: Answer,
  e: ProfileExpectation,
  manager: TokenManager<TestUser>,
  where: string,
): Promise<void> {
  const context = `${where}\nstatus ${answer.status}, body ${answer.text.slice(0, 500)}`;
  expect(answer.status, context).toBe(e.status);
  if (e.body !== undefined) expect(answer.text, context).toBe(e.body);
  if (e.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      parsed = answer.text;
    }
    expect(parsed, context).toMatchObject(e.json);
  }
  for (const [name, value] of Object.entries(e.headers ?? {})) {
    const actual = answer.headers.get(name);
    if (value === null) expect(actual, `${context}\nheader ${name}`).toBeNull();
    else if (name === 'content-type') {
      // The media type is the contract; a framework may add "; charset=utf-8".
      expect(actual?.split(';', 1)[0]?.trim(), `${context}\nheader ${name}`).toBe(value);
    } else expect(actual, `${context}\nheader ${name}`).toBe(value);
  }
  const setCookies = answer.headers.getSetCookie();
  const expected = e.setCookies ?? [];
  expect(setCookies.length, `${context}\nSet-Cookie: ${JSON.stringify(setCookies)}`).toBe(expected.length);
  expected.forEach((line, i) => {
    expect(setCookies[i], `${context}\nSet-Cookie #${i}`).toMatch(cookiePattern(line));
  });
  // Every token set in a cookie verifies, and the CSRF cookie after it holds its csrf claim.
  let lastCsrf: unknown;
  let first = true;
  for (const line of setCookies) {
    const pair = line.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (value === '') continue;
    if (new RegExp(`^${JWT}$`).test(value)) {
      const payload = await manager.decodeToken(value);
      lastCsrf = payload.csrf;
      if (first && e.cookieClaims !== undefined) {
        expect(payload, `${context}\ncookie claims`).toMatchObject(resolveTimes(e.cookieClaims) as object);
      }
      first = false;
    } else if (name.includes('csrf_')) {
      expect(value, `${context}\nCSRF cookie ${name}`).toBe(lastCsrf);
    }
  }
  if (e.maxMs !== undefined) expect(answer.ms, `${context}\nanswer time`).toBeLessThan(e.maxMs);
}
