/**
 * Decode a compact JWS without trusting it, and name what is wrong with it in
 * words. Nothing here verifies: see ./verify.ts for the signature.
 */
import { spanWords } from '../time.js';

export interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The bytes the signature covers: `header.payload` as ASCII. */
  signingInput: string;
  signature: Uint8Array;
}

/** A problem found in a token, with a severity for the page. */
export interface Finding {
  level: 'error' | 'warning' | 'ok';
  text: string;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url (no padding, no other alphabet) to bytes, or undefined. */
export function base64urlBytes(text: string): Uint8Array | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  try {
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

function jsonObject(segment: string, what: string): Record<string, unknown> {
  const bytes = base64urlBytes(segment);
  if (bytes === undefined) throw new MalformedToken(`The ${what} is not base64url.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedToken(`The ${what} is not UTF-8 text.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedToken(`The ${what} is not JSON.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedToken(`The ${what} is not a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/** The token cannot be read at all. */
export class MalformedToken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedToken';
  }
}

/** Split and decode; throws {@link MalformedToken} with the reason in words. */
export function decodeToken(input: string): Decoded {
  const token = input.trim().replace(/^Bearer\s+/i, '');
  if (token === '') throw new MalformedToken('Paste a token to inspect it.');
  const parts = token.split('.');
  if (parts.length === 5)
    throw new MalformedToken('Malformed: this is an encrypted token (JWE, five parts), not a signed one.');
  if (parts.length !== 3) {
    throw new MalformedToken(`Malformed: a JWT has three parts separated by dots; this has ${parts.length}.`);
  }
  const [h64, p64, s64] = parts as [string, string, string];
  const header = jsonObject(h64, 'header');
  const payload = jsonObject(p64, 'payload');
  const signature = base64urlBytes(s64);
  if (signature === undefined) throw new MalformedToken('Malformed: the signature is not base64url.');
  return { header, payload, signingInput: `${h64}.${p64}`, signature };
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** What the claims say about time and shape, relative to `now` (seconds). */
export function claimFindings(decoded: Decoded, now: number): Finding[] {
  const out: Finding[] = [];
  const { header, payload } = decoded;
  const alg = header.alg;
  if (typeof alg !== 'string') out.push({ level: 'error', text: 'Malformed: the header has no "alg".' });
  else if (alg.toLowerCase() === 'none') {
    out.push({ level: 'error', text: 'Unsigned: alg is "none"; no verifier should accept it.' });
  }
  if (Array.isArray(header.crit)) {
    out.push({ level: 'warning', text: `Critical header parameters: ${header.crit.join(', ')}.` });
  }
  const { exp, nbf, iat } = payload;
  if (exp === undefined) out.push({ level: 'warning', text: 'No expiry: the token has no "exp" claim.' });
  else if (!isTime(exp)) out.push({ level: 'error', text: 'Malformed: "exp" is not a number.' });
  else if (exp <= now) out.push({ level: 'error', text: `Expired ${spanWords(now - exp)} ago.` });
  if (nbf !== undefined) {
    if (!isTime(nbf)) out.push({ level: 'error', text: 'Malformed: "nbf" is not a number.' });
    else if (nbf > now)
      out.push({ level: 'error', text: `Not yet valid: it becomes valid in ${spanWords(nbf - now)}.` });
  }
  if (iat !== undefined) {
    if (!isTime(iat)) out.push({ level: 'error', text: 'Malformed: "iat" is not a number.' });
    else if (iat > now + 60)
      out.push({ level: 'warning', text: `Issued in the future (${spanWords(iat - now)} from now).` });
  }
  if (payload.sub !== undefined && typeof payload.sub !== 'string') {
    out.push({ level: 'warning', text: '"sub" is not a string (RFC 7519 wants one).' });
  }
  return out;
}
