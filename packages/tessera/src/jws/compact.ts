/**
 * Compact JWS serialization (RFC 7515 section 7.1): strict decoding and signing.
 *
 * Decoding is split in two so that nothing in the payload is parsed before the
 * signature is verified: {@link decodeJws} reads the structure and the header,
 * {@link verifyJws} checks the signature with a key chosen by the caller, and
 * {@link decodeJwsPayload} parses the payload afterwards.
 */

import { codec } from '../crypto/select.js';
import { MalformedTokenError, TokenTooLargeError } from '../errors.js';
import { decodeBase64Url, encodeBase64Url, hasCanonicalTail, isBase64Url } from './base64url.js';
import { assertHeaderRules, type JwsHeader } from './header.js';
import { parseJsonObject } from './json.js';
import { DEFAULT_JWS_LIMITS, type JwsLimits } from './limits.js';
import { type BoundKey, signBytesMaybe } from './signature.js';

/** A compact JWS whose structure and header passed every key-independent rule. */
export interface DecodedJws {
  /** The header, validated and frozen (shared between tokens with the same header). */
  readonly header: JwsHeader;
  /** `BASE64URL(header) || '.' || BASE64URL(payload)`. */
  readonly signingInput: string;
  readonly payloadSegment: string;
  readonly signatureSegment: string;
}

/** One non-empty segment of base64url characters. */
const SEGMENT = '[A-Za-z0-9_-]+';
const SHAPE = new RegExp(`^${SEGMENT}\\.${SEGMENT}\\.${SEGMENT}$`);
/** {@link SHAPE} after the header and its dot (sticky: set `lastIndex` to where the payload starts). */
const AFTER_HEADER = new RegExp(`${SEGMENT}\\.${SEGMENT}$`, 'y');

// Tokens signed by one key share one header segment; parsing and checking it once
// takes JSON.parse of the header off the hot path. Only valid headers are kept.
const HEADER_CACHE_SIZE = 256;
const headerCache = new Map<string, JwsHeader>();
let lastHeaderSegment = '';
let lastHeader: JwsHeader | undefined;

/** Read a compact JWS's structure and header. Throws a Tessera error on any deviation. */
export function decodeJws(token: unknown, limits: JwsLimits = DEFAULT_JWS_LIMITS): DecodedJws {
  if (typeof token !== 'string')
    throw new MalformedTokenError('Invalid token type. Token must be a string', undefined, NOT_STRING);
  if (token.length > limits.maxTokenLength) throw new TokenTooLargeError();
  const firstDot = token.indexOf('.');
  let header: JwsHeader;
  // Most tokens carry the header the previous one did: compare in place, without
  // slicing it out and hashing it for the Map. That header's text passed the shape
  // check before, so only the rest of the token is scanned.
  if (
    lastHeader !== undefined &&
    firstDot === lastHeaderSegment.length &&
    token.startsWith(lastHeaderSegment)
  ) {
    AFTER_HEADER.lastIndex = firstDot + 1;
    if (!AFTER_HEADER.test(token)) diagnoseShape(token, limits);
    header = lastHeader;
  } else {
    if (!SHAPE.test(token)) diagnoseShape(token, limits);
    const headerSegment = token.slice(0, firstDot);
    header = headerCache.get(headerSegment) ?? decodeHeader(headerSegment, limits);
    lastHeaderSegment = headerSegment;
    lastHeader = header;
  }
  const lastDot = token.lastIndexOf('.');
  const signatureSegment = token.slice(lastDot + 1);
  // Unused trailing bits must be zero in every segment, or two texts would carry
  // one value (the header's were checked when it was decoded).
  if (!hasCanonicalTail(token, firstDot + 1, lastDot)) {
    throw new MalformedTokenError('Invalid payload padding', { header }, PAYLOAD_ENCODING);
  }
  if (!hasCanonicalTail(token, lastDot + 1))
    throw new MalformedTokenError('Invalid crypto padding', { header }, SIGNATURE_ENCODING);
  return {
    header,
    signingInput: token.slice(0, lastDot),
    payloadSegment: token.slice(firstDot + 1, lastDot),
    signatureSegment,
  };
}

/**
 * Verify the signature of a decoded JWS with a key the caller selected:
 * a boolean with a node:crypto key, a promise of one with a Web Crypto key.
 */
export function verifyJwsMaybe(decoded: DecodedJws, key: BoundKey): boolean | Promise<boolean> {
  // decodeJws checked the alphabet and the trailing bits of the signature segment.
  const { verifyText } = key;
  if (verifyText !== undefined) return verifyText(decoded.signingInput, decoded.signatureSegment);
  const signature = codec.base64UrlToBytes(decoded.signatureSegment);
  return key.verify(decoded.signingInput, signature);
}

/**
 * Verify the signature of a decoded JWS synchronously. Needs a key of the
 * node:crypto backend; with a Web Crypto key it throws a TypeError (use
 * {@link verifyJwsAsync}, which takes either).
 */
export function verifyJws(decoded: DecodedJws, key: BoundKey): boolean {
  const result = verifyJwsMaybe(decoded, key);
  if (result instanceof Promise) {
    result.catch(() => undefined);
    throw new TypeError('verifyJws needs a key of the synchronous node:crypto backend; use verifyJwsAsync');
  }
  return result;
}

/** Verify the signature of a decoded JWS with a key of either backend. */
export async function verifyJwsAsync(decoded: DecodedJws, key: BoundKey): Promise<boolean> {
  return verifyJwsMaybe(decoded, key);
}

/** Parse the payload of a decoded (and, normally, verified) JWS as a JSON object. */
export function decodeJwsPayload(
  decoded: DecodedJws,
  limits: JwsLimits = DEFAULT_JWS_LIMITS,
): Record<string, unknown> {
  const segment = decoded.payloadSegment;
  // decodeJws already checked the alphabet, and the signature covers the exact
  // segment text, so only an impossible length remains to refuse; re-encoding to
  // test canonical form would cost more than the rest of the payload work.
  if (segment.length % 4 === 1) {
    throw new MalformedTokenError('Invalid payload padding', { header: decoded.header }, PAYLOAD_ENCODING);
  }
  const bytes = codec.base64UrlToBytes(segment);
  const parsed = parseJsonObject(bytes, limits.maxJsonDepth);
  if (parsed.ok) return parsed.value;
  throw new MalformedTokenError(
    jsonMessage('payload', parsed.failure, parsed.detail),
    { header: decoded.header },
    PAYLOAD_JSON,
  );
}

/**
 * Sign `payload` (an object, serialized compactly, or a string taken as is)
 * under `header`; `alg` always comes from the key and overrides the header's.
 */
export function signJws(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>> | string,
  key: BoundKey,
): string {
  const result = signJwsMaybe(header, payload, key);
  if (typeof result !== 'string') {
    result.catch(() => undefined);
    throw new TypeError('signJws needs a key of the synchronous node:crypto backend; use signJwsAsync');
  }
  return result;
}

/** {@link signJws} for keys of either backend (Web Crypto signs asynchronously). */
export async function signJwsAsync(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>> | string,
  key: BoundKey,
): Promise<string> {
  return signJwsMaybe(header, payload, key);
}

/** {@link signJws} that answers synchronously when the key's backend can: a string, or a promise of one. */
export function signJwsMaybe(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>> | string,
  key: BoundKey,
): string | Promise<string> {
  return signWithHeaderSegment(encodeJwsHeader(header, key), payload, key);
}

/** The header segment {@link signJwsMaybe} writes for `header` and `key`: base64url of its JSON, `alg` the key's. */
export function encodeJwsHeader(header: Readonly<Record<string, unknown>>, key: BoundKey): string {
  return encodeBase64Url(JSON.stringify({ ...header, alg: key.alg }));
}

/**
 * {@link signJwsMaybe} under a header segment already encoded by
 * {@link encodeJwsHeader} for the same key: a signer that writes one header
 * for every token encodes it once.
 */
export function signWithHeaderSegment(
  headerSegment: string,
  payload: Readonly<Record<string, unknown>> | string,
  key: BoundKey,
): string | Promise<string> {
  const payloadSegment = encodeBase64Url(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const signingInput = `${headerSegment}.${payloadSegment}`;
  const { backend } = key;
  if (backend.signText !== undefined)
    return `${signingInput}.${backend.signText(key.alg, key.key, signingInput)}`;
  const signature = signBytesMaybe(key, latin1(signingInput));
  if (signature instanceof Promise) {
    return signature.then((bytes) => `${signingInput}.${codec.bytesToBase64Url(bytes)}`);
  }
  return `${signingInput}.${codec.bytesToBase64Url(signature)}`;
}

/** The signing input is base64url and dots: one byte per character. */
function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Read a header without verifying anything but its structure. For routing and debugging only. */
export function decodeProtectedHeader(token: string, limits: JwsLimits = DEFAULT_JWS_LIMITS): JwsHeader {
  return decodeJws(token, limits).header;
}

function decodeHeader(segment: string, limits: JwsLimits): JwsHeader {
  if (segment.length > limits.maxHeaderLength) throw new TokenTooLargeError('Token header is too large');
  const bytes = decodeBase64Url(segment);
  if (bytes === undefined)
    throw new MalformedTokenError('Invalid header padding', undefined, HEADER_ENCODING);
  const parsed = parseJsonObject(bytes, limits.maxJsonDepth);
  if (!parsed.ok) {
    throw new MalformedTokenError(
      jsonMessage('header', parsed.failure, parsed.detail),
      undefined,
      HEADER_JSON,
    );
  }
  const header = deepFreeze(parsed.value);
  assertHeaderRules(header);
  if (headerCache.size >= HEADER_CACHE_SIZE) headerCache.clear();
  headerCache.set(segment, header);
  return header;
}

/**
 * The slow path, reached only when the one-regex shape check failed: find the
 * first rule broken, in PyJWT's order, so the message says what is wrong.
 */
function diagnoseShape(token: string, limits: JwsLimits): never {
  const segments = token.split('.');
  if (segments.length < 3) throw new MalformedTokenError('Not enough segments', undefined, SEGMENTS);
  const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
  if (headerSegment === '' || !isBase64Url(headerSegment)) {
    throw new MalformedTokenError('Invalid header padding', undefined, HEADER_ENCODING);
  }
  const header = decodeHeader(headerSegment, limits);
  if (segments.length > 3) {
    // PyJWT splits once from each end, so the extra dots land in its payload segment.
    throw new MalformedTokenError(
      'Invalid payload padding',
      { header },
      segments.length === 5 ? ENCRYPTED : SEGMENTS,
    );
  }
  if (payloadSegment === '' || !isBase64Url(payloadSegment)) {
    throw new MalformedTokenError('Invalid payload padding', { header }, PAYLOAD_ENCODING);
  }
  if (signatureSegment === '') {
    throw new MalformedTokenError('Signature is missing', { header }, SIGNATURE_MISSING);
  }
  throw new MalformedTokenError('Invalid crypto padding', { header }, SIGNATURE_ENCODING);
}

// The catalog messages of each malformation (src/messages/en.ts).
const NOT_STRING = { key: 'token_malformed.not_string' } as const;
const SEGMENTS = { key: 'token_malformed.segments' } as const;
const ENCRYPTED = { key: 'token_malformed.encrypted' } as const;
const HEADER_ENCODING = { key: 'token_malformed.header_encoding' } as const;
const HEADER_JSON = { key: 'token_malformed.header_json' } as const;
const PAYLOAD_ENCODING = { key: 'token_malformed.payload_encoding' } as const;
const PAYLOAD_JSON = { key: 'token_malformed.payload_json' } as const;
const SIGNATURE_ENCODING = { key: 'token_malformed.signature_encoding' } as const;
const SIGNATURE_MISSING = { key: 'token_malformed.signature_missing' } as const;

function jsonMessage(segment: 'header' | 'payload', failure: string, detail?: string): string {
  switch (failure) {
    case 'not_object':
      return `Invalid ${segment} string: must be a json object`;
    case 'too_deep':
      return `Invalid ${segment} string: nested too deeply`;
    case 'not_utf8':
      return `Invalid ${segment} string: not valid UTF-8`;
    default:
      return `Invalid ${segment} string: ${detail ?? 'Invalid JSON'}`;
  }
}

function deepFreeze<T extends object>(value: T): T {
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}
