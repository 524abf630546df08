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
 * - `gen` the generation marker (a random id) and `g` the store-wide cut-off
 *   `<revokedBefore>|<generation>`, both without expiry (see below);
 * - channel `<prefix>revocations`: every revocation, published by the script
 *   that writes it.
 *
 * Every write is one Lua script (atomic in Redis). Keys are grouped by kind,
 * not by hash tag: the store targets standalone Redis (or Sentinel), not Cluster.
 *
 * **Local cache** (`localCache: true`): each instance keeps the revocations in
 * memory (`redis-cache.ts`, kept in step by `redis-mirror.ts`), fed by the
 * channel and rebuilt by SCAN on every (re)connect of its subscriber connection,
 * so `isRevoked` answers without a network round trip. A revocation made on one
 * instance reaches the others after one pub/sub delivery: well under a
 * millisecond on loopback (measured by the multi-instance test), a network hop
 * otherwise. While the subscriber is down or resyncing, `isRevoked` fails
 * closed (throws `StoreUnavailableError`) unless `failOpen: true` was chosen.
 *
 * **Redis that lost its data** (restarted without persistence, flushed): every
 * revocation would be gone and a logged-out token accepted again. The store
 * detects it (`redis-generation.ts`): on every (re)connect it compares the
 * generation marker with the one it saw, and when that one is gone it writes,
 * in one script, a store-wide cut-off (every token issued before now + 1 is
 * revoked; families created before it answer `revoked`) and a new marker,
 * unless another instance already did. Until that check has completed after a
 * (re)connect, every operation fails closed. Net effect: after a data loss
 * every token minted before it is refused (users sign in again), nothing that
 * was revoked is ever accepted again, and new tokens work. The limit: a process
 * that starts for the first time against an empty Redis cannot know whether
 * data was lost before it started; a loss is detected by the instances that
 * were connected before it. A flush while connected (no reconnect) is seen at
 * the next reconnect.
 *
 * ioredis is an optional peer dependency: pass your own client, or let the
 * store load ioredis with a dynamic `import()`; importing this module never
 * loads it.
 *
 * @module
 */
import type { Redis, RedisOptions } from 'ioredis';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import { refuseUnknownOptions } from '../known-options.js';
import { loadPeer } from './peer.js';
import { RevocationCache, revokedForEveryone } from './redis-cache.js';
import {
  callScript,
  defineScripts,
  execPipeline,
  parseCutoff,
  parseEveryoneCutoff,
  scanKind,
} from './redis-commands.js';
import { GenerationWatch } from './redis-generation.js';
import { RevocationMirror } from './redis-mirror.js';
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
   * When revocation state cannot be read (Redis down, the cache not in sync, or
   * Redis's data not yet checked after a reconnect), answer "not revoked" from
   * what is known instead of throwing. Off by default: fail closed. When
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

/** Every key of {@link RedisStoreOptions}. */
const OPTION_KEYS = [
  'redis',
  'prefix',
  'localCache',
  'failOpen',
  'onError',
  'now',
  'operationTimeoutMs',
] as const satisfies readonly (keyof RedisStoreOptions)[];

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
 * the local cache and its propagation delay, and what happens when Redis loses
 * its data (every token issued before the loss is refused; nothing revoked is
 * accepted again).
 *
 * Call {@link RedisStore.ready} before serving traffic: it waits for the check
 * of Redis's generation marker and, with the local cache on, for the first full
 * sync (until then `isRevoked` fails closed).
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
  readonly #ownsClient: boolean;
  readonly #client: Promise<Redis>;
  readonly #mirror: RevocationMirror | undefined;
  readonly #generation: GenerationWatch;
  #closed = false;
  #warnedOpen = false;
  #lastError = '';

  constructor(options: RedisStoreOptions) {
    refuseUnknownOptions(options, OPTION_KEYS, 'RedisStore options');
    if (typeof options.localCache === 'object' && options.localCache !== null) {
      refuseUnknownOptions(options.localCache, ['maxEntries'], 'RedisStore localCache');
    }
    this.#options = options;
    this.prefix = options.prefix ?? 'tessera:';
    if (this.prefix.length === 0) throw new TypeError('prefix must not be empty');
    this.channel = `${this.prefix}revocations`;
    this.#everyoneKey = `${this.prefix}g`;
    this.#now = options.now ?? systemClock;
    this.#timeoutMs = options.operationTimeoutMs ?? 2000;
    this.#failOpen = options.failOpen ?? false;
    this.#report = options.onError ?? ((e: unknown) => console.warn('[tessera] RedisStore:', e));
    const report = (e: unknown) => this.#onConnectionError(e);
    const cacheOption = options.localCache ?? false;
    this.#mirror =
      cacheOption === false
        ? undefined
        : new RevocationMirror({
            prefix: this.prefix,
            channel: this.channel,
            cutoffKey: this.#everyoneKey,
            connectionName: subscriberName(this.prefix),
            cache: new RevocationCache(
              (cacheOption === true ? undefined : cacheOption.maxEntries) ?? 100_000,
            ),
            now: this.#now,
            report,
            onSynced: () => {
              this.#warnedOpen = false;
            },
          });
    this.#generation = new GenerationWatch({
      markerKey: `${this.prefix}gen`,
      cutoffKey: this.#everyoneKey,
      channel: this.channel,
      now: this.#now,
      report: (e) => this.#report(e),
      onCutoff: (revokedBefore, generation, message) => {
        if (message !== undefined) this.#mirror?.applyOwn(message);
        else if (revokedBefore > 0) this.#mirror?.apply({ kind: 'everyone', id: generation, revokedBefore });
      },
    });
    this.#ownsClient = !isClient(options.redis);
    this.#client = this.#connect();
    // Failures surface on first use; an unobserved rejection must not crash the process.
    this.#client.catch(() => undefined);
  }

  /**
   * True while the local cache is complete and live and the connection's data
   * check has completed (always false without `localCache`).
   */
  get synced(): boolean {
    return (this.#mirror?.synced ?? false) && this.#generation.checked;
  }

  /**
   * How many times this instance found that Redis had lost its data and wrote
   * the store-wide cut-off (see the module comment).
   */
  get dataLossesDetected(): number {
    return this.#generation.lossesDetected;
  }

  /**
   * Resolves once the store can answer: Redis answered a PING, its generation
   * marker was checked and, with the local cache, the first full sync is done.
   * Rejects with `StoreUnavailableError` after `timeoutMs`.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        await this.#guard(
          'ready',
          async (client) => {
            await client.ping();
            await this.#mirror?.whenSynced();
          },
          Math.max(1, deadline - performance.now()),
        );
        return;
      } catch (error) {
        // Not yet (the connection is down, or came back while we asked): ask again until the deadline.
        if (!(error instanceof StoreUnavailableError) || this.#closed || performance.now() + 50 >= deadline)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    checkId('jti', jti);
    checkTime('expiresAt', expiresAt);
    const msg = await this.#guard('revokeToken', (c) =>
      callScript(c, 'tesseraV1RevokeToken', [this.#key('j', jti)], [expiresAt, this.channel, jti]),
    );
    this.#mirror?.applyOwn(msg);
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
    this.#mirror?.applyOwn(msg);
  }

  /**
   * {@link TokenStore.isRevokedNow}: answered from the local cache while it is in
   * sync; undefined without a cache or when the cache overflowed (ask Redis).
   */
  isRevokedNow(check: RevocationCheck): boolean | undefined {
    if (this.#closed) throw new StoreUnavailableError('RedisStore is closed');
    const mirror = this.#mirror;
    if (mirror === undefined) return undefined;
    const now = this.#now();
    if (mirror.synced && this.#generation.checked) return mirror.check(check, now);
    return this.#untrustedCache(mirror, check, now);
  }

  async isRevoked(check: RevocationCheck): Promise<boolean> {
    if (this.#closed) throw new StoreUnavailableError('RedisStore is closed');
    const now = this.#now();
    const mirror = this.#mirror;
    if (mirror !== undefined) {
      if (!mirror.synced || !this.#generation.checked) return this.#untrustedCache(mirror, check, now);
      const local = mirror.check(check, now);
      if (local !== undefined) return local;
      // The cache overflowed: a miss proves nothing, ask Redis.
    }
    try {
      return await this.#lookup(check, now);
    } catch (error) {
      if (!this.#failOpen) throw error;
      this.#warnOpen(error);
      return false;
    }
  }

  /** The cache cannot be trusted (feed down, resyncing, or Redis's data not yet checked). */
  #untrustedCache(mirror: RevocationMirror, check: RevocationCheck, now: number): boolean {
    if (this.#failOpen) {
      this.#warnOpen('local revocation cache is not in sync; answering from the stale cache (failOpen)');
      return mirror.check(check, now) ?? false;
    }
    throw new StoreUnavailableError(
      this.#generation.checked
        ? 'Redis revocation feed is not in sync (subscriber down or resyncing)'
        : 'Redis data not yet checked after a (re)connect',
    );
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

  /**
   * {@link TokenStore.rotationChecksRevocation}: with `presented`, the rotation
   * script checks the presented token first; the request's user (`userKey` or
   * the presented token's) names the keys the script needs, so a refresh is one
   * script call (one round trip).
   */
  readonly rotationChecksRevocation = true;

  async rotateFamily(r: RotateRequest): Promise<RotateOutcome> {
    checkRotateRequest(r);
    const answer = await this.#guard('rotateFamily', async (c): Promise<unknown> => {
      // The script needs the keys of the family's user. The request names it (the presented
      // token's user: the family was filed under the same user key); otherwise read it first
      // (a family's user never changes, so reading it first is race-free). A wrong guess
      // changes nothing: the script names the family's user and is asked once more.
      let user = r.userKey ?? r.presented?.userKey ?? (await c.hget(this.#key('f', r.familyId), 'u'));
      if (user === null) return 'unknown';
      for (let attempt = 0; ; attempt++) {
        const answer = await this.#rotateScript(c, r, user);
        if (attempt > 0 || !Array.isArray(answer) || answer[0] !== 'user' || typeof answer[1] !== 'string')
          return answer;
        user = answer[1];
      }
    });
    return this.#rotateOutcome(answer);
  }

  /** One call of the rotation script with the keys of `user` (see redis-scripts.ts). */
  #rotateScript(c: Redis, r: RotateRequest, user: string): Promise<unknown> {
    const keys = [
      this.#key('f', r.familyId),
      this.#key('c', user),
      this.#key('rf', r.familyId),
      this.#key('u', user),
      this.#everyoneKey,
    ];
    const args: (string | number)[] = [
      r.presentedJti,
      r.nextJti,
      r.now,
      r.graceSeconds,
      r.expiresAt,
      this.channel,
      r.familyId,
      user,
    ];
    const p = r.presented;
    if (p === undefined) {
      args.push('0');
    } else {
      // The rules of #lookup (isRevoked), by the store's clock.
      if (p.jti !== undefined) keys.push(this.#key('j', p.jti));
      if (p.userKey !== undefined) keys.push(this.#key('c', p.userKey));
      const namesToken =
        p.jti !== undefined || p.userKey !== undefined || p.familyId !== undefined || p.iat !== undefined;
      args.push(
        '1',
        this.#now(),
        p.iat !== undefined && Number.isFinite(p.iat) ? String(p.iat) : '',
        p.jti === undefined ? '0' : '1',
        p.userKey === undefined ? '0' : '1',
        namesToken ? '1' : '0',
      );
    }
    return callScript(c, 'tesseraV3RotateFamily', keys, args);
  }

  /** Reads the rotation script's answer; anything unexpected is a store failure, never a success. */
  #rotateOutcome(answer: unknown): RotateOutcome {
    if (answer === 'revoked' || answer === 'unknown') return { status: answer };
    if (Array.isArray(answer)) {
      const [status, a, b] = answer as unknown[];
      if (status === 'reused') {
        this.#mirror?.applyOwn(a);
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
      const pipe = c.pipeline().get(this.#key('c', userKey)).get(this.#everyoneKey);
      for (const id of ids) pipe.hmget(this.#key('f', id), 'c', 'lu', 'exp', 'rev', 'm');
      const results = await execPipeline(pipe);
      const cut = parseCutoff(results[0]);
      const everyone = parseEveryoneCutoff(results[1]);
      const liveCut = cut !== undefined && now < cut.keepUntil ? cut.revokedBefore : undefined;
      const sessions: SessionInfo[] = [];
      ids.forEach((familyId, i) => {
        const row = results[i + 2];
        if (!Array.isArray(row) || row[0] == null) return;
        const [created, lastUsed, exp, rev, meta] = row as (string | null)[];
        const createdAt = Number(created);
        if (rev != null || now >= Number(exp)) return;
        if (liveCut !== undefined && isBeforeCutoff(createdAt, liveCut)) return;
        if (createdAt < everyone) return;
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
          await scanKind(c, this.prefix, kind, async (keys) => {
            const pipe = c.pipeline();
            for (const key of keys) callScript(pipe, 'tesseraV1PurgeKey', [key], [now, scriptKind]);
            const counts = await execPipeline(pipe);
            if (kind !== 'rf') removed += counts.reduce((n: number, v) => n + Number(v ?? 0), 0);
          });
        }
        await scanKind(c, this.prefix, 'f', async (keys) => {
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
        await scanKind(c, this.prefix, 'u', async (keys) => {
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
    this.#mirror?.close();
    this.#generation.close();
    const client = await this.#client.catch(() => undefined);
    if (client !== undefined && this.#ownsClient) {
      await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      client.disconnect();
    }
  }

  // ---- connections ----

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
    defineScripts(client);
    if (!this.#closed) {
      this.#generation.attach(client);
      this.#mirror?.start(client);
    }
    return client;
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
    if (keys.length === 0 && check.iat === undefined) return false;
    keys.push(this.#everyoneKey);
    const values = await this.#guard('isRevoked', (c) => c.mget(...keys));
    const everyone = parseEveryoneCutoff(values[values.length - 1]);
    if (everyone > 0 && revokedForEveryone(check, everyone)) return true;
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
    for (const msg of result.slice(2)) this.#mirror?.applyOwn(msg);
    return [Number(result[0]), Number(result[1])];
  }

  /**
   * Runs one operation with a time bound; backend failures become
   * StoreUnavailableError. The operation starts only once the connection's data
   * check is done, and its answer counts only if no reconnect happened meanwhile.
   */
  async #guard<T>(what: string, op: (client: Redis) => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('RedisStore is closed');
    const deadline = performance.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const run = async (): Promise<T> => {
      const client = await this.#client;
      const epoch = await this.#generation.wait(Math.max(1, deadline - performance.now()));
      const result = await op(client);
      this.#generation.confirm(epoch);
      return result;
    };
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      // A missing ioredis is a configuration to fix, not an outage.
      if (
        error instanceof StoreUnavailableError ||
        error instanceof FamilyExistsError ||
        error instanceof ConfigError
      )
        throw error;
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

type RedisCtor = new (options: RedisOptions) => Redis;

/** Loads ioredis on demand; a missing install is a ConfigError naming it. */
async function loadRedis(): Promise<RedisCtor> {
  const mod = await loadPeer<{ Redis?: RedisCtor; default?: RedisCtor }>('ioredis', 'RedisStore');
  const Ctor = mod.Redis ?? mod.default;
  if (typeof Ctor !== 'function')
    throw new ConfigError('ioredis exports no Redis class: install ioredis 5 or later');
  return Ctor;
}
