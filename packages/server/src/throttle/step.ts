/**
 * One throttle operation as a pure function over the records it touches: the
 * memory backend (memory.ts) and the SQL backend (sql.ts) both read the
 * records, call {@link step}, and write back what it returns, so they cannot
 * drift apart. redis-script.ts is the same arithmetic in Lua.
 *
 * @module
 */
import {
  BUSY_MS,
  type CompiledRule,
  current,
  locked,
  type ResolvedKey,
  type ThrottleRecord,
} from './policy.js';

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
 * - `check` counts the attempt on every key, or none when one is locked or
 *   when attempts in flight hold the rest of its budget (a wait of
 *   {@link BUSY_MS}, no lock);
 * - `fail` makes the attempt a failure and locks every key whose failures reach the budget;
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
    // Attempts in flight hold the rest of the budget (failures lock in `fail`, never here): wait, no
    // lock, since right passwords among them must not lock anyone out.
    if (next.some(([, rule, record]) => record.n + 1 > rule.limit)) return { wait: BUSY_MS, write, remove };
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
      // The attempt was counted by its check (in this window, or the last: then it counts anew).
      const f = live.f + 1;
      const failed = { ...live, f, n: Math.max(live.n, f) };
      write.set(id, { rule, record: f >= rule.limit ? locked(failed, rule, now) : failed });
    } else {
      const live = current(record, rule, now);
      // Only an attempt in flight can be given back, never a failure.
      if (live.ws === record.ws && live.n > live.f)
        write.set(id, { rule, record: { ...live, n: live.n - 1 } });
    }
  }
  return { wait: 0, write, remove };
}

const EMPTY: ThrottleRecord = Object.freeze({ n: 0, f: 0, ws: 0, lock: 0, level: 0 });
