/**
 * The revocation-store benchmark server, run as a child of bench/stores.ts:
 *
 *   node .bench-build/stores-server.js '<{"secret": "...", "prefix": "..."}>'
 *
 * (bench/stores.ts transpiles it to plain JavaScript there and starts it; see plain-js.ts.)
 *
 * One node:http server, one protected route per revocation set-up, each behind
 * its own TokenManager with the same key:
 *   /none         no store (no revocation check at all)
 *   /memory       MemoryStore
 *   /redis        RedisStore, Redis asked on every request
 *   /redis-cache  RedisStore with the pub/sub-fed local cache
 * Prints `READY {"port":…,"token":"…"}` when listening; the token is valid on every route.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGuard, type GuardResult, MemoryStore, TokenManager } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { requestLike } from './request-like.js';

interface Spec {
  readonly secret: string;
  readonly prefix: string;
}

const BODY = '{"ok":true}';

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
  const redis = { host: '127.0.0.1', port: 6379 };
  const uncached = new RedisStore({ redis, prefix: spec.prefix });
  const cached = new RedisStore({ redis, prefix: spec.prefix, localCache: true });
  await Promise.all([uncached.ready(), cached.ready()]);
  const managers = {
    '/none': new TokenManager({ secret: spec.secret }),
    '/memory': new TokenManager({ secret: spec.secret, store: new MemoryStore() }),
    '/redis': new TokenManager({ secret: spec.secret, store: uncached }),
    '/redis-cache': new TokenManager({ secret: spec.secret, store: cached }),
  };
  const guards = new Map(Object.entries(managers).map(([path, manager]) => [path, createGuard(manager)]));
  // Some revocations in the store, so the checks look something up.
  for (let i = 0; i < 100; i++) {
    await managers['/redis'].revokeToken({ jti: `revoked-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 });
    await managers['/memory'].revokeToken({ jti: `revoked-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 });
  }
  const token = await managers['/none'].createAccessToken({ identity: 'bench-user', expiresIn: '2h' });
  const server = createServer((req, res) => {
    const guard = guards.get(req.url ?? '');
    if (guard === undefined) return send(res, 404, '{}');
    const answer = (result: GuardResult<unknown>) =>
      result.ok ? send(res, 200, BODY) : send(res, result.response.status, result.response.body);
    const outcome = guard(requestLike(req));
    if (outcome instanceof Promise) outcome.then(answer, () => send(res, 500, '{}'));
    else answer(outcome);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(
      `READY ${JSON.stringify({ port: (server.address() as AddressInfo).port, token })}\n`,
    );
  });
  process.on('SIGTERM', () => {
    server.close();
    void Promise.all([uncached.close(), cached.close()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
