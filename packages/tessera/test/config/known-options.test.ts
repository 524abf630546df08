import { ConfigError } from 'tessera-auth';
import { describe, expect, it } from 'vitest';
import { closestName, refuseUnknownOptions } from '../../src/known-options.js';

describe('refuseUnknownOptions', () => {
  const known = ['accessExpiresIn', 'refreshExpiresIn', 'tokenInBlocklist', 'cookies'] as const;

  it('accepts known keys, undefined and null', () => {
    expect(() =>
      refuseUnknownOptions({ accessExpiresIn: '15m', cookies: {} }, known, 'options'),
    ).not.toThrow();
    expect(() => refuseUnknownOptions(undefined, known, 'options')).not.toThrow();
    expect(() => refuseUnknownOptions(null, known, 'options')).not.toThrow();
  });

  it('names the unknown key and suggests the closest known one', () => {
    expect(() => refuseUnknownOptions({ accessExpires: '15m' }, known, 'TokenManager options')).toThrow(
      /Unknown option 'accessExpires' in TokenManager options; did you mean 'accessExpiresIn'\?/,
    );
    expect(() => refuseUnknownOptions({ tokenInBlockList: () => false }, known, 'options')).toThrow(
      /did you mean 'tokenInBlocklist'/,
    );
  });

  it('throws a ConfigError with code config_invalid', () => {
    try {
      refuseUnknownOptions({ zzz: 1 }, known, 'options');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('config_invalid');
      expect((error as ConfigError).message).not.toContain('did you mean');
    }
  });

  it('refuses a non-object', () => {
    expect(() => refuseUnknownOptions('x', known, 'options')).toThrow(/options must be an object/);
    expect(() => refuseUnknownOptions([], known, 'options')).toThrow(ConfigError);
  });
});

describe('closestName', () => {
  it('finds near names and gives up on far ones', () => {
    expect(closestName('secrt', ['secret', 'issuer'])).toBe('secret');
    expect(closestName('SECRET', ['secret'])).toBe('secret');
    expect(closestName('completelyDifferent', ['secret', 'issuer'])).toBeUndefined();
  });
});
