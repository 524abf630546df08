/**
 * Bytes without Node: UTF-8, base64url and constant-time comparison on
 * Uint8Array, TextEncoder and TextDecoder, which every runtime has (Node, Bun,
 * Deno, workerd, browsers). Nothing here touches `Buffer` or a `node:` module,
 * so any module may use it and still load where Node's built-ins are absent.
 *
 * @module
 */

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder('utf-8');
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of `text` (lone surrogates become U+FFFD, as everywhere on the web). */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decode UTF-8, replacing each invalid sequence with U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes);
}

/** Is `bytes` well-formed UTF-8? */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * How many bytes `text` takes in UTF-8, without encoding it. Lone surrogates
 * count 3 bytes (they encode as U+FFFD), as `Buffer.byteLength` counts them.
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: 2 UTF-16 units, 4 bytes.
        bytes += 2;
        i++;
        continue;
      }
      bytes += 2;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * Compare two byte strings in time that depends only on their lengths, so an
 * attacker learns nothing from how long a mismatch took to find.
 */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * Compare two strings by their UTF-8 bytes in constant time (for a given
 * length): CSRF tokens, API key hashes, anything a client guesses at.
 */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  return timingSafeEqualBytes(encoder.encode(a), encoder.encode(b));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/**
 * Decode unpadded base64url. Returns undefined for a character outside the
 * alphabet or an impossible length; it does not check the unused trailing bits
 * (`decodeBase64Url` in the JWS layer does).
 */
export function base64UrlToBytes(text: string): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let at = 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const a = value(text, i);
    const b = value(text, i + 1);
    const c = value(text, i + 2);
    const d = value(text, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[at++] = n >>> 16;
    out[at++] = (n >>> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  const rest = length - i;
  if (rest >= 2) {
    const a = value(text, i);
    const b = value(text, i + 1);
    const c = rest === 3 ? value(text, i + 2) : 0;
    if ((a | b | c) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[at++] = n >>> 16;
    if (rest === 3) out[at++] = (n >>> 8) & 0xff;
  }
  return out;
}

function value(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? (VALUES[code] as number) : -1;
}

/** Encode bytes as unpadded base64url. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out +=
      ALPHABET.charAt(n >>> 18) +
      ALPHABET.charAt((n >>> 12) & 63) +
      ALPHABET.charAt((n >>> 6) & 63) +
      ALPHABET.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0);
    out += ALPHABET.charAt(n >>> 18) + ALPHABET.charAt((n >>> 12) & 63);
    if (rest === 2) out += ALPHABET.charAt((n >>> 6) & 63);
  }
  return out;
}

/** Decode standard base64 (with or without padding); undefined on any other character. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  const stripped = text.endsWith('==') ? text.slice(0, -2) : text.endsWith('=') ? text.slice(0, -1) : text;
  if (/[^A-Za-z0-9+/]/.test(stripped)) return undefined;
  return base64UrlToBytes(stripped.replace(/\+/g, '-').replace(/\//g, '_'));
}

/** Encode bytes as padded standard base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  const url = bytesToBase64Url(bytes).replace(/-/g, '+').replace(/_/g, '/');
  return url + '='.repeat((4 - (url.length % 4)) % 4);
}

/** The bytes of a latin1 (one byte per UTF-16 unit) string, such as a JWS signing input. */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Decode hex (even length, 0-9a-fA-F); undefined otherwise. */
export function hexToBytes(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Encode bytes as lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** One array holding every part in order. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Cryptographically random bytes from the runtime's Web Crypto. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let at = 0; at < length; at += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  }
  return out;
}
