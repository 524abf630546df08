/**
 * The framework-neutral request: what the guard needs to find a token, and
 * nothing else. Each adapter translates its framework's request into this.
 */

/** A request as the http layer sees it. */
export interface RequestLike {
  /** HTTP method, any case. */
  readonly method: string;
  /** The request target: a path with its query string, or an absolute URL. */
  readonly url: string;
  /** A header's value (case-insensitive name); repeated headers joined with ', '. */
  header(name: string): string | undefined;
  /**
   * The parsed body: a JSON value for JSON requests, a record of strings for
   * form posts, undefined when there is none or it cannot be parsed. Only called
   * when a json location or a CSRF form field is configured.
   */
  body?(): Promise<unknown> | unknown;
}

/** Parse a Cookie header into name → first value (RFC 6265 section 5.4 order). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    cookies.set(name, safeDecode(value));
  }
  return cookies;
}

/**
 * How many times the cookie `name` appears in a Cookie header. More than one
 * means cookie tossing or a stale cookie on another path: the browser sends
 * both and nothing in the header says which is which.
 */
export function cookieCount(header: string | undefined, name: string): number {
  if (header === undefined) return 0;
  let count = 0;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq >= 0 && part.slice(0, eq).trim() === name) count++;
  }
  return count;
}

/** The first value of a query parameter, or undefined. */
export function queryParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const hash = url.indexOf('#', q);
  const search = new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash));
  return search.get(name) ?? undefined;
}

/** Whether a Content-Type is JSON (application/json or any +json type). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Whether a Content-Type is a form post. */
export function isFormContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data';
}

function safeDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
