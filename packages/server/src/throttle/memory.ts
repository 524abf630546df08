/**
 * The in-process throttle backend: one instance, state lost on restart. Every
 * operation runs synchronously, so check-and-count is atomic within the process.
 * Records are swept when forgettable; past `maxEntries` the oldest record goes
 * (a flood of made-up usernames must not grow memory without bound).
 *
 * @module
 */
import {
  type CompiledRule,
  current,
  forgetAt,
  locked,
  type ResolvedKey,
  type ThrottleRecord,
} from './policy.js';

interface Entry extends ThrottleRecord {
  forget: number;
}

/** The memory backend's state and the three operations, times in unix ms. */
export class MemoryThrottleState {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  #nextSweep = 0;
  #now = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** Records held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Counts the attempt on every key, or none when one is locked or spent; the wait in ms (0: allowed). */
  check(keys: readonly ResolvedKey[], now: number): number {
    this.#sweep(now);
    let wait = 0;
    for (const { id } of keys) {
      const lock = this.#entries.get(id)?.lock ?? 0;
      if (lock > now) wait = Math.max(wait, lock - now);
    }
    if (wait > 0) return wait;
    const next = keys.map(({ id, rule }) => [id, rule, current(this.#read(id), rule, now)] as const);
    for (const [id, rule, record] of next) {
      if (record.n + 1 > rule.limit) {
        const l = locked(record, rule, now);
        this.#write(id, rule, l);
        wait = Math.max(wait, l.lock - now);
      }
    }
    if (wait > 0) return wait;
    for (const [id, rule, record] of next) this.#write(id, rule, { ...record, n: record.n + 1 });
    return 0;
  }

  /** A failed attempt: locks every key whose budget is spent. */
  fail(keys: readonly ResolvedKey[], now: number): void {
    this.#now = now;
    for (const { id, rule } of keys) {
      const stored = this.#entries.get(id);
      if (stored === undefined || stored.lock > now) continue;
      const record = current(stored, rule, now);
      if (record.n >= rule.limit) this.#write(id, rule, locked(record, rule, now));
    }
  }

  /** A successful attempt: `reset` keys forget everything, `refund` keys give the attempt back. */
  succeed(keys: readonly ResolvedKey[], now: number): void {
    this.#now = now;
    for (const { id, rule } of keys) {
      if (rule.reset) {
        this.#entries.delete(id);
        continue;
      }
      const stored = this.#entries.get(id);
      if (stored === undefined) continue;
      const record = current(stored, rule, now);
      if (record.ws === stored.ws && record.n > 0) this.#write(id, rule, { ...record, n: record.n - 1 });
    }
  }

  clear(): void {
    this.#entries.clear();
  }

  #read(id: string): ThrottleRecord {
    return this.#entries.get(id) ?? { n: 0, ws: 0, lock: 0, level: 0 };
  }

  #write(id: string, rule: CompiledRule, record: ThrottleRecord): void {
    const entry = { ...record, forget: forgetAt(record, rule) };
    if (!this.#entries.has(id) && this.#entries.size >= this.#maxEntries) {
      this.#sweep(this.#now);
      // Still full: drop the oldest record (Map keeps insertion order).
      if (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next();
        if (!oldest.done) this.#entries.delete(oldest.value);
      }
    }
    this.#entries.set(id, entry);
  }

  // A full pass at most once a minute, so an operation costs O(keys) on average.
  #sweep(now: number): void {
    this.#now = now;
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + 60_000;
    for (const [id, entry] of this.#entries) if (entry.forget <= now) this.#entries.delete(id);
  }
}
