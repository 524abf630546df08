/**
 * The service never exits on bad input: malformed request lines, headers and
 * bodies over raw sockets, then a normal request that must still be answered.
 * Every answer that parses as HTTP is below 500.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, call, login, startTestService, type TestService } from './support.js';

let svc: TestService;
let port = 0;
let token = '';

beforeAll(async () => {
  svc = await startTestService();
  port = Number(new URL(svc.base).port);
  token = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
});
afterAll(async () => {
  await svc.stop();
});

/** Send raw bytes, collect whatever comes back until the server closes or 1.5 s pass. */
function raw(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    const timer = setTimeout(done, 1500);
    socket.on('connect', () => {
      socket.end(bytes);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}

/** Status codes of every response in a raw answer (pipelined requests give several). */
function statuses(answer: string): number[] {
  return [...answer.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

async function stillServes(): Promise<void> {
  const res = await call(svc.base, 'GET', '/auth/me', { token });
  expect(res.status).toBe(200);
}

const CASES: readonly string[] = [
  'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://[/ HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /%zz%00%ff HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /auth/me HTTP/1.1\r\nHost: [::\r\n\r\n',
  'GET /auth/me HTTP/1.1\r\nHost: a b\r\nAuthorization: Bearer \x00\x01\r\n\r\n',
  'GET /auth/me HTTP/1.1\r\nAuthorization: Bearer a.b.c\r\n\r\n',
  'GET /auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ....\r\nCookie: ===;;;access_token_cookie=%%%\r\n\r\n',
  'GET /auth/me HTTP/9.9\r\n\r\n',
  'BREW /auth/me HTTP/1.1\r\nHost: x\r\n\r\n',
  '\r\n\r\n\r\n',
  '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
  `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\n\r\n`,
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${'10000\r\n'}${'x'.repeat(65_536)}\r\n${'10000\r\n'}${'x'.repeat(65_536)}\r\n0\r\n\r\n`,
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-16\r\nContent-Length: 4\r\n\r\n\xff\xfe{}',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"\\ud800\\u0000"',
  'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\nnull',
  'POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 51\r\n\r\n{"username":{"$ne":1},"password":["a"],"__proto__":1}',
  'POST /api/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nusername=%E',
  'POST /api/token/refresh/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"refr',
  'POST /oauth/introspect HTTP/1.1\r\nHost: x\r\nAuthorization: Token tsk_\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\n%%%',
  'DELETE /auth/sessions/%2e%2e%2f HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n',
  'PATCH /admin/users/%ff HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
  'GET /auth/me HTTP/1.1\r\nHost: x\r\n\r\nGET //[ HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n',
];

describe('malformed requests over raw sockets', () => {
  it('answers each listed case below 500 and keeps serving', async () => {
    for (const input of CASES) {
      const answer = await raw(Buffer.from(input, 'latin1'));
      for (const status of statuses(answer))
        expect(status, JSON.stringify(input.slice(0, 80))).toBeLessThan(500);
    }
    await stillServes();
  });

  it('survives random request lines, headers and bodies', async () => {
    const line = fc.tuple(
      fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'X', ''),
      fc.oneof(
        fc.constantFrom('/auth/login', '/auth/me', '/api/token/', '/oauth/revoke', '/admin/users', '//['),
        fc.string({ maxLength: 40 }),
      ),
      fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2', ''),
    );
    const header = fc.tuple(
      fc.constantFrom(
        'Content-Type',
        'Content-Length',
        'Authorization',
        'Cookie',
        'Transfer-Encoding',
        'X-CSRF-TOKEN',
        'Host',
      ),
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.constantFrom('application/json', 'chunked', '-5', '99999', 'Bearer a.b.c', 'Token tsk_x'),
      ),
    );
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 4 }),
      fc.constant('{"username":"root","password":1}'),
    );
    await fc.assert(
      fc.asyncProperty(
        line,
        fc.array(header, { maxLength: 6 }),
        body,
        async ([method, path, version], headers, payload) => {
          const text = `${method} ${path} ${version}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n${payload}`;
          const answer = await raw(Buffer.from(text, 'utf8'));
          for (const status of statuses(answer)) expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    await stillServes();
  }, 120_000);
});
