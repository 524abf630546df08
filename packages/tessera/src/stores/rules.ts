/**
 * The rules every store shares: argument checks (so that all backends accept and
 * refuse exactly the same inputs; a SQL column and a Redis key would otherwise
 * disagree about empty strings, huge ids or fractional times), the cut-off and
 * grace-window predicates, and the order of listed sessions.
 *
 * Bad arguments are programming errors, not client errors: they throw
 * `TypeError`/`RangeError` before the backend is touched.
 *
 * @module
 */
import { utf8ByteLength } from '../bytes.js';
import type { RotateRequest, SessionInfo } from './types.js';

/** Longest id (jti, family id, user key) in UTF-8 bytes: the SQL columns are 255 bytes wide. */
export const MAX_ID_BYTES = 255;

/** Largest metadata object, serialised as JSON, in UTF-8 bytes. */
export const MAX_METADATA_BYTES = 4096;

/** Throws unless `value` is a non-empty string of at most {@link MAX_ID_BYTES} UTF-8 bytes. */
export function checkId(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string`);
  }
  if (utf8ByteLength(value) > MAX_ID_BYTES) {
    throw new RangeError(`${name} must be at most ${MAX_ID_BYTES} UTF-8 bytes`);
  }
}

/** Throws unless `value` is a non-negative integer number of unix seconds. */
export function checkTime(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer (unix seconds)`);
  }
}

/** Validates metadata and returns a frozen copy holding only own string-valued keys. */
export function checkMetadata(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('metadata must be an object of strings');
  }
  // A null-prototype copy: a "__proto__" key stays a plain key, never a prototype.
  const copy: Record<string, string> = Object.create(null);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new TypeError(`metadata.${key} must be a string`);
    copy[key] = v;
  }
  if (utf8ByteLength(JSON.stringify(copy)) > MAX_METADATA_BYTES) {
    throw new RangeError(`metadata must serialise to at most ${MAX_METADATA_BYTES} bytes`);
  }
  return Object.freeze(copy);
}

/** Parses metadata stored as JSON text; anything unexpected reads as no metadata. */
export function parseMetadata(text: string | null | undefined): Readonly<Record<string, string>> {
  if (!text) return Object.freeze({});
  try {
    return checkMetadata(JSON.parse(text));
  } catch {
    return Object.freeze({});
  }
}

/** Validates every field of a rotation request. */
export function checkRotateRequest(r: RotateRequest): void {
  checkId('familyId', r.familyId);
  checkId('presentedJti', r.presentedJti);
  checkId('nextJti', r.nextJti);
  checkTime('now', r.now);
  checkTime('graceSeconds', r.graceSeconds);
  checkTime('expiresAt', r.expiresAt);
  if (r.nextJti === r.presentedJti) throw new TypeError('nextJti must differ from presentedJti');
  if (r.userKey !== undefined) checkId('userKey', r.userKey);
  const p = r.presented;
  if (p === undefined) return;
  if (typeof p !== 'object' || p === null) throw new TypeError('presented must be an object');
  if (p.jti !== undefined) checkId('presented.jti', p.jti);
  if (p.userKey !== undefined) checkId('presented.userKey', p.userKey);
  if (p.iat !== undefined && typeof p.iat !== 'number') throw new TypeError('presented.iat must be a number');
  if (p.familyId !== undefined && p.familyId !== r.familyId) {
    throw new TypeError('presented.familyId must be the familyId being rotated');
  }
}

/** The user's cut-off applies to a token or family created at `issuedAt` (undefined counts as older). */
export function isBeforeCutoff(issuedAt: number | undefined, revokedBefore: number): boolean {
  return issuedAt === undefined || !Number.isFinite(issuedAt) || issuedAt < revokedBefore;
}

/** Is the previous jti still redeemable? `graceSeconds: 0` means never, even within the same second. */
export function inGraceWindow(rotatedAt: number | null, now: number, graceSeconds: number): boolean {
  return graceSeconds > 0 && rotatedAt !== null && now <= rotatedAt + graceSeconds;
}

/**
 * Session order: newest `createdAt` first, then `familyId` in code-unit order.
 * Sorted in JavaScript by every store, because database collations disagree.
 */
export function compareSessions(a: SessionInfo, b: SessionInfo): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.familyId < b.familyId ? -1 : a.familyId > b.familyId ? 1 : 0;
}
