/**
 * The time floor of a refused sign-in. Imported hashes cost what their format
 * costs (Django's PBKDF2 at 600 000 iterations takes several times an argon2id
 * verification at OWASP's cost), so a dummy argon2id verification for unknown
 * users would let timing tell imported users apart from names that do not
 * exist, and any dummy of one kind would single out the users of the others.
 *
 * So every refused verification (wrong password, malformed hash, unknown user)
 * ends no earlier than a floor above the slowest kind of hash seen: the
 * verification runs as before, then the answer waits out the rest of the
 * floor on a timer. Waiting costs no CPU, so an attacker spraying unknown
 * names costs what argon2id costs, not what the slowest import costs.
 *
 * The floor is measured from the moment the work gets its slot in the
 * concurrency limit (the queue before that is the same whoever signs in), and
 * learnt per kind (format and cost): an exponentially weighted mean and mean
 * deviation of the compute time, the floor being the largest mean + 4
 * deviations, capped at {@link MAX_FLOOR_MS}. The service teaches it at start
 * with a sample of the stored hashes that are not argon2id at the current cost,
 * and after an import; every verification keeps it current.
 *
 * @module
 */

/** Longest floor: a pathological import cannot hold every refusal for longer. */
export const MAX_FLOOR_MS = 5000;

interface Estimate {
  mean: number;
  dev: number;
}

const WEIGHT = 0.2;

/** Per-kind compute times and the floor they give. */
export class FailureFloor {
  readonly #kinds = new Map<string, Estimate>();
  #floor = 0;

  /** One verification of `kind` took `ms` of compute (slot to answer). */
  observe(kind: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const known = this.#kinds.get(kind);
    if (known === undefined) {
      // A first sample says little about the spread: assume an eighth of it (a floor of 1.5 times).
      this.#kinds.set(kind, { mean: ms, dev: ms / 8 });
    } else {
      known.dev += WEIGHT * (Math.abs(ms - known.mean) - known.dev);
      known.mean += WEIGHT * (ms - known.mean);
    }
    let floor = 0;
    for (const { mean, dev } of this.#kinds.values()) floor = Math.max(floor, mean + 4 * dev);
    this.#floor = Math.min(floor, MAX_FLOOR_MS);
  }

  /** The floor now, in ms. */
  get floorMs(): number {
    return this.#floor;
  }

  /** Mean compute ms per kind seen. */
  kinds(): Record<string, number> {
    return Object.fromEntries([...this.#kinds].map(([kind, { mean }]) => [kind, Math.round(mean * 10) / 10]));
  }

  /** Waits until `startedAt` (a `performance.now()` time) plus the floor. */
  async wait(startedAt: number): Promise<void> {
    const left = startedAt + this.#floor - performance.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
  }
}
