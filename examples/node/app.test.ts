import { afterAll, beforeAll, it } from 'vitest';
import { walkThrough } from '../flow.js';
import { start } from './app.js';

let running: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  running = await start(0);
});
afterAll(() => running.close());

it('walks login → protected → refresh → cookie login → CSRF POST → logout', () => walkThrough(running.url));
