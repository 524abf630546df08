/**
 * `RedisStore`: the {@link TokenStore} on Redis (ioredis), for many app
 * instances sharing revocations. Entry point `tessera-auth/stores/redis`.
 *
 * Layout, under a key prefix (default `tessera:`):
 * - `j:<jti>` revoked jti, value = its expiry, EXPIREAT that expiry;
 * - `c:<userKey>` user cut-off, value `<revokedBefore>|<keepUntil>`, EXPIREAT keepUntil;
 * - `f:<familyId>` family hash (`u` user, `cur`, `prev`, `rot`, `c` created,
 *   `lu` last used, `exp`, `rev` revoked at, `m` metadata JSON), EXPIREAT exp;
 * - `rf:<familyId>` revoked-family marker, value = the family's expiry (one
 *   GET/MGET answers "is this family revoked", and the resync can SCAN them);
 * - `u:<userKey>` sorted set of the user's family ids by creation time;
 * - channel `<prefix>revocations`: every revocation, published by the script
 *   that writes it.
 *
 * Every write is one Lua script (atomic in Redis). Keys are grouped by kind,
 * not by hash tag: the store targets standalone Redis (or Sentinel), not Cluster.
 *
 * **Local cache** (`localCache: true`): each instance keeps the revocations in
 * memory (see `redis-cache.ts`), fed by the channel and rebuilt by SCAN on
 * every (re)connect of its subscriber connection, so `isRevoked` answers
 * without a network round trip. A revocation made on one instance reaches the
 * others after one pub/sub delivery: well under a millisecond on loopback
 * (measured by the multi-instance test), a network hop otherwise. While the
 * subscriber is down or resyncing, `isRevoked` fails closed (throws
 * `StoreUnavailableError`) unless `failOpen: true` was chosen.
 *
 * ioredis is an optional peer dependency: pass your own client, or let the
 * store load ioredis with a dynamic `import()`; importing this module never
 * loads it.
 *
 * @module
 */
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';
import { parseRevocationMessage, RevocationCache, type RevocationMessage } from './redis-cache.js';
import {
  CREATE_FAMILY,
  PRUNE_INDEX,
  PURGE_FAMILY,
  PURGE_KEY,
  REVOKE_FAMILIES,
  REVOKE_TOKEN,
  REVOKE_USER_BEFORE,
  ROTATE_FAMILY,
} from './redis-scripts.js';
import {
  checkId,
  checkMetadata,
  checkRotateRequest,
  checkTime,
  compareSessions,
  isBeforeCutoff,
  parseMetadata,
} from './rules.js';
import {
  type Clock,
  FamilyExistsError,
  type NewFamily,
  type RevocationCheck,
  type RotateOutcome,
  type RotateRequest,
  type SessionInfo,
  systemClock,
  type TokenStore,
} from './types.js';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (the store uses it and does not close it), or options
   * for one the store creates (and closes). Created clients get bounded
   * defaults: `maxRetriesPerRequest: 1`, `connectTimeout: 2000`,
   * `commandTimeout: 1000` (ms), so a down Redis answers with an error in
   * milliseconds instead of queueing forever.
   */
  redis: Redis | RedisOptions;
  /** Key and channel prefix. Default `tessera:`. */
  prefix?: string;
  /**
   * Keep revocations in memory, fed by pub/sub (see the module comment).
   * `true` holds up to 100 000 facts; past that, lookups that miss the cache go
   * to Redis.
   */
  localCache?: boolean | { maxEntries?: number };
  /**
   * When revocation state cannot be read (Redis down, or the cache not in sync),
   * answer "not revoked" instead of throwing. Off by default: fail closed. When
   * on, each outage is reported once through `onError`.
   */
  failOpen?: boolean;
  /** Told about connection errors and degraded modes. Default: `console.warn`. */
  onError?: (error: unknown) => void;
  /** The clock (unix seconds) for methods that take no `now`. Default: system time. */
  now?: Clock;
  /** Upper bound on one store operation in ms, whatever the client's settings. Default 2000. */
  operationTimeoutMs?: number;
}

/** The bounded defaults for clients the store creates. */
export const REDIS_DEFAULTS: Readonly<RedisOptions> = Object.freeze({
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 1000,
});

/** Scripts, defined on the client under versioned names so they never clash with the app's own. */
const SCRIPTS = {
  tesseraV1RevokeToken: REVOKE_TOKEN,
  tesseraV1RevokeUserBefore: REVOKE_USER_BEFORE,
  tesseraV1CreateFamily: CREATE_FAMILY,
  tesseraV1RotateFamily: ROTATE_FAMILY,
  tesseraV1RevokeFamilies: REVOKE_FAMILIES,
  tesseraV1PurgeKey: PURGE_KEY,
  tesseraV1PurgeFamily: PURGE_FAMILY,
  tesseraV1PruneIndex: PRUNE_INDEX,
} as const;
type ScriptName = keyof typeof SCRIPTS;
type ScriptArg = string | number;

/** Calls a script defined with `defineCommand` (EVALSHA, falling back to EVAL after a Redis restart). */
function callScript(
  target: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown>;
function callScript(
  target: ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): ChainableCommander;
function callScript(
  target: Redis | ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): unknown {
  const fn = (target as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`script ${name} is not defined on this client`);
  return (fn as (...a: ScriptArg[]) => unknown).call(target, keys.length, ...keys, ...args);
}

/** Escapes glob characters so the prefix matches itself in SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The CLIENT SETNAME of a store's subscriber connections: `tessera-sub:<prefix>`,
 * with characters Redis refuses in names (spaces, control characters) replaced.
 */
export function subscriberName(prefix: string): string {
  return `tessera-sub:${prefix}`.replace(/[^\x21-\x7e]/g, '_');
}

/** Is this an ioredis client rather than options for one? */
function isClient(value: Redis | RedisOptions): value is Redis {
  return typeof (value as { defineCommand?: unknown }).defineCommand === 'function';
}

/**
 * A {@link TokenStore} on Redis. See the module comment for the key layout,
 * the local cache and its propagation delay.
 *
 * Call {@link RedisStore.ready} before serving traffic: with the local cache on
 * it waits for the first full sync (until then `isRevoked` fails closed).
 */
export class RedisStore implements TokenStore {
  /** The key prefix. */
  readonly prefix: string;
  /** The pub/sub channel carrying revocations. */
  readonly channel: string;
  /** `<prefix>g`: the store-wide cut-off written after a data loss (see the module comment). */
  readonly #everyoneKey: string;
  readonly #options: RedisStoreOptions;
  readonly #now: Clock;
  readonly #timeoutMs: number;
  readonly #failOpen: boolean;
  readonly #report: (error: unknown) => void;
  readonly #cache: RevocationCache | undefined;
  readonly #ownsClient: boolean;
  readonly #client: Promise<Redis>;
  #subscriber: Redis | undefined;
  #synced = false;
  #epoch = 0;
  #closed = false;
  #warnedOpen = false;
  #warnedFull = false;
  #lastError = '';
  #syncWaiters: (() => void)[] = [];

  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.prefix = options.prefix ?? 'tessera:';
    if (this.prefix.length === 0) throw new TypeError('prefix must not be empty');
    this.channel = `${this.prefix}revocations`;
    this.#everyoneKey = `${this.prefix}g`;
    this.#now = options.now ?? systemClock;
    this.#timeoutMs = options.operationTimeoutMs ?? 2000;
    this.#failOpen = options.failOpen ?? false;
    this.#report = options.onError ?? ((e: unknown) => console.warn('[tessera] RedisStore:', e));
    const cacheOption = options.localCache ?? false;
    this.#cache =
      cacheOption === false
        ? undefined
        : new RevocationCache((cacheOption === true ? undefined : cacheOption.maxEntries) ?? 100_000);
    this.#ownsClient = !isClient(options.redis);
    this.#client = this.#connect();
    // Failures surface on first use; an unobserved rejection must not crash the process.
    this.#client.catch(() => undefined);
  }

  /** True while the local cache is complete and live (always false without `localCache`). */
  get synced(): boolean {
    return this.#synced;
  }

  /**
   * Resolves once the store can answer: Redis answered a PING and, with the
   * local cache, the first full sync is done. Rejects with
   * `StoreUnavailableError` after `timeoutMs`.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    await this.#guard(
      'ready',
      async () => {
        const client = await this.#client;
        await client.ping();
        if (this.#cache !== undefined && !this.#synced) {
          await new Promise<void>((resolve) => this.#syncWaiters.push(resolve));
        }
      },
      timeoutMs,
    );
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    checkId('jti', jti);
    checkTime('expiresAt', expiresAt);
    const msg = await this.#guard('revokeToken', (c) =>
      callScript(c, 'tesseraV1RevokeToken', [this.#key('j', jti)], [expiresAt, this.channel, jti]),
    );
    this.#applyOwn(msg);
  }

  async revokeUserBefore(userKey: string, before: number, keepUntil: number): Promise<void> {
    checkId('userKey', userKey);
    checkTime('before', before);
    checkTime('keepUntil', keepUntil);
    const msg = await this.#guard('revokeUserBefore', (c) =>
      callScript(
        c,
        'tesseraV1RevokeUserBefore',
        [this.#key('c', userKey)],
        [before, keepUntil, this.channel, userKey],
      ),
    );
    this.#applyOwn(msg);
  }

  /**
   * {@link TokenStore.isRevokedNow}: answered from the local cache while it is in
   * sync; undefined without a cache or when the cache overflowed (ask Redis).
   */
  isRevokedNow(check: RevocationCheck): boolean | undefined {
    if (this.#closed) throw new StoreUnavailableError('RedisStore is closed');
    if (this.#cache === undefined) return undefined;
    const now = this.#now();
    if (this.#synced) return this.#cache.check(check, now);
    if (this.#failOpen) {
      this.#warnOpen('local revocation cache is not in sync; answering from the stale cache (failOpen)');
      return this.#cache.check(check, now) ?? false;
    }
    throw new StoreUnavailableError('Redis revocation feed is not in sync (subscriber down or resyncing)');
  }

  async isRevoked(check: RevocationCheck): Promise<boolean> {
    if (this.#closed) throw new StoreUnavailableError('RedisStore is closed');
    const now = this.#now();
    if (this.#cache !== undefined) {
      if (this.#synced) {
        const local = this.#cache.check(check, now);
        if (local !== undefined) return local;
        // The cache overflowed: a miss proves nothing, ask Redis.
      } else if (this.#failOpen) {
        this.#warnOpen('local revocation cache is not in sync; answering from the stale cache (failOpen)');
        return this.#cache.check(check, now) ?? false;
      } else {
        throw new StoreUnavailableError(
          'Redis revocation feed is not in sync (subscriber down or resyncing)',
        );
      }
    }
    try {
      return await this.#lookup(check, now);
    } catch (error) {
      if (!this.#failOpen) throw error;
      this.#warnOpen(error);
      return false;
    }
  }

  async createFamily(f: NewFamily): Promise<void> {
    checkId('familyId', f.familyId);
    checkId('userKey', f.userKey);
    checkId('jti', f.jti);
    checkTime('now', f.now);
    checkTime('expiresAt', f.expiresAt);
    const metadata = JSON.stringify(checkMetadata(f.metadata));
    const created = await this.#guard('createFamily', (c) =>
      callScript(
        c,
        'tesseraV1CreateFamily',
        [this.#key('f', f.familyId), this.#key('u', f.userKey)],
        [f.userKey, f.jti, f.now, f.expiresAt, metadata, f.familyId],
      ),
    );
    if (created !== 1) throw new FamilyExistsError(f.familyId);
  }

  async rotateFamily(r: RotateRequest): Promise<RotateOutcome> {
    checkRotateRequest(r);
    const answer = await this.#guard('rotateFamily', async (c): Promise<unknown> => {
      // The script needs the user's keys; a family's user never changes, so reading it first is race-free.
      const user = await c.hget(this.#key('f', r.familyId), 'u');
      if (user === null) return 'unknown';
      return callScript(
        c,
        'tesseraV1RotateFamily',
        [
          this.#key('f', r.familyId),
          this.#key('c', user),
          this.#key('rf', r.familyId),
          this.#key('u', user),
          this.#everyoneKey,
        ],
        [r.presentedJti, r.nextJti, r.now, r.graceSeconds, r.expiresAt, this.channel, r.familyId],
      );
    });
    return this.#rotateOutcome(answer);
  }

  /** Reads the rotation script's answer; anything unexpected is a store failure, never a success. */
  #rotateOutcome(answer: unknown): RotateOutcome {
    if (answer === 'revoked' || answer === 'unknown') return { status: answer };
    if (Array.isArray(answer)) {
      const [status, a, b] = answer as unknown[];
      if (status === 'reused') {
        this.#applyOwn(a);
        return { status };
      }
      const expiresAt = Number(b);
      if (
        (status === 'rotated' || status === 'grace') &&
        typeof a === 'string' &&
        Number.isSafeInteger(expiresAt)
      )
        return { status, currentJti: a, expiresAt };
    }
    throw new StoreUnavailableError('Unexpected answer from the rotation script');
  }

  async revokeFamily(familyId: string): Promise<boolean> {
    checkId('familyId', familyId);
    const now = this.#now();
    const [existed] = await this.#revokeFamilies([familyId], now, false);
    return existed > 0;
  }

  async revokeUserFamilies(userKey: string): Promise<number> {
    checkId('userKey', userKey);
    const now = this.#now();
    const ids = await this.#guard('revokeUserFamilies', (c) => c.zrange(this.#key('u', userKey), 0, -1));
    if (ids.length === 0) return 0;
    const [, revoked] = await this.#revokeFamilies(ids, now, true);
    return revoked;
  }

  async listSessions(userKey: string, now: number): Promise<SessionInfo[]> {
    checkId('userKey', userKey);
    checkTime('now', now);
    return this.#guard('listSessions', async (c) => {
      const ids = await c.zrange(this.#key('u', userKey), 0, -1);
      if (ids.length === 0) return [];
      const pipe = c.pipeline().get(this.#key('c', userKey));
      for (const id of ids) pipe.hmget(this.#key('f', id), 'c', 'lu', 'exp', 'rev', 'm');
      const results = await execPipeline(pipe);
      const cut = parseCutoff(results[0]);
      const liveCut = cut !== undefined && now < cut.keepUntil ? cut.revokedBefore : undefined;
      const sessions: SessionInfo[] = [];
      ids.forEach((familyId, i) => {
        const row = results[i + 1];
        if (!Array.isArray(row) || row[0] == null) return;
        const [created, lastUsed, exp, rev, meta] = row as (string | null)[];
        const createdAt = Number(created);
        if (rev != null || now >= Number(exp)) return;
        if (liveCut !== undefined && isBeforeCutoff(createdAt, liveCut)) return;
        sessions.push({
          familyId,
          userKey,
          createdAt,
          lastUsedAt: Number(lastUsed),
          expiresAt: Number(exp),
          metadata: parseMetadata(meta),
        });
      });
      return sessions.sort(compareSessions);
    });
  }

  /**
   * Redis drops expired keys by itself (EXPIREAT), so this is hygiene: it
   * deletes entries whose stored expiry has passed at `now` (relevant when
   * `now` runs ahead of Redis's clock) and prunes user indexes of families
   * Redis has dropped. It SCANs the prefix: O(keys), for a maintenance job, not
   * a request path. Counts jtis, cut-offs and families removed.
   */
  async purgeExpired(now: number): Promise<number> {
    checkTime('now', now);
    return this.#guard(
      'purgeExpired',
      async (c) => {
        let removed = 0;
        for (const [kind, scriptKind] of [
          ['j', 'j'],
          ['c', 'c'],
          ['rf', 'r'],
        ] as const) {
          await this.#scan(c, kind, async (keys) => {
            const pipe = c.pipeline();
            for (const key of keys) callScript(pipe, 'tesseraV1PurgeKey', [key], [now, scriptKind]);
            const counts = await execPipeline(pipe);
            if (kind !== 'rf') removed += counts.reduce((n: number, v) => n + Number(v ?? 0), 0);
          });
        }
        await this.#scan(c, 'f', async (keys) => {
          const users = await execPipeline(keys.reduce((p, key) => p.hget(key, 'u'), c.pipeline()));
          const pipe = c.pipeline();
          keys.forEach((key, i) => {
            const user = users[i];
            if (typeof user !== 'string') return;
            const id = key.slice(this.prefix.length + 2);
            callScript(
              pipe,
              'tesseraV1PurgeFamily',
              [key, this.#key('rf', id), this.#key('u', user)],
              [now, id],
            );
          });
          const counts = await execPipeline(pipe);
          removed += counts.reduce((n: number, v) => n + Number(v ?? 0), 0);
        });
        await this.#scan(c, 'u', async (keys) => {
          for (const index of keys) {
            const ids = await c.zrange(index, 0, -1);
            if (ids.length === 0) continue;
            await callScript(c, 'tesseraV1PruneIndex', [index, ...ids.map((id) => this.#key('f', id))], ids);
          }
        });
        return removed;
      },
      Math.max(this.#timeoutMs, 60_000),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#synced = false;
    this.#epoch++;
    this.#subscriber?.disconnect();
    const client = await this.#client.catch(() => undefined);
    if (client !== undefined && this.#ownsClient) {
      await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      client.disconnect();
    }
  }

  // ---- connections and the local cache ----

  async #connect(): Promise<Redis> {
    const given = this.#options.redis;
    let client: Redis;
    if (isClient(given)) {
      client = given;
    } else {
      const Ctor = await loadRedis();
      client = new Ctor({ ...REDIS_DEFAULTS, ...given });
    }
    // Without a listener ioredis prints every connection error; route them to onError instead.
    client.on('error', (e: unknown) => this.#onConnectionError(e));
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
    if (this.#cache !== undefined && !this.#closed) this.#startSubscriber(client);
    return client;
  }

  /** A second connection for pub/sub; it reconnects forever and resyncs the cache on every (re)connect. */
  #startSubscriber(client: Redis): void {
    const sub = client.duplicate({
      autoResubscribe: false,
      lazyConnect: false,
      enableOfflineQueue: true,
      // Named, so that an operator (or a test) can find and kill exactly these connections.
      connectionName: subscriberName(this.prefix),
    });
    this.#subscriber = sub;
    sub.on('error', (e: unknown) => this.#onConnectionError(e));
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.#apply(parseRevocationMessage(message));
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

  /** Subscribes, then rebuilds the cache from a SCAN; only then is the cache trusted again. */
  async #resync(client: Redis, sub: Redis): Promise<void> {
    const epoch = ++this.#epoch;
    this.#synced = false;
    const cache = this.#cache!;
    try {
      // Subscribe first: a revocation written after the subscription is delivered; one
      // written before it is already in Redis, so the scan below sees it.
      await sub.subscribe(this.channel);
      if (epoch !== this.#epoch) return;
      cache.clear();
      for (const kind of ['j', 'c', 'rf'] as const) {
        await this.#scan(client, kind, async (keys) => {
          const values = await client.mget(...keys);
          const now = this.#now();
          keys.forEach((key, i) => {
            const value = values[i];
            if (value == null) return;
            const id = key.slice(this.prefix.length + kind.length + 1);
            this.#apply(toMessage(kind, id, value), now);
          });
        });
        if (epoch !== this.#epoch) return;
      }
      this.#synced = true;
      this.#warnedOpen = false;
      this.#warnedFull = false;
      for (const wake of this.#syncWaiters.splice(0)) wake();
    } catch (error) {
      this.#onConnectionError(error);
      // Try again while this subscriber connection is still the current one.
      if (epoch === this.#epoch && !this.#closed) {
        setTimeout(() => {
          if (epoch === this.#epoch && !this.#closed && sub.status === 'ready')
            void this.#resync(client, sub);
        }, 500).unref();
      }
    }
  }

  #apply(message: RevocationMessage | undefined, now = this.#now()): void {
    const cache = this.#cache!;
    if (message === undefined) {
      // Unreadable: something was revoked that we cannot hold; stop answering "no" from memory.
      cache.markIncomplete();
      return;
    }
    if (!cache.add(message, now) && !this.#warnedFull) {
      this.#warnedFull = true;
      this.#report(new Error('RedisStore local cache is full; misses now query Redis until the next resync'));
    }
  }

  /**
   * Applies a revocation this instance just wrote, without waiting for its own
   * pub/sub echo: an instance always sees its own revocations at once.
   */
  #applyOwn(message: unknown): void {
    if (this.#cache === undefined || typeof message !== 'string') return;
    this.#apply(parseRevocationMessage(message));
  }

  /** SCANs `<prefix><kind>:*` in batches. */
  async #scan(client: Redis, kind: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    const match = `${globEscape(this.prefix)}${kind}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await each(keys);
    } while (cursor !== '0');
  }

  // ---- helpers ----

  #key(kind: 'j' | 'c' | 'f' | 'rf' | 'u', id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  /** The network check: one MGET of the keys the check names. */
  async #lookup(check: RevocationCheck, now: number): Promise<boolean> {
    const keys: string[] = [];
    if (check.jti !== undefined) keys.push(this.#key('j', check.jti));
    if (check.userKey !== undefined) keys.push(this.#key('c', check.userKey));
    if (check.familyId !== undefined) keys.push(this.#key('rf', check.familyId));
    if (keys.length === 0) return false;
    const values = await this.#guard('isRevoked', (c) => c.mget(...keys));
    let i = 0;
    if (check.jti !== undefined) {
      const exp = values[i++];
      if (exp != null && now < Number(exp)) return true;
    }
    if (check.userKey !== undefined) {
      const cut = parseCutoff(values[i++]);
      if (cut !== undefined && now < cut.keepUntil && isBeforeCutoff(check.iat, cut.revokedBefore))
        return true;
    }
    return check.familyId !== undefined && values[i] != null;
  }

  async #revokeFamilies(ids: readonly string[], now: number, onlyLive: boolean): Promise<[number, number]> {
    const keys = ids.flatMap((id) => [this.#key('f', id), this.#key('rf', id)]);
    const result = await this.#guard('revokeFamily', (c) =>
      callScript(c, 'tesseraV1RevokeFamilies', keys, [now, this.channel, ...ids, onlyLive ? '1' : '0']),
    );
    if (!Array.isArray(result))
      throw new StoreUnavailableError('Unexpected answer from the revocation script');
    for (const msg of result.slice(2)) this.#applyOwn(msg);
    return [Number(result[0]), Number(result[1])];
  }

  /** Runs one operation with a time bound; backend failures become StoreUnavailableError. */
  async #guard<T>(what: string, op: (client: Redis) => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('RedisStore is closed');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#client.then(op),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof StoreUnavailableError || error instanceof FamilyExistsError) throw error;
      throw new StoreUnavailableError(`Redis store unavailable (${what})`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  #onConnectionError(error: unknown): void {
    if (this.#closed) return;
    // ioredis repeats the same error on every reconnect attempt: report changes only.
    const text = error instanceof Error ? error.message : String(error);
    if (text === this.#lastError) return;
    this.#lastError = text;
    this.#report(error);
  }

  #warnOpen(error: unknown): void {
    if (this.#warnedOpen) return;
    this.#warnedOpen = true;
    this.#report(
      new Error(`RedisStore failing OPEN (failOpen: true): revocations may be missed`, { cause: error }),
    );
  }
}

/** Runs a pipeline; a failed command fails the whole call. */
async function execPipeline(pipe: ChainableCommander): Promise<unknown[]> {
  const results = (await pipe.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

function parseCutoff(value: unknown): { revokedBefore: number; keepUntil: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const bar = value.indexOf('|');
  if (bar < 0) return undefined;
  return { revokedBefore: Number(value.slice(0, bar)), keepUntil: Number(value.slice(bar + 1)) };
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

type RedisCtor = new (options: RedisOptions) => Redis;

/** Loads ioredis on demand, with a clear message when it is not installed. */
async function loadRedis(): Promise<RedisCtor> {
  try {
    const mod = (await import('ioredis')) as unknown as { Redis?: RedisCtor; default?: RedisCtor };
    const Ctor = mod.Redis ?? mod.default;
    if (typeof Ctor !== 'function') throw new Error('ioredis exports no Redis class');
    return Ctor;
  } catch (error) {
    throw new StoreUnavailableError(
      'RedisStore needs the optional dependency "ioredis": npm install ioredis',
      {
        cause: error,
      },
    );
  }
}
