/**
 * A second service instance for redis-processes.test.ts, in its own process: it
 * verifies tokens read line by line on stdin against a RedisStore with the local
 * cache, and answers each with the outcome code on stdout ("ok" or an error code).
 */
import { createInterface } from 'node:readline';
import { TesseraError } from '../../src/errors.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { RedisStore } from '../../src/stores/redis.js';

const [port, prefix, secret] = process.argv.slice(2);
const store = new RedisStore({
  redis: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: 1, connectTimeout: 500 },
  prefix: prefix!,
  localCache: true,
  onError: () => {},
});
const manager = new TokenManager({ secret: secret!, store });
await store.ready();
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const outcome = await manager.verifyToken(line.trim()).then(
    () => 'ok',
    (error: unknown) => (error instanceof TesseraError ? error.code : `crash: ${String(error)}`),
  );
  process.stdout.write(`${outcome}\n`);
}
await store.close();
