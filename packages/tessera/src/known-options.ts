/**
 * Refusal of unknown option keys. A misspelt option (`accessExpires` for
 * `accessExpiresIn`, `tokenInBlocklist` one level too high) would otherwise be
 * accepted and ignored, and the behaviour the application asked for would
 * silently not happen. Every options object Tessera takes goes through
 * {@link refuseUnknownOptions}: configuration once, and the options of per-call
 * methods (`decodeToken`, `createAccessToken`, ...) on every call, so the check
 * allocates nothing.
 *
 * @module
 */
import { ConfigError } from './errors.js';

/**
 * Throws a {@link ConfigError} naming the first own key of `options` that is not
 * in `known`, with the closest known key as a suggestion when one is near.
 *
 * @param options - the object the application passed (undefined and null are accepted: no keys)
 * @param known - every key this options object accepts
 * @param where - how the message names the object, e.g. `TokenManager options` or `cookies`
 */
export function refuseUnknownOptions(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(`${where} must be an object`);
  }
  // for-in with an own-key test visits Object.keys' names without making their array:
  // per-call options (nearly always the shared empty default) are checked on every call.
  for (const key in options) {
    if (!Object.hasOwn(options, key) || known.includes(key)) continue;
    const suggestion = closestName(key, known);
    throw new ConfigError(
      `Unknown option '${key}' in ${where}${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`}` +
        ` Known options: ${known.join(', ')}.`,
    );
  }
}

/**
 * The candidate nearest to `name` (case-insensitive edit distance, a prefix or
 * containment counting as near), or undefined when none is close enough to be
 * a likely typo: at most a third of the longer name's length.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    let score = editDistance(lower, other);
    // `accessExpires` for `accessExpiresIn`: one name inside the other is a likely slip.
    if (other.startsWith(lower) || lower.startsWith(other)) score = Math.min(score, 1);
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.ceil(Math.max(name.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

// Levenshtein distance with one rolling row: option names are short.
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
