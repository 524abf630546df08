/**
 * Every documented endpoint, from the OpenAPI document itself: without
 * credentials, with a bad token, with a broken body and with a wrong method it
 * answers a JSON 4xx with a stable code, never a 5xx. And the CORS allowlist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { ADMIN, call, login, startTestService, type TestService } from './support.js';

let svc: TestService;
let admin = '';

beforeAll(async () => {
  svc = await startTestService({ corsOrigins: ['https://app.example'], registration: 'open' });
  admin = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
});
afterAll(async () => {
  await svc.stop();
});

interface Operation {
  method: string;
  path: string;
  security: unknown[];
}

async function operations(): Promise<Operation[]> {
  const doc = await call(svc.base, 'GET', '/openapi.json');
  const paths = doc.body.paths as Record<string, Record<string, { security: unknown[] }>>;
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{\w+\}/g, 'nobody'),
      security: op.security,
    })),
  );
}

describe('every documented endpoint', () => {
  it('the document lists every route the app serves', async () => {
    // The routes as Hono holds them (middleware is registered as ALL), `:id` written `{id}`.
    const served = new Set(
      createApp(svc.service.context, { count: 0 })
        .routes.filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/')}`),
    );
    // A redirect to the console's page, which is documented.
    served.delete('GET /console');
    const documented = new Set(
      (await operations()).map((o) => `${o.method} ${o.path.replace(/nobody/g, '{x}')}`),
    );
    const normal = (route: string) => route.replace(/\{\w+\}/g, '{x}');
    expect([...served].map(normal).filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => ![...served].map(normal).includes(r))).toEqual([]);
  });

  it('answers bad requests with a JSON 4xx, never a 5xx', async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThanOrEqual(30);
    const attempts: { what: string; init: Parameters<typeof call>[3] }[] = [
      { what: 'nothing', init: {} },
      { what: 'a bad token', init: { token: 'a.b.c' } },
      { what: 'an admin with broken JSON', init: { token: admin, raw: '{"username": ' } },
      {
        what: 'an admin with a wrong-typed body',
        init: { token: admin, json: { username: 7, password: [], token: {} } },
      },
      { what: 'an admin with a form', init: { token: admin, form: { token: 'x', username: 'x' } } },
    ];
    for (const op of ops) {
      for (const { what, init } of attempts) {
        if (op.method === 'GET' && (init?.raw ?? init?.json ?? init?.form) !== undefined) continue;
        const res = await call(svc.base, op.method, op.path, init);
        const label = `${op.method} ${op.path} with ${what}`;
        // The console's page when its build is absent (tests run without it): the one documented 503.
        if (op.path === '/console/' && res.status === 503) {
          expect(res.body.code, label).toBe('console_not_built');
          continue;
        }
        expect(res.status, `${label}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) {
          // Our {msg, code}, or SimpleJWT's {detail} / field errors on its endpoints.
          expect(Object.keys(res.body).length, label).toBeGreaterThan(0);
        }
      }
      // A method the path does not have: 405 with Allow.
      const other = op.method === 'DELETE' ? 'PUT' : 'DELETE';
      const wrong = await call(svc.base, other, op.path);
      if (!ops.some((o) => o.path === op.path && o.method === other)) {
        expect(wrong.status, `${other} ${op.path}`).toBe(405);
        expect(wrong.headers.get('allow'), `${other} ${op.path}`).toContain(op.method);
      }
    }
  }, 120_000);

  it('requires credentials where the document says so', async () => {
    for (const op of await operations()) {
      if (op.security.length === 0) continue;
      const res = await call(svc.base, op.method, op.path, op.method === 'GET' ? {} : { json: {} });
      expect([401, 403], `${op.method} ${op.path}`).toContain(res.status);
    }
  });
});

describe('CORS', () => {
  it('answers preflights for allowed origins only, with credentials', async () => {
    const allowed = await fetch(`${svc.base}/auth/login`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const denied = await fetch(`${svc.base}/auth/login`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    // The sweep above signed the admin out everywhere: a fresh token.
    const token = (await login(svc.base, ADMIN.username, ADMIN.password)).access_token;
    const simple = await call(svc.base, 'GET', '/auth/me', {
      token,
      headers: { origin: 'https://evil.example' },
    });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
  });
});
