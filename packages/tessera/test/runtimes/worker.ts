/** A Worker that runs the suite on the library's public entry (needs nodejs_compat until every node: import is gone). */
import { lib, runSuite } from './entry.js';
import type { SuiteInput } from './suite.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const { input, backend } = (await request.json()) as { input: SuiteInput; backend: 'auto' | 'webcrypto' };
    lib.setCryptoBackend(backend);
    return Response.json(await runSuite(lib, input));
  },
};
