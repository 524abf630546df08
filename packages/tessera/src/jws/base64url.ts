/**
 * Strict base64url (RFC 4648 section 5, no padding).
 *
 * Lenient decoders (Node's among them) silently skip characters outside the
 * alphabet and ignore the unused bits of the last character, so a token with
 * junk in it would decode to the same bytes as the clean one. Every decode here
 * checks the alphabet, the length and those bits first.
 */
import { codec } from '../crypto/select.js';

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** True when `segment` is unpadded base64url with a length a real encoding can have. */
export function isBase64Url(segment: string): boolean {
  // A length of 1 mod 4 cannot come from any byte string.
  return segment.length % 4 !== 1 && ALPHABET.test(segment);
}

/**
 * Are the unused low bits of the last character zero? Base64url of a length not
 * divisible by 4 has some; non-zero ones would let two strings carry one value.
 * `end` is where the segment ends in `text` (its length by default).
 */
export function hasCanonicalTail(text: string, start = 0, end = text.length): boolean {
  const rem = (end - start) % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const code = text.charCodeAt(end - 1);
  const value =
    code >= 97 ? code - 71 : code >= 65 ? code - 65 : code >= 48 ? code + 4 : code === 45 ? 62 : 63;
  return (value & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/** Decode strict base64url; returns undefined on any deviation. */
export function decodeBase64Url(segment: string): Uint8Array | undefined {
  if (!isBase64Url(segment) || !hasCanonicalTail(segment)) return undefined;
  return codec.base64UrlToBytes(segment);
}

/** Encode bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64Url(input: Uint8Array | string): string {
  return typeof input === 'string' ? codec.utf8ToBase64Url(input) : codec.bytesToBase64Url(input);
}
