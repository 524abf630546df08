/**
 * Test harness: start the real service on 127.0.0.1 port 0 with a temporary
 * data directory (or PostgreSQL + Redis with random prefixes), call it over
 * HTTP, read what it logged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig, type ServiceConfigInput } from '../src/config.js';
import { type RunningService, startService } from '../src/service.js';

export const ADMIN = { username: 'root', password: 'root-password-1' } as const;

/** A started service with its base URL, captured log lines, and cleanup. */
export interface TestService {
  readonly service: RunningService;
  readonly base: string;
  readonly logs: string[];
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** A short random suffix, so that parallel runs never share tables or keys. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh temporary data directory (removed by {@link removeDir}). */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-service-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Start the service: SQLite in a new temporary directory unless `dataDir`/`databaseUrl` say otherwise. */
export async function startTestService(overrides: ServiceConfigInput = {}): Promise<TestService> {
  const ownsDir = overrides.dataDir === undefined;
  const dataDir = (overrides.dataDir as string | undefined) ?? tempDir();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const config = parseConfig({
    port: 0,
    host: '127.0.0.1',
    adminUsername: ADMIN.username,
    adminPassword: ADMIN.password,
    logLevel: 'info',
    ...overrides,
    dataDir,
  });
  const service = await startService(config, { logDestination: destination });
  return {
    service,
    base: service.url,
    logs,
    dataDir,
    async stop() {
      await service.close();
      if (ownsDir) removeDir(dataDir);
    },
  };
}

/** An HTTP answer with its JSON body (or text when it is not JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export interface CallInit {
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  raw?: string;
  headers?: Record<string, string>;
  /** Authorization scheme for `token`. Default Bearer. */
  scheme?: string;
}

/** Call the service. */
export async function call(base: string, method: string, path: string, init: CallInit = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `${init.scheme ?? 'Bearer'} ${init.token}`;
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.raw !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = init.raw;
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON (the reference page): the text is there.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Tokens of a signed-in user. */
export interface Tokens {
  access_token: string;
  refresh_token: string;
}

/** Sign in and expect success. */
export async function login(base: string, username: string, password: string): Promise<Tokens> {
  const res = await call(base, 'POST', '/auth/login', { json: { username, password } });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.text}`);
  return res.body as unknown as Tokens;
}

/** Create a user through the admin API and return its tokens. */
export async function createUser(
  base: string,
  adminToken: string,
  username: string,
  password: string,
  roles: string[] = [],
): Promise<Tokens> {
  const res = await call(base, 'POST', '/admin/users', {
    token: adminToken,
    json: { username, password, roles },
  });
  if (res.status !== 201) throw new Error(`create ${username}: ${res.status} ${res.text}`);
  return login(base, username, password);
}

/** The payload of a JWT, unverified (for assertions on claims). */
export function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** The protected header of a JWT, unverified (for assertions on `alg` and `kid`). */
export function tokenHeader(token: string): { alg?: string; kid?: string; typ?: string } {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as {
    alg?: string;
    kid?: string;
    typ?: string;
  };
}

/** Wait until the clock's second changes (user cut-offs are by the second). */
export async function nextSecond(): Promise<void> {
  const now = Date.now();
  await new Promise((r) => setTimeout(r, 1000 - (now % 1000) + 5));
}

/**
 * User cut-offs are by the second: `/api/token/` tokens issued in the same second
 * as a logout everywhere (or a password change) must end with it, and tokens
 * issued just after it in that second must live. Their refresh family does it:
 * every token the service mints carries one. Returns what each token got.
 */
export async function sameSecondCutoff(
  base: string,
  adminToken: string,
  username: string,
  via: 'logout-all' | 'password',
): Promise<{ before: number[]; after: number[]; sameSecond: boolean }> {
  const first = 'same-second-pass-1';
  const second = via === 'password' ? 'same-second-pass-2' : first;
  await createUser(base, adminToken, username, first);
  const obtain = async (password: string) => {
    const res = await call(base, 'POST', '/api/token/', { json: { username, password } });
    if (res.status !== 200) throw new Error(`/api/token/ ${username}: ${res.status} ${res.text}`);
    return { access: res.body.access as string, refresh: res.body.refresh as string };
  };
  // Start at the top of a second, so that all of it fits in one (checked below, and reported).
  await nextSecond();
  const before = await obtain(first);
  const flask = await login(base, username, first);
  const cut =
    via === 'logout-all'
      ? await call(base, 'POST', '/auth/logout-all', { token: flask.access_token })
      : await call(base, 'POST', '/auth/password', {
          token: flask.access_token,
          json: { current_password: first, new_password: second },
        });
  if (cut.status !== 200) throw new Error(`${via}: ${cut.status} ${cut.text}`);
  const after = await obtain(second);
  const sameSecond = claims(before.access).iat === claims(after.access).iat;
  const outcome = async (pair: { access: string; refresh: string }) => [
    (await call(base, 'POST', '/api/token/verify/', { json: { token: pair.access } })).status,
    (await call(base, 'POST', '/api/token/verify/', { json: { token: pair.refresh } })).status,
    (await call(base, 'POST', '/api/token/refresh/', { json: { refresh: pair.refresh } })).status,
  ];
  return { before: await outcome(before), after: await outcome(after), sameSecond };
}
