/**
 * Non-canonical base64url: in a segment whose length is not a multiple of 4 the
 * last character has unused low bits. Two texts that differ only there decode to
 * the same bytes; only the one with zero bits is base64url (RFC 4648 section 3.5).
 * Refused in every segment of a token, every JWK member and every thumbprint.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { importJwk, type Jwk, KeyImportError, MalformedTokenError, thumbprint } from 'tessera-auth';
import { decodeBase64Url, decodeJws, decodeJwsPayload } from 'tessera-auth/core';
import { describe, expect, it } from 'vitest';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

/** The same bytes with a non-zero unused bit in the last character. */
function twin(segment: string): string {
  expect(segment.length % 4).not.toBe(0);
  const value = ALPHABET.indexOf(segment.at(-1) ?? 'A');
  const result = `${segment.slice(0, -1)}${ALPHABET[value | 1]}`;
  expect(result).not.toBe(segment);
  expect(Buffer.from(result, 'base64url')).toEqual(Buffer.from(segment, 'base64url'));
  return result;
}

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!!';
function signHs256(header: string, payload: string): string {
  return `${header}.${payload}.${createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url')}`;
}

describe('non-canonical base64url', () => {
  it('is refused in the payload segment, even when the signer signed that exact text', () => {
    const header = b64('{"alg":"HS256"}');
    let payload = b64('{"sub":"alice"}');
    if (payload.length % 4 === 0) payload = b64('{"sub":"alice1"}');
    const token = signHs256(header, twin(payload));
    expect(() => decodeJwsPayload(decodeJws(token))).toThrow(MalformedTokenError);
    expect(() => decodeJws(token)).toThrow('The token payload is not valid base64url');
    // The canonical twin is fine.
    expect(decodeJwsPayload(decodeJws(signHs256(header, payload)))).toEqual(expect.objectContaining({}));
  });

  it('is refused in the header segment', () => {
    let header = b64('{"alg":"HS256"}');
    if (header.length % 4 === 0) header = b64('{"alg":"HS256" }');
    const payload = b64('{"sub":"alice"}');
    expect(() => decodeJws(signHs256(twin(header), payload))).toThrow(
      'The token header is not valid base64url',
    );
  });

  it('is refused by decodeBase64Url', () => {
    expect(Array.from(decodeBase64Url('QQ') ?? [])).toEqual([0x41]);
    expect(decodeBase64Url('QR')).toBeUndefined();
    expect(Array.from(decodeBase64Url('QUI') ?? [])).toEqual([0x41, 0x42]);
    expect(decodeBase64Url('QUJ')).toBeUndefined();
  });

  it('is refused in every key member of a JWK', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'jwk',
    }) as Record<string, string>;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    }) as Record<string, string>;
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, string>;
    const cases: Array<[Record<string, string>, string[], string]> = [
      [ec, ['x', 'y', 'd'], 'ES256'],
      [rsa, ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'], 'RS256'],
      [ed, ['x', 'd'], 'EdDSA'],
    ];
    for (const [jwk, members, alg] of cases) {
      expect(importJwk({ ...jwk, alg } as Jwk).alg).toBe(alg);
      for (const name of members) {
        const value = jwk[name] as string;
        if (value.length % 4 === 0) continue;
        expect(() => importJwk({ ...jwk, alg, [name]: twin(value) } as unknown as Jwk), name).toThrow(
          KeyImportError,
        );
      }
    }
    const k = b64('0123456789abcdef0123456789abcdef!?');
    expect(importJwk({ kty: 'oct', k, alg: 'HS256' }).alg).toBe('HS256');
    expect(() => importJwk({ kty: 'oct', k: twin(k), alg: 'HS256' })).toThrow(KeyImportError);
  });

  it('is refused in a thumbprint: one key has one thumbprint', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Jwk;
    expect(thumbprint(jwk)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const x = jwk.x as string;
    expect(() => thumbprint({ ...jwk, x: twin(x) })).toThrow(KeyImportError);
    expect(() => thumbprint({ ...jwk, x: `${x}=` })).toThrow(KeyImportError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      format: 'jwk',
    }) as Jwk;
    expect(() => thumbprint({ ...rsa, n: twin(rsa.n as string) })).toThrow(KeyImportError);
  });
});

describe('a token whose header the decoder saw just before', () => {
  // decodeJws scans only what follows a header it decoded for the previous token:
  // every malformation after that header must be refused exactly as when the header is new.
  const header = b64('{"alg":"HS256","typ":"JWT"}');
  const other = b64('{"alg":"HS256","typ":"at+jwt"}');
  // 22 bytes: a 30-character segment, so its last character has unused bits.
  const payload = b64('{"sub":"alice","n":12}');
  const valid = signHs256(header, payload);
  const [, , signature] = valid.split('.') as [string, string, string];
  const mutants: Record<string, string> = {
    'payload with a space': `${header}.${payload.slice(0, 4)} ${payload.slice(4)}.${signature}`,
    'payload with "!"': `${header}.${payload.slice(0, 4)}!${payload.slice(5)}.${signature}`,
    'payload with "+"': `${header}.${payload.slice(0, 4)}+${payload.slice(5)}.${signature}`,
    'payload with "/"': `${header}.${payload.slice(0, 4)}/${payload.slice(5)}.${signature}`,
    'payload with "="': `${header}.${payload}=.${signature}`,
    // Latin-1 signing input would read U+0141 as "A": refused before any signature check.
    'payload with U+0141': `${header}.${payload.slice(0, 4)}\u0141${payload.slice(5)}.${signature}`,
    'empty payload': `${header}..${signature}`,
    'signature with "*"': `${header}.${payload}.${signature.slice(0, -1)}*`,
    'signature with a trailing newline': `${valid}\n`,
    'missing signature': `${header}.${payload}.`,
    'no signature segment': `${header}.${payload}`,
    'four segments': `${valid}.${signature}`,
    'five segments': `${valid}.${signature}.${signature}`,
    'header alone': `${header}.`,
    'non-canonical payload tail': `${header}.${twin(payload)}.${signature}`,
  };

  function refusal(token: string): { code: string; message: string } {
    try {
      decodeJws(token);
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedTokenError);
      const { code, message } = error as MalformedTokenError;
      return { code, message };
    }
    throw new Error(`accepted: ${JSON.stringify(token)}`);
  }

  for (const [name, token] of Object.entries(mutants)) {
    it(`refuses a token with ${name} as it would with a header it had not seen`, () => {
      decodeJws(signHs256(other, payload));
      const fresh = refusal(token);
      decodeJws(valid);
      expect(refusal(token)).toEqual(fresh);
    });
  }

  it('still accepts the next valid token under that header, with its own segments', () => {
    const second = b64('{"sub":"bob","n":2}');
    const next = signHs256(header, second);
    expect(decodeJws(valid).header).toEqual({ alg: 'HS256', typ: 'JWT' });
    const decoded = decodeJws(next);
    expect(decoded.payloadSegment).toBe(second);
    expect(decoded.signingInput).toBe(`${header}.${second}`);
    expect(decodeJwsPayload(decoded)).toEqual({ sub: 'bob', n: 2 });
  });
});
