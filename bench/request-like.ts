/** The neutral request of a node:http request, as the bench servers hand it to the guard. */
import type { IncomingMessage } from 'node:http';
import type { RequestLike } from 'tessera-auth';

export function requestLike(req: IncomingMessage): RequestLike {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    header(name) {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
