/**
 * Bounded request-body reading for adapters whose framework may not have
 * parsed the body (Express and Koa without a body parser, the fetch adapter).
 * The guard asks for a body only for a json location or a CSRF form field, so
 * these run only then. No runtime import of node modules: the fetch adapter
 * shares this file and must load on Workers-style runtimes.
 */
import { BodyInvalidError, BodyTooLargeError } from '../errors.js';
import { isFormContentType, isJsonContentType } from '../http/request.js';

/** The default cap on a body read by an adapter: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The part of a Node readable stream (an `http.IncomingMessage`) the reader uses.
 * Structural, so neither Express nor Koa types are needed.
 */
export interface NodeBodyStream {
  on(event: 'data', listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  readonly readableEnded?: boolean;
  readonly readableDidRead?: boolean;
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
}

function nodeContentLength(stream: NodeBodyStream): string | undefined {
  const value = stream.headers?.['content-length'];
  return typeof value === 'string' ? value : undefined;
}

const TOO_LARGE = Symbol('too large');

/**
 * Whether `contentType` is a body this module knows how to parse: JSON or a
 * urlencoded form (multipart needs a real parser and is left to the app).
 *
 * @example
 * ```ts
 * parsableContentType('application/json; charset=utf-8'); // true
 * ```
 */
export function parsableContentType(contentType: string | undefined): boolean {
  return isJsonContentType(contentType) || isUrlencoded(contentType);
}

/**
 * Parse a body text by its content type: a JSON value, or a record of the
 * first value of each urlencoded field. Undefined when it cannot be parsed.
 *
 * @example
 * ```ts
 * parseBodyText('{"access_token":"x"}', 'application/json'); // { access_token: 'x' }
 * parseBodyText('csrf_token=abc', 'application/x-www-form-urlencoded'); // { csrf_token: 'abc' }
 * ```
 */
export function parseBodyText(text: string, contentType: string | undefined): unknown {
  if (isJsonContentType(contentType)) {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  if (isUrlencoded(contentType)) {
    const fields = new Map<string, string>();
    for (const [name, value] of new URLSearchParams(text)) if (!fields.has(name)) fields.set(name, value);
    // fromEntries defines own properties, so a "__proto__" field cannot reach the prototype.
    return Object.fromEntries(fields);
  }
  return undefined;
}

/**
 * Parse a body text the reader collected: like {@link parseBodyText}, but a
 * JSON body that does not parse is a {@link BodyInvalidError}, so the profile
 * can answer it (an empty one is no body).
 */
export function parseReadBody(text: string, contentType: string | undefined): unknown {
  const parsed = parseBodyText(text, contentType);
  if (parsed === undefined && isJsonContentType(contentType) && text.trim() !== '')
    throw new BodyInvalidError();
  return parsed;
}

/**
 * Whether a Content-Length announces more than `limit` bytes: refused before
 * a byte is read.
 */
export function announcedTooLarge(contentLength: string | null | undefined, limit: number): boolean {
  if (contentLength === undefined || contentLength === null) return false;
  const length = Number(contentLength);
  return Number.isFinite(length) && length > limit;
}

/**
 * Read a Node request stream up to `limit` bytes and parse it. Undefined when
 * the type is not parsable, the stream was already consumed by someone else,
 * or it fails; a {@link BodyTooLargeError} as soon as it is known to be larger
 * than the limit (announced or counted), a {@link BodyInvalidError} when JSON
 * does not parse.
 *
 * @example
 * ```ts
 * const body = await readNodeBody(req, req.headers['content-type']);
 * ```
 */
export async function readNodeBody(
  stream: NodeBodyStream,
  contentType: string | undefined,
  limit = DEFAULT_BODY_LIMIT,
): Promise<unknown> {
  if (!parsableContentType(contentType)) return undefined;
  // Someone else read (part of) it: waiting for 'end' could hang, and what is left is not the body.
  if (stream.readableEnded || stream.readableDidRead) return undefined;
  if (announcedTooLarge(nodeContentLength(stream), limit)) throw new BodyTooLargeError(limit);
  const bytes = await collectNodeStream(stream, limit);
  if (bytes === TOO_LARGE) throw new BodyTooLargeError(limit);
  return bytes === undefined ? undefined : parseReadBody(decode(bytes), contentType);
}

/**
 * Read a web ReadableStream (a cloned Request's body) up to `limit` bytes and
 * parse it; undefined and errors as for {@link readNodeBody}.
 *
 * @example
 * ```ts
 * const body = await readWebBody(request.clone().body, request.headers.get('content-type') ?? undefined);
 * ```
 */
export async function readWebBody(
  stream: ReadableStream<Uint8Array> | null,
  contentType: string | undefined,
  limit = DEFAULT_BODY_LIMIT,
): Promise<unknown> {
  if (stream === null || !parsableContentType(contentType)) return undefined;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        // Not awaited: cancelling one branch of a tee()d (cloned) body settles only
        // once the other branch is cancelled too, which is the handler's to do.
        reader.cancel().catch(() => undefined);
        throw new BodyTooLargeError(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    return undefined;
  }
  return parseReadBody(decode(concat(chunks, size)), contentType);
}

function collectNodeStream(
  stream: NodeBodyStream,
  limit: number,
): Promise<Uint8Array | undefined | typeof TOO_LARGE> {
  return new Promise<Uint8Array | undefined | typeof TOO_LARGE>((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let overflow = false;
    const encoder = new TextEncoder();
    const onData = (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      size += bytes.byteLength;
      if (overflow) return;
      if (size > limit) {
        // Keep draining without storing: destroying the stream would reset the
        // connection before the 401 is written, and stopping would stall keep-alive.
        overflow = true;
        chunks.length = 0;
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(bytes);
    };
    const finish = (ok: boolean) => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onClose);
      stream.removeListener('error', onError);
      if (overflow) return;
      resolve(ok ? concat(chunks, size) : undefined);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(false);
    const onError = () => finish(false);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('error', onError);
  });
}

function isUrlencoded(contentType: string | undefined): boolean {
  return isFormContentType(contentType) && !contentType!.toLowerCase().includes('multipart/');
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
