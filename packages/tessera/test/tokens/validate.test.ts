/**
 * validateClaims on its own: PyJWT's order of checks (iat, nbf, exp, iss, aud,
 * then exp presence, jti, identity), its boundaries, and its wording
 * (docs/reference/python-peers.md section 8).
 */
import { describe, expect, it } from 'vitest';
import { type ErrorCode, TesseraError } from '../../src/errors.js';
import type { JwsHeader } from '../../src/jws/header.js';
import { PROFILES, type ProfileName } from '../../src/tokens/profile.js';
import { type ClaimRules, validateClaims } from '../../src/tokens/validate.js';

const NOW = 1_800_000_000;
const HEADER: JwsHeader = Object.freeze({ alg: 'HS256', typ: 'JWT' });

function rules(overrides: Partial<ClaimRules> & { profileName?: ProfileName } = {}): ClaimRules {
  const { profileName = 'standard', ...rest } = overrides;
  const profile = PROFILES[profileName];
  return {
    profile,
    leeway: 0,
    requireExp: profile.requireExp,
    issuer: undefined,
    audience: undefined,
    ...rest,
  };
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iat: NOW, nbf: NOW, exp: NOW + 60, sub: 'alice', jti: 'id-1', ...extra };
}

function failure(
  payload: Record<string, unknown>,
  r: ClaimRules = rules(),
  now = NOW,
  allowExpired = false,
): TesseraError {
  let thrown: unknown;
  try {
    validateClaims(HEADER, payload, r, now, allowExpired);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, JSON.stringify(payload)).toBeInstanceOf(TesseraError);
  return thrown as TesseraError;
}

function expectFailure(
  payload: Record<string, unknown>,
  code: ErrorCode,
  message: string,
  r: ClaimRules = rules(),
  now = NOW,
): TesseraError {
  const error = failure(payload, r, now);
  expect(error.code).toBe(code);
  // The engine's PyJWT wording; `message` is the catalog's English (test/messages).
  expect(error.pythonMessage).toBe(message);
  return error;
}

describe('time claims: boundaries', () => {
  it('exp == now is expired; exp == now + 1 is valid (PyJWT: expired when exp <= now - leeway)', () => {
    expect(() => validateClaims(HEADER, claims({ exp: NOW + 1 }), rules(), NOW)).not.toThrow();
    expectFailure(claims({ exp: NOW }), 'token_expired', 'Token has expired');
    expectFailure(claims({ exp: NOW - 1 }), 'token_expired', 'Token has expired');
  });

  it('leeway extends exp: expired exactly at now >= exp + leeway', () => {
    const r = rules({ leeway: 30 });
    expect(() => validateClaims(HEADER, claims({ exp: NOW - 29 }), r, NOW)).not.toThrow();
    expectFailure(claims({ exp: NOW - 30 }), 'token_expired', 'Token has expired', r);
  });

  it('nbf == now and iat == now are valid; one second later in the token is not', () => {
    expect(() => validateClaims(HEADER, claims({ nbf: NOW, iat: NOW }), rules(), NOW)).not.toThrow();
    expectFailure(claims({ nbf: NOW + 1 }), 'token_not_yet_valid', 'The token is not yet valid (nbf)');
    expectFailure(claims({ iat: NOW + 1 }), 'token_not_yet_valid', 'The token is not yet valid (iat)');
  });

  it('leeway applies to nbf and iat: accepted up to now + leeway', () => {
    const r = rules({ leeway: 10 });
    expect(() => validateClaims(HEADER, claims({ nbf: NOW + 10, iat: NOW + 10 }), r, NOW)).not.toThrow();
    expectFailure(claims({ nbf: NOW + 11 }), 'token_not_yet_valid', 'The token is not yet valid (nbf)', r);
    expectFailure(claims({ iat: NOW + 11 }), 'token_not_yet_valid', 'The token is not yet valid (iat)', r);
  });

  it('allowExpired skips only the expiry check', () => {
    expect(() => validateClaims(HEADER, claims({ exp: NOW - 1000 }), rules(), NOW, true)).not.toThrow();
    const r = rules({ issuer: ['good'] });
    const error = failure(claims({ exp: NOW - 1000, iss: 'bad' }), r, NOW, true);
    expect(error.code).toBe('issuer_invalid');
    expect(failure(claims({ exp: NOW - 1000, nbf: NOW + 5 }), rules(), NOW, true).code).toBe(
      'token_not_yet_valid',
    );
    expect(failure(claims({ exp: 'soon' }), rules(), NOW, true).code).toBe('claim_invalid');
  });
});

describe('time claims: types and PyJWT wording', () => {
  const names = { iat: 'Issued At', nbf: 'Not Before', exp: 'Expiration Time' } as const;

  it('integer profiles: "<Name> claim (<claim>) must be an integer."', () => {
    for (const profileName of ['flask-jwt-extended', 'simplejwt'] as const) {
      const r = rules({ profileName });
      for (const claim of ['iat', 'nbf', 'exp'] as const) {
        for (const bad of [null, [NOW], {}, 'soon', '']) {
          expectFailure(
            claims({ user_id: 1, [claim]: bad }),
            'claim_invalid',
            `${names[claim]} claim (${claim}) must be an integer.`,
            r,
          );
        }
      }
    }
  });

  it('integer profiles read times with Python int(), as PyJWT 2.6 does', () => {
    for (const profileName of ['flask-jwt-extended', 'simplejwt'] as const) {
      const r = rules({ profileName });
      // Fractions pass (nbf/exp truncated), booleans are 0/1, integer strings pass for nbf/exp.
      expect(() => validateClaims(HEADER, claims({ user_id: 1, exp: NOW + 60.5 }), r, NOW)).not.toThrow();
      expect(() => validateClaims(HEADER, claims({ user_id: 1, nbf: String(NOW) }), r, NOW)).not.toThrow();
      expect(() => validateClaims(HEADER, claims({ user_id: 1, iat: true }), r, NOW)).not.toThrow();
      // exp truncated to NOW is expired at NOW, exactly as int() then <= makes it.
      expectFailure(claims({ user_id: 1, exp: NOW + 0.9 }), 'token_expired', 'Token has expired', r);
      // An iat string would crash PyJWT's comparison (a 500); Tessera refuses it with the type message.
      expectFailure(
        claims({ user_id: 1, iat: String(NOW) }),
        'claim_invalid',
        'Issued At claim (iat) must be an integer.',
        r,
      );
    }
  });

  it('standard profile: any finite number, "<Name> claim (<claim>) must be a number."', () => {
    for (const claim of ['iat', 'nbf', 'exp'] as const) {
      for (const bad of [String(NOW), true, null, {}, [NOW]]) {
        expectFailure(
          claims({ [claim]: bad }),
          'claim_invalid',
          `${names[claim]} claim (${claim}) must be a number.`,
        );
      }
    }
    expect(() =>
      validateClaims(HEADER, claims({ iat: NOW - 0.25, nbf: NOW - 0.25, exp: NOW + 0.25 }), rules(), NOW),
    ).not.toThrow();
  });
});

describe('order of checks (PyJWT: iat, nbf, exp, iss, aud)', () => {
  const strict = rules({ issuer: ['iss-ok'], audience: ['aud-ok'] });

  it('iat before nbf before exp', () => {
    expect(failure(claims({ iat: NOW + 5, nbf: NOW + 5, exp: NOW - 5 })).pythonMessage).toBe(
      'The token is not yet valid (iat)',
    );
    expect(failure(claims({ nbf: NOW + 5, exp: NOW - 5 })).pythonMessage).toBe(
      'The token is not yet valid (nbf)',
    );
    expect(failure(claims({ iat: 'x', exp: NOW - 5 })).pythonMessage).toBe(
      'Issued At claim (iat) must be a number.',
    );
  });

  it('exp before iss before aud', () => {
    expect(failure(claims({ exp: NOW - 5, iss: 'bad', aud: 'bad' }), strict).code).toBe('token_expired');
    expect(failure(claims({ iss: 'bad', aud: 'bad' }), strict).code).toBe('issuer_invalid');
    expect(failure(claims({ iss: 'iss-ok', aud: 'bad' }), strict).code).toBe('audience_invalid');
  });

  it('aud before the exp-presence, jti and identity checks', () => {
    const r = rules({ audience: ['aud-ok'], profileName: 'simplejwt' });
    const error = failure({ user_id: 1, aud: 'bad' }, r);
    expect(error.code).toBe('audience_invalid');
    expect(failure({ user_id: 1 }, rules({ profileName: 'simplejwt' })).pythonMessage).toBe(
      "Token has no 'exp' claim",
    );
    expect(failure({ user_id: 1, exp: NOW + 5 }, rules({ profileName: 'simplejwt' })).pythonMessage).toBe(
      'Token has no id',
    );
  });
});

describe('iss and aud wording', () => {
  it('iss: missing / invalid', () => {
    const r = rules({ issuer: ['https://a.example', 'https://b.example'] });
    expectFailure(claims(), 'claim_missing', 'Token is missing the "iss" claim', r);
    expectFailure(claims({ iss: 'https://c.example' }), 'issuer_invalid', 'Invalid issuer', r);
    expectFailure(claims({ iss: ['https://a.example'] }), 'issuer_invalid', 'Invalid issuer', r);
    expect(() => validateClaims(HEADER, claims({ iss: 'https://b.example' }), r, NOW)).not.toThrow();
  });

  it('aud: missing / wrong format / no overlap; string or array accepted', () => {
    const r = rules({ audience: ['api'] });
    expectFailure(claims(), 'claim_missing', 'Token is missing the "aud" claim', r);
    for (const aud of [1, {}, ['api', 2], null, true]) {
      expectFailure(claims({ aud }), 'audience_invalid', 'Invalid claim format in token', r);
    }
    for (const aud of ['web', ['web'], []])
      expectFailure(claims({ aud }), 'audience_invalid', 'Invalid audience', r);
    for (const aud of ['api', ['web', 'api']])
      expect(() => validateClaims(HEADER, claims({ aud }), r, NOW)).not.toThrow();
  });

  it('unconfigured iss and aud are not checked', () => {
    expect(() => validateClaims(HEADER, claims({ iss: 7, aud: { x: 1 } }), rules(), NOW)).not.toThrow();
  });
});

describe('presence and types of the other claims', () => {
  it("exp presence: required by the profile or the rules, with each profile's wording", () => {
    const noExp = claims();
    delete noExp.exp;
    expectFailure(noExp, 'claim_missing', 'Token is missing the "exp" claim');
    expect(() => validateClaims(HEADER, noExp, rules({ requireExp: false }), NOW)).not.toThrow();
    expect(() =>
      validateClaims(HEADER, noExp, rules({ profileName: 'flask-jwt-extended' }), NOW),
    ).not.toThrow();
    expectFailure(
      { ...noExp, user_id: 1 },
      'claim_missing',
      "Token has no 'exp' claim",
      rules({ profileName: 'simplejwt' }),
    );
  });

  it('standard profile: sub and jti are strings; sub is required', () => {
    expectFailure(claims({ sub: 1 }), 'claim_invalid', 'Subject (sub) must be a string');
    expectFailure(claims({ jti: 1 }), 'claim_invalid', 'JWT ID (jti) must be a string');
    const noSub = claims();
    delete noSub.sub;
    const error = expectFailure(noSub, 'claim_missing', 'Missing claim: sub');
    expect((error as TesseraError & { claim?: string }).claim).toBe('sub');
  });

  it('flask profile: any JSON identity, still required; simplejwt leaves identity to the manager', () => {
    const flask = rules({ profileName: 'flask-jwt-extended' });
    expect(() => validateClaims(HEADER, claims({ sub: { id: 1 }, jti: 5 }), flask, NOW)).not.toThrow();
    const noSub = claims();
    delete noSub.sub;
    expectFailure(noSub, 'claim_missing', 'Missing claim: sub', flask);
    const simple = rules({ profileName: 'simplejwt' });
    expect(() => validateClaims(HEADER, { exp: NOW + 5, jti: 'x' }, simple, NOW)).not.toThrow();
  });

  it('a custom identity claim is required under its own name', () => {
    const r = rules();
    const custom = { ...r, profile: { ...r.profile, identityClaim: 'uid' } };
    expectFailure(claims(), 'claim_missing', 'Missing claim: uid', custom);
    expect(() => validateClaims(HEADER, claims({ uid: 'u' }), custom, NOW)).not.toThrow();
  });

  it('every failure carries the header and the payload', () => {
    const payload = claims({ exp: NOW - 1 });
    const error = failure(payload);
    expect(error.jwtHeader).toBe(HEADER);
    expect(error.jwtPayload).toBe(payload);
    expect(error.status).toBe(401);
  });
});
