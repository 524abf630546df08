/**
 * Request and response helpers shared by the route modules: validated JSON
 * bodies (zod), error answers with a stable `code`, the client's address, and
 * the headers every token response carries.
 */
import type { IncomingMessage } from 'node:http';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ResponseData } from 'tessera-auth';
import { isFormContentType, isJsonContentType } from 'tessera-auth/core';
import type { z } from 'zod';

/** An answer that ends the request early: thrown by helpers, turned into JSON by the app. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.extra = extra;
    this.headers = headers;
  }
}

/** Too many attempts: 429 with Retry-After. */
export function throttled(retryAfterSeconds: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new HttpError(
    429,
    'too_many_attempts',
    'Too many attempts; try again later',
    { retry_after: seconds },
    { 'retry-after': String(seconds) },
  );
}

/** The error body: `msg` (Flask-JWT-Extended's key) and a stable `code`. */
export function errorBody(
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { msg: message, code, ...extra };
}

/** Headers of every answer that carries a token or a secret. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** JSON answer with `Cache-Control: no-store`. */
export function tokenJson(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  for (const [name, value] of Object.entries(NO_STORE)) c.header(name, value);
  return c.json(body, status);
}

/** Send a library ResponseData through Hono (keeps headers set earlier, such as cookies). */
export function sendResponseData(c: Context, data: ResponseData): Response {
  return c.body(data.body, data.status as ContentfulStatusCode, { ...data.headers });
}

/**
 * Read the body as JSON (or a form, when `form` is allowed) and validate it.
 * 415 for another media type, 400 for bad JSON or a body that fails the schema.
 */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  options: { form?: boolean; optional?: boolean } = {},
): Promise<z.output<S>> {
  const type = c.req.header('content-type');
  let data: unknown;
  if (type === undefined || type === '') {
    const text = await c.req.text();
    if (text.trim() !== '' || !options.optional) {
      throw new HttpError(415, 'unsupported_media_type', 'Send a JSON body (Content-Type: application/json)');
    }
    data = {};
  } else if (isJsonContentType(type)) {
    const text = await c.req.text();
    try {
      data = text.trim() === '' && options.optional ? {} : (JSON.parse(text) as unknown);
    } catch {
      throw new HttpError(400, 'invalid_json', 'The body is not valid JSON');
    }
  } else if (options.form && isFormContentType(type) && /urlencoded/i.test(type)) {
    data = Object.fromEntries(new URLSearchParams(await c.req.text()));
  } else {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Unsupported media type: ${type.split(';', 1)[0]!.trim().slice(0, 100)}`,
    );
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({
      field: issue.path.join('.') || null,
      message: issue.message,
    }));
    throw new HttpError(
      400,
      'invalid_request',
      errors[0]?.field ? `${errors[0].field}: ${errors[0].message}` : 'Invalid request body',
      { errors },
    );
  }
  return result.data;
}

/**
 * A request header, read from Node's parsed headers when the request came
 * through @hono/node-server: `c.req.header()` would first build a web
 * `Headers` from the raw ones, a cost on every request that reads one.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The client's address: the socket peer, or the first X-Forwarded-For entry when a proxy is trusted. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',', 1)[0]?.trim();
    if (forwarded) return forwarded.slice(0, 100);
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A path parameter, or a 404 when it is absent. */
export function param(c: Context, name: string): string {
  const value = c.req.param(name);
  if (value === undefined || value === '') throw new HttpError(404, 'not_found', 'Not found');
  return value;
}
