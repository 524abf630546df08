/**
 * The guard scenarios of the conformance table (ok, expired, bad signature,
 * missing token, wrong type) through the Hono and Fetch adapters, served by Bun,
 * Deno, Node 22 and 24 and workerd (with and without nodejs_compat) and called
 * over HTTP. Every answer (status,
 * body, WWW-Authenticate) must equal the answer of the same app in Node, and
 * the statuses are checked against the standard profile's.
 */
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { TokenManager } from 'tessera-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardAppConfig, guardApp } from './guard-app.js';
import { BIN, bundle, otherNodes, PACKAGE_DIR, spawnServer } from './harness.js';
import { tamper } from './suite.js';

const NOW = 1_800_000_000;
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const config: GuardAppConfig = {
  secret: 'runtime-guard-secret-of-at-least-32-bytes',
  publicKeyPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  now: NOW,
};

interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly token?: string;
  /** The standard profile's status. */
  readonly status: number;
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly wwwAuthenticate: string | null;
}

let scenarios: Scenario[];
let reference: Map<string, Answer>;

async function mint(): Promise<Scenario[]> {
  const hs = new TokenManager({ secret: config.secret, now: () => NOW });
  const past = new TokenManager({ secret: config.secret, now: () => NOW - 7200, accessTokenExpires: 3600 });
  const es = new TokenManager({
    algorithm: 'ES256',
    privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    now: () => NOW,
  });
  const access = await hs.createAccessToken({ identity: 'alice' });
  const refresh = await hs.createRefreshToken({ identity: 'alice' });
  const expired = await past.createAccessToken({ identity: 'alice' });
  const esAccess = await es.createAccessToken({ identity: 'erin' });
  const list: Scenario[] = [];
  for (const adapter of ['hono', 'fetch']) {
    list.push(
      { name: `${adapter}: ok`, path: `/${adapter}/protected`, token: access, status: 200 },
      { name: `${adapter}: expired`, path: `/${adapter}/protected`, token: expired, status: 401 },
      {
        name: `${adapter}: bad signature`,
        path: `/${adapter}/protected`,
        token: tamper(access),
        status: 401,
      },
      { name: `${adapter}: missing token`, path: `/${adapter}/protected`, status: 401 },
      {
        name: `${adapter}: refresh token on an access route`,
        path: `/${adapter}/protected`,
        token: refresh,
        status: 401,
      },
      {
        name: `${adapter}: access token on a refresh route`,
        path: `/${adapter}/refresh`,
        token: access,
        status: 401,
      },
      {
        name: `${adapter}: refresh token on a refresh route`,
        path: `/${adapter}/refresh`,
        token: refresh,
        status: 200,
      },
      {
        name: `${adapter}: ES256 ok (public key only)`,
        path: `/${adapter}/es/protected`,
        token: esAccess,
        status: 200,
      },
      {
        name: `${adapter}: ES256 bad signature`,
        path: `/${adapter}/es/protected`,
        token: tamper(esAccess),
        status: 401,
      },
      {
        name: `${adapter}: HS256 token on the ES256 app`,
        path: `/${adapter}/es/protected`,
        token: access,
        status: 401,
      },
    );
  }
  return list;
}

function request(base: string, scenario: Scenario): Request {
  const headers: Record<string, string> = {};
  if (scenario.token !== undefined) headers.authorization = `Bearer ${scenario.token}`;
  return new Request(`${base}${scenario.path}`, { headers });
}

async function answerOf(response: Response): Promise<Answer> {
  return {
    status: response.status,
    body: await response.text(),
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
}

async function callAll(base: string): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  for (const scenario of scenarios)
    answers.set(scenario.name, await answerOf(await fetch(request(base, scenario))));
  return answers;
}

function compare(answers: Map<string, Answer>): void {
  for (const scenario of scenarios) {
    expect(answers.get(scenario.name), scenario.name).toEqual(reference.get(scenario.name));
  }
}

beforeAll(async () => {
  scenarios = await mint();
  const app = guardApp(config);
  reference = new Map();
  for (const scenario of scenarios) {
    reference.set(scenario.name, await answerOf(await app(request('http://node.test', scenario))));
  }
}, 60_000);

describe('the guard app in Node (the reference)', () => {
  it('answers the standard profile statuses', () => {
    for (const scenario of scenarios)
      expect(reference.get(scenario.name)?.status, scenario.name).toBe(scenario.status);
    expect(reference.get('hono: ok')?.body).toContain('"identity":"alice"');
    expect(reference.get('fetch: ES256 ok (public key only)')?.body).toContain('"identity":"erin"');
  });
});

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill();
});

/** A runtime that serves the bundle: its name, and the command line for a bundle file. */
type Served = readonly [name: string, command: (file: string) => readonly [string, readonly string[]]];

const SERVED: readonly Served[] = [
  ['bun', (file) => [join(BIN, 'bun'), ['run', file, JSON.stringify(config)]]],
  [
    'deno',
    (file) => [
      join(BIN, 'deno'),
      ['run', '--allow-net', '--allow-env', '--allow-read', file, JSON.stringify(config)],
    ],
  ],
  ...otherNodes().map(
    (node): Served => [
      `${node.name} (${node.version})`,
      (file) => [node.binary, [file, JSON.stringify(config)]],
    ],
  ),
];

describe.each(SERVED)('%s', (_name, command) => {
  it('serves every guard scenario over HTTP exactly as Node does', async () => {
    const file = await bundle(join(PACKAGE_DIR, 'test/runtimes/guard-serve.ts'));
    const [bin, args] = command(file);
    const server = await spawnServer(bin, args);
    children.push(server.child);
    try {
      compare(await callAll(server.url));
    } finally {
      server.child.kill();
    }
  }, 120_000);
});

// Without nodejs_compat the bundle's node:* imports (kept external) would not
// resolve: the public entry and both adapters must load with none.
describe.each([
  ['workerd with nodejs_compat', ['nodejs_compat']],
  ['workerd without nodejs_compat', []],
])('%s', (_name, flags) => {
  it('serves every guard scenario over HTTP exactly as Node does', async () => {
    const script = readFileSync(await bundle(join(PACKAGE_DIR, 'test/runtimes/guard-worker.ts')), 'utf8');
    const mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2025-09-01',
      compatibilityFlags: flags,
      bindings: { GUARD_CONFIG: JSON.stringify(config) },
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const url = await mf.ready;
      compare(await callAll(url.origin));
    } finally {
      await mf.dispose();
    }
  }, 120_000);
});
