/**
 * The conformance apps of test/conformance/web-apps.ts (the same definition the
 * Node run serves) on the Hono and Fetch adapters, for Bun, Deno, Node 22/24 and
 * workerd. One handler serves many apps: the first path segment names the app
 * (adapter × profile × row config) and is cut off before the app sees the
 * request, so every app answers at the routes the table names. `POST /__revoked`
 * hands the jtis the Node side put in its blocklist to the tokenInBlocklist
 * callback.
 */
import { TokenManager } from 'tessera-auth/core';
import { createFetchAuth } from 'tessera-auth/fetch';
import { createHonoAuth } from 'tessera-auth/hono';
import type { ConfigOverrides, Profile } from '../conformance/scenarios.js';
import {
  conformanceCallbacks,
  fetchConformanceHandler,
  honoConformanceApp,
  type TestUser,
} from '../conformance/web-apps.js';

/** One app: which adapter, under which profile and row config. */
export interface ConformanceAppSpec {
  readonly id: string;
  readonly adapter: 'hono' | 'fetch';
  readonly profile: Profile;
  readonly config: ConfigOverrides;
}

export interface ConformanceServerConfig {
  readonly secret: string;
  readonly now: number;
  readonly apps: readonly ConformanceAppSpec[];
}

type Handler = (request: Request) => Promise<Response>;

function buildManager(
  config: ConformanceServerConfig,
  app: ConformanceAppSpec,
  revoked: ReadonlySet<string>,
): TokenManager<TestUser> {
  return new TokenManager<TestUser>({
    ...app.config,
    profile: app.profile,
    secret: config.secret,
    now: () => config.now,
    callbacks: conformanceCallbacks(revoked),
  });
}

function appFor(spec: ConformanceAppSpec, manager: TokenManager<TestUser>): Handler {
  if (spec.adapter === 'fetch') return fetchConformanceHandler(manager, createFetchAuth);
  const app = honoConformanceApp(manager, createHonoAuth);
  return async (request) => app.fetch(request);
}

/** The one handler serving every app of `config` under `/<app id>`. */
export function conformanceServer(config: ConformanceServerConfig): Handler {
  const revoked = new Set<string>();
  const apps = new Map<string, Handler>();
  for (const spec of config.apps) {
    const manager = buildManager(config, spec, revoked);
    apps.set(spec.id, appFor(spec, manager));
  }
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/__revoked' && request.method === 'POST') {
      for (const jti of (await request.json()) as string[]) revoked.add(jti);
      return new Response(null, { status: 204 });
    }
    const slash = url.pathname.indexOf('/', 1);
    const id = url.pathname.slice(1, slash === -1 ? undefined : slash);
    const app = apps.get(id);
    if (app === undefined) return new Response('no such app', { status: 404 });
    url.pathname = slash === -1 ? '/' : url.pathname.slice(slash);
    return app(new Request(url, request));
  };
}
