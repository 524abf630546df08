/**
 * Strict base64url (RFC 4648 section 5, no padding).
 *
 * Node's decoder silently skips characters outside the alphabet, so a token with
 * junk in it would decode to the same bytes as the clean one. Every decode here
 * checks the alphabet and the length first.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** True when `segment` is unpadded base64url with a length a real encoding can have. */
export function isBase64Url(segment: string): boolean {
  // A length of 1 mod 4 cannot come from any byte string.
  return segment.length % 4 !== 1 && ALPHABET.test(segment);
}

/** Decode strict base64url; returns undefined on any deviation. */
export function decodeBase64Url(segment: string): Buffer | undefined {
  if (!isBase64Url(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  // Non-canonical trailing bits (e.g. "AB" vs "AA" for one byte) would let two
  // strings carry one value; re-encoding must give the input back.
  if (segment.length % 4 !== 0 && bytes.toString('base64url') !== segment) return undefined;
  return bytes;
}

/** Encode bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64Url(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url');
}
