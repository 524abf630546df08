/**
 * One throttle operation as a pure function over the records it touches: the
 * memory backend (memory.ts) and the SQL backend (sql.ts) both read the
 * records, call {@link step}, and write back what it returns, so they cannot
 * drift apart. redis-script.ts is the same arithmetic in Lua.
 *
 * @module
 */
import { type CompiledRule, current, locked, type ResolvedKey, type ThrottleRecord } from './policy.js';

/** The three operations of a throttle. */
export type ThrottleOp = 'check' | 'fail' | 'succeed';

/** What an operation does: the wait in ms (`check` only; 0: allowed) and the records to store or forget. */
export interface StepResult {
  readonly wait: number;
  /** Records to store, by id. */
  readonly write: Map<string, { readonly rule: CompiledRule; readonly record: ThrottleRecord }>;
  /** Ids to forget. */
  readonly remove: Set<string>;
}

/**
 * Applies `op` at `now` to the stored records of `keys` (`undefined`: none stored).
 *
 * - `check` counts the attempt on every key, or none when one is locked or its
 *   budget is spent (which locks it now);
 * - `fail` locks every key whose budget is spent;
 * - `succeed` forgets `reset` keys and gives the attempt back on `refund` keys.
 */
export function step(
  op: ThrottleOp,
  keys: readonly ResolvedKey[],
  stored: ReadonlyMap<string, ThrottleRecord | undefined>,
  now: number,
): StepResult {
  const write: StepResult['write'] = new Map();
  const remove = new Set<string>();
  if (op === 'check') {
    let wait = 0;
    for (const { id } of keys) {
      const lock = stored.get(id)?.lock ?? 0;
      if (lock > now) wait = Math.max(wait, lock - now);
    }
    if (wait > 0) return { wait, write, remove };
    const next = keys.map(({ id, rule }) => [id, rule, current(stored.get(id) ?? EMPTY, rule, now)] as const);
    for (const [id, rule, record] of next) {
      if (record.n + 1 > rule.limit) {
        const l = locked(record, rule, now);
        write.set(id, { rule, record: l });
        wait = Math.max(wait, l.lock - now);
      }
    }
    if (wait > 0) return { wait, write, remove };
    for (const [id, rule, record] of next) write.set(id, { rule, record: { ...record, n: record.n + 1 } });
    return { wait: 0, write, remove };
  }
  for (const { id, rule } of keys) {
    const record = stored.get(id);
    if (op === 'succeed' && rule.reset) {
      if (record !== undefined) remove.add(id);
      continue;
    }
    if (record === undefined) continue;
    if (op === 'fail') {
      if (record.lock > now) continue;
      const live = current(record, rule, now);
      if (live.n >= rule.limit) write.set(id, { rule, record: locked(live, rule, now) });
    } else {
      const live = current(record, rule, now);
      if (live.ws === record.ws && live.n > 0) write.set(id, { rule, record: { ...live, n: live.n - 1 } });
    }
  }
  return { wait: 0, write, remove };
}

const EMPTY: ThrottleRecord = Object.freeze({ n: 0, ws: 0, lock: 0, level: 0 });
