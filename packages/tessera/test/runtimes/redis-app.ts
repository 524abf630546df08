/**
 * The RedisStore (ioredis: node:net, defineCommand, pub/sub) on another runtime,
 * for redis.test.ts. A TokenManager on a RedisStore with its local cache, behind
 * the Hono adapter (/hono/...) and the Fetch adapter (/fetch/...), plus routes
 * for the test in Node to look inside:
 *
 * - `GET /__store/checks`: the store's own behaviours, run here (revoke and
 *   isRevoked, cut-offs, rotation with reuse detection, sessions), as checks;
 * - `GET /__store/cached?jti=`: what the local cache answers for a jti without
 *   asking Redis (`isRevokedNow`), to see pub/sub feed it;
 * - `POST /__store/revoke`: revoke the token in the body through this manager;
 * - `POST /__store/close`: close the store (its connections), so the runtime can exit.
 *
 * The Node side shares the Redis and the key prefix with its own store.
 */
import { Hono } from 'hono';
import { TokenManager } from 'tessera-auth';
import { createFetchAuth } from 'tessera-auth/fetch';
import { createHonoAuth, type JwtEnv } from 'tessera-auth/hono';
import { RedisStore } from 'tessera-auth/stores/redis';
import type { Check } from './suite.js';

export interface RedisAppConfig {
  readonly secret: string;
  /** Key prefix of this run (the test deletes everything under it). */
  readonly prefix: string;
  readonly redis: { readonly host: string; readonly port: number; readonly db: number };
}

type User = { readonly id: unknown };

/** The store's behaviours, run against the real Redis with ids of their own. */
async function storeChecks(store: RedisStore): Promise<Check[]> {
  const checks: Check[] = [];
  const check = async (name: string, body: () => Promise<string | undefined>) => {
    try {
      const problem = await body();
      checks.push(problem === undefined ? { name, ok: true } : { name, ok: false, detail: problem });
    } catch (error) {
      checks.push({ name, ok: false, detail: String((error as Error)?.stack ?? error) });
    }
  };
  const now = Math.floor(Date.now() / 1000);
  const id = `${now}-${Math.random().toString(36).slice(2)}`;

  await check('revokeToken, then isRevoked and the local cache say revoked; another jti is not', async () => {
    await store.revokeToken(`j-${id}`, now + 600);
    if (!(await store.isRevoked({ jti: `j-${id}` }))) return 'isRevoked answered false';
    if (await store.isRevoked({ jti: `other-${id}` })) return 'an unrevoked jti answered true';
    if (store.isRevokedNow({ jti: `j-${id}` }) !== true)
      return 'the local cache does not know the revocation';
    return undefined;
  });

  await check('revokeUserBefore: tokens issued before the cut-off are revoked, later ones not', async () => {
    await store.revokeUserBefore(`u-${id}`, now, now + 600);
    if (!(await store.isRevoked({ userKey: `u-${id}`, iat: now - 10 })))
      return 'an older token is not revoked';
    if (await store.isRevoked({ userKey: `u-${id}`, iat: now + 1 })) return 'a newer token is revoked';
    return undefined;
  });

  await check('rotateFamily: rotated once, the spent jti again is reuse and revokes the family', async () => {
    const familyId = `f-${id}`;
    await store.createFamily({ familyId, userKey: `u-${id}`, jti: 'r1', now, expiresAt: now + 600 });
    const first = await store.rotateFamily({
      familyId,
      presentedJti: 'r1',
      nextJti: 'r2',
      now,
      graceSeconds: 0,
      expiresAt: now + 600,
    });
    if (first.status !== 'rotated' || first.currentJti !== 'r2')
      return `first rotation: ${JSON.stringify(first)}`;
    const again = await store.rotateFamily({
      familyId,
      presentedJti: 'r1',
      nextJti: 'r3',
      now,
      graceSeconds: 0,
      expiresAt: now + 600,
    });
    if (again.status !== 'reused') return `the spent jti again: ${JSON.stringify(again)}`;
    if (!(await store.isRevoked({ familyId }))) return 'the family is not revoked after reuse';
    const after = await store.rotateFamily({
      familyId,
      presentedJti: 'r2',
      nextJti: 'r4',
      now,
      graceSeconds: 0,
      expiresAt: now + 600,
    });
    if (after.status === 'rotated') return 'the successor still rotates in a revoked family';
    return undefined;
  });

  await check('listSessions and revokeUserFamilies', async () => {
    const userKey = `s-${id}`;
    await store.createFamily({ familyId: `fa-${id}`, userKey, jti: 'a1', now, expiresAt: now + 600 });
    await store.createFamily({ familyId: `fb-${id}`, userKey, jti: 'b1', now, expiresAt: now + 600 });
    const listed = (await store.listSessions(userKey, now)).map((s) => s.familyId).sort();
    if (listed.join(',') !== `fa-${id},fb-${id}`) return `listed ${listed.join(',')}`;
    if ((await store.revokeUserFamilies(userKey)) !== 2) return 'revokeUserFamilies did not revoke both';
    if ((await store.listSessions(userKey, now)).length !== 0) return 'sessions left after revoking them';
    return undefined;
  });
  return checks;
}

/** The app and its store; resolves once the store is ready (cache synced). */
export async function redisApp(config: RedisAppConfig): Promise<(request: Request) => Promise<Response>> {
  const store = new RedisStore({ redis: { ...config.redis }, prefix: config.prefix, localCache: true });
  await store.ready();
  const manager = new TokenManager<User>({
    secret: config.secret,
    store,
    rotation: { graceSeconds: 0 },
    callbacks: { userLookup: (_header, payload) => ({ id: payload.sub }) },
  });
  const answer = (jwt: { identity?: unknown } | null | undefined) => ({ identity: jwt?.identity ?? null });
  const app = new Hono<JwtEnv<User>>();
  const hono = createHonoAuth(manager);
  app.get('/hono/protected', hono.jwtRequired(), (c) => c.json(answer(c.get('jwt'))));
  app.post('/hono/refresh', hono.refresh());
  const fetchAuth = createFetchAuth(manager);
  const fetchProtected = fetchAuth.jwtRequired(undefined, (_request, jwt) => Response.json(answer(jwt)));
  const fetchRefresh = fetchAuth.refresh();
  app.get('/fetch/protected', (c) => fetchProtected(c.req.raw));
  app.post('/fetch/refresh', (c) => fetchRefresh(c.req.raw));
  app.get('/__store/checks', async (c) => c.json({ synced: store.synced, checks: await storeChecks(store) }));
  app.get('/__store/cached', (c) =>
    c.json({ revoked: store.isRevokedNow({ jti: c.req.query('jti') ?? '' }) }),
  );
  app.post('/__store/revoke', async (c) => {
    await manager.revokeToken(await c.req.text());
    return c.body(null, 204);
  });
  app.post('/__store/close', async (c) => {
    await store.close();
    return c.body(null, 204);
  });
  return async (request) => app.fetch(request);
}
