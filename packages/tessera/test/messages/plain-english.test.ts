/**
 * In the standard profile a refused token's `message` is plain English, one
 * sentence per failure, keyed by its code; the Python profiles keep their
 * peers' texts, as `message` and in their answers (issue 11).
 */
import { importSecret, type TesseraError, TokenManager } from 'tessera-auth';
import { signJws } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const SECRET = 'plain-english-test-secret-0123456789-abcdef';
const NOW = Math.floor(Date.now() / 1000);
const key = importSecret(SECRET, 'HS256').signing!;

function sign(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return signJws({ typ: 'JWT', ...header }, payload, key);
}

const access = (extra: Record<string, unknown> = {}) => ({
  sub: 'alice',
  type: 'access',
  fresh: false,
  iat: NOW,
  nbf: NOW,
  exp: NOW + 300,
  jti: crypto.randomUUID(),
  ...extra,
});

async function refusal(manager: TokenManager, token: string): Promise<TesseraError> {
  try {
    await manager.verifyToken(token);
  } catch (error) {
    return error as TesseraError;
  }
  throw new Error('the token was accepted');
}

// [what, token, code, standard English, Flask-JWT-Extended's text]
const CASES: ReadonlyArray<readonly [string, () => string, string, string, string]> = [
  [
    'a.b.c',
    () => 'a.b.c',
    'token_malformed',
    'The token header is not valid base64url',
    'Invalid header padding',
  ],
  [
    'one segment',
    () => 'garbage',
    'token_malformed',
    'The token must have three parts separated by dots',
    'Not enough segments',
  ],
  [
    'a payload that is not base64url',
    () => `${sign(access()).split('.')[0]}.%%%.abc`,
    'token_malformed',
    'The token payload is not valid base64url',
    'Invalid payload padding',
  ],
  [
    'expired',
    () => sign(access({ exp: NOW - 60, iat: NOW - 600, nbf: NOW - 600 })),
    'token_expired',
    'The token has expired',
    'Token has expired',
  ],
  [
    'a bad signature',
    () => `${sign(access()).slice(0, -4)}AAAA`,
    'signature_invalid',
    "The token's signature does not verify",
    'Signature verification failed',
  ],
  [
    'alg HS512 for an HS256 key',
    () => signJws({ typ: 'JWT' }, access(), importSecret(`${SECRET}${SECRET}`, 'HS512').signing!),
    'algorithm_not_allowed',
    'Algorithm HS512 is not allowed for this key',
    'The specified alg value is not allowed',
  ],
  [
    'nbf in the future',
    () => sign(access({ nbf: NOW + 600 })),
    'token_not_yet_valid',
    'The token is not valid yet (nbf is in the future)',
    'The token is not yet valid (nbf)',
  ],
  [
    'a refresh token at an access route',
    () => sign(access({ type: 'refresh' })),
    'wrong_token_type',
    'A refresh token cannot be used here',
    'Only non-refresh tokens are allowed',
  ],
  [
    'no identity',
    () => sign(access({ sub: undefined })),
    'claim_missing',
    'The token has no sub claim',
    'Missing claim: sub',
  ],
];

describe('standard profile: plain English by code', () => {
  const standard = new TokenManager({ secret: SECRET });
  const flask = new TokenManager({ secret: SECRET, profile: 'flask-jwt-extended' });

  for (const [what, make, code, english, python] of CASES) {
    it(`${what}: ${code}, "${english}"`, async () => {
      const token = make();
      const error = await refusal(standard, token);
      expect([error.code, error.message]).toEqual([code, english]);
      expect(error.pythonMessage).toBe(python);
    });

    it(`${what}: the flask-jwt-extended profile keeps "${python}"`, async () => {
      const error = await refusal(flask, make());
      expect([error.code, error.message]).toEqual([code, python]);
    });
  }

  it('a kid no key has: the message quotes nothing of the token', async () => {
    const keyed = new TokenManager({ secret: SECRET, kid: 'k1' });
    const error = await refusal(keyed, sign(access(), { kid: 'attacker-chosen"text' }));
    expect(error.code).toBe('key_not_found');
    expect(error.message).toBe("No key matches the token's key ID (kid)");
    expect(error.message).not.toContain('attacker');
  });

  it('a typ the manager does not accept', async () => {
    const error = await refusal(standard, sign(access(), { typ: 'dpop+jwt' }));
    expect([error.code, error.message]).toEqual([
      'header_invalid',
      'The token type (typ header) is not accepted',
    ]);
  });
});
