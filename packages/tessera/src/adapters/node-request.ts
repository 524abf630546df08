/**
 * The http layer's view of a Node request, and writing an answer to a Node
 * response: one copy for the adapters that hold Node's own objects (Express,
 * plain node:http, and NestJS on its Express platform). Internal to the adapters (no subpath
 * export); type imports only, so nothing here loads a Node module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TesseraError } from '../errors.js';
import type { RequestLike } from '../http/request.js';
import type { ResponseData } from '../manager/options.js';
import { readNodeBody } from './body.js';
import { nodeHeader, type Refusals, refusalError, requestHeader } from './shared.js';

/** What the Node adapters read from a request (an Express `Request` is one). */
export type NodeRequest = IncomingMessage & {
  /** Set by a body parser, or by the adapter when it had to read the body itself. */
  body?: unknown;
  /** The URL before mounting (or a global prefix) stripped a prefix from `url`. */
  originalUrl?: string;
};

/**
 * The request as the guard reads it. Headers and the body stream come from
 * `raw` (the Node request under a platform's wrapper; `req` itself otherwise),
 * the parsed body and the URL from `req`.
 */
export function nodeRequestLike(req: NodeRequest, bodyLimit: number, raw: NodeRequest = req): RequestLike {
  let body: Promise<unknown> | undefined;
  return {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '/',
    header: (name) => requestHeader(raw, name),
    body() {
      if (req.body !== undefined) return req.body;
      body ??= readNodeBody(raw, nodeHeader(raw.headers, 'content-type'), bodyLimit).then((parsed) => {
        // Later handlers see the body as if a parser had run: the stream is spent now.
        if (parsed !== undefined) req.body = parsed;
        return parsed;
      });
      return body;
    },
  };
}

/** Write an answer (status, headers, serialized body) and end the response. */
export function writeNodeResponse(res: ServerResponse, response: ResponseData): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.end(response.body);
}

/**
 * Answer a refusal after the app's hook: written to `res`, or with `errors: 'throw'`
 * handed to `onThrow` as an `AuthResponseError` (Express's `next`, the node
 * adapter's `onServerError`), which also gets the hook's own failure.
 */
export function answerRefusal<TRequest>(
  refusal: Refusals<TRequest>,
  error: TesseraError,
  response: ResponseData,
  req: TRequest,
  res: ServerResponse,
  onThrow: (error: unknown) => void,
): void {
  const send = (answer: ResponseData) =>
    refusal.throws ? onThrow(refusalError(error, answer)) : writeNodeResponse(res, answer);
  const answer = refusal.answer(error, req, response);
  if (answer instanceof Promise) answer.then(send, onThrow);
  else send(answer);
}
