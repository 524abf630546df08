/**
 * An auth refusal as an error a framework's error pipeline understands: the
 * status under `status` and `statusCode`, the headers under `headers`, and
 * `expose` so Koa shows the message. The profile's full answer rides along in
 * `response`, and the Tessera error that caused it in `error` (and `cause`).
 */
import type { ErrorCode, TesseraError } from '../errors.js';
import type { ResponseData } from '../manager/options.js';

/**
 * Thrown into (or passed to) the framework's error handling when an adapter is
 * built with `errors: 'throw'`. Express's and Koa's default handlers answer its
 * `status` with its `headers`; Fastify's reads `statusCode` and `headers`.
 *
 * @example
 * ```ts
 * import { AuthResponseError } from 'tessera-auth';
 *
 * // In any error handler: the refusal's answer, as the adapter would have sent it.
 * function answerFor(error: unknown): Response | undefined {
 *   if (!(error instanceof AuthResponseError)) return undefined;
 *   return new Response(error.body, { status: error.status, headers: error.headers });
 * }
 * ```
 */
export class AuthResponseError extends Error {
  /** The HTTP status of the profile's answer. */
  readonly status: number;
  /** The same status, for frameworks that read `statusCode` (Fastify, Node). */
  readonly statusCode: number;
  /** The answer's headers (`content-type`, `www-authenticate`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The answer's serialized body. */
  readonly body: string;
  /** The whole answer the adapter would have sent. */
  readonly response: ResponseData;
  /** The refusal. */
  readonly error: TesseraError;
  /** The refusal's stable code. */
  readonly code: ErrorCode;
  /** Koa: the message is safe to show the client. */
  readonly expose = true;

  constructor(error: TesseraError, response: ResponseData) {
    super(error.message, { cause: error });
    this.name = 'AuthResponseError';
    this.status = response.status;
    this.statusCode = response.status;
    this.headers = response.headers;
    this.body = response.body;
    this.response = response;
    this.error = error;
    this.code = error.code;
  }
}
