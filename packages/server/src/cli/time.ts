/** Times in human terms: "in 14 minutes", "3 minutes ago", and UTC dates. */

const UNITS: readonly [number, string][] = [
  [365 * 86_400, 'year'],
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** A span of seconds in words, rounded to its largest sensible unit: "14 minutes", "2 days". */
export function span(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  // Below two of a unit, the next smaller one reads better (90 minutes, not 1 hour).
  for (const [size, name] of UNITS) {
    if (s >= size * 2 || size === 1) {
      // Rounded, not floored: a token made with --expires 15m "expires in 15 minutes".
      const n = Math.round(s / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${s} seconds`;
}

/** "in 14 minutes" or "3 minutes ago" for `at` (seconds) relative to `now` (seconds). */
export function relative(at: number, now: number): string {
  const delta = at - now;
  if (delta === 0) return 'now';
  return delta > 0 ? `in ${span(delta)}` : `${span(delta)} ago`;
}

/** ISO date in UTC, to the second: 2026-12-07 03:10:00 UTC. */
export function utc(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Current time in whole seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
