/**
 * The revocation and refresh-family store contract.
 *
 * Stateless tokens need a little state for logout, stolen refresh tokens and
 * password changes. Every store (memory, SQL, Redis) implements this one
 * interface, and every state change is a single atomic operation on its backend,
 * so that many processes can share one store.
 *
 * Times are integer unix seconds throughout. An entry with an expiry counts while
 * `now < expiry` and may be purged from `now >= expiry` on, matching the token
 * rule "expired at `now >= exp`".
 *
 * @module
 */

/** What the hot-path revocation check looks at; every field is optional. */
export interface RevocationCheck {
  /** The token's `jti`. */
  jti?: string;
  /** The token's user, as the application keys it (usually `sub`). */
  userKey?: string;
  /** The token's `iat`; compared with the user's cut-off. May be fractional. */
  iat?: number;
  /** The refresh family (login session) the token was minted from. */
  familyId?: string;
}

/** One live login session (refresh-token family), as listed to its user. */
export interface SessionInfo {
  /** Stable id of the family. */
  familyId: string;
  /** The user it belongs to. */
  userKey: string;
  /** When the family was created (the login), unix seconds. */
  createdAt: number;
  /** When a refresh token of the family was last redeemed (or `createdAt`). */
  lastUsedAt: number;
  /** When the family expires unless it is rotated again. */
  expiresAt: number;
  /** Free-form labels given at login (user agent, IP, device name). */
  metadata: Readonly<Record<string, string>>;
}

/**
 * The result of redeeming a refresh token ({@link TokenStore.rotateFamily}),
 * following the reuse detection of RFC 9700 section 4.14.
 *
 * `rotated` and `grace` both say which refresh token the caller hands out:
 * one whose `jti` is `currentJti` and whose `exp` is `expiresAt`. Inside the
 * grace window every presentation of the just-rotated token gets the same
 * successor, so concurrent refreshes converge instead of forking the family.
 */
export type RotateOutcome =
  /** The presented jti was current: `nextJti` is now current (`currentJti` is `nextJti`). */
  | { status: 'rotated'; currentJti: string; expiresAt: number }
  /**
   * The presented jti is the previous one, inside the grace window: nothing
   * changed but `lastUsedAt`. `currentJti` and `expiresAt` are the family's
   * (those of the successor the winning rotation minted); `nextJti` was not used.
   */
  | { status: 'grace'; currentJti: string; expiresAt: number }
  /** The presented jti was already spent: the whole family was revoked by this same operation. */
  | { status: 'reused' }
  /** The family is revoked (logout, earlier reuse, user cut-off) or expired. */
  | { status: 'revoked' }
  /** No such family (never created, or purged after it expired). */
  | { status: 'unknown' };

/** The fields of a new refresh family ({@link TokenStore.createFamily}). */
export interface NewFamily {
  /** A fresh, unguessable id (the `fid` claim of the family's tokens). */
  familyId: string;
  /** The user the session belongs to. */
  userKey: string;
  /** The `jti` of the first refresh token. */
  jti: string;
  /** The current time, unix seconds: becomes `createdAt` and `lastUsedAt`. */
  now: number;
  /** When the family expires unless rotated (the refresh token's `exp`). */
  expiresAt: number;
  /** Labels shown by {@link TokenStore.listSessions}; string values only. */
  metadata?: Record<string, string>;
}

/** The arguments of {@link TokenStore.rotateFamily}. */
export interface RotateRequest {
  /** The family the presented refresh token belongs to. */
  familyId: string;
  /** The `jti` of the presented refresh token. */
  presentedJti: string;
  /**
   * The `jti` of the refresh token to issue if this call rotates. Must be fresh
   * (never used before). Unused on `grace`: the caller then issues the token
   * whose jti the outcome names.
   */
  nextJti: string;
  /** The current time, unix seconds. */
  now: number;
  /**
   * How long after a rotation the previous refresh token may still be presented
   * (a client that lost the response retries; two tabs refresh at once); each
   * such presentation is answered with the family's current jti. `0` disables the
   * grace window entirely, even within the same second.
   */
  graceSeconds: number;
  /** The new expiry of the family (the next refresh token's `exp`) if this call rotates. */
  expiresAt: number;
  /**
   * The family's user as the presented token names it (optional). A hint: a
   * store that files keys by user (Redis) need not read the family first to
   * find them. A value that is not the family's user must not change the answer.
   */
  userKey?: string;
  /**
   * The presented refresh token's own revocation facts, when the caller has not
   * asked {@link TokenStore.isRevoked} about it: what `isRevoked` would be asked
   * (`jti`, `userKey`, `iat`; `familyId`, if set, is this request's `familyId`).
   * Passed only to a store whose {@link TokenStore.rotationChecksRevocation} is
   * true. Such a store answers `revoked`, changing nothing, when `isRevoked` with
   * these facts would answer true at that moment (by its own clock, as
   * `isRevoked` reads it), checked in the same atomic operation as the rotation
   * and before it, so a revoked token neither rotates, nor gets the grace
   * answer, nor counts as reuse.
   */
  presented?: RevocationCheck;
}

/**
 * A revocation and refresh-family store.
 *
 * Rotation semantics (RFC 9700 section 4.14): a family holds `currentJti`,
 * `previousJti` and `rotatedAt`.
 * - presented = current ⇒ previous := current, current := next, rotatedAt := now,
 *   lastUsedAt := now, expiresAt := the new expiry ⇒
 *   `{ status: 'rotated', currentJti: nextJti, expiresAt }`;
 * - presented = previous, `graceSeconds > 0` and `now <= rotatedAt + graceSeconds`
 *   ⇒ nothing changes but lastUsedAt ⇒ `{ status: 'grace', currentJti, expiresAt }`
 *   with the family's current jti and expiry: the caller re-issues the successor
 *   the winning rotation minted, so any number of presentations inside the
 *   window converge on one live refresh token, and each holder can refresh on
 *   from it (presenting it rotates normally; the other holders then present the
 *   new previous jti inside its own window and converge again);
 * - any other jti presented to a live family ⇒ the family is revoked in the same
 *   atomic operation ⇒ `reused`;
 * - a revoked or expired family, or one created before its user's cut-off
 *   ({@link TokenStore.revokeUserBefore}) ⇒ `revoked`; no family ⇒ `unknown`.
 *
 * The trade-off of the grace window: inside it, whoever presents the
 * just-rotated refresh token gets the same live successor, so a thief who
 * replays a stolen token while the user's own refresh is less than
 * `graceSeconds` old is not detected, and both hold a working token. Outside
 * the window, a replay revokes the whole family (RFC 9700 section 4.14). Keep
 * the window short (seconds: long enough for a retry or a second tab), or set
 * it to 0 for strict single use.
 *
 * Whenever the backend cannot be reached, methods reject with
 * `StoreUnavailableError` (the cause attached) within a bounded time: callers
 * fail closed.
 */
export interface TokenStore {
  /**
   * Revoke one token by `jti` until `expiresAt` (unix seconds); from then on the
   * entry may be purged. Pass the token's `exp` plus the verifier's leeway, or a
   * token could outlive its revocation inside the leeway. Revoking twice keeps
   * the later expiry.
   */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  /**
   * Revoke every token of a user issued before `before` (unix seconds):
   * password change, "log out everywhere". The cut-off is kept until `keepUntil`
   * (at least the longest token lifetime from now). Calling again keeps the
   * maximum of each value, so a cut-off never moves backwards. Note that tokens
   * issued in the same second as `before` are not covered: pass `now + 1` to
   * include them.
   */
  revokeUserBefore(userKey: string, before: number, keepUntil: number): Promise<void>;
  /**
   * The hot-path check: true when the `jti` is revoked, or `iat` is older than
   * the user's cut-off (a token without `iat` is treated as older), or the
   * family has been revoked. An unknown family is not revoked by itself: the
   * token's own `exp` bounds it.
   */
  isRevoked(check: RevocationCheck): Promise<boolean>;
  /**
   * The same check answered from in-process state, without waiting: true or
   * false when the store knows, undefined when only {@link isRevoked} can tell.
   * Optional: stores that hold revocations locally (memory, Redis with its local
   * cache) implement it so that a revocation check costs no turn of the event
   * loop. Throws StoreUnavailableError when the local state cannot be trusted.
   */
  isRevokedNow?(check: RevocationCheck): boolean | undefined;
  /**
   * True when {@link rotateFamily} honours {@link RotateRequest.presented}: it
   * checks the presented token's revocation (every rule {@link isRevoked}
   * applies) inside the rotation itself. The manager then makes no separate
   * `isRevoked` call on the paths that verify and rotate in one go
   * (`refreshTokens(tokenString)`, and `auth.refresh()` in every adapter), so a
   * refresh costs one store operation. Optional: for a store without it (a
   * custom store written before this flag), the manager asks `isRevoked`
   * first and never passes `presented`, as before.
   */
  readonly rotationChecksRevocation?: boolean;
  /**
   * Start a refresh-token family (a login session) whose current refresh token
   * is `jti`. Rejects with {@link FamilyExistsError} if the id is taken.
   */
  createFamily(f: NewFamily): Promise<void>;
  /**
   * Redeem the presented refresh `jti` exactly once and make `nextJti` current.
   * Atomic under concurrency: 200 concurrent calls with the same presented jti
   * give exactly one `rotated`; with `graceSeconds: 0` exactly one other call
   * gets `reused` (it revokes the family) and the calls that arrive after that
   * revocation get `revoked`; inside a grace window the others get `grace`,
   * all carrying the `currentJti` of the one that rotated. With
   * {@link RotateRequest.presented} (see {@link rotationChecksRevocation}), a
   * presented token that `isRevoked` would refuse is answered `revoked` first.
   */
  rotateFamily(r: RotateRequest): Promise<RotateOutcome>;
  /** Revoke one family (logout of one session). Returns whether the family exists. */
  revokeFamily(familyId: string): Promise<boolean>;
  /** Revoke all live families of a user; returns how many were live and are now revoked. */
  revokeUserFamilies(userKey: string): Promise<number>;
  /**
   * A user's live sessions (not revoked, not expired, not cut off), newest
   * (`createdAt`) first; ties by `familyId`.
   */
  listSessions(userKey: string, now: number): Promise<SessionInfo[]>;
  /**
   * Delete what has expired at `now`: revoked jtis past their expiry, families
   * past `expiresAt`, cut-offs past `keepUntil`. Returns how many entries were
   * removed (one per jti, cut-off or family).
   */
  purgeExpired(now: number): Promise<number>;
  /** Release connections and timers. The store is unusable afterwards. */
  close(): Promise<void>;
}

/** `createFamily` was given a `familyId` that already exists. Family ids must be fresh. */
export class FamilyExistsError extends Error {
  /** The id that was taken. */
  readonly familyId: string;
  constructor(familyId: string) {
    super('A refresh family with this id already exists');
    this.name = 'FamilyExistsError';
    this.familyId = familyId;
  }
}

/** A clock returning integer unix seconds; stores take one so that tests can move time. */
export type Clock = () => number;

/** The default clock: `Date.now()` in whole seconds. */
export const systemClock: Clock = () => Math.floor(Date.now() / 1000);
