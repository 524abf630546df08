/**
 * A binary min-heap of (expiry, key) pairs: finds the soonest-to-expire entries
 * in O(log n), so that a full in-memory store can reclaim expired entries without
 * scanning everything on every insert.
 *
 * Entries are never updated in place: when an expiry moves, the owner pushes a
 * new pair and ignores the stale one when it surfaces (it checks the live value).
 *
 * @module
 */

/** One heap element: `key` expires at `at` (unix seconds). */
export interface HeapItem<K> {
  readonly at: number;
  readonly key: K;
}

/** A min-heap ordered by `at`. */
export class ExpiryHeap<K> {
  #items: HeapItem<K>[] = [];

  /** Number of elements, stale ones included. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds `key` expiring at `at`. */
  push(at: number, key: K): void {
    const items = this.#items;
    items.push({ at, key });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  /** The soonest element without removing it. */
  peek(): HeapItem<K> | undefined {
    return this.#items[0];
  }

  /** Removes and returns the soonest element. */
  pop(): HeapItem<K> | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && items[l]!.at < items[m]!.at) m = l;
      if (r < items.length && items[r]!.at < items[m]!.at) m = r;
      if (m === i) break;
      [items[m], items[i]] = [items[i]!, items[m]!];
      i = m;
    }
    return top;
  }

  /** Replaces the content (used to drop stale elements); O(n log n). */
  rebuild(entries: Iterable<HeapItem<K>>): void {
    this.#items = [];
    for (const e of entries) this.push(e.at, e.key);
  }
}
