/**
 * Finding the token in a request, location by location, with
 * Flask-JWT-Extended's rules: only "missing" moves on to the next location;
 * any other problem (a malformed header, a missing CSRF value) is final.
 */
import {
  AmbiguousCookieError,
  BodyInvalidError,
  CsrfMissingError,
  InvalidAuthorizationHeaderError,
  InvalidQueryParamError,
  NoAuthorizationError,
  TesseraError,
} from '../errors.js';
import type { ResolvedTransport } from '../manager/config.js';
import type { TokenLocation } from '../manager/options.js';
import type { TokenProfile } from '../tokens/profile.js';
import {
  cookieCount,
  isFormContentType,
  isJsonContentType,
  parseCookies,
  queryParam,
  type RequestLike,
} from './request.js';

/** A token found in a request. */
export interface FoundToken {
  readonly token: string;
  readonly location: TokenLocation;
  /** The double-submit value, for cookie tokens on CSRF-protected methods. */
  readonly csrfValue: string | undefined;
}

/**
 * Says whether a header's token is one verified before (the verified-token
 * cache): such a token is a compact JWS, so it needs no scan for separators.
 */
export type KnownToken = (token: string) => boolean;

/**
 * Find the token in `locations` order, or throw the error Flask-JWT-Extended would.
 * Synchronous unless a location has to read the body (json, or a CSRF form field).
 */
export function locateToken(
  req: RequestLike,
  transport: ResolvedTransport,
  profile: TokenProfile,
  locations: readonly TokenLocation[],
  refresh: boolean,
  known?: KnownToken,
): FoundToken | Promise<FoundToken> {
  // Filled only when a location has no token (the messages of a multi-location miss).
  let missing: NoAuthorizationError[] | undefined;
  for (let i = 0; i < locations.length; i++) {
    try {
      const found = fromLocation(req, transport, profile, locations[i]!, refresh, known);
      if (found instanceof Promise) {
        const before = missing ?? [];
        return found.catch((error: unknown) => {
          noteMissing(error, before);
          return locateRest(req, transport, profile, locations, refresh, i + 1, before, known);
        });
      }
      return found;
    } catch (error) {
      missing ??= [];
      noteMissing(error, missing);
    }
  }
  throw missingError(locations, missing ?? []);
}

async function locateRest(
  req: RequestLike,
  transport: ResolvedTransport,
  profile: TokenProfile,
  locations: readonly TokenLocation[],
  refresh: boolean,
  from: number,
  missing: NoAuthorizationError[],
  known: KnownToken | undefined,
): Promise<FoundToken> {
  for (let i = from; i < locations.length; i++) {
    try {
      return await fromLocation(req, transport, profile, locations[i]!, refresh, known);
    } catch (error) {
      noteMissing(error, missing);
    }
  }
  throw missingError(locations, missing);
}

// Only "missing" moves on to the next location; anything else is final.
function noteMissing(error: unknown, missing: NoAuthorizationError[]): void {
  if (!(error instanceof NoAuthorizationError)) throw error;
  missing.push(error);
}

function missingError(
  locations: readonly TokenLocation[],
  missing: readonly NoAuthorizationError[],
): NoAuthorizationError {
  if (missing.length === 1) return missing[0]!;
  const texts = missing.map((error) => error.pythonMessage).join('; ');
  return new NoAuthorizationError(`Missing JWT in ${joinOr(locations)} (${texts})`, {
    key: 'authorization_missing.locations',
    params: { locations: locations.join(', ') },
  });
}

function fromLocation(
  req: RequestLike,
  t: ResolvedTransport,
  profile: TokenProfile,
  location: TokenLocation,
  refresh: boolean,
  known: KnownToken | undefined,
): FoundToken | Promise<FoundToken> {
  switch (location) {
    case 'headers':
      return { token: fromHeader(req, t, profile, known), location, csrfValue: undefined };
    case 'cookies':
      return fromCookies(req, t, profile, refresh);
    case 'query_string':
      return { token: fromQuery(req, t), location, csrfValue: undefined };
    case 'json':
      return fromJson(req, t, profile, refresh).then((token) => ({ token, location, csrfValue: undefined }));
  }
}

function fromHeader(
  req: RequestLike,
  t: ResolvedTransport,
  profile: TokenProfile,
  known: KnownToken | undefined,
): string {
  const raw = req.header(t.headerName);
  if (profile.authorizationHeader === 'simplejwt') return simpleJwtHeader(raw, t);
  // The common case, `<Type> <token>` and nothing else, without the regular expressions.
  const type = t.headerType;
  if (raw !== undefined && type !== '' && raw.length > type.length + 1 && raw.startsWith(type)) {
    const token = raw.slice(type.length + 1);
    // A known token skips the scan: a cache hit's largest cost in the guard.
    if (raw.charCodeAt(type.length) === 32 && (known?.(token) || isPlainToken(token))) return token;
  }
  const value = stripCommas((raw ?? '').trim());
  if (value === '') {
    throw new NoAuthorizationError(`Missing ${t.headerName} Header`, {
      key: 'authorization_missing.header',
      params: { header: t.headerName },
    });
  }
  const badHeader = { params: { header: t.headerName, scheme: type } };
  if (type === '') {
    if (/\s/.test(value)) {
      throw new InvalidAuthorizationHeaderError(
        `Bad ${t.headerName} header. Expected '${t.headerName}: <JWT>'`,
        { key: 'authorization_header_invalid.bare', params: { header: t.headerName } },
      );
    }
    return value;
  }
  const expected = `Bad ${t.headerName} header. Expected '${t.headerName}: ${type} <JWT>'`;
  // Several credentials may share the header, comma-separated (Basic xyz, Bearer <jwt>).
  // RFC 7235 makes the scheme case-insensitive; Flask-JWT-Extended does not.
  const caseless = profile.authorizationHeader !== 'flask';
  const wanted = caseless ? type.toLowerCase() : type;
  const candidates = value.split(/,\s*/).filter((element) => {
    const first = element.trim().split(/\s+/, 1)[0] ?? '';
    return (caseless ? first.toLowerCase() : first) === wanted;
  });
  if (candidates.length !== 1) {
    throw new NoAuthorizationError(
      `Missing '${type}' type in '${t.headerName}' header. Expected '${t.headerName}: ${type} <JWT>'`,
      { key: 'authorization_missing.scheme', params: { header: t.headerName, scheme: type } },
    );
  }
  const words = candidates[0]!.trim().split(/\s+/);
  if (words.length !== 2 || words[1] === '') throw new InvalidAuthorizationHeaderError(expected, badHeader);
  return words[1]!;
}

// SimpleJWT reads the header with str.split(): other schemes are ignored (not an error).
function simpleJwtHeader(raw: string | undefined, t: ResolvedTransport): string {
  const parts = (raw ?? '')
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '');
  if (parts.length === 0 || parts[0] !== (t.headerType || 'Bearer')) {
    throw new NoAuthorizationError('Authentication credentials were not provided.', {
      key: 'authorization_missing.scheme',
      params: { header: t.headerName, scheme: t.headerType || 'Bearer' },
    });
  }
  if (parts.length !== 2) {
    throw new InvalidAuthorizationHeaderError(
      'Authorization header must contain two space-delimited values',
      {
        params: { header: t.headerName, scheme: t.headerType || 'Bearer' },
      },
    );
  }
  return parts[1]!;
}

// No separator the slow path would split on: whitespace or a comma.
const SEPARATOR = /[\s,]/;
function isPlainToken(token: string): boolean {
  return token.length > 0 && !SEPARATOR.test(token);
}

function stripCommas(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value[start] === ',') start++;
  while (end > start && value[end - 1] === ',') end--;
  return value.slice(start, end);
}

function fromCookies(
  req: RequestLike,
  t: ResolvedTransport,
  profile: TokenProfile,
  refresh: boolean,
): FoundToken | Promise<FoundToken> {
  const name = refresh ? t.cookies.refreshName : t.cookies.accessName;
  const header = req.header('cookie');
  const token = parseCookies(header).get(name);
  if (token === undefined || token === '') {
    throw new NoAuthorizationError(`Missing cookie "${name}"`, {
      key: 'authorization_missing.cookie',
      params: { cookie: name },
    });
  }
  // Werkzeug takes the first of repeated cookies, and so do the Python profiles; the
  // first is not necessarily the one this service set (a sibling domain can plant one).
  if (profile.refuseRepeatedCookies && cookieCount(header, name) > 1) throw new AmbiguousCookieError(name);
  let csrfValue: string | undefined;
  const { csrf } = t;
  // Flask-JWT-Extended checks CSRF only when cookies are a global location; a route
  // that reads cookies on its own would then be open to CSRF. Elsewhere a cookie token
  // on an unsafe method always needs the double-submit value.
  const protect = profile.csrfWithCookieLocationOnly ? csrf.enabled : csrf.protect;
  if (protect && csrf.methods.has(req.method.toUpperCase())) {
    csrfValue = req.header(refresh ? csrf.refreshHeaderName : csrf.accessHeaderName);
    if (!csrfValue && csrf.checkForm && isFormContentType(req.header('content-type'))) {
      const field = refresh ? csrf.refreshFieldName : csrf.accessFieldName;
      return readBody(req).then((body) => {
        const value = isRecord(body) ? body[field] : undefined;
        if (typeof value !== 'string' || value === '') throw new CsrfMissingError();
        return { token, location: 'cookies' as const, csrfValue: value };
      });
    }
    // Checked before the token is decoded, as Flask-JWT-Extended does (F93).
    if (!csrfValue) throw new CsrfMissingError();
  }
  return { token, location: 'cookies', csrfValue };
}

function fromQuery(req: RequestLike, t: ResolvedTransport): string {
  const value = queryParam(req.url, t.queryStringName);
  // "paramater" is Flask-JWT-Extended's spelling; clients may match on it.
  if (!value) {
    throw new NoAuthorizationError(`Missing '${t.queryStringName}' query paramater`, {
      key: 'authorization_missing.query',
      params: { param: t.queryStringName },
    });
  }
  const prefix = t.queryStringValuePrefix;
  if (!value.startsWith(prefix)) {
    throw new InvalidQueryParamError(
      `Invalid value for query parameter '${t.queryStringName}'. Expected the value to start with '${prefix}'`,
      { params: { param: t.queryStringName, prefix } },
    );
  }
  return value.slice(prefix.length);
}

async function fromJson(
  req: RequestLike,
  t: ResolvedTransport,
  profile: TokenProfile,
  refresh: boolean,
): Promise<string> {
  if (!isJsonContentType(req.header('content-type'))) {
    throw new NoAuthorizationError('Invalid content-type. Must be application/json.', {
      key: 'authorization_missing.content_type',
    });
  }
  const key = refresh ? t.refreshJsonKey : t.jsonKey;
  let body: unknown;
  try {
    body = await readBody(req);
  } catch (error) {
    // Flask-JWT-Extended reads an unparsable body as one without the key (F50);
    // the standard profile says what is wrong with the request.
    if (!(error instanceof BodyInvalidError) || !profile.unparsableBodyIsMissing) throw error;
  }
  const value = isRecord(body) ? body[key] : undefined;
  if (typeof value !== 'string' || value === '') throw missingJsonKey(key);
  return value;
}

// A body too large or unparsable is the adapter's typed error; anything else a body
// reader throws (a framework's own parser) reads as no body.
async function readBody(req: RequestLike): Promise<unknown> {
  if (req.body === undefined) return undefined;
  try {
    return await req.body();
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    return undefined;
  }
}

/** Flask-JWT-Extended's answer for a JSON body without the token's key. */
export function missingJsonKey(key: string): NoAuthorizationError {
  return new NoAuthorizationError(`Missing "${key}" key in json data.`, {
    key: 'authorization_missing.json',
    params: { key },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinOr(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
