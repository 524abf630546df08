/**
 * Opaque API tokens in the style of DRF's TokenAuthentication: 40 lowercase hex
 * characters sent as `Authorization: Token <key>`. Only a SHA-256 hash of the key
 * is stored, so a leaked table grants nothing, and lookups by hash leak no timing
 * about the key itself. Messages and statuses follow DRF 3.14 (docs/reference/python-peers.md 5).
 */
import { bytesToHex, randomBytes } from '../bytes.js';
import { sha256 } from '../crypto/select.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { ResponseData } from '../manager/options.js';
import type { RequestLike } from './request.js';
import { jsonResponse } from './responses.js';

/** A new opaque token: give `key` to the client once, store only `hash`. */
export interface OpaqueToken {
  readonly key: string;
  readonly hash: string;
}

/** Create an opaque token (20 random bytes, hex, like DRF's `Token.generate_key`). */
export function generateOpaqueToken(): OpaqueToken {
  const key = bytesToHex(randomBytes(20));
  return { key, hash: hashOpaqueToken(key) };
}

/** The stored form of a key. */
export function hashOpaqueToken(key: string): string {
  return bytesToHex(sha256(key));
}

/** Options of {@link createOpaqueTokenGuard}. */
export interface OpaqueTokenGuardOptions<TUser> {
  /** Find the user whose token has this hash; null/undefined when none. */
  lookup: (hash: string) => TUser | null | undefined | Promise<TUser | null | undefined>;
  /** Refuse users that are no longer active. Default: every found user is active. */
  isActive?: (user: TUser) => boolean;
  /** The scheme, compared case-insensitively (DRF's `keyword`). Default `Token`. */
  keyword?: string;
  /** Header to read. Default `Authorization`. */
  headerName?: string;
}

/** The verdict for one request. */
export type OpaqueTokenResult<TUser> =
  | { readonly ok: true; readonly user: TUser; readonly hash: string }
  | { readonly ok: false; readonly response: ResponseData };

const OPAQUE_OPTIONS = ['lookup', 'isActive', 'keyword', 'headerName'];

/** Longest key accepted; DRF keys are 40 characters. */
const MAX_KEY_LENGTH = 256;

/**
 * Build a guard for opaque tokens. It never throws for bad input: every refusal
 * is a 401 with DRF's body and `WWW-Authenticate: Token`.
 */
export function createOpaqueTokenGuard<TUser>(
  options: OpaqueTokenGuardOptions<TUser>,
): (req: RequestLike) => Promise<OpaqueTokenResult<TUser>> {
  refuseUnknownOptions(options, OPAQUE_OPTIONS, 'createOpaqueTokenGuard options');
  const keyword = (options.keyword ?? 'Token').toLowerCase();
  const headerName = options.headerName ?? 'Authorization';
  const challenge = { 'www-authenticate': options.keyword ?? 'Token' };
  const refuse = (detail: string): OpaqueTokenResult<TUser> => ({
    ok: false,
    response: jsonResponse(401, { detail }, challenge),
  });
  return async (req) => {
    const parts = (req.header(headerName) ?? '').split(/\s+/).filter((p) => p !== '');
    if (parts.length === 0 || parts[0]!.toLowerCase() !== keyword) {
      return refuse('Authentication credentials were not provided.');
    }
    if (parts.length === 1) return refuse('Invalid token header. No credentials provided.');
    if (parts.length > 2) return refuse('Invalid token header. Token string should not contain spaces.');
    const key = parts[1]!;
    // DRF refuses keys that are not UTF-8 with this message; header values reach us as
    // latin1, so anything outside ASCII stands for that case.
    if (!/^[\x21-\x7e]+$/.test(key)) {
      return refuse('Invalid token header. Token string should not contain invalid characters.');
    }
    // No stored key is this long: answer as for an unknown key without hashing it.
    if (key.length > MAX_KEY_LENGTH) return refuse('Invalid token.');
    const hash = hashOpaqueToken(key);
    const user = await options.lookup(hash);
    if (user === null || user === undefined) return refuse('Invalid token.');
    if (options.isActive !== undefined && !options.isActive(user)) return refuse('User inactive or deleted.');
    return { ok: true, user, hash };
  };
}
