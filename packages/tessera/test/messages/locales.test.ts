/**
 * The standard profile answers in the request's language: `messages: { locale:
 * 'accept-language' }` picks a catalog from Accept-Language (English when none
 * fits), through real servers on Express and Hono. The body keeps `code`, the
 * challenge stays English ASCII, and the answer says Vary: Accept-Language.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { importSecret, TokenManager, type TokenManagerOptions } from 'tessera-auth';
import { signJws } from 'tessera-auth/core';
import { createExpressAuth } from 'tessera-auth/express';
import { createHonoAuth } from 'tessera-auth/hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'locales-test-secret-0123456789-abcdefghijk';
const NOW = Math.floor(Date.now() / 1000);
const key = importSecret(SECRET, 'HS256').signing!;

const sign = (claims: Record<string, unknown>) =>
  signJws(
    { typ: 'JWT' },
    {
      sub: 'alice',
      type: 'access',
      iat: NOW - 600,
      nbf: NOW - 600,
      exp: NOW + 300,
      jti: crypto.randomUUID(),
      ...claims,
    },
    key,
  );
const EXPIRED = sign({ exp: NOW - 60 });
const NO_SUB = sign({ sub: undefined });

// Written out, not read from the catalogs: what a reader of each language sees.
const EXPIRED_IN: Readonly<Record<string, string>> = {
  en: 'The token has expired',
  'zh-CN': '令牌已过期',
  es: 'El token ha caducado',
  de: 'Das Token ist abgelaufen',
  fr: 'Le jeton a expiré',
  ja: 'トークンの有効期限が切れています',
};
const NO_SUB_IN: Readonly<Record<string, string>> = {
  en: 'The token has no sub claim',
  'zh-CN': '令牌缺少声明 sub',
  es: 'Al token le falta el claim sub',
  de: 'Dem Token fehlt der Claim sub',
  fr: "Le jeton n'a pas de revendication sub",
  ja: 'トークンにクレーム sub がありません',
};

const OPTIONS: TokenManagerOptions = {
  secret: SECRET,
  messages: {
    locale: 'accept-language',
    catalogs: { 'pt-BR': { token_expired: 'O token expirou' } },
  },
};

interface Started {
  readonly url: string;
  close(): Promise<void>;
}

async function expressServer(options: TokenManagerOptions): Promise<Started> {
  const auth = createExpressAuth(new TokenManager(options));
  const app = express();
  app.get('/protected', auth.jwtRequired(), (_req, res) => res.json({ ok: true }));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

async function honoServer(options: TokenManagerOptions): Promise<Started> {
  const auth = createHonoAuth(new TokenManager(options));
  const app = new Hono();
  app.get('/protected', auth.jwtRequired(), (c) => c.json({ ok: true }));
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as Server).closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function ask(url: string, token: string, language?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (language !== undefined) headers['accept-language'] = language;
  const response = await fetch(`${url}/protected`, { headers });
  return {
    status: response.status,
    vary: response.headers.get('vary'),
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as { msg: string; code: string },
  };
}

for (const [adapter, start] of [
  ['Express', expressServer],
  ['Hono', honoServer],
] as const) {
  describe(`${adapter}: messages in the request's language`, () => {
    let server: Started;
    beforeAll(async () => {
      server = await start(OPTIONS);
    });
    afterAll(() => server.close());

    for (const locale of Object.keys(EXPIRED_IN)) {
      it(`Accept-Language: ${locale}`, async () => {
        const expired = await ask(server.url, EXPIRED, locale);
        expect(expired.status).toBe(401);
        expect(expired.body).toEqual({ msg: EXPIRED_IN[locale], code: 'token_expired' });
        expect(expired.vary).toMatch(/accept-language/i);
        // The challenge is for developers and must be ASCII: English, whatever the language.
        expect(expired.challenge).toBe(
          'Bearer error="invalid_token", error_description="The token has expired"',
        );
        const noSub = await ask(server.url, NO_SUB, locale);
        expect(noSub.body).toEqual({ msg: NO_SUB_IN[locale], code: 'claim_missing' });
      });
    }

    it('picks by weight and by prefix; unknown languages and Traditional Chinese get English', async () => {
      const cases: Array<[string, string]> = [
        ['fr;q=0.5, ja;q=0.9', EXPIRED_IN.ja!],
        ['de-AT,de;q=0.9,en;q=0.8', EXPIRED_IN.de!],
        ['zh', EXPIRED_IN['zh-CN']!],
        ['zh-Hans-CN', EXPIRED_IN['zh-CN']!],
        ['zh-TW', EXPIRED_IN.en!],
        ['ko-KR, *;q=0.1', EXPIRED_IN.en!],
        ['es;q=0, fr', EXPIRED_IN.fr!],
        ['', EXPIRED_IN.en!],
        [`${'x'.repeat(2000)},ja`, EXPIRED_IN.en!],
      ];
      for (const [header, text] of cases) {
        expect((await ask(server.url, EXPIRED, header)).body.msg, header.slice(0, 40)).toBe(text);
      }
      expect((await ask(server.url, EXPIRED)).body.msg).toBe(EXPIRED_IN.en);
    });

    it("an app's catalog (pt-BR) answers its keys, and English the ones it lacks", async () => {
      expect((await ask(server.url, EXPIRED, 'pt-BR')).body.msg).toBe('O token expirou');
      expect((await ask(server.url, EXPIRED, 'pt')).body.msg).toBe(EXPIRED_IN.en);
      expect((await ask(server.url, NO_SUB, 'pt-BR')).body).toEqual({
        msg: NO_SUB_IN.en,
        code: 'claim_missing',
      });
    });
  });
}

describe('a fixed locale, and overrides', () => {
  const servers: Started[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it("messages: { locale: 'de' } answers German whatever the request asks, without Vary", async () => {
    const server = await honoServer({ secret: SECRET, messages: { locale: 'de' } });
    servers.push(server);
    const answer = await ask(server.url, EXPIRED, 'fr');
    expect(answer.body).toEqual({ msg: EXPIRED_IN.de, code: 'token_expired' });
    expect(answer.vary).toBeNull();
  });

  it('an override wins in every language; a code-level entry words its refinements too', async () => {
    const server = await expressServer({
      secret: SECRET,
      messages: {
        locale: 'accept-language',
        overrides: { token_expired: 'Please sign in again', token_malformed: 'That is not a token' },
      },
    });
    servers.push(server);
    for (const language of ['en', 'ja', 'de']) {
      expect((await ask(server.url, EXPIRED, language)).body).toEqual({
        msg: 'Please sign in again',
        code: 'token_expired',
      });
    }
    // a.b.c is token_malformed.header_encoding: the override of the code covers it.
    expect((await ask(server.url, 'a.b.c', 'fr')).body).toEqual({
      msg: 'That is not a token',
      code: 'token_malformed',
    });
  });

  it('the Python profiles answer their texts whatever the Accept-Language', async () => {
    const server = await expressServer({ secret: SECRET, profile: 'flask-jwt-extended' });
    servers.push(server);
    const response = await fetch(`${server.url}/protected`, {
      headers: { authorization: 'Bearer a.b.c', 'accept-language': 'de' },
    });
    expect(response.status).toBe(422);
    expect(await response.text()).toBe('{"msg":"Invalid header padding"}\n');
  });
});
