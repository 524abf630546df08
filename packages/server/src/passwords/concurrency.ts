/**
 * A counting semaphore for password work. Hashes run on the libuv threadpool;
 * letting every sign-in start one at once would fill the pool (and the cores)
 * and leave nothing for the requests that only verify or refresh a token, and
 * for the other threadpool users (file system, DNS). A small fixed number runs,
 * the rest wait in arrival order.
 *
 * @module
 */

/** Runs at most `limit` tasks at a time, the others in arrival order. */
export class ConcurrencyLimit {
  readonly limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #head = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    this.limit = limit;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Runs `task` once a slot is free; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #release(): void {
    if (this.#head < this.#waiting.length) {
      // Hand the slot straight to the next waiter: #running stays the same.
      const next = this.#waiting[this.#head] as () => void;
      this.#head++;
      // Compact now and then, so a long queue does not keep its consumed prefix alive.
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head);
        this.#head = 0;
      }
      next();
    } else {
      this.#running--;
    }
  }
}
