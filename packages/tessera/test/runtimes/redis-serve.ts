/**
 * The Redis app (redis-app.ts) served by Bun or Deno (serve-here.ts); the
 * configuration is the last argument. ioredis is not bundled: the runtime loads
 * it from node_modules, as an application installed with npm would.
 */
import { type RedisAppConfig, redisApp } from './redis-app.js';
import { lastArgument, serveHere } from './serve-here.js';

await serveHere(await redisApp(JSON.parse(lastArgument()) as RedisAppConfig));
