/**
 * Lifetimes as users write them: seconds, or strings like '15m', '30d', '1h30m'.
 */
import { ConfigError } from '../errors.js';

/** Seconds as a number, or a string of `<n><unit>` parts: s, m, h, d, w. */
export type Duration = number | `${number}${'s' | 'm' | 'h' | 'd' | 'w'}` | (string & {});

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const PART = /(\d+(?:\.\d+)?)\s*([smhdw])/gy;

/** Convert a {@link Duration} to seconds; throws ConfigError naming `what` when it is not one. */
export function toSeconds(value: Duration, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigError(`${what} must be a finite number of seconds`);
    return value;
  }
  if (typeof value !== 'string') throw new ConfigError(`${what} must be seconds or a string like '15m'`);
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    consumed = PART.lastIndex;
    while (text[consumed] === ' ') consumed++;
    PART.lastIndex = consumed;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new ConfigError(`${what} must be seconds or a string like '15m', '12h', '30d' (got '${value}')`);
  }
  return total;
}

/** A lifetime that may be `false`: the token gets no `exp` (Flask-JWT-Extended's `expires_delta=False`). */
export function toLifetime(value: Duration | false, what: string): number | false {
  if (value === false) return false;
  const seconds = toSeconds(value, what);
  if (seconds <= 0) throw new ConfigError(`${what} must be positive`);
  return seconds;
}
