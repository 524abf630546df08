/**
 * Calls to the service in cookie mode. The access and refresh tokens live in
 * HttpOnly cookies the script never sees; what it reads is the CSRF value of
 * each (a readable cookie) and sends it back in the X-CSRF-TOKEN header, the
 * double-submit check. When the access cookie has expired, one silent refresh
 * (shared by every call waiting on it) renews it and the call is retried.
 */

/** A refused call: the service's `msg` and stable `code`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const message = typeof body.msg === 'string' ? body.msg : `The service answered ${status}`;
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : '';
    this.body = body;
  }
}

/** Read a cookie the script may read: the plain name, or its `__Host-` form under https. */
export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key === name || key === `__Host-${name}`) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when the session is gone (refresh refused): the console shows the sign-in page. */
export function onSignedOut(listener: Listener): void {
  signedOutListeners.add(listener);
}

let refreshing: Promise<boolean> | undefined;

/** Renew the access cookie with the refresh cookie; one request at a time, shared by every waiting call. */
export function refreshSession(): Promise<boolean> {
  if (refreshing === undefined) {
    refreshing = renew().finally(() => {
      refreshing = undefined;
    });
  }
  return refreshing;
}

async function renew(): Promise<boolean> {
  const csrf = readCookie('csrf_refresh_token');
  if (csrf === undefined) return false;
  try {
    const res = await fetch('/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': csrf },
    });
    return res.ok;
  } catch {
    return false;
  }
}

interface CallOptions {
  json?: unknown;
  /** Do not try a refresh on 401 (sign-in, the refresh itself). */
  noRefresh?: boolean;
}

async function send(method: string, path: string, options: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    const csrf = readCookie('csrf_access_token');
    if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  }
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  return fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
}

async function parse(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return { msg: text.slice(0, 200) };
  }
}

/** Call the service; throws {@link ApiError} for a refusal. */
export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<T> {
  let res = await send(method, path, options);
  if (res.status === 401 && !options.noRefresh) {
    if (await refreshSession()) {
      res = await send(method, path, options);
    }
    if (res.status === 401) {
      for (const listener of signedOutListeners) listener();
    }
  }
  const body = await parse(res);
  if (!res.ok) throw new ApiError(res.status, body);
  return body as T;
}

/** The message to show for a failed call. */
export function problem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const retry = Number(error.body.retry_after);
      return Number.isFinite(retry)
        ? `Too many attempts; try again in ${retry} second${retry === 1 ? '' : 's'}.`
        : 'Too many attempts; try again later.';
    }
    return error.message;
  }
  if (error instanceof TypeError) return 'The service cannot be reached.';
  return error instanceof Error ? error.message : String(error);
}
