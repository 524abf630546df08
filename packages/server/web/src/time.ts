/** Durations and dates in words: "3 minutes ago", "in 2 hours". */

const UNITS: [number, string][] = [
  [86_400 * 365, 'year'],
  [86_400 * 30, 'month'],
  [86_400, 'day'],
  [3_600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** A positive number of seconds as words, the largest unit only ("3 minutes"). */
export function spanWords(seconds: number): string {
  const abs = Math.max(0, Math.round(Math.abs(seconds)));
  for (const [size, name] of UNITS) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return '0 seconds';
}

/** Relative to now: "3 minutes ago" or "in 5 minutes". */
export function relative(epochSeconds: number, now = Date.now() / 1000): string {
  const delta = epochSeconds - now;
  if (Math.abs(delta) < 1) return 'now';
  return delta < 0 ? `${spanWords(delta)} ago` : `in ${spanWords(delta)}`;
}

/** A live countdown "14:32" (or "2 d 03:04:05" when longer). */
export function countdown(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const d = Math.floor(total / 86_400);
  const hh = Math.floor((total % 86_400) / 3_600);
  const mm = Math.floor((total % 3_600) / 60);
  const ss = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = hh > 0 || d > 0 ? `${two(hh)}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
  return d > 0 ? `${d} d ${clock}` : clock;
}

/** A date and time in the reader's locale, for tables. */
export function when(epochSeconds: number | null | undefined): string {
  if (epochSeconds === null || epochSeconds === undefined) return '—';
  return new Date(epochSeconds * 1000).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}
