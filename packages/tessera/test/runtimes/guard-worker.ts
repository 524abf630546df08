/** The guard app as a Worker; its configuration comes from the GUARD_CONFIG binding. */
import { type GuardAppConfig, guardApp } from './guard-app.js';

let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: { GUARD_CONFIG: string }): Promise<Response> {
    handler ??= guardApp(JSON.parse(env.GUARD_CONFIG) as GuardAppConfig);
    return handler(request);
  },
};
