/**
 * WWW-Authenticate never repeats what the client sent in its token: a `kid` no
 * key has, a `crit` name, an identity the user lookup did not find. The test
 * sends tokens whose text carries quotes, CR/LF, a fake header and a long string
 * through a real Express server and reads the challenge off the wire.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { importSecret, TokenManager } from 'tessera-auth';
import { signJws } from 'tessera-auth/core';
import { createExpressAuth } from 'tessera-auth/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'challenge-test-secret-0123456789-abcdefghijk';
const NOW = Math.floor(Date.now() / 1000);

const HOSTILE = [
  'evil"kid',
  'a\r\nSet-Cookie: stolen=1',
  'x", error="forged',
  `long-${'k'.repeat(600)}`,
  'é ünïcödé \u2028 kid',
];

let server: Server;
let url: string;

beforeAll(async () => {
  const manager = new TokenManager({
    secret: SECRET,
    kid: 'the-real-kid',
    callbacks: { userLookup: () => null },
  });
  const auth = createExpressAuth(manager);
  const app = express();
  app.get('/protected', auth.jwtRequired(), (req, res) => {
    res.json({ identity: auth.getJwtIdentity(req) });
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function sign(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return signJws({ typ: 'JWT', ...header }, payload, importSecret(SECRET, 'HS256').signing!);
}

const claims = (sub: string) => ({ sub, type: 'access', iat: NOW, exp: NOW + 300, jti: crypto.randomUUID() });

async function challengeFor(token: string): Promise<{ status: number; challenge: string; body: string }> {
  const response = await fetch(`${url}/protected`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate') ?? '',
    body: await response.text(),
  };
}

function expectClean(challenge: string, text: string): void {
  expect(challenge).toMatch(/^Bearer error="[a-z_]+", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"$/);
  for (const piece of [text, text.slice(0, 12), 'evil', 'stolen', 'forged', 'kkkkkkkk']) {
    expect(challenge).not.toContain(piece);
  }
}

describe('WWW-Authenticate never echoes token text (standard profile)', () => {
  for (const kid of HOSTILE) {
    it(`an unknown kid ${JSON.stringify(kid.slice(0, 30))}: a fixed description`, async () => {
      const { status, challenge, body } = await challengeFor(sign({ kid }, claims('alice')));
      expect(status).toBe(401);
      expect(challenge).toBe(
        `Bearer error="invalid_token", error_description="No key matches the token's key ID (kid)"`,
      );
      expectClean(challenge, kid);
      expect(JSON.parse(body)).toMatchObject({ code: 'key_not_found' });
    });

    it(`a crit name ${JSON.stringify(kid.slice(0, 30))}: a fixed description`, async () => {
      const { status, challenge } = await challengeFor(
        sign({ kid: 'the-real-kid', crit: [kid], [kid]: true }, claims('alice')),
      );
      expect(status).toBe(401);
      expect(challenge).toBe(
        'Bearer error="invalid_token", error_description="The token needs an extension (crit) that is not supported"',
      );
      expectClean(challenge, kid);
    });

    it(`an identity the lookup does not find ${JSON.stringify(kid.slice(0, 30))}: a fixed description`, async () => {
      const { status, challenge, body } = await challengeFor(sign({ kid: 'the-real-kid' }, claims(kid)));
      expect(status).toBe(401);
      expect(challenge).toBe(
        'Bearer error="invalid_token", error_description="No user was found for this token"',
      );
      expectClean(challenge, kid);
      expect(JSON.parse(body)).toMatchObject({ code: 'user_lookup_failed' });
    });
  }

  it('a kid past the header limit: refused for its size, nothing of it echoed', async () => {
    const kid = `long-${'k'.repeat(5000)}`;
    const { status, challenge } = await challengeFor(sign({ kid }, claims('alice')));
    expect(status).toBe(401);
    expectClean(challenge, kid);
  });
});
