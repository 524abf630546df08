/**
 * The throttle's policy: one rule per kind of key (`acct:<username>`,
 * `ip:<address>`), and the arithmetic both backends apply (memory.ts in
 * TypeScript, redis-script.ts in Lua; the tests run one suite on both).
 *
 * A rule counts attempts in a fixed window that opens at the first attempt.
 * `check` counts the attempt before the password is checked, so that attempts
 * racing each other (many at once, or on several instances) cannot pass the
 * budget: while attempts in flight hold the rest of it, a further one is
 * refused for {@link BUSY_MS} without a lock. Only failures lock: `fail`
 * turns its attempt into a failure and starts the lock once the failures
 * reach the budget; `succeed` forgives (`reset`: the whole record, including
 * the backoff level; `refund`: the one attempt, so right passwords never
 * count towards a lock). A lock lasts `lockSeconds · 2^level`, capped at
 * `maxLockSeconds`; each lock raises the level, which falls back to 0 once
 * `backoffResetSeconds` have passed since the last lock ended. When a lock is
 * set the count starts again, so the budget returns when the lock ends.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { ConfigError } from 'tessera-auth';
import { refuseUnknownOptions } from 'tessera-auth/core';

/** One kind of key's budget and lock. */
export interface ThrottleRule {
  /** Attempts allowed per window. */
  readonly limit: number;
  /** The window, in seconds, from its first attempt. */
  readonly windowSeconds: number;
  /** The first lock, in seconds; each further lock doubles it. */
  readonly lockSeconds: number;
  /** The longest lock, in seconds. */
  readonly maxLockSeconds: number;
  /** Seconds after the end of the last lock at which the doubling starts over. */
  readonly backoffResetSeconds: number;
  /** What a successful sign-in does: forget everything (`reset`) or give back its attempt (`refund`). */
  readonly onSuccess: 'reset' | 'refund';
}

/**
 * The default rules: per account 5 attempts per 15 minutes, then a lock of 15
 * minutes doubling up to a day (reset by a successful sign-in); per client
 * address 100 attempts per 15 minutes, same lock (a success gives its attempt back).
 */
export const DEFAULT_RULES: Readonly<Record<'acct' | 'ip', ThrottleRule>> = Object.freeze({
  acct: Object.freeze({
    limit: 5,
    windowSeconds: 900,
    lockSeconds: 900,
    maxLockSeconds: 86_400,
    backoffResetSeconds: 86_400,
    onSuccess: 'reset',
  }),
  ip: Object.freeze({
    limit: 100,
    windowSeconds: 900,
    lockSeconds: 900,
    maxLockSeconds: 86_400,
    backoffResetSeconds: 86_400,
    onSuccess: 'refund',
  }),
});

const RULE_KEYS = [
  'limit',
  'windowSeconds',
  'lockSeconds',
  'maxLockSeconds',
  'backoffResetSeconds',
  'onSuccess',
] as const;

/** The rules in milliseconds, as the backends use them. */
export interface CompiledRule {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly lockMs: number;
  readonly maxLockMs: number;
  readonly resetMs: number;
  readonly reset: boolean;
}

/** Checks the rules option (defaults merged in) and turns seconds into milliseconds. */
export function compileRules(
  given: Readonly<Record<string, Partial<ThrottleRule>>> | undefined,
): ReadonlyMap<string, CompiledRule> {
  if (given !== undefined && (typeof given !== 'object' || given === null)) {
    throw new ConfigError('throttle options.rules must be an object');
  }
  const names = new Set([...Object.keys(DEFAULT_RULES), ...Object.keys(given ?? {})]);
  const out = new Map<string, CompiledRule>();
  for (const name of names) {
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(name)) {
      throw new ConfigError(`throttle rule name '${name}' must be lowercase letters, digits, '-' or '_'`);
    }
    const partial = given?.[name];
    refuseUnknownOptions(partial, RULE_KEYS, `throttle rule '${name}'`);
    const base = (DEFAULT_RULES as Record<string, ThrottleRule | undefined>)[name];
    const rule = { ...base, ...partial } as Partial<ThrottleRule>;
    for (const key of RULE_KEYS) {
      if (key === 'onSuccess') continue;
      const v = rule[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10_000_000) {
        throw new ConfigError(`throttle rule '${name}': ${key} must be an integer from 1 to 10000000`);
      }
    }
    if (rule.onSuccess !== 'reset' && rule.onSuccess !== 'refund') {
      throw new ConfigError(`throttle rule '${name}': onSuccess must be 'reset' or 'refund'`);
    }
    const r = rule as ThrottleRule;
    if (r.maxLockSeconds < r.lockSeconds) {
      throw new ConfigError(`throttle rule '${name}': maxLockSeconds must be at least lockSeconds`);
    }
    out.set(name, {
      name,
      limit: r.limit,
      windowMs: r.windowSeconds * 1000,
      lockMs: r.lockSeconds * 1000,
      maxLockMs: r.maxLockSeconds * 1000,
      resetMs: r.backoffResetSeconds * 1000,
      reset: r.onSuccess === 'reset',
    });
  }
  return out;
}

/** A key resolved to its rule and a storage id (a digest: no usernames or addresses in storage). */
export interface ResolvedKey {
  readonly rule: CompiledRule;
  readonly id: string;
}

/**
 * Resolves `kind:value` keys. Duplicate keys count once. A key whose kind has
 * no rule is a programming error (TypeError), not bad input.
 */
export function resolveKeys(
  keys: readonly string[],
  rules: ReadonlyMap<string, CompiledRule>,
): ResolvedKey[] {
  if (!Array.isArray(keys)) throw new TypeError('throttle keys must be an array of strings');
  const seen = new Set<string>();
  const out: ResolvedKey[] = [];
  for (const key of keys) {
    if (typeof key !== 'string') throw new TypeError('throttle keys must be strings');
    const colon = key.indexOf(':');
    const rule = colon > 0 ? rules.get(key.slice(0, colon)) : undefined;
    if (rule === undefined) {
      throw new TypeError(`throttle key must start with one of ${[...rules.keys()].join(', ')} and ':'`);
    }
    const id = `${rule.name}:${createHash('sha256')
      .update(key.slice(colon + 1), 'utf8')
      .digest('base64url')}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ rule, id });
  }
  return out;
}

/** The stored record of one key. Times are unix milliseconds. */
export interface ThrottleRecord {
  /** Attempts counted in the current window: failures and attempts still in flight. */
  n: number;
  /** Of those, failures (at most `n`). */
  f: number;
  /** Start of the current window. */
  ws: number;
  /** End of the current or last lock (0: never locked). */
  lock: number;
  /** Locks so far (the backoff exponent). */
  level: number;
}

/** Window and backoff as they stand at `now` (a new window, a forgotten level). */
export function current(record: ThrottleRecord, rule: CompiledRule, now: number): ThrottleRecord {
  const fresh = record.ws + rule.windowMs <= now;
  return {
    n: fresh ? 0 : record.n,
    f: fresh ? 0 : record.f,
    ws: fresh ? now : record.ws,
    lock: record.lock,
    level: record.lock + rule.resetMs <= now ? 0 : record.level,
  };
}

/** Sets a lock from `now` at the record's level, raises the level, starts the count again. */
export function locked(record: ThrottleRecord, rule: CompiledRule, now: number): ThrottleRecord {
  const ms = Math.min(rule.lockMs * 2 ** Math.min(record.level, 40), rule.maxLockMs);
  return { n: 0, f: 0, ws: now, lock: now + ms, level: Math.min(record.level + 1, 64) };
}

/** When the record can be forgotten: its window, its lock and its backoff memory all over. */
export function forgetAt(record: ThrottleRecord, rule: CompiledRule): number {
  return Math.max(record.ws + rule.windowMs, record.lock > 0 ? record.lock + rule.resetMs : 0);
}

/**
 * The wait of an attempt refused because attempts in flight hold the rest of
 * the budget: they settle within a password verification, after which the
 * budget is back (successes) or the lock is set (failures).
 */
export const BUSY_MS = 1000;

/** Seconds for Retry-After: whole seconds, rounded up, at least 1. */
export function retrySeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
