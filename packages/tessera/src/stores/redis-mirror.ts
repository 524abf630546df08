/**
 * The lifecycle of `RedisStore`'s local revocation mirror (`localCache: true`):
 * a second, subscribed connection that feeds the in-memory {@link RevocationCache}
 * from the revocation channel, a full resync (SCAN) on every (re)connect of that
 * connection, and the readiness the store checks before it answers from memory.
 *
 * The cache is trusted only while the subscriber is connected and the last
 * resync has finished: a message published while nobody listened is lost, so
 * the moment the subscriber drops the mirror stops being in sync, and only a
 * resync that started after the new subscription makes it trustworthy again.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { parseRevocationMessage, type RevocationCache, type RevocationMessage } from './redis-cache.js';
import { parseCutoff, parseEveryoneCutoff, scanKind } from './redis-commands.js';
import type { RevocationCheck } from './types.js';

/** What the mirror needs from its store. */
export interface RevocationMirrorOptions {
  /** The store's key prefix. */
  readonly prefix: string;
  /** The revocation channel. */
  readonly channel: string;
  /** `<prefix>g`, the store-wide cut-off. */
  readonly cutoffKey: string;
  /** The CLIENT SETNAME of the subscriber connection. */
  readonly connectionName: string;
  /** The data structure being fed. */
  readonly cache: RevocationCache;
  /** The store's clock, unix seconds. */
  readonly now: () => number;
  /** Told about connection errors and an overflowing cache. */
  readonly report: (error: unknown) => void;
  /** Called after each completed resync. */
  readonly onSynced?: () => void;
}

/** Keeps a {@link RevocationCache} in step with Redis through pub/sub and resyncs. */
export class RevocationMirror {
  readonly #o: RevocationMirrorOptions;
  #subscriber: Redis | undefined;
  #synced = false;
  #epoch = 0;
  #closed = false;
  #warnedFull = false;
  #waiters: (() => void)[] = [];

  constructor(options: RevocationMirrorOptions) {
    this.#o = options;
  }

  /** True while the cache is complete and live: subscribed, and resynced since. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves at the next completed resync (at once when in sync). Bound it with a timeout. */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Answers from the cache (see {@link RevocationCache.check}); trust it only while {@link synced}. */
  check(check: RevocationCheck, now: number): boolean | undefined {
    return this.#o.cache.check(check, now);
  }

  /** Opens the subscriber connection (a duplicate of `client`); it reconnects forever. */
  start(client: Redis): void {
    if (this.#closed) return;
    const sub = client.duplicate({
      autoResubscribe: false,
      lazyConnect: false,
      enableOfflineQueue: true,
      // Named, so that an operator (or a test) can find and kill exactly these connections.
      connectionName: this.#o.connectionName,
    });
    this.#subscriber = sub;
    sub.on('error', (e: unknown) => this.#o.report(e));
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.#o.channel) this.apply(parseRevocationMessage(message));
    });
    sub.on('close', () => {
      // Messages are being lost from now on: stop trusting the cache at once.
      this.#epoch++;
      this.#synced = false;
    });
    sub.on('ready', () => {
      void this.#resync(client, sub);
    });
  }

  /** Adds one fact (from the channel, a resync, or this instance's own write). */
  apply(message: RevocationMessage | undefined, now = this.#o.now()): void {
    const cache = this.#o.cache;
    if (message === undefined) {
      // Unreadable: something was revoked that we cannot hold; stop answering "no" from memory.
      cache.markIncomplete();
      return;
    }
    if (!cache.add(message, now) && !this.#warnedFull) {
      this.#warnedFull = true;
      this.#o.report(
        new Error('RedisStore local cache is full; misses now query Redis until the next resync'),
      );
    }
  }

  /**
   * Applies a revocation this instance just wrote (the message its script
   * returned), without waiting for the pub/sub echo: an instance always sees
   * its own revocations at once.
   */
  applyOwn(message: unknown): void {
    if (typeof message === 'string') this.apply(parseRevocationMessage(message));
  }

  /** Closes the subscriber connection. */
  close(): void {
    this.#closed = true;
    this.#synced = false;
    this.#epoch++;
    this.#subscriber?.disconnect();
  }

  /** Subscribes, then rebuilds the cache from a SCAN; only then is the cache trusted again. */
  async #resync(client: Redis, sub: Redis): Promise<void> {
    const epoch = ++this.#epoch;
    this.#synced = false;
    const { cache, prefix } = this.#o;
    try {
      // Subscribe first: a revocation written after the subscription is delivered; one
      // written before it is already in Redis, so the scan below sees it.
      await sub.subscribe(this.#o.channel);
      if (epoch !== this.#epoch) return;
      cache.clear();
      const everyone = await client.get(this.#o.cutoffKey);
      const before = parseEveryoneCutoff(everyone);
      if (before > 0)
        this.apply({ kind: 'everyone', id: String(everyone).split('|')[1] ?? '', revokedBefore: before });
      for (const kind of ['j', 'c', 'rf'] as const) {
        await scanKind(client, prefix, kind, async (keys) => {
          const values = await client.mget(...keys);
          const now = this.#o.now();
          keys.forEach((key, i) => {
            const value = values[i];
            if (value == null) return;
            const id = key.slice(prefix.length + kind.length + 1);
            this.apply(toMessage(kind, id, value), now);
          });
        });
        if (epoch !== this.#epoch) return;
      }
      this.#synced = true;
      this.#warnedFull = false;
      this.#o.onSynced?.();
      for (const wake of this.#waiters.splice(0)) wake();
    } catch (error) {
      this.#o.report(error);
      // Try again while this subscriber connection is still the current one.
      if (epoch === this.#epoch && !this.#closed) {
        setTimeout(() => {
          if (epoch === this.#epoch && !this.#closed && sub.status === 'ready')
            void this.#resync(client, sub);
        }, 500).unref();
      }
    }
  }
}

/** Turns a scanned key's value into the fact the channel would have carried. */
function toMessage(kind: 'j' | 'c' | 'rf', id: string, value: string): RevocationMessage | undefined {
  if (kind === 'c') {
    const cut = parseCutoff(value);
    return cut === undefined ? undefined : { kind: 'cutoff', id, ...cut };
  }
  const at = Number(value);
  if (!Number.isSafeInteger(at)) return undefined;
  return kind === 'j' ? { kind: 'jti', id, expiresAt: at } : { kind: 'family', id, expiresAt: at };
}
