/**
 * The in-process throttle backend: one instance, state lost on restart. Every
 * operation runs synchronously, so check-and-count is atomic within the process.
 * The arithmetic is step.ts's. Records are swept when forgettable; past `maxEntries` the oldest record goes
 * (a flood of made-up usernames must not grow memory without bound).
 *
 * @module
 */
import { type CompiledRule, forgetAt, type ResolvedKey, type ThrottleRecord } from './policy.js';
import { step, type ThrottleOp } from './step.js';

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

  /** Applies one operation (see step.ts); the wait in ms for `check` (0: allowed, the attempt counted). */
  apply(op: ThrottleOp, keys: readonly ResolvedKey[], now: number): number {
    this.#sweep(now);
    const stored = new Map<string, ThrottleRecord | undefined>();
    for (const { id } of keys) stored.set(id, this.#entries.get(id));
    const { wait, write, remove } = step(op, keys, stored, now);
    for (const id of remove) this.#entries.delete(id);
    for (const [id, { rule, record }] of write) this.#write(id, rule, record);
    return wait;
  }

  clear(): void {
    this.#entries.clear();
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
