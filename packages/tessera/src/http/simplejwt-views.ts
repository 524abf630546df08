/**
 * SimpleJWT's token endpoints as framework-neutral handlers: obtain pair,
 * refresh, verify, blacklist, obtain sliding, refresh sliding. Request and
 * response shapes, statuses and messages follow djangorestframework-simplejwt
 * 5.2 (python-peers.md 4.3 and 4.6), so a Django client keeps working when its
 * auth service moves to TypeScript. Where SimpleJWT answers 500 (a refresh token
 * without jti), these answer 401.
 */
import { ConfigError, RevokedTokenError, TesseraError, WrongTokenTypeError } from '../errors.js';
import { decodeProtectedHeader } from '../jws/compact.js';
import type { ResolvedConfig } from '../manager/config.js';
import type { ResponseData } from '../manager/options.js';
import type { TokenManager } from '../manager/token-manager.js';
import type { JwtPayload } from '../tokens/validate.js';
import { isFormContentType, isJsonContentType, type RequestLike } from './request.js';
import { jsonResponse } from './responses.js';

/** How the obtain views check credentials. */
export interface SimpleJwtViewsOptions {
  /**
   * Check a username and password; return the identity to put in `user_id`, or
   * null/undefined when there is no active account with these credentials.
   */
  authenticate: (username: string, password: string) => unknown | Promise<unknown>;
  /** The username field of the obtain views (Django's USERNAME_FIELD). Default `username`. */
  usernameField?: string;
  /**
   * SimpleJWT's UPDATE_LAST_LOGIN: called with the identity after each successful
   * obtain, before the tokens are answered (a failure fails the login).
   */
  updateLastLogin?: (identity: unknown) => void | Promise<void>;
}

/** A view: a neutral request in, an answer out. Never throws for bad input. */
export type View = (req: RequestLike) => Promise<ResponseData>;

/** The six SimpleJWT views. */
export interface SimpleJwtViews {
  /** POST {username, password} → {refresh, access} (TokenObtainPairView). */
  tokenObtainPair: View;
  /** POST {refresh} → {access[, refresh]} (TokenRefreshView). */
  tokenRefresh: View;
  /** POST {token} → {} (TokenVerifyView). */
  tokenVerify: View;
  /** POST {refresh} → {} (TokenBlacklistView); needs a store. */
  tokenBlacklist: View;
  /** POST {username, password} → {token} (TokenObtainSlidingView). */
  tokenObtainSliding: View;
  /** POST {token} → {token} (TokenRefreshSlidingView). */
  tokenRefreshSliding: View;
}

const REALM = { 'www-authenticate': 'Bearer realm="api"' };
const KEPT_MESSAGES = new Set([
  'Token has wrong type',
  'Token has no type',
  'Token has no id',
  "Token has no 'exp' claim",
  "Token has no 'refresh_exp' claim",
  "Token 'refresh_exp' claim has expired",
]);

/**
 * Build the views for a manager with the `simplejwt` profile.
 *
 * @example
 * ```ts
 * const jwt = new TokenManager({ profile: 'simplejwt', secret, store, rotation: { enabled: true, blacklistAfterRotation: true } });
 * const views = createSimpleJwtViews(jwt, { authenticate: async (u, p) => (await users.check(u, p))?.id });
 * // Fetch-style: route POST /api/token/ to views.tokenObtainPair(toRequestLike(request))
 * ```
 */
export function createSimpleJwtViews(manager: TokenManager, options: SimpleJwtViewsOptions): SimpleJwtViews {
  const config = manager.config as ResolvedConfig<unknown>;
  if (config.profile.name !== 'simplejwt') {
    throw new ConfigError("createSimpleJwtViews needs a TokenManager with profile 'simplejwt'");
  }
  const usernameField = options.usernameField ?? 'username';

  const obtain = (makeBody: (identity: unknown) => Promise<Record<string, string>>): View =>
    view(async (body) => {
      const errors = fieldErrors(body, [usernameField, 'password']);
      if (errors !== undefined) return jsonResponse(400, errors);
      const identity = await options.authenticate(body[usernameField] as string, body.password as string);
      if (identity === null || identity === undefined) {
        return jsonResponse(401, { detail: 'No active account found with the given credentials' }, REALM);
      }
      const tokens = await makeBody(identity);
      await options.updateLastLogin?.(identity);
      return jsonResponse(200, tokens);
    });

  // SimpleJWT checks a refresh/sliding token's blacklist entry before its type (Q10).
  async function checked(token: string, type: 'refresh' | 'sliding'): Promise<JwtPayload> {
    const payload = await manager.decodeToken(token);
    const header = decodeProtectedHeader(token);
    if (config.store !== undefined && (await manager.isRevoked(header, payload)))
      throw new RevokedTokenError({ header, payload });
    const actual = payload[config.profile.typeClaim];
    if (actual === undefined) throw new WrongTokenTypeError('Token has no type', { header, payload });
    if (actual !== type) throw new WrongTokenTypeError('Token has wrong type', { header, payload });
    return payload;
  }

  return {
    tokenObtainPair: obtain(async (identity) => {
      const refresh = await manager.createRefreshToken({ identity });
      const access = await manager.createAccessTokenFromRefresh(await manager.decodeToken(refresh));
      return { refresh, access };
    }),
    tokenObtainSliding: obtain(async (identity) => ({
      token: await manager.createSlidingToken({ identity }),
    })),
    tokenRefresh: view(async (body) => {
      const errors = fieldErrors(body, ['refresh']);
      if (errors !== undefined) return jsonResponse(400, errors);
      await checked(body.refresh as string, 'refresh');
      const result = await manager.refreshTokens(body.refresh as string);
      const answer: Record<string, string> = { access: result.accessToken };
      if (result.refreshToken !== undefined) answer.refresh = result.refreshToken;
      return jsonResponse(200, answer);
    }),
    tokenVerify: view(async (body) => {
      const errors = fieldErrors(body, ['token']);
      if (errors !== undefined) return jsonResponse(400, errors);
      // UntypedToken: signature, exp and jti; any type, no user.
      const token = body.token as string;
      const payload = await manager.decodeToken(token);
      if (config.rotation.blacklistAfterRotation && config.store !== undefined) {
        if (await manager.isRevoked(decodeProtectedHeader(token), payload)) {
          return jsonResponse(400, { non_field_errors: ['Token is blacklisted'] });
        }
      }
      return jsonResponse(200, {});
    }),
    tokenBlacklist: view(async (body) => {
      const errors = fieldErrors(body, ['refresh']);
      if (errors !== undefined) return jsonResponse(400, errors);
      const payload = await checked(body.refresh as string, 'refresh');
      await manager.revokeToken(payload);
      return jsonResponse(200, {});
    }),
    tokenRefreshSliding: view(async (body) => {
      const errors = fieldErrors(body, ['token']);
      if (errors !== undefined) return jsonResponse(400, errors);
      await checked(body.token as string, 'sliding');
      return jsonResponse(200, { token: await manager.refreshSlidingToken(body.token as string) });
    }),
  };
}

const NO_BODY = Symbol('no body');

/** Method, content type and body handling shared by every view (DRF's parsers). */
function view(handle: (body: Record<string, unknown>) => Promise<ResponseData>): View {
  return async (req) => {
    if (req.method.toUpperCase() !== 'POST') {
      return jsonResponse(405, { detail: `Method "${req.method.toUpperCase()}" not allowed.` });
    }
    const type = req.header('content-type');
    if (type !== undefined && !isJsonContentType(type) && !isFormContentType(type)) {
      const media = type.split(';', 1)[0]!.trim();
      return jsonResponse(415, { detail: `Unsupported media type "${media}" in request.` });
    }
    const body = type === undefined ? {} : await readBody(req);
    if (body === NO_BODY) return jsonResponse(400, { detail: 'JSON parse error' });
    try {
      return await handle(body);
    } catch (error) {
      // Configuration mistakes are the server's, not the client's: let them surface.
      if (!(error instanceof TesseraError) || error.kind === 'configuration') throw error;
      if (error.code === 'store_unavailable')
        return jsonResponse(503, { detail: error.message, code: error.code });
      return jsonResponse(401, { detail: tokenMessage(error), code: 'token_not_valid' }, REALM);
    }
  };
}

async function readBody(req: RequestLike): Promise<Record<string, unknown> | typeof NO_BODY> {
  let body: unknown;
  try {
    body = await req.body?.();
  } catch {
    return NO_BODY;
  }
  if (body === undefined) return NO_BODY;
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

function tokenMessage(error: TesseraError): string {
  if (KEPT_MESSAGES.has(error.message)) return error.message;
  if (error.code === 'token_revoked' || error.code === 'refresh_token_reused') return 'Token is blacklisted';
  return 'Token is invalid or expired';
}

/** DRF serializer field errors: required, then not blank, in field order. */
function fieldErrors(
  body: Record<string, unknown>,
  fields: readonly string[],
): Record<string, string[]> | undefined {
  const errors: Record<string, string[]> = {};
  for (const field of fields) {
    const value = body[field];
    if (value === undefined || value === null) errors[field] = ['This field is required.'];
    else if (typeof value !== 'string') errors[field] = ['Not a valid string.'];
    else if (value.trim() === '' && field !== 'password') errors[field] = ['This field may not be blank.'];
    else if (value === '') errors[field] = ['This field may not be blank.'];
  }
  return Object.keys(errors).length === 0 ? undefined : errors;
}
