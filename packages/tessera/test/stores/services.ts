/**
 * Service availability for the store tests: a test that needs PostgreSQL, MariaDB
 * or Redis asks {@link serviceAvailable} first. When the service does not answer,
 * the suite fails under CI (a silently skipped store test would prove nothing)
 * and is skipped with a printed reason on a developer machine.
 */
import { describe, it } from 'vitest';

/** Connection settings of the loopback services the store tests use. */
export const services = {
  postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' },
  mysql: { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' },
  redis: { host: '127.0.0.1', port: 6379 },
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
