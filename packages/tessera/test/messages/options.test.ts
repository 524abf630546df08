/**
 * The `messages` option is validated when the manager is built: unknown keys,
 * codes, language tags and placeholders are refused with a ConfigError that
 * says what is wrong; the Python profiles refuse it (their texts are pinned).
 */
import { ConfigError, TokenManager, type TokenManagerOptions } from 'tessera-auth';
import { resolveMessages } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const SECRET = 'messages-options-secret-0123456789-abcdefgh';

function refused(messages: unknown, profile?: TokenManagerOptions['profile']): ConfigError {
  try {
    new TokenManager({ secret: SECRET, profile, messages } as TokenManagerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the options were accepted');
}

describe('messages option', () => {
  it('refuses a locale without a catalog, naming the ones there are', () => {
    expect(refused({ locale: 'pt-BR' }).message).toBe(
      "messages.locale 'pt-BR' has no catalog: use one of en, zh-CN, es, de, fr, ja, 'accept-language', or add it in messages.catalogs",
    );
  });

  it('accepts a shipped locale in any case, and one added in catalogs', () => {
    expect(resolveMessages({ locale: 'ZH-cn' }).locale).toBe('zh-CN');
    const added = resolveMessages({
      locale: 'pt-BR',
      catalogs: { 'pt-BR': { token_expired: 'O token expirou' } },
    });
    expect(added.text('token_expired', undefined)).toBe('O token expirou');
    // A partial catalog reads English for the keys it lacks.
    expect(added.text('token_revoked', undefined)).toBe('The token has been revoked');
    expect(added.text('claim_missing', { claim: 'sub' })).toBe('The token has no sub claim');
  });

  it('refuses an unknown code, in catalogs and in overrides', () => {
    expect(refused({ overrides: { token_expird: 'x' } }).message).toBe(
      "messages.overrides: 'token_expird' is not an error code or message key (see docs/errors.md for the list)",
    );
    expect(refused({ catalogs: { de: { nope: 'x' } } }).message).toContain("'nope' is not an error code");
  });

  it('refuses a language tag that is not one', () => {
    expect(refused({ catalogs: { 'not a tag': {} } }).message).toBe(
      "messages.catalogs: 'not a tag' is not a language tag (such as 'pt-BR')",
    );
  });

  it('refuses a placeholder the English message does not have, and empty or non-string texts', () => {
    expect(refused({ overrides: { claim_missing: 'Missing {claimName}' } }).message).toBe(
      'messages.overrides.claim_missing uses {claimName}: its placeholders are {claim}',
    );
    expect(refused({ overrides: { token_expired: 'Expired at {exp}' } }).message).toContain(
      'its placeholders are none',
    );
    expect(refused({ overrides: { token_expired: '' } }).message).toBe(
      'messages.overrides.token_expired must be a non-empty string',
    );
    expect(refused({ overrides: { token_expired: 5 } }).message).toContain('must be a non-empty string');
  });

  it('refuses unknown option keys, naming the closest', () => {
    expect(refused({ local: 'de' }).message).toMatch(/local.*locale/);
  });

  it('is refused by the Python profiles', () => {
    for (const profile of ['flask-jwt-extended', 'simplejwt'] as const) {
      expect(refused({ locale: 'de' }, profile).message).toBe(
        `messages: the '${profile}' profile answers with its Python peer's texts; messages apply to the standard profile`,
      );
    }
  });

  it('a catalog entry for a shipped language lays over it, key by key', () => {
    const de = resolveMessages({ locale: 'de', catalogs: { de: { token_expired: 'Abgelaufen' } } });
    expect(de.text('token_expired', undefined)).toBe('Abgelaufen');
    expect(de.text('token_revoked', undefined)).toBe('Das Token wurde widerrufen');
  });
});
