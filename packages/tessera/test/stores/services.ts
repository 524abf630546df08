/**
 * Service availability for the store tests: a test that needs PostgreSQL, MariaDB
 * or Redis asks {@link serviceAvailable} first. When the service does not answer,
 * the suite fails under CI (a silently skipped store test would prove nothing)
 * and is skipped with a printed reason on a developer machine.
 */
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

const env = process.env;

/** A port from the environment, or the default. */
function port(name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 1 || value > 65535)
    throw new Error(`${name} must be a port number`);
  return value;
}

/**
 * Connection settings of the services the store tests use: loopback defaults,
 * each overridable from the environment (TESSERA_TEST_PG_HOST/PORT/USER/DATABASE,
 * TESSERA_TEST_MYSQL_HOST/PORT/USER/PASSWORD/DATABASE, TESSERA_TEST_REDIS_HOST/PORT/DB),
 * so that a run can use its own databases and Redis DB.
 */
export const services = {
  postgres: {
    host: env.TESSERA_TEST_PG_HOST ?? '127.0.0.1',
    port: port('TESSERA_TEST_PG_PORT', 5432),
    user: env.TESSERA_TEST_PG_USER ?? 'postgres',
    database: env.TESSERA_TEST_PG_DATABASE ?? 'test',
  },
  mysql: {
    host: env.TESSERA_TEST_MYSQL_HOST ?? '127.0.0.1',
    port: port('TESSERA_TEST_MYSQL_PORT', 3306),
    user: env.TESSERA_TEST_MYSQL_USER ?? 'root',
    password: env.TESSERA_TEST_MYSQL_PASSWORD ?? '',
    database: env.TESSERA_TEST_MYSQL_DATABASE ?? 'test',
  },
  redis: {
    host: env.TESSERA_TEST_REDIS_HOST ?? '127.0.0.1',
    port: port('TESSERA_TEST_REDIS_PORT', 6379),
    db: Number(env.TESSERA_TEST_REDIS_DB ?? 0),
  },
} as const;

/** A short random suffix, so that parallel runs never share tables or keys. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Probes a service (bounded to `timeoutMs`). Returns true when it answers.
 * Otherwise, with `CI` set, registers a failing test naming the cause; without
 * it, prints the reason and returns false so that the caller can skip.
 */
export async function serviceAvailable(
  name: string,
  probe: () => Promise<void>,
  timeoutMs = 5000,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI) {
      describe(`${name} service`, () => {
        it('is reachable (required under CI)', () => {
          throw new Error(`${name} is not reachable: ${reason}`);
        });
      });
    } else {
      console.warn(
        `[stores] skipping ${name} tests: ${name} is not reachable (${reason}); set CI=1 to fail instead`,
      );
    }
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** A probe for {@link serviceAvailable}: one connection to the test Redis, one PING, no retries. */
export async function pingRedis(): Promise<void> {
  const probe = new Redis({
    ...services.redis,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } finally {
    probe.disconnect();
  }
}

/** Deletes every key under a prefix (SCAN + UNLINK), so the shared Redis is left as found. */
export async function dropPrefix(prefix: string): Promise<void> {
  const admin = new Redis(services.redis);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}
