/**
 * Token cookies as plain `Set-Cookie` values that any adapter can write:
 * HttpOnly token cookies plus script-readable CSRF cookies (double submit).
 * Attribute order follows Werkzeug's, so the flask profile's headers match.
 */
import { ConfigError } from '../errors.js';
import { decodeJws, decodeJwsPayload } from '../jws/compact.js';
import type { ResolvedConfig } from '../manager/config.js';

/** Per-call cookie options. */
export interface CookieCallOptions {
  /** Max-Age in seconds (makes a persistent cookie). */
  maxAge?: number;
  /** Domain attribute, overriding the configured one. */
  domain?: string;
}

const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';
// A year, as Flask-JWT-Extended uses for non-session cookies.
const FLASK_PERSISTENT_MAX_AGE = 31_540_000;

/** Set-Cookie values that store an access token (and its CSRF cookie). */
export function setAccessCookies(
  config: ResolvedConfig<unknown>,
  token: string,
  options: CookieCallOptions = {},
): string[] {
  return tokenCookies(config, token, 'access', options);
}

/** Set-Cookie values that store a refresh token (and its CSRF cookie). */
export function setRefreshCookies(
  config: ResolvedConfig<unknown>,
  token: string,
  options: CookieCallOptions = {},
): string[] {
  return tokenCookies(config, token, 'refresh', options);
}

/** Set-Cookie values that clear the access cookies. */
export function unsetAccessCookies(
  config: ResolvedConfig<unknown>,
  options: { domain?: string } = {},
): string[] {
  return clearCookies(config, 'access', options.domain);
}

/** Set-Cookie values that clear the refresh cookies. */
export function unsetRefreshCookies(
  config: ResolvedConfig<unknown>,
  options: { domain?: string } = {},
): string[] {
  return clearCookies(config, 'refresh', options.domain);
}

/** Set-Cookie values that clear every token cookie (logout). */
export function unsetJwtCookies(
  config: ResolvedConfig<unknown>,
  options: { domain?: string } = {},
): string[] {
  return [...unsetAccessCookies(config, options), ...unsetRefreshCookies(config, options)];
}

/**
 * The `csrf` claim of a token this service minted, for clients that read it
 * from a response body instead of the CSRF cookie. The token is not verified:
 * call it on tokens you just created.
 */
export function getCsrfToken(token: string): string | undefined {
  const csrf = decodeJwsPayload(decodeJws(token)).csrf;
  return typeof csrf === 'string' ? csrf : undefined;
}

function tokenCookies(
  config: ResolvedConfig<unknown>,
  token: string,
  kind: 'access' | 'refresh',
  options: CookieCallOptions,
): string[] {
  const { cookies, csrf } = config.transport;
  const access = kind === 'access';
  const maxAge = options.maxAge ?? persistentMaxAge(config, token);
  const domain = cookieDomain(config, options.domain);
  const out = [
    serialize(config, access ? cookies.accessName : cookies.refreshName, token, {
      maxAge,
      domain,
      httpOnly: true,
      path: access ? cookies.accessPath : cookies.refreshPath,
    }),
  ];
  if (csrf.enabled && csrf.inCookies) {
    out.push(
      serialize(config, access ? csrf.accessCookieName : csrf.refreshCookieName, getCsrfToken(token) ?? '', {
        maxAge,
        domain,
        httpOnly: false,
        path: access ? csrf.accessCookiePath : csrf.refreshCookiePath,
      }),
    );
  }
  return out;
}

function clearCookies(
  config: ResolvedConfig<unknown>,
  kind: 'access' | 'refresh',
  domainOverride?: string,
): string[] {
  const { cookies, csrf } = config.transport;
  const access = kind === 'access';
  const domain = cookieDomain(config, domainOverride);
  const out = [
    serialize(config, access ? cookies.accessName : cookies.refreshName, '', {
      expires: EPOCH,
      domain,
      httpOnly: true,
      path: access ? cookies.accessPath : cookies.refreshPath,
    }),
  ];
  if (csrf.enabled && csrf.inCookies) {
    out.push(
      serialize(config, access ? csrf.accessCookieName : csrf.refreshCookieName, '', {
        expires: EPOCH,
        domain,
        httpOnly: false,
        path: access ? csrf.accessCookiePath : csrf.refreshCookiePath,
      }),
    );
  }
  return out;
}

// A __Host- cookie with a Domain attribute is rejected by browsers: refuse it here
// rather than drop the domain the caller asked for without a word.
function cookieDomain(config: ResolvedConfig<unknown>, override: string | undefined): string | undefined {
  const { cookies } = config.transport;
  if (!cookies.hostPrefix) return override ?? cookies.domain;
  if (override !== undefined)
    throw new ConfigError('cookies.hostPrefix (__Host-) cookies cannot have a domain');
  return undefined;
}

function persistentMaxAge(config: ResolvedConfig<unknown>, token: string): number | undefined {
  if (config.transport.cookies.session) return undefined;
  const { persistentCookieMaxAge } = config.profile;
  if (persistentCookieMaxAge !== 'token-lifetime') return persistentCookieMaxAge;
  const exp = decodeJwsPayload(decodeJws(token)).exp;
  return typeof exp === 'number' ? Math.max(0, Math.floor(exp - config.now())) : FLASK_PERSISTENT_MAX_AGE;
}

function serialize(
  config: ResolvedConfig<unknown>,
  name: string,
  value: string,
  a: { maxAge?: number; expires?: string; domain?: string; httpOnly: boolean; path: string },
): string {
  const { secure, sameSite } = config.transport.cookies;
  let cookie = `${name}=${value}`;
  if (a.domain !== undefined) cookie += `; Domain=${a.domain}`;
  if (a.expires !== undefined) cookie += `; Expires=${a.expires}`;
  else if (a.maxAge !== undefined) {
    cookie += `; Expires=${new Date((config.now() + a.maxAge) * 1000).toUTCString()}; Max-Age=${a.maxAge}`;
  }
  if (secure) cookie += '; Secure';
  if (a.httpOnly) cookie += '; HttpOnly';
  cookie += `; Path=${a.path}`;
  if (sameSite !== false) cookie += `; SameSite=${sameSite}`;
  return cookie;
}
