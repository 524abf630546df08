/**
 * The shipped catalogs are complete: every error code (and every refinement)
 * has a message in each of the six languages, each translation uses exactly the
 * placeholders the English uses, and no translation is the English left as is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ErrorCode, MESSAGE_CATALOGS, MESSAGE_KEYS } from 'tessera-auth';
import { placeholdersOf } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

// Written out here rather than read from the source: a code added to ErrorCode
// without a message fails to compile (src/messages/en.ts), and one removed shows here.
const CODES: readonly ErrorCode[] = [
  'token_malformed',
  'token_too_large',
  'algorithm_not_allowed',
  'key_not_found',
  'signature_invalid',
  'header_invalid',
  'crit_unsupported',
  'token_expired',
  'token_not_yet_valid',
  'claim_invalid',
  'claim_missing',
  'audience_invalid',
  'issuer_invalid',
  'wrong_token_type',
  'fresh_token_required',
  'token_revoked',
  'refresh_token_reused',
  'user_lookup_failed',
  'claims_verification_failed',
  'authorization_missing',
  'authorization_header_invalid',
  'query_param_invalid',
  'csrf_missing',
  'csrf_mismatch',
  'cookie_ambiguous',
  'body_too_large',
  'body_invalid',
  'identity_invalid',
  'store_unavailable',
  'config_invalid',
  'key_invalid',
  'jwks_unavailable',
  'jwks_invalid',
];

describe('message catalogs', () => {
  it('ship exactly en, zh-CN, es, de, fr and ja, frozen', () => {
    expect(Object.keys(MESSAGE_CATALOGS)).toEqual(['en', 'zh-CN', 'es', 'de', 'fr', 'ja']);
    for (const catalog of Object.values(MESSAGE_CATALOGS)) expect(Object.isFrozen(catalog)).toBe(true);
  });

  it('have a key for every error code, and every refinement belongs to a code', () => {
    for (const code of CODES) expect(MESSAGE_KEYS).toContain(code);
    for (const key of MESSAGE_KEYS) expect(CODES).toContain(key.split('.')[0]);
  });

  for (const [locale, catalog] of Object.entries(MESSAGE_CATALOGS)) {
    it(`${locale}: a non-empty message for every key, with the English placeholders`, () => {
      expect(Object.keys(catalog).sort()).toEqual([...MESSAGE_KEYS].sort());
      for (const key of MESSAGE_KEYS) {
        const text = catalog[key];
        expect(typeof text === 'string' && text.trim().length > 0, `${locale} ${key}`).toBe(true);
        expect(placeholdersOf(text), `${locale} ${key}`).toEqual(placeholdersOf(MESSAGE_CATALOGS.en[key]));
        // No stray braces: a typo such as "{claim" would reach a client as is.
        expect(text.replace(/\{\w+\}/g, ''), `${locale} ${key}`).not.toMatch(/[{}]/);
      }
    });

    if (locale !== 'en') {
      it(`${locale}: every message is translated, not the English copied`, () => {
        for (const key of MESSAGE_KEYS) {
          expect(catalog[key], `${locale} ${key}`).not.toBe(MESSAGE_CATALOGS.en[key]);
        }
      });
    }
  }

  it("English says nothing in the Python peers' words that a JavaScript developer would not use", () => {
    const english = Object.values(MESSAGE_CATALOGS.en).join('\n');
    for (const pythonism of ['padding', 'segments', 'json data', 'paramater', 'Expecting value', 'str(']) {
      expect(english).not.toContain(pythonism);
    }
  });

  it('docs/errors.md lists every key with its English message', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../../docs/errors.md'), 'utf8');
    const listed: Record<string, string> = {};
    for (const [, key, text] of doc.matchAll(/^\| `([a-z0-9_.]+)` \| ([^|]+?) \|$/gm)) {
      listed[key!] = text!.replaceAll('&lt;', '<').replaceAll('&gt;', '>');
    }
    expect(listed).toEqual({ ...MESSAGE_CATALOGS.en });
  });
});
