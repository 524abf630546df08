/**
 * Lifetimes as users write them: seconds or '<n><unit>' strings. Every refusal is a
 * ConfigError naming the option, at configuration time.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { type Duration, toLifetime, toSeconds } from '../../src/tokens/duration.js';

function refusal(action: () => unknown): ConfigError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('toSeconds', () => {
  it('takes numbers as seconds, fractions and zero included', () => {
    expect(toSeconds(0, 'x')).toBe(0);
    expect(toSeconds(60, 'x')).toBe(60);
    expect(toSeconds(1.5, 'x')).toBe(1.5);
    expect(toSeconds(-5, 'x')).toBe(-5);
  });

  it('refuses non-finite numbers, naming the option', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(refusal(() => toSeconds(value, 'leeway')).message).toBe(
        'leeway must be a finite number of seconds',
      );
    }
  });

  it('reads every unit, combinations, spaces and decimals', () => {
    const cases: Array<[string, number]> = [
      ['45s', 45],
      ['15m', 900],
      ['12h', 43_200],
      ['30d', 2_592_000],
      ['2w', 1_209_600],
      ['1h30m', 5400],
      ['1h 30m', 5400],
      ['1d2h3m4s', 86_400 + 7200 + 180 + 4],
      ['1 h', 3600],
      ['  15m  ', 900],
      ['1.5h', 5400],
      ['0.5m', 30],
      ['0s', 0],
      ['90', 90],
      ['2.5', 2.5],
      ['-5', -5],
      ['15m15m', 1800],
    ];
    for (const [text, seconds] of cases) expect(toSeconds(text, 'x'), text).toBe(seconds);
  });

  it("refuses anything else with the option's name and the value in the message", () => {
    const bad = [
      '15x',
      '',
      '   ',
      'm',
      '15M',
      '15 minutes',
      '1e3',
      '0x10',
      '15m30',
      '-5m',
      'h1',
      '1hh',
      '1h,30m',
      '1h-30m',
      'Infinity',
      'NaN',
      '1.5.5h',
      '.5h',
    ];
    for (const text of bad) {
      const error = refusal(() => toSeconds(text, 'accessTokenExpires'));
      expect(error.message, text).toBe(
        `accessTokenExpires must be seconds or a string like '15m', '12h', '30d' (got '${text}')`,
      );
      expect(error.code).toBe('config_invalid');
    }
  });

  it('refuses values that are neither numbers nor strings', () => {
    for (const value of [undefined, null, true, {}, [15], 15n]) {
      const error = refusal(() => toSeconds(value as unknown as Duration, 'refreshTokenExpires'));
      expect(error.message).toBe("refreshTokenExpires must be seconds or a string like '15m'");
    }
  });

  it('keeps no state between calls (a failed parse does not affect the next one)', () => {
    expect(toSeconds('1h30m', 'x')).toBe(5400);
    refusal(() => toSeconds('1h30x', 'x'));
    expect(toSeconds('2m', 'x')).toBe(120);
    refusal(() => toSeconds('5mx', 'x'));
    expect(toSeconds('5m', 'x')).toBe(300);
  });
});

describe('toLifetime', () => {
  it('false means no exp; otherwise a positive number of seconds', () => {
    expect(toLifetime(false, 'accessTokenExpires')).toBe(false);
    expect(toLifetime('15m', 'accessTokenExpires')).toBe(900);
    expect(toLifetime(1, 'accessTokenExpires')).toBe(1);
    expect(toLifetime(0.5, 'accessTokenExpires')).toBe(0.5);
  });

  it('refuses zero and negative lifetimes', () => {
    for (const value of [0, -1, '0s', '0m', '-60']) {
      expect(refusal(() => toLifetime(value, 'refreshTokenExpires')).message).toBe(
        'refreshTokenExpires must be positive',
      );
    }
    expect(refusal(() => toLifetime('15x', 'refreshTokenExpires')).message).toContain("(got '15x')");
  });
});
