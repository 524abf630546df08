/** A Worker that runs the suite on the library's core alone: loads with no node:* module at all. */
import { lib, runSuite } from './entry-core.js';
import type { SuiteInput } from './suite.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const { input, backend } = (await request.json()) as { input: SuiteInput; backend: 'auto' | 'webcrypto' };
    lib.setCryptoBackend(backend);
    return Response.json(await runSuite(lib, input));
  },
};
