/**
 * serveFetch and the fetch adapter against what real clients send over a
 * socket: a body larger than the limit, streamed or announced, and Host
 * headers no URL can be built from. Nothing here may hang or crash the process.
 */
import { connect } from 'node:net';
import { TokenManager } from 'tessera-auth';
import { createFetchAuth, type FetchServer, serveFetch } from 'tessera-auth/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStreamedOversizeRefused } from './oversize.js';
import { SECRET } from './scenarios.js';

let server: FetchServer;
let manager: TokenManager;

beforeAll(async () => {
  manager = new TokenManager({ secret: SECRET, tokenLocation: ['json'] });
  const auth = createFetchAuth(manager);
  const json = auth.jwtRequired(undefined, async (request, jwt) =>
    Response.json({ who: jwt?.identity, body: await request.json() }),
  );
  server = await serveFetch((request) => json(request), {
    port: 0,
    hostname: '127.0.0.1',
    onError: () => {},
  });
});
afterAll(() => server.close());

/** Send raw bytes, resolve with everything the server answered until it closed or `settle` ms of quiet. */
function rawExchange(bytes: string, settle = 300, port = server.port): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(finish, settle);
    });
    socket.on('end', finish);
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('serveFetch never crashes on a Host header no URL can be built from', () => {
  for (const host of ['[', 'a b', 'exa mple.com:80', '[::1']) {
    it(`Host: ${host} answers 400 and the server keeps serving`, async () => {
      const answer = await rawExchange(`GET /p HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 400 Bad Request');
      const token = await manager.createAccessToken({ identity: 'alice' });
      const next = await fetch(`${server.url}/p`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token }),
      });
      expect(next.status).toBe(200);
      expect(await next.json()).toEqual({ who: 'alice', body: { access_token: token } });
    });
  }
});

describe('the fetch adapter answers 413 at once to a JSON body over the limit', () => {
  it('streamed (chunked, no Content-Length): the answer comes while the client is still sending', async () => {
    await expectStreamedOversizeRefused(`${server.url}/p`);
  });

  it('announced by Content-Length: refused before any of it is read', async () => {
    const head =
      'POST /p HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${50 * 1024 * 1024}\r\n\r\n{"access_token":`;
    const answer = await rawExchange(head);
    expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('"code":"body_too_large"');
  });

  it('a body within the limit still reaches the handler, which can read it again', async () => {
    const token = await manager.createAccessToken({ identity: 'bob' });
    const body = JSON.stringify({ access_token: token, pad: 'y'.repeat(512 * 1024) });
    const response = await fetch(`${server.url}/p`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { who: string; body: { pad: string } };
    expect(answer.who).toBe('bob');
    expect(answer.body.pad).toHaveLength(512 * 1024);
  });
});

describe('serveFetch hands the handler every line of a repeated header', () => {
  it('two Authorization lines arrive joined with ", " (not the first alone), two Cookie lines with "; "', async () => {
    const echo = await serveFetch(
      (request) =>
        Response.json({
          authorization: request.headers.get('authorization'),
          cookie: request.headers.get('cookie'),
        }),
      { port: 0, hostname: '127.0.0.1' },
    );
    try {
      const answer = await rawExchange(
        'GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer first\r\nAuthorization: Bearer second\r\n' +
          'Cookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n',
        300,
        echo.port,
      );
      expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 200 OK');
      // The body comes chunked: the JSON is the one line between braces.
      expect(JSON.parse(/\{.*\}/.exec(answer)?.[0] ?? 'null')).toEqual({
        authorization: 'Bearer first, Bearer second',
        cookie: 'a=1; b=2',
      });
    } finally {
      await echo.close();
    }
  });
});
