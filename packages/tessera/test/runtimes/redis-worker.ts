/**
 * The RedisStore in workerd with nodejs_compat, for redis.test.ts: ioredis
 * bundled in, connecting through workerd's node:net. The first request creates
 * the store (kept in the isolate, as an application would keep it); every
 * request revokes the jti it names and reports what happened.
 */
import { Redis } from 'ioredis';
import { RedisStore } from 'tessera-auth/stores/redis';

interface Env {
  /** JSON: `{ host, port, db, prefix }`. */
  readonly REDIS_CONFIG: string;
}

let store: RedisStore | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const config = JSON.parse(env.REDIS_CONFIG) as { host: string; port: number; db: number; prefix: string };
    try {
      if (store === undefined) {
        const client = new Redis({
          host: config.host,
          port: config.port,
          db: config.db,
          maxRetriesPerRequest: 1,
          connectTimeout: 2000,
        });
        store = new RedisStore({
          redis: client,
          prefix: config.prefix,
          operationTimeoutMs: 1000,
          onError: () => undefined,
        });
        await store.ready(3000);
      }
      const jti = new URL(request.url).searchParams.get('jti') ?? '';
      await store.revokeToken(jti, Math.floor(Date.now() / 1000) + 600);
      return Response.json({ ok: true, revoked: await store.isRevoked({ jti }) });
    } catch (error) {
      return Response.json({
        ok: false,
        code: (error as { code?: unknown }).code ?? null,
        message: String(error),
      });
    }
  },
};
