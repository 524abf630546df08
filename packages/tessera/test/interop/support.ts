/**
 * Shared pieces of the two-way interop suites (flask.test.ts, simplejwt.test.ts,
 * jwks.test.ts): the skip/fail gate, hand-built tokens for malformed cases, a
 * loopback HTTP server, Flask `jsonify` bytes, and cookie plumbing.
 *
 * Nothing here talks to Tessera's internals: tokens are built with node:crypto so
 * that a broken Tessera cannot also break the fixtures that test it.
 */
import { createHmac, createPrivateKey, sign as signBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { expect, it } from 'vitest';
import { type JsonValue, type PeerResponse, pythonPeersAvailable } from './peers.js';

/** Whether the Python peers can run here (computed once per process). */
export const peers = pythonPeersAvailable();

/**
 * Call at module level: when the peers are missing, registers a failing test if
 * `CI` is set, otherwise prints why the suite is skipped. Use with
 * `describe.skipIf(!peers.ok)`.
 */
export function gatePeers(suite: string): void {
  if (peers.ok) return;
  if (process.env.CI) {
    it(`${suite}: Python peers are available (required when CI is set)`, () => {
      expect.fail(peers.reason);
    });
  } else {
    console.warn(`[interop] skipping ${suite}: ${peers.reason}`);
  }
}

/** A decoded JSON object (header or payload). */
export type Claims = Record<string, unknown>;

/** Seconds since the epoch, as an integer. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** base64url of a JSON value, or of raw text when given a string. */
export function segment(value: Claims | JsonValue[] | string): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Decodes the header (0) or payload (1) of a compact JWS. */
export function part(token: string, index: 0 | 1): Claims {
  const raw = token.split('.')[index];
  if (raw === undefined) throw new Error(`token has no segment ${index}`);
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Claims;
}

/** The raw JSON text of a token's header (0) or payload (1). */
export function partText(token: string, index: 0 | 1): string {
  return Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8');
}

/** Keys of a token's payload, in the order they were written. */
export function payloadKeys(token: string): string[] {
  return Object.keys(part(token, 1));
}

/** Options of {@link forge}. */
export interface ForgeOptions {
  /** HMAC secret (HS*) — required unless `privateKey` is given. */
  secret?: string;
  /** PEM private key for RS256 / ES256. */
  privateKey?: string;
  /** Signature to use instead of a real one (base64url). */
  signature?: string;
}

/**
 * Builds a compact JWS by hand. `header` and `payload` may be objects or raw
 * strings (to build segments that are not JSON). The signature follows
 * `header.alg` (HS256/HS384/HS512/RS256/ES256) unless `signature` is given.
 */
export function forge(
  header: Claims | string,
  payload: Claims | JsonValue[] | string,
  options: ForgeOptions,
): string {
  const input = `${segment(header)}.${segment(payload)}`;
  if (options.signature !== undefined) return `${input}.${options.signature}`;
  const alg = typeof header === 'string' || header.alg === undefined ? 'HS256' : String(header.alg);
  let signature: Buffer;
  if (alg.startsWith('HS')) {
    if (options.secret === undefined) throw new Error('forge: an HS algorithm needs a secret');
    signature = createHmac(`sha${alg.slice(2)}`, options.secret)
      .update(input)
      .digest();
  } else if (alg === 'RS256' || alg === 'ES256') {
    if (options.privateKey === undefined) throw new Error(`forge: ${alg} needs a private key`);
    const key = createPrivateKey(options.privateKey);
    signature =
      alg === 'RS256'
        ? signBytes('sha256', Buffer.from(input), key)
        : signBytes('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  } else {
    throw new Error(`forge: cannot sign ${alg}`);
  }
  return `${input}.${signature.toString('base64url')}`;
}

/** Replaces the last characters of a token's signature (a valid shape, a wrong value). */
export function tamperSignature(token: string): string {
  const dot = token.lastIndexOf('.');
  const signature = token.slice(dot + 1);
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  return `${token.slice(0, dot + 1)}${flipped}`;
}

/** `{ authorization: 'Bearer <token>' }`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A string member of a JSON body, or a thrown error that shows the body. */
export function field(body: unknown, name: string): string {
  if (typeof body === 'object' && body !== null && name in body) {
    const value = (body as Record<string, unknown>)[name];
    if (typeof value === 'string') return value;
  }
  throw new Error(`response has no string "${name}": ${JSON.stringify(body)}`);
}

/** A JSON body as an object (throws otherwise). */
export function bodyObject(res: PeerResponse): Claims {
  if (typeof res.body === 'object' && res.body !== null && !Array.isArray(res.body))
    return res.body as Claims;
  throw new Error(`expected a JSON object, got ${res.status}: ${res.text.slice(0, 300)}`);
}

/** A server on 127.0.0.1 with an ephemeral port. */
export interface Listening {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts `handler` (or an existing server) on 127.0.0.1:0. */
export async function listen(handler: RequestListener | Server): Promise<Listening> {
  const server = typeof handler === 'function' ? createServer(handler) : handler;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Stops every peer given, ignoring the ones that failed to start. */
export async function stopAll(
  ...items: ({ stop(): Promise<void> } | { close(): Promise<void> } | undefined)[]
) {
  await Promise.all(
    items.map((item) => (item === undefined ? undefined : 'stop' in item ? item.stop() : item.close())),
  );
}

/**
 * The bytes Flask 2.2's `jsonify` writes (JSON_SORT_KEYS, not debug): keys
 * sorted at every level, compact separators, non-ASCII escaped as `\uXXXX`,
 * and a trailing newline.
 */
export function pyJsonify(value: unknown): string {
  const text = JSON.stringify(sortKeys(value)).replace(
    /[\u0080-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${text}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** One parsed `Set-Cookie` line. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Attributes as written, e.g. `HttpOnly`, `Path=/`. */
  readonly attributes: readonly string[];
}

/** Parses a `Set-Cookie` value into name, value and attributes. */
export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attributes] = line.split(';').map((piece) => piece.trim());
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** A `Cookie` request header holding every cookie of the given `Set-Cookie` lines. */
export function cookieHeader(setCookies: readonly string[]): string {
  return setCookies
    .map(parseSetCookie)
    .map(({ name, value }) => `${name}=${value}`)
    .join('; ');
}

/** The value of one cookie among `Set-Cookie` lines. */
export function cookieValue(setCookies: readonly string[], name: string): string {
  const found = setCookies.map(parseSetCookie).find((cookie) => cookie.name === name);
  if (found === undefined) throw new Error(`no Set-Cookie for ${name} in ${JSON.stringify(setCookies)}`);
  return found.value;
}
