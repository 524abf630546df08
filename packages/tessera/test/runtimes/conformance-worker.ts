/** The conformance server as a Worker; its configuration comes from the CONFORMANCE_CONFIG binding. */
import { type ConformanceServerConfig, conformanceServer } from './conformance-app.js';

let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: { CONFORMANCE_CONFIG: string }): Promise<Response> {
    handler ??= conformanceServer(JSON.parse(env.CONFORMANCE_CONFIG) as ConformanceServerConfig);
    return handler(request);
  },
};
