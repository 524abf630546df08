/**
 * The whole conformance table (test/conformance/scenarios.ts) through the Hono
 * and Fetch adapters served by Bun, Deno, Node 22 and 24 and workerd (with and
 * without nodejs_compat), in both profiles, over real HTTP. Tokens are minted and
 * answers checked in Node by the same driver as the Node run; the apps run on
 * the other runtime (conformance-app.ts), one server per runtime with every
 * adapter × profile × row config mounted under its own prefix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenManager } from '../../src/manager/token-manager.js';
import { buildManager, check, NOW, placeholders, revokedJtis, SECRET, send } from '../conformance/driver.js';
import { type ConfigOverrides, PROFILES, type Profile, SCENARIOS } from '../conformance/scenarios.js';
import type { TestUser } from '../conformance/web-apps.js';
import type { ConformanceAppSpec, ConformanceServerConfig } from './conformance-app.js';
import { BIN, bundle, otherNodes, PACKAGE_DIR, spawnServer, writeJson } from './harness.js';

const ADAPTERS = ['hono', 'fetch'] as const;
const configKeys = [...new Set(SCENARIOS.map((row) => JSON.stringify(row.config ?? {})))];

function appId(adapter: string, profile: Profile, config: ConfigOverrides | undefined): string {
  return `${adapter}-${profile}-${configKeys.indexOf(JSON.stringify(config ?? {}))}`;
}

const serverConfig: ConformanceServerConfig = {
  secret: SECRET,
  now: NOW,
  apps: ADAPTERS.flatMap((adapter) =>
    PROFILES.flatMap((profile) =>
      configKeys.map(
        (key): ConformanceAppSpec => ({
          id: appId(adapter, profile, JSON.parse(key) as ConfigOverrides),
          adapter,
          profile,
          config: JSON.parse(key) as ConfigOverrides,
        }),
      ),
    ),
  ),
};

/** Node-side managers (same secret and clock) for minting and for reading cookies set by the apps. */
const managers = new Map<string, TokenManager<TestUser>>();
function managerFor(profile: Profile, config: ConfigOverrides | undefined): TokenManager<TestUser> {
  const key = `${profile} ${JSON.stringify(config ?? {})}`;
  let manager = managers.get(key);
  if (manager === undefined) {
    manager = buildManager(profile, config);
    managers.set(key, manager);
  }
  return manager;
}

interface Served {
  readonly url: string;
  stop(): Promise<void>;
}

async function serveOnWorkerd(flags: string[]): Promise<Served> {
  const script = readFileSync(await bundle(join(PACKAGE_DIR, 'test/runtimes/conformance-worker.ts')), 'utf8');
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-09-01',
    compatibilityFlags: flags,
    bindings: { CONFORMANCE_CONFIG: JSON.stringify(serverConfig) },
    host: '127.0.0.1',
    port: 0,
  });
  const url = await mf.ready;
  return { url: url.origin, stop: () => mf.dispose() };
}

/** Serve the bundle with `command`: the arguments before the bundle's path, e.g. `['run']`. */
async function serveWith(command: string, before: readonly string[]): Promise<Served> {
  const file = await bundle(join(PACKAGE_DIR, 'test/runtimes/conformance-serve.ts'));
  const server = await spawnServer(command, [...before, file, writeJson(serverConfig)]);
  return {
    url: server.url,
    stop: async () => {
      server.child.kill();
    },
  };
}

/**
 * One retry when the connection was reset before any answer came: miniflare's
 * loopback proxy may close an idle keep-alive connection just as fetch reuses it.
 * A retry cannot hide a refusal or a crash: a crashed server refuses the retry,
 * and a request that did reach the app (a spent token) answers differently the
 * second time, which fails the row.
 */
async function sendOnce<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code !== 'ECONNRESET') throw error;
    console.warn('[runtimes] connection reset before an answer; the request is sent once more');
    return request();
  }
}

const RUNTIMES: ReadonlyArray<readonly [string, () => Promise<Served>]> = [
  ['bun', () => serveWith(join(BIN, 'bun'), ['run'])],
  ['deno', () => serveWith(join(BIN, 'deno'), ['run', '--allow-net', '--allow-read', '--allow-env'])],
  ...otherNodes().map(
    (node) => [`${node.name} (${node.version})`, () => serveWith(node.binary, [])] as const,
  ),
  ['workerd with nodejs_compat', () => serveOnWorkerd(['nodejs_compat'])],
  ['workerd without nodejs_compat', () => serveOnWorkerd([])],
];

describe.each(RUNTIMES)('%s', (_runtime, start) => {
  let served: Served;
  const synced = new Set<string>();

  beforeAll(async () => {
    served = await start();
  }, 120_000);

  afterAll(async () => {
    await served?.stop();
  });

  /** Hand the jtis the Node side revoked so far to the apps' tokenInBlocklist. */
  async function syncRevoked(): Promise<void> {
    const fresh = [...revokedJtis].filter((jti) => !synced.has(jti));
    if (fresh.length === 0) return;
    const response = await fetch(`${served.url}/__revoked`, { method: 'POST', body: JSON.stringify(fresh) });
    expect(response.status).toBe(204);
    for (const jti of fresh) synced.add(jti);
  }

  for (const adapter of ADAPTERS) {
    for (const profile of PROFILES) {
      describe(`${adapter} / ${profile}`, () => {
        for (const row of SCENARIOS) {
          it(`${row.id}${row.pyCase ? ` (${row.pyCase})` : ''} ${row.title}`, async () => {
            const manager = managerFor(profile, row.config);
            const ph = await placeholders(manager, row.request);
            await syncRevoked();
            const base = `${served.url}/${appId(adapter, profile, row.config)}`;
            const answer = await sendOnce(() => send(base, row, ph));
            const framework = row.frameworkAnswers?.[adapter];
            if (framework !== undefined) {
              expect(answer.status, framework.reason).toBe(framework.status);
              return;
            }
            await check(answer, row.expect[profile], manager, `${adapter} / ${profile} / ${row.id}`);
          });
        }
      });
    }
  }
});
