/**
 * `MemoryStore`: the {@link TokenStore} for tests and single-process apps.
 *
 * Everything lives in this process's heap and is lost on restart. Every method
 * runs synchronously inside its promise, so each operation is atomic with
 * respect to every other one (JavaScript runs one callback at a time).
 *
 * @module
 */
import { StoreUnavailableError } from '../errors.js';
import { refuseUnknownOptions } from '../known-options.js';
import { ExpiryHeap } from './expiry-heap.js';
import {
  checkId,
  checkMetadata,
  checkRotateRequest,
  checkTime,
  compareSessions,
  inGraceWindow,
  isBeforeCutoff,
} from './rules.js';
import type {
  Clock,
  NewFamily,
  RevocationCheck,
  RotateOutcome,
  RotateRequest,
  SessionInfo,
  TokenStore,
} from './types.js';
import { FamilyExistsError, systemClock } from './types.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries held at once (revoked jtis + user cut-offs + families).
   * Default 100 000.
   */
  maxEntries?: number;
  /** The clock (unix seconds) for methods that take no `now`. Default: system time. */
  now?: Clock;
}

/** Every key of {@link MemoryStoreOptions}. */
const OPTION_KEYS = ['maxEntries', 'now'] as const satisfies readonly (keyof MemoryStoreOptions)[];

interface Family {
  readonly familyId: string;
  readonly userKey: string;
  readonly createdAt: number;
  readonly metadata: Readonly<Record<string, string>>;
  currentJti: string;
  previousJti: string | null;
  rotatedAt: number | null;
  lastUsedAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

interface Cutoff {
  revokedBefore: number;
  keepUntil: number;
}

/** Heap keys: one letter for the map, then the id. */
type EntryKey = `j${string}` | `c${string}` | `f${string}`;

/**
 * An in-memory, bounded {@link TokenStore} with lazy expiry.
 *
 * **When full, it refuses rather than forgets.** Once `maxEntries` entries are
 * held, an insert first reclaims entries that have expired (soonest first); if
 * none has, the insert rejects with `StoreUnavailableError`. Evicting a
 * revocation that is still valid would silently make a logged-out or stolen
 * token valid again, and anyone able to trigger revocations (every user can log
 * out) could use that to flush other users' revocations. A refused logout is
 * visible (503) and safe; a forgotten one is neither. Size `maxEntries` for the
 * number of revocations that can be live at once (revocations per second times
 * the longest token lifetime).
 */
export class MemoryStore implements TokenStore {
  readonly #max: number;
  readonly #now: Clock;
  readonly #revoked = new Map<string, number>();
  readonly #cutoffs = new Map<string, Cutoff>();
  readonly #families = new Map<string, Family>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #heap = new ExpiryHeap<EntryKey>();
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    refuseUnknownOptions(options, OPTION_KEYS, 'MemoryStore options');
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = max;
    this.#now = options.now ?? systemClock;
  }

  /** Number of entries currently held (expired ones not yet reclaimed included). */
  get size(): number {
    return this.#revoked.size + this.#cutoffs.size + this.#families.size;
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.#open();
    checkId('jti', jti);
    checkTime('expiresAt', expiresAt);
    const existing = this.#revoked.get(jti);
    if (existing === undefined) this.#makeRoom();
    if (existing === undefined || expiresAt > existing) {
      this.#revoked.set(jti, expiresAt);
      this.#push(expiresAt, `j${jti}`);
    }
  }

  async revokeUserBefore(userKey: string, before: number, keepUntil: number): Promise<void> {
    this.#open();
    checkId('userKey', userKey);
    checkTime('before', before);
    checkTime('keepUntil', keepUntil);
    const existing = this.#cutoffs.get(userKey);
    if (existing === undefined) {
      this.#makeRoom();
      this.#cutoffs.set(userKey, { revokedBefore: before, keepUntil });
      this.#push(keepUntil, `c${userKey}`);
      return;
    }
    existing.revokedBefore = Math.max(existing.revokedBefore, before);
    if (keepUntil > existing.keepUntil) {
      existing.keepUntil = keepUntil;
      this.#push(keepUntil, `c${userKey}`);
    }
  }

  async isRevoked(check: RevocationCheck): Promise<boolean> {
    return this.isRevokedNow(check);
  }

  /** {@link TokenStore.isRevokedNow}: the memory store always knows. */
  isRevokedNow(check: RevocationCheck): boolean {
    this.#open();
    const now = this.#now();
    if (check.jti !== undefined) {
      const exp = this.#revoked.get(check.jti);
      if (exp !== undefined) {
        if (now < exp) return true;
        this.#revoked.delete(check.jti); // lazy expiry
      }
    }
    if (check.userKey !== undefined) {
      const cutoff = this.#liveCutoff(check.userKey, now);
      if (cutoff !== undefined && isBeforeCutoff(check.iat, cutoff.revokedBefore)) return true;
    }
    if (check.familyId !== undefined) {
      const family = this.#families.get(check.familyId);
      if (family?.revokedAt != null) return true;
    }
    return false;
  }

  async createFamily(f: NewFamily): Promise<void> {
    this.#open();
    checkId('familyId', f.familyId);
    checkId('userKey', f.userKey);
    checkId('jti', f.jti);
    checkTime('now', f.now);
    checkTime('expiresAt', f.expiresAt);
    const metadata = checkMetadata(f.metadata);
    if (this.#families.has(f.familyId)) throw new FamilyExistsError(f.familyId);
    this.#makeRoom();
    this.#families.set(f.familyId, {
      familyId: f.familyId,
      userKey: f.userKey,
      createdAt: f.now,
      metadata,
      currentJti: f.jti,
      previousJti: null,
      rotatedAt: null,
      lastUsedAt: f.now,
      expiresAt: f.expiresAt,
      revokedAt: null,
    });
    let set = this.#byUser.get(f.userKey);
    if (set === undefined) {
      set = new Set();
      this.#byUser.set(f.userKey, set);
    }
    set.add(f.familyId);
    this.#push(f.expiresAt, `f${f.familyId}`);
  }

  /** {@link TokenStore.rotationChecksRevocation}: `presented` is checked inside the rotation. */
  readonly rotationChecksRevocation = true;

  async rotateFamily(r: RotateRequest): Promise<RotateOutcome> {
    this.#open();
    checkRotateRequest(r);
    // The presented token's own revocation first, as isRevoked would answer it.
    if (r.presented !== undefined && this.isRevokedNow(r.presented)) return { status: 'revoked' };
    const family = this.#families.get(r.familyId);
    if (family === undefined) return { status: 'unknown' };
    if (!this.#isLive(family, r.now)) return { status: 'revoked' };
    if (r.presentedJti === family.currentJti) {
      family.previousJti = family.currentJti;
      family.currentJti = r.nextJti;
      family.rotatedAt = r.now;
      this.#touch(family, r.now, r.expiresAt);
      return { status: 'rotated', currentJti: r.nextJti, expiresAt: r.expiresAt };
    }
    if (r.presentedJti === family.previousJti && inGraceWindow(family.rotatedAt, r.now, r.graceSeconds)) {
      // A retry converges on the successor already minted: nothing moves but lastUsedAt.
      family.lastUsedAt = r.now;
      return { status: 'grace', currentJti: family.currentJti, expiresAt: family.expiresAt };
    }
    family.revokedAt = r.now;
    return { status: 'reused' };
  }

  async revokeFamily(familyId: string): Promise<boolean> {
    this.#open();
    checkId('familyId', familyId);
    const family = this.#families.get(familyId);
    if (family === undefined) return false;
    family.revokedAt ??= this.#now();
    return true;
  }

  async revokeUserFamilies(userKey: string): Promise<number> {
    this.#open();
    checkId('userKey', userKey);
    const now = this.#now();
    let count = 0;
    for (const id of this.#byUser.get(userKey) ?? []) {
      const family = this.#families.get(id);
      if (family !== undefined && family.revokedAt === null && now < family.expiresAt) {
        family.revokedAt = now;
        count++;
      }
    }
    return count;
  }

  async listSessions(userKey: string, now: number): Promise<SessionInfo[]> {
    this.#open();
    checkId('userKey', userKey);
    checkTime('now', now);
    const sessions: SessionInfo[] = [];
    for (const id of this.#byUser.get(userKey) ?? []) {
      const f = this.#families.get(id);
      if (f === undefined || !this.#isLive(f, now)) continue;
      sessions.push({
        familyId: f.familyId,
        userKey: f.userKey,
        createdAt: f.createdAt,
        lastUsedAt: f.lastUsedAt,
        expiresAt: f.expiresAt,
        metadata: f.metadata,
      });
    }
    return sessions.sort(compareSessions);
  }

  async purgeExpired(now: number): Promise<number> {
    this.#open();
    checkTime('now', now);
    let removed = 0;
    for (const [jti, exp] of this.#revoked) {
      if (exp <= now && this.#revoked.delete(jti)) removed++;
    }
    for (const [userKey, c] of this.#cutoffs) {
      if (c.keepUntil <= now && this.#cutoffs.delete(userKey)) removed++;
    }
    for (const f of this.#families.values()) {
      if (f.expiresAt <= now) {
        this.#deleteFamily(f);
        removed++;
      }
    }
    this.#rebuildHeap();
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#revoked.clear();
    this.#cutoffs.clear();
    this.#families.clear();
    this.#byUser.clear();
    this.#heap.rebuild([]);
  }

  #open(): void {
    if (this.#closed) throw new StoreUnavailableError('MemoryStore is closed');
  }

  #touch(family: Family, now: number, expiresAt: number): void {
    family.lastUsedAt = now;
    if (expiresAt !== family.expiresAt) {
      family.expiresAt = expiresAt;
      this.#push(expiresAt, `f${family.familyId}`);
    }
  }

  #liveCutoff(userKey: string, now: number): Cutoff | undefined {
    const cutoff = this.#cutoffs.get(userKey);
    if (cutoff === undefined) return undefined;
    if (now < cutoff.keepUntil) return cutoff;
    this.#cutoffs.delete(userKey); // lazy expiry
    return undefined;
  }

  /** Not revoked, not expired, not created before its user's cut-off. */
  #isLive(f: Family, now: number): boolean {
    if (f.revokedAt !== null || now >= f.expiresAt) return false;
    const cutoff = this.#liveCutoff(f.userKey, now);
    return cutoff === undefined || !isBeforeCutoff(f.createdAt, cutoff.revokedBefore);
  }

  #deleteFamily(f: Family): void {
    this.#families.delete(f.familyId);
    const set = this.#byUser.get(f.userKey);
    set?.delete(f.familyId);
    if (set?.size === 0) this.#byUser.delete(f.userKey);
  }

  /** Reclaims expired entries, soonest first, until one more fits; refuses if none has expired. */
  #makeRoom(): void {
    if (this.size < this.#max) return;
    const now = this.#now();
    for (let top = this.#heap.peek(); top !== undefined && top.at <= now; top = this.#heap.peek()) {
      this.#heap.pop();
      this.#reclaim(top.key, top.at);
      if (this.size < this.#max) break;
    }
    if (this.size >= this.#max) {
      throw new StoreUnavailableError(
        `MemoryStore is full (${this.#max} unexpired entries); refusing to evict live revocations`,
      );
    }
  }

  /** Deletes the entry behind a heap element if the element is not stale. */
  #reclaim(key: EntryKey, at: number): void {
    const id = key.slice(1);
    switch (key[0]) {
      case 'j':
        if (this.#revoked.get(id) === at) this.#revoked.delete(id);
        break;
      case 'c':
        if (this.#cutoffs.get(id)?.keepUntil === at) this.#cutoffs.delete(id);
        break;
      default: {
        const f = this.#families.get(id);
        if (f?.expiresAt === at) this.#deleteFamily(f);
      }
    }
  }

  /** Records an expiry; superseded elements are dropped once they outnumber live entries. */
  #push(at: number, key: EntryKey): void {
    this.#heap.push(at, key);
    if (this.#heap.size > 2 * this.size + 1024) this.#rebuildHeap();
  }

  #rebuildHeap(): void {
    const items: { at: number; key: EntryKey }[] = [];
    for (const [jti, at] of this.#revoked) items.push({ at, key: `j${jti}` });
    for (const [userKey, c] of this.#cutoffs) items.push({ at: c.keepUntil, key: `c${userKey}` });
    for (const f of this.#families.values()) items.push({ at: f.expiresAt, key: `f${f.familyId}` });
    this.#heap.rebuild(items);
  }
}
