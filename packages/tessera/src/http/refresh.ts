/**
 * The refresh endpoint, framework-neutral: find the refresh token where the
 * configuration says (Authorization header, cookie with its CSRF value, JSON
 * body), verify and exchange it in one `TokenManager.refreshTokens` call with
 * rotation and reuse detection, and answer the new tokens, or the profile's
 * refusal, exactly as a guarded route would be refused. Adapters wrap it as
 * `auth.refresh()`.
 */
import { ConfigError, NoAuthorizationError, TesseraError } from '../errors.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { ResponseData, TokenLocation } from '../manager/options.js';
import type { RefreshResult, TokenManager } from '../manager/token-manager.js';
import { inProfileWords } from '../tokens/profile.js';
import { getCsrfToken, setAccessCookies, setRefreshCookies } from './cookies.js';
import { routeLocations } from './guard.js';
import { type FoundToken, locateToken } from './locate.js';
import type { RequestLike } from './request.js';
import { errorResponse, jsonResponse } from './responses.js';

/** Options of a refresh handler. */
export interface RefreshHandlerOptions {
  /** Where to look for the refresh token. Default: the manager's `tokenLocation`. */
  locations?: TokenLocation | readonly TokenLocation[];
  /**
   * Answer the new tokens as cookies: `'auto'` (default) when the refresh token
   * came from a cookie, `true` always, `false` never.
   */
  cookies?: boolean | 'auto';
}

/**
 * The body of a successful refresh.
 * - Token from a header or the JSON body: `{ access_token, refresh_token? }`
 *   (`refresh_token` when rotation issued a new one).
 * - Answered as cookies: `{ refreshed: true, access_csrf?, refresh_csrf? }`: the
 *   tokens only in HttpOnly cookies, the double-submit values for clients that
 *   do not read the CSRF cookies (`csrf.inCookies: false`).
 */
export type RefreshBody =
  | { readonly access_token: string; readonly refresh_token?: string }
  | { readonly refreshed: true; readonly access_csrf?: string; readonly refresh_csrf?: string };

/** A refresh handler's verdict. */
export type RefreshOutcome =
  | {
      readonly ok: true;
      /** 200, JSON {@link RefreshBody}. */
      readonly response: ResponseData;
      /** Set-Cookie values for the new access and refresh cookies (empty in header mode). */
      readonly setCookies: readonly string[];
      readonly result: RefreshResult;
    }
  | {
      readonly ok: false;
      readonly error: TesseraError;
      /** The profile's answer: status, body and `WWW-Authenticate`, as a guarded route's. */
      readonly response: ResponseData;
    };

/** A refresh handler: a neutral request in, a verdict out. */
export type RefreshHandler = (req: RequestLike) => Promise<RefreshOutcome>;

/**
 * Build a refresh handler. Options are checked here, once. Errors that are not
 * Tessera errors (a crashed callback) and configuration errors reject: they
 * are the server's, for the framework's error handling.
 *
 * @example
 * ```ts
 * const refresh = createRefreshHandler(manager);
 * const outcome = await refresh(toRequestLike(request));
 * ```
 */
export function createRefreshHandler<TUser>(
  manager: TokenManager<TUser>,
  options: RefreshHandlerOptions = {},
): RefreshHandler {
  refuseUnknownOptions(options, REFRESH_OPTIONS, 'refresh handler options');
  const config = manager.config;
  const mode = options.cookies ?? 'auto';
  if (mode !== 'auto' && typeof mode !== 'boolean') {
    throw new ConfigError(`refresh handler options: cookies must be 'auto', true or false`);
  }
  const locations = routeLocations(options.locations, config.transport.locations);
  // A guard lets OPTIONS through without a token (not in the simplejwt profile); there
  // is nothing to refresh, so that request is refused as a missing token.
  const exemptOptions = config.profile.exemptOptions;
  const refused = async (error: unknown, req: RequestLike): Promise<RefreshOutcome> => {
    if (!(error instanceof TesseraError) || error.kind === 'configuration') throw error;
    inProfileWords(config.profile, error);
    return { ok: false, error, response: await errorResponse(config, error, req.header('accept-language')) };
  };
  return async (req) => {
    let found: FoundToken;
    let result: RefreshResult;
    try {
      if (exemptOptions && req.method.toUpperCase() === 'OPTIONS') {
        throw new NoAuthorizationError('Missing refresh token');
      }
      found = await locateToken(req, config.transport, config.profile, locations, true);
      // Verified and redeemed in one call: the checks a `refresh: true` guard makes, with
      // the store's revocation check made inside the rotation when the store can (one
      // store operation per refresh; see TokenStore.rotationChecksRevocation).
      result = await manager.refreshTokens(
        found.token,
        found.csrfValue === undefined ? NO_OPTIONS : { csrfValue: found.csrfValue },
      );
    } catch (error) {
      return refused(error, req);
    }
    const asCookies = mode === 'auto' ? found.location === 'cookies' : mode;
    if (!asCookies) {
      const body: RefreshBody =
        result.refreshToken === undefined
          ? { access_token: result.accessToken }
          : { access_token: result.accessToken, refresh_token: result.refreshToken };
      return { ok: true, response: jsonResponse(200, body, NO_STORE), setCookies: [], result };
    }
    const setCookies = setAccessCookies(config, result.accessToken);
    if (result.refreshToken !== undefined) setCookies.push(...setRefreshCookies(config, result.refreshToken));
    const body: { refreshed: true; access_csrf?: string; refresh_csrf?: string } = { refreshed: true };
    if (config.transport.csrf.protect) {
      body.access_csrf = getCsrfToken(result.accessToken);
      if (result.refreshToken !== undefined) body.refresh_csrf = getCsrfToken(result.refreshToken);
    }
    return { ok: true, response: jsonResponse(200, body, NO_STORE), setCookies, result };
  };
}

const REFRESH_OPTIONS = ['locations', 'cookies'];

const NO_OPTIONS = Object.freeze({});

// RFC 6749 5.1: a response carrying tokens is not to be cached.
const NO_STORE = { 'cache-control': 'no-store' };
