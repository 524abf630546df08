/**
 * Everything the routes share, built once by ./service.ts. Route modules take
 * the context and register their handlers; they hold no state of their own.
 */

import type { Logger } from 'pino';
import type { TokenManager } from 'tessera-auth';
import type { JwtEnv } from 'tessera-auth/hono';
import type { Accounts } from './accounts.js';
import type { ApiKeys, Invites } from './api-keys.js';
import type { Audit } from './audit.js';
import type { ServiceConfig } from './config.js';
import type { Stores } from './db/connect.js';
import type { ServiceKeys } from './keys.js';
import type { Users } from './users.js';

export interface ServiceContext {
  readonly config: ServiceConfig;
  readonly log: Logger;
  readonly stores: Stores;
  readonly keys: ServiceKeys;
  /** Mints and verifies the tokens of the Flask-shaped endpoints, in the configured profile. */
  readonly manager: TokenManager;
  /** The SimpleJWT endpoints' manager: the same one under the simplejwt profile, else its own. */
  readonly simpleJwt: TokenManager;
  readonly users: Users;
  readonly accounts: Accounts;
  readonly apiKeys: ApiKeys;
  readonly invites: Invites;
  readonly audit: Audit;
  /** True while the service drains for shutdown: /readyz answers 503. */
  readonly draining: () => boolean;
}

/** The Hono env of the service's app. */
export type AppEnv = JwtEnv;
