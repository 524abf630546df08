import { afterAll, beforeAll, expect, it } from 'vitest';
import { walkThrough } from '../flow.js';
import { start } from './app.js';

let running: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  running = await start(0);
});
afterAll(() => {
  running.server.closeAllConnections();
  running.server.close();
});

it('walks login → protected → refresh → cookie login → CSRF POST → logout', () => walkThrough(running.url));

it("answers a body express.json() refuses with JSON through auth.errorHandler(), not Express's HTML page", async () => {
  const response = await fetch(`${running.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"username":',
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await response.json()).toEqual({ msg: 'The request body is not valid JSON', code: 'body_invalid' });
});
