/**
 * Sign-in throttling per account and per client address.
 *
 * ```ts
 * const throttle = createThrottle({ redis });          // or { database }, or {} for one process
 * const keys = [`acct:${username}`, `ip:${address}`];
 * const gate = await throttle.check(keys);             // counts this attempt
 * if (!gate.allowed) return tooMany(gate.retryAfterSeconds); // 429 + Retry-After
 * const { ok } = await verifyPassword(password, hash);
 * await (ok ? throttle.succeed(keys) : throttle.fail(keys));
 * ```
 *
 * Call `check` before looking at the password and `fail` for an unknown user
 * as for a wrong password, so that neither the answer nor its timing tells
 * whether the account exists.
 *
 * Policy (see policy.ts, configurable per key kind through `rules`): by
 * default an account gets 5 attempts per 15 minutes, then a lock of 15
 * minutes that doubles with each further lock up to 24 hours, forgotten by a
 * successful sign-in or a day after the last lock; a client address gets 100
 * attempts per 15 minutes with the same lock, and a success gives its attempt
 * back. `check` counts the attempt before the password is checked (and a
 * success undoes it), so concurrent attempts cannot exceed the budget. Only
 * failures lock: while attempts in flight hold the rest of a budget, a further
 * one is refused with a wait of one second and no lock (more than `limit`
 * sign-ins to one account at the same instant: the extra ones retry a second
 * later, even if all are right).
 *
 * Backends: memory (one process; state lost on restart), Redis (ioredis
 * client given; one Lua script, atomic across instances) or SQL (the
 * service's database given: one transaction per operation, see sql.ts; atomic
 * across instances sharing a PostgreSQL). Redis and SQL state survives
 * restarts of the service. An unreachable Redis or database fails closed: the
 * operation rejects with `StoreUnavailableError` (code `store_unavailable`,
 * status 503) within `operationTimeoutMs`.
 *
 * An attacker can lock a known account by failing on purpose; the per-account
 * lock is the price of stopping password guessing against it. Lower the
 * account `lockSeconds` where that matters more.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { ConfigError, StoreUnavailableError } from 'tessera-auth';
import { refuseUnknownOptions } from 'tessera-auth/core';
import type { Database } from '../db/schema.js';
import { MemoryThrottleState } from './memory.js';
import {
  BUSY_MS,
  type CompiledRule,
  compileRules,
  type ResolvedKey,
  resolveKeys,
  retrySeconds,
} from './policy.js';
import { THROTTLE_SCRIPT } from './redis-script.js';
import { SqlThrottleState } from './sql.js';

export type { ThrottleRule } from './policy.js';
export { DEFAULT_RULES } from './policy.js';

/** The answer of {@link Throttle.check}. */
export type ThrottleVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

/** A sign-in throttle; see the module comment for the policy. */
export interface Throttle {
  /**
   * Counts an attempt on every key, all or none: `allowed: false` with the
   * seconds until the longest lock among them ends when one is locked or its
   * budget is spent (which starts its lock).
   */
  check(keys: string[]): Promise<ThrottleVerdict>;
  /** The attempt failed (wrong password or unknown user): keys whose budget is spent are locked now. */
  fail(keys: string[]): Promise<void>;
  /** The attempt succeeded: per each key's rule, forget it (`reset`) or give the attempt back (`refund`). */
  succeed(keys: string[]): Promise<void>;
  /** Stops using the backend (the Redis client or the database is the caller's and stays open); later calls reject. */
  close(): Promise<void>;
}

/** Options of {@link createThrottle}. */
export interface ThrottleOptions {
  /** An ioredis client to share state through (not closed by the throttle). */
  readonly redis?: Redis;
  /**
   * The service's database (migrated; its `throttle` table holds the records),
   * used when there is no `redis`. Neither: memory.
   */
  readonly database?: Database;
  /** Redis key prefix. Default `tessera:throttle:`. */
  readonly prefix?: string;
  /** Rules per key kind (the text before ':'), merged over {@link DEFAULT_RULES}. */
  readonly rules?: Readonly<Record<string, Partial<import('./policy.js').ThrottleRule>>>;
  /** Memory backend: most records held (oldest dropped past it). Default 100 000. */
  readonly maxEntries?: number;
  /** Upper bound of one Redis or SQL operation in ms; past it the call fails closed. Default 1000 (Redis), 5000 (SQL). */
  readonly operationTimeoutMs?: number;
  /** The clock, unix milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

const OPTION_KEYS = [
  'redis',
  'database',
  'prefix',
  'rules',
  'maxEntries',
  'operationTimeoutMs',
  'now',
] as const;
const SCRIPT_NAME = 'tesseraThrottleV2';

/** Builds a throttle; options are checked here (unknown keys and ranges give a `ConfigError`). */
export function createThrottle(options: ThrottleOptions = {}): Throttle {
  refuseUnknownOptions(options, OPTION_KEYS, 'throttle options');
  const rules = compileRules(options.rules);
  const now = options.now ?? Date.now;
  // A database has its own bounds (connection and query timeouts, SQLite's busy wait): a longer default.
  const timeoutMs = options.operationTimeoutMs ?? (options.redis === undefined ? 5000 : 1000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new ConfigError('throttle options.operationTimeoutMs must be a positive integer');
  }
  if (options.redis !== undefined && options.database !== undefined) {
    throw new ConfigError('throttle options: give redis or database, not both');
  }
  if (options.database !== undefined) {
    const { database } = options;
    if (typeof database !== 'object' || database === null || typeof database.t?.throttle !== 'string') {
      throw new ConfigError('throttle options.database must be the service database (openStores)');
    }
    return sqlThrottle(new SqlThrottleState(database), rules, now, timeoutMs);
  }
  if (options.redis === undefined) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new ConfigError('throttle options.maxEntries must be a positive integer');
    }
    return memoryThrottle(rules, now, maxEntries);
  }
  const prefix = options.prefix ?? 'tessera:throttle:';
  if (typeof prefix !== 'string' || prefix === '')
    throw new ConfigError('throttle options.prefix must not be empty');
  return redisThrottle(options.redis, prefix, rules, now, timeoutMs);
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('Sign-in throttle is closed');
}

function memoryThrottle(rules: ReadonlyMap<string, CompiledRule>, now: () => number, max: number): Throttle {
  const state = new MemoryThrottleState(max);
  let closed = false;
  const run = async <T>(keys: string[], op: (resolved: ResolvedKey[], at: number) => T): Promise<T> => {
    if (closed) throw closedError();
    return op(resolveKeys(keys, rules), now());
  };
  return {
    check: (keys) =>
      run(keys, (resolved, at): ThrottleVerdict => {
        const wait = state.apply('check', resolved, at);
        return wait === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: retrySeconds(wait) };
      }),
    fail: (keys) =>
      run(keys, (resolved, at) => {
        state.apply('fail', resolved, at);
      }),
    succeed: (keys) =>
      run(keys, (resolved, at) => {
        state.apply('succeed', resolved, at);
      }),
    close: async () => {
      closed = true;
      state.clear();
    },
  };
}

function sqlThrottle(
  state: SqlThrottleState,
  rules: ReadonlyMap<string, CompiledRule>,
  now: () => number,
  timeoutMs: number,
): Throttle {
  let closed = false;
  const call = async (op: 'check' | 'fail' | 'succeed', keys: string[]): Promise<number> => {
    if (closed) throw closedError();
    const resolved = resolveKeys(keys, rules);
    try {
      return await withTimeout(state.apply(op, resolved, Math.floor(now())), timeoutMs);
    } catch (error) {
      throw new StoreUnavailableError('Sign-in throttle state is unavailable (database)', { cause: error });
    }
  };
  return {
    check: async (keys) => {
      const wait = await call('check', keys);
      return wait === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: retrySeconds(wait) };
    },
    fail: async (keys) => {
      await call('fail', keys);
    },
    succeed: async (keys) => {
      await call('succeed', keys);
    },
    close: async () => {
      closed = true;
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

type ScriptFn = (this: Redis, count: number, ...args: string[]) => Promise<unknown>;

function redisThrottle(
  client: Redis,
  prefix: string,
  rules: ReadonlyMap<string, CompiledRule>,
  now: () => number,
  timeoutMs: number,
): Throttle {
  if (typeof client.defineCommand !== 'function') {
    throw new ConfigError('throttle options.redis must be an ioredis client');
  }
  // EVALSHA with a fallback to EVAL (after a Redis restart flushed its script cache).
  if (typeof (client as unknown as Record<string, unknown>)[SCRIPT_NAME] !== 'function') {
    client.defineCommand(SCRIPT_NAME, { lua: THROTTLE_SCRIPT });
  }
  const script = (client as unknown as Record<string, ScriptFn>)[SCRIPT_NAME] as ScriptFn;
  let closed = false;

  const call = async (op: 'check' | 'fail' | 'succeed', keys: string[]): Promise<number> => {
    if (closed) throw closedError();
    const resolved = resolveKeys(keys, rules);
    if (resolved.length === 0) return 0;
    const args: string[] = [op, String(Math.floor(now())), String(BUSY_MS)];
    for (const { rule } of resolved) {
      args.push(
        String(rule.limit),
        String(rule.windowMs),
        String(rule.lockMs),
        String(rule.maxLockMs),
        String(rule.resetMs),
        rule.reset ? '1' : '0',
      );
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        script.call(client, resolved.length, ...resolved.map((k) => prefix + k.id), ...args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const wait = Number(answer);
      if (!Number.isFinite(wait) || wait < 0) throw new Error('unexpected answer from the throttle script');
      return wait;
    } catch (error) {
      throw new StoreUnavailableError('Sign-in throttle state is unavailable (Redis)', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    check: async (keys) => {
      const wait = await call('check', keys);
      return wait === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: retrySeconds(wait) };
    },
    fail: async (keys) => {
      await call('fail', keys);
    },
    succeed: async (keys) => {
      await call('succeed', keys);
    },
    close: async () => {
      closed = true;
    },
  };
}
