/**
 * Detecting that Redis lost its data, for `RedisStore`.
 *
 * A Redis restarted without persistence (or flushed) comes back empty: every
 * revocation is gone and, unchecked, a logged-out or stolen token would be
 * accepted again. So the store keeps a generation marker, `<prefix>gen` (a
 * random id, created with SET NX on first connect), and each store remembers
 * the marker it saw. On every (re)connect (ioredis 'ready') it checks the
 * marker with one script (`CHECK_GENERATION` in redis-scripts.ts): if the marker it saw is
 * gone or different, the data was lost, and the script writes a store-wide
 * cut-off `<prefix>g` = "every token issued before now + 1 is revoked" (no
 * expiry) and a new marker, unless another instance already did. Until that
 * check has completed after a (re)connect, the store fails closed.
 *
 * The limit: an instance that starts for the first time against an empty
 * Redis has no marker to compare with and cannot tell "new" from "lost"; a loss
 * is caught only by an instance that was connected before it.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { bytesToBase64Url, randomBytes } from '../bytes.js';
import { StoreUnavailableError } from '../errors.js';
import { callScript, parseEveryoneCutoff } from './redis-commands.js';

/** What {@link GenerationWatch} needs from its store. */
export interface GenerationWatchOptions {
  /** `<prefix>gen`. */
  readonly markerKey: string;
  /** `<prefix>g`. */
  readonly cutoffKey: string;
  /** The revocation channel (the cut-off is published on it). */
  readonly channel: string;
  /** The store's clock, unix seconds. */
  readonly now: () => number;
  /** Told about failed checks and about detected data losses. */
  readonly report: (error: unknown) => void;
  /** Told the store-wide cut-off after every check (0: none), before the store is trusted again. */
  readonly onCutoff: (revokedBefore: number, generation: string, message: string | undefined) => void;
}

interface Waiter {
  resolve: (epoch: number) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Statuses of an ioredis client in which no check can complete until it reconnects. */
const DOWN = new Set(['reconnecting', 'close', 'end']);

/**
 * Watches one client's connection: counts its (re)connections (epochs), runs
 * the generation check after each, and tells callers whether the answers they
 * got came from a connection whose data was checked.
 */
export class GenerationWatch {
  readonly #o: GenerationWatchOptions;
  readonly #waiters = new Set<Waiter>();
  #client: Redis | undefined;
  #seen: string | undefined;
  #epoch = 0;
  #checked = false;
  #closed = false;
  #lost = 0;

  constructor(options: GenerationWatchOptions) {
    this.#o = options;
  }

  /** True once the current connection's check has completed. */
  get checked(): boolean {
    return this.#checked;
  }

  /** The generation marker this store last saw (undefined before the first check). */
  get generation(): string | undefined {
    return this.#seen;
  }

  /** How many data losses this instance detected and answered with a cut-off. */
  get lossesDetected(): number {
    return this.#lost;
  }

  /** Starts watching `client`: checks now if it is usable, and after every (re)connect. */
  attach(client: Redis): void {
    this.#client = client;
    client.on('close', () => this.#connectionLost());
    client.on('ready', () => void this.#check(client));
    if (client.status === 'ready' || client.status === 'wait') void this.#check(client);
  }

  /**
   * Resolves with the current epoch once the connection's check is done; rejects
   * with StoreUnavailableError at once when the connection is down, or after
   * `timeoutMs`.
   */
  wait(timeoutMs: number): Promise<number> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('RedisStore is closed'));
    if (this.#checked) return Promise.resolve(this.#epoch);
    if (this.#client !== undefined && DOWN.has(this.#client.status)) {
      return Promise.reject(new StoreUnavailableError('Redis connection is down'));
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new StoreUnavailableError('Redis generation check did not complete in time'));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /**
   * Throws StoreUnavailableError unless the connection of `epoch` is still the
   * checked one: an answer that crossed a reconnect (ioredis resends unanswered
   * commands to the new server) may come from a Redis that lost its data.
   */
  confirm(epoch: number): void {
    if (!this.#checked || epoch !== this.#epoch) {
      throw new StoreUnavailableError('Redis reconnected during the operation; its answer is not trusted');
    }
  }

  /** Stops watching; pending waiters fail. */
  close(): void {
    this.#closed = true;
    this.#connectionLost();
  }

  #connectionLost(): void {
    this.#epoch++;
    this.#checked = false;
    const error = new StoreUnavailableError(
      this.#closed
        ? 'RedisStore is closed'
        : 'Redis connection lost; waiting to reconnect and check its data',
    );
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.#waiters.clear();
  }

  async #check(client: Redis): Promise<void> {
    if (this.#closed || this.#checked) return;
    const epoch = this.#epoch;
    try {
      const answer = await callScript(
        client,
        'tesseraV1CheckGeneration',
        [this.#o.markerKey, this.#o.cutoffKey],
        [this.#seen ?? '', bytesToBase64Url(randomBytes(16)), this.#o.now() + 1, this.#o.channel],
      );
      if (epoch !== this.#epoch || this.#closed || this.#checked) return;
      if (!Array.isArray(answer) || typeof answer[0] !== 'string' || answer[0] === '') {
        throw new Error('Unexpected answer from the generation check');
      }
      const [generation, cutoff, message] = answer as [string, unknown, unknown];
      const previous = this.#seen;
      this.#seen = generation;
      const before = parseEveryoneCutoff(cutoff);
      if (typeof message === 'string' && message !== '') {
        this.#lost++;
        this.#o.report(
          new Error(
            `Redis lost its data (generation ${previous} is gone): every token issued before ` +
              `${new Date(before * 1000).toISOString()} is now refused`,
          ),
        );
      }
      this.#o.onCutoff(
        before,
        generation,
        typeof message === 'string' && message !== '' ? message : undefined,
      );
      this.#checked = true;
      for (const w of this.#waiters) {
        clearTimeout(w.timer);
        w.resolve(this.#epoch);
      }
      this.#waiters.clear();
    } catch (error) {
      this.#o.report(error);
      // Try again while this connection is still the current one.
      setTimeout(() => {
        if (epoch === this.#epoch && !this.#closed && client.status === 'ready') void this.#check(client);
      }, 500).unref();
    }
  }
}
