/**
 * Bounded JSON for token segments: UTF-8 checked, object-only, depth-limited.
 */
import { codec } from '../crypto/select.js';

/** Why a segment's JSON was refused; the caller words the message for its segment. */
export type JsonObjectFailure = 'not_utf8' | 'syntax' | 'not_object' | 'too_deep';

/** Parse `bytes` as a JSON object, or say why not. Never throws. */
export function parseJsonObject(
  bytes: Uint8Array,
  maxDepth: number,
): { ok: true; value: Record<string, unknown> } | { ok: false; failure: JsonObjectFailure; detail?: string } {
  const text = codec.utf8Decode(bytes);
  // Decoding replaces each invalid sequence with U+FFFD; a text with one character
  // per byte and no U+FFFD was all ASCII, so the validation pass is only needed
  // for the rest (claims are nearly always ASCII).
  if ((text.length !== bytes.length || text.includes('\uFFFD')) && !codec.isUtf8(bytes)) {
    return { ok: false, failure: 'not_utf8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, failure: 'syntax', detail: describeSyntaxError(text) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, failure: 'not_object' };
  }
  // Only an object or array inside the top-level object can nest: without a second
  // '{' or any '[' in the text (a string containing one only costs the full check),
  // the depth is 1.
  const flat = text.indexOf('{', text.indexOf('{') + 1) === -1 && !text.includes('[');
  if (flat ? maxDepth < 1 : !withinDepth(value, maxDepth)) return { ok: false, failure: 'too_deep' };
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Iterative depth check. Claims are almost always flat, so the common case
 * visits each top-level value once and pushes nothing.
 */
function withinDepth(root: object, maxDepth: number): boolean {
  // Flat objects (nearly every token) need no stack at all.
  let nested = false;
  for (const key in root) {
    const child = (root as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) {
      nested = true;
      break;
    }
  }
  if (!nested) return maxDepth >= 1;
  const stack: Array<[object, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > maxDepth) return false;
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return true;
}

/**
 * Python's json module words the most common failure as below; Flask-JWT-Extended
 * passes it to clients, so the flask profile repeats it where the cause is the same.
 */
function describeSyntaxError(text: string): string {
  const trimmed = text.trimStart();
  const first = trimmed[0];
  const literal = ['null', 'true', 'false', 'NaN', 'Infinity'].some((word) => trimmed.startsWith(word));
  if (first === undefined || (!'{["-0123456789'.includes(first) && !literal)) {
    const column = text.length - text.trimStart().length;
    return `Expecting value: line 1 column ${column + 1} (char ${column})`;
  }
  return 'Invalid JSON';
}
