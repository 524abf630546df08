/**
 * Flask-JWT-Extended reads a token's claims unverified before it checks the
 * signature (its decode-key loader gets them), so a payload that is not a JSON
 * object answers PyJWT's `Invalid payload string: …` whatever the signature
 * (docs/reference/python-peers.md F55/F56). The flask-jwt-extended profile does the same; the other
 * profiles check the signature first and parse nothing an attacker sent unsigned.
 * The texts are also compared with the installed PyJWT when python3 has it.
 */
import { spawnSync } from 'node:child_process';
import { importSecret, type ProfileName, TesseraError, TokenManager } from 'tessera-auth';
import { signJws } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const SECRET = 'flask-payload-test-secret-0123456789-abcdefgh';
const OTHER = 'another-secret-0123456789-abcdefghijklmnopqrs';

const PAYLOADS = [
  { text: 'garbage', message: 'Invalid payload string: Expecting value: line 1 column 1 (char 0)' },
  { text: '<payload/>', message: 'Invalid payload string: Expecting value: line 1 column 1 (char 0)' },
  { text: '[1,2]', message: 'Invalid payload string: must be a json object' },
  { text: '"alice"', message: 'Invalid payload string: must be a json object' },
] as const;

function token(payloadText: string, secret: string): string {
  return signJws({ typ: 'JWT' }, payloadText, importSecret(secret, 'HS256').signing!);
}

async function refusal(profile: ProfileName, raw: string): Promise<TesseraError> {
  const manager = new TokenManager({ secret: SECRET, profile });
  try {
    await manager.verify(raw);
  } catch (error) {
    if (error instanceof TesseraError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('flask-jwt-extended profile: a payload that is not a JSON object (F55, F56)', () => {
  for (const { text, message } of PAYLOADS) {
    it(`${JSON.stringify(text)} signed with another key: PyJWT's text`, async () => {
      const error = await refusal('flask-jwt-extended', token(text, OTHER));
      expect([error.code, error.message]).toEqual(['token_malformed', message]);
    });
    it(`${JSON.stringify(text)} signed with the right key: the same answer`, async () => {
      const error = await refusal('flask-jwt-extended', token(text, SECRET));
      expect([error.code, error.message]).toEqual(['token_malformed', message]);
    });
  }
});

describe('standard and simplejwt profiles: the signature is checked before the payload is read', () => {
  for (const profile of ['standard', 'simplejwt'] as const) {
    it(`${profile}: a bad signature wins over a payload that is not JSON`, async () => {
      const error = await refusal(profile, token('garbage', OTHER));
      expect(error.code).toBe('signature_invalid');
    });
    it(`${profile}: a valid signature over a payload that is not JSON is token_malformed`, async () => {
      const error = await refusal(profile, token('[1,2]', SECRET));
      // The standard profile words it plainly; SimpleJWT's message is PyJWT's.
      expect([error.code, error.message, error.pythonMessage]).toEqual([
        'token_malformed',
        profile === 'standard'
          ? 'The token payload is not a valid JSON object'
          : 'Invalid payload string: must be a json object',
        'Invalid payload string: must be a json object',
      ]);
    });
  }
});

// PyJWT itself, as Flask-JWT-Extended calls it first: decode without verifying the signature.
const PYJWT = `
import sys, jwt
for line in sys.stdin.read().split():
    try:
        jwt.decode(line, algorithms=["HS256"], options={"verify_signature": False})
        print("accepted")
    except Exception as e:
        print(str(e))
`;

function pyjwtAvailable(): boolean {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import jwt'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  const reason = probe.error?.message ?? probe.stderr.trim();
  if (process.env.CI) {
    describe('PyJWT', () => {
      it('is installed for python3 (required under CI)', () => {
        throw new Error(`python3 cannot import jwt: ${reason}`);
      });
    });
  } else {
    console.warn(`[profiles] skipping the PyJWT comparison: ${reason}; set CI=1 to fail instead`);
  }
  return false;
}

describe.runIf(pyjwtAvailable())('the texts equal what the installed PyJWT says', () => {
  it('for every payload, signed with another key', async () => {
    const tokens = PAYLOADS.map(({ text }) => token(text, OTHER));
    const run = spawnSync('/usr/bin/python3', ['-c', PYJWT], { input: tokens.join('\n'), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const theirs = run.stdout.trim().split('\n');
    const ours = await Promise.all(tokens.map(async (t) => (await refusal('flask-jwt-extended', t)).message));
    expect(ours).toEqual(theirs);
  });
});
