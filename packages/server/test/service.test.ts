import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { exportJwk, generateKey, importJwk, thumbprint } from 'tessera-auth';
import { SqlStore } from 'tessera-auth/stores/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, hashPassword } from '../src/service.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-server-'));
const generated = generateKey('EdDSA');
const key = importJwk({ ...exportJwk(generated, { private: true }), kid: thumbprint(exportJwk(generated)) });
let base = '';
let close: () => Promise<void> = async () => undefined;

async function start(): Promise<void> {
  const store = await SqlStore.sqlite(join(dir, 'tessera.sqlite'));
  await store.migrate();
  const { server } = createService({
    key,
    store,
    users: [{ username: 'alice', passwordSha256: hashPassword('s3cret!') }],
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    await new Promise<void>((done) => server.close(() => done()));
    await store.close();
  };
}

async function call(
  method: string,
  path: string,
  init: { token?: string; json?: unknown; raw?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined || init.raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: init.raw ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function login() {
  const res = await call('POST', '/login', { json: { username: 'alice', password: 's3cret!' } });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string };
}

beforeAll(start);
afterAll(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

describe('auth service on SQLite', () => {
  it('logs in and serves the protected route', async () => {
    const tokens = await login();
    expect(await call('GET', '/protected', { token: tokens.access_token })).toEqual({
      status: 200,
      body: { logged_in_as: 'alice' },
    });
  });

  it('refuses bad credentials and bad input with 4xx', async () => {
    expect((await call('POST', '/login', { json: { username: 'alice', password: 'nope' } })).status).toBe(
      401,
    );
    expect((await call('POST', '/login', { json: { username: 'bob', password: 'x' } })).status).toBe(401);
    expect((await call('POST', '/login', { raw: '{not json' })).status).toBe(400);
    expect(
      (await call('POST', '/login', { raw: JSON.stringify({ password: 'x'.repeat(70_000) }) })).status,
    ).toBe(400);
    expect((await call('GET', '/protected', { token: 'garbage' })).status).toBe(401);
  });

  it('rotates refresh tokens and revokes the family on reuse', async () => {
    const first = await login();
    const second = await call('POST', '/refresh', { token: first.refresh_token });
    expect(second.status).toBe(200);
    const rotated = second.body as { access_token: string; refresh_token: string };
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect((await call('GET', '/protected', { token: rotated.access_token })).status).toBe(200);
    // After a second rotation the first token is neither current nor previous: no grace applies.
    const third = await call('POST', '/refresh', { token: rotated.refresh_token });
    expect(third.status).toBe(200);
    const reuse = await call('POST', '/refresh', { token: first.refresh_token });
    expect(reuse).toMatchObject({ status: 401, body: { code: 'refresh_token_reused' } });
    const after = await call('GET', '/protected', {
      token: (third.body as { access_token: string }).access_token,
    });
    expect(after).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
  });

  it('logs out one session and lists the others', async () => {
    const a = await login();
    const b = await login();
    const before = await call('GET', '/sessions', { token: b.access_token });
    expect(before.status).toBe(200);
    const count = (before.body.sessions as unknown[]).length;
    expect((await call('POST', '/logout', { token: a.access_token })).status).toBe(200);
    expect((await call('GET', '/protected', { token: a.access_token })).body).toMatchObject({
      code: 'token_revoked',
    });
    expect((await call('POST', '/refresh', { token: a.refresh_token })).status).toBe(401);
    const afterList = await call('GET', '/sessions', { token: b.access_token });
    expect((afterList.body.sessions as unknown[]).length).toBe(count - 1);
  });

  it('publishes a JWKS that another verifier (jose) uses', async () => {
    const tokens = await login();
    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { algorithms: ['EdDSA'] });
    expect(payload.sub).toBe('alice');
  });

  it('keeps sessions across a restart', async () => {
    const tokens = await login();
    await close();
    await start();
    expect((await call('GET', '/protected', { token: tokens.access_token })).status).toBe(200);
    expect((await call('POST', '/refresh', { token: tokens.refresh_token })).status).toBe(200);
  });
});
