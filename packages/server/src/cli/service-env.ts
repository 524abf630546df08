/**
 * The service as the CLI sees it: the same configuration (environment and
 * TESSERA_CONFIG, ../config.ts), the same database and token store
 * (../db/connect.ts), keys and token managers built with the service's own
 * options (../service.ts), so a revocation here is one the running service honours.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TokenManager } from 'tessera-auth';
import { refuseUnknownOptions } from 'tessera-auth/core';
import { ApiKeys } from '../api-keys.js';
import { Audit } from '../audit.js';
import { loadConfig, type ServiceConfig, ServiceConfigError } from '../config.js';
import { openStores, type Stores } from '../db/connect.js';
import { ServiceKeys } from '../keys.js';
import { identityOf, type User, Users } from '../users.js';
import { CliError, EXIT, storeUnavailable } from './errors.js';

/** The service's configuration; a mistake is a usage/configuration error (exit 2). */
export function serviceConfig(overrides: Record<string, string> = {}): ServiceConfig {
  try {
    return loadConfig({ ...process.env, ...overrides });
  } catch (error) {
    if (error instanceof ServiceConfigError) throw new CliError(error.message, EXIT.usage, 'config_invalid');
    throw error;
  }
}

/** Where the data lives, in words (never the DATABASE_URL itself: it may hold a password). */
export function describeStore(config: ServiceConfig): string {
  const db =
    config.databaseUrl === undefined
      ? `SQLite ${join(resolve(config.dataDir), 'tessera.sqlite')}`
      : `PostgreSQL ${safeHost(config.databaseUrl)}`;
  return config.redisUrl === undefined ? db : `${db} + Redis ${safeHost(config.redisUrl)}`;
}

function safeHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port === '' ? '' : `:${parsed.port}`}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Whether the service has data to look at without creating any (the SQLite file exists, or a database URL is set). */
export function serviceDataExists(config: ServiceConfig): boolean {
  return config.databaseUrl !== undefined || existsSync(join(resolve(config.dataDir), 'tessera.sqlite'));
}

/** The opened service stores and what is built on them. */
export interface ServiceHandle {
  readonly config: ServiceConfig;
  readonly stores: Stores;
  readonly users: Users;
  readonly audit: Audit;
  readonly apiKeys: ApiKeys;
  close(): Promise<void>;
}

/** Open (and migrate) the service's stores; unreachable is exit 3. */
export async function openService(
  config: ServiceConfig,
  options: { create?: boolean; onBackgroundError?: (message: string) => void } = {},
): Promise<ServiceHandle> {
  refuseUnknownOptions(options, ['create', 'onBackgroundError'], 'openService options');
  const { onBackgroundError } = options;
  // Looking (list, verify, revoke) never leaves a new empty database behind in the current directory.
  if (options.create !== true && !serviceDataExists(config)) {
    throw new CliError(
      `no service data at ${join(resolve(config.dataDir), 'tessera.sqlite')}: set TESSERA_DATA_DIR (or DATABASE_URL) to the service's, or run tessera migrate first`,
      EXIT.usage,
      'no_service_data',
    );
  }
  let stores: Stores;
  try {
    stores = await openStores(config, (error) => {
      onBackgroundError?.(error instanceof Error ? error.message : String(error));
    });
  } catch (error) {
    throw storeUnavailable(error);
  }
  const quiet = () => undefined;
  return {
    config,
    stores,
    users: new Users(stores.database),
    audit: new Audit(stores.database, quiet),
    apiKeys: new ApiKeys(stores.database),
    close: () => stores.close(),
  };
}

/** The signing keys as the service holds them (loaded once; no timer, no rotation). */
export async function loadKeys(handle: ServiceHandle): Promise<ServiceKeys> {
  let keys: ServiceKeys;
  try {
    keys = new ServiceKeys(handle.stores.database, handle.config, () => undefined);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT.usage, 'config_invalid');
  }
  try {
    await keys.reload();
  } catch (error) {
    // An encrypted key without (or with the wrong) TESSERA_KEY_ENCRYPTION_KEY is a configuration matter.
    const message = error instanceof Error ? error.message : String(error);
    if (/encrypt|envelope|auth/i.test(message)) {
      throw new CliError(`cannot read the signing keys: ${message}`, EXIT.usage, 'config_invalid');
    }
    throw storeUnavailable(error);
  }
  return keys;
}

/** The service's token managers: its configured profile, and SimpleJWT's when that differs. */
export async function managers(handle: ServiceHandle, keys: ServiceKeys): Promise<TokenManager[]> {
  // Loaded here, not at start: ../service.ts brings the whole HTTP app, which most commands never need.
  const { tokenManagerOptions } = await import('../service.js');
  const deps = { keys, store: handle.stores.tokenStore };
  const main = new TokenManager(tokenManagerOptions(handle.config, handle.config.profile, deps));
  if (handle.config.profile === 'simplejwt') return [main];
  return [main, new TokenManager(tokenManagerOptions(handle.config, 'simplejwt', deps))];
}

/**
 * Revoke every token and session of a user in each identity form the service
 * issues (username, and the numeric id of SimpleJWT tokens), and with `apiKeys`
 * their API keys: the same as the admin API's "revoke everything".
 */
export async function revokeEverything(
  handle: ServiceHandle,
  keys: ServiceKeys,
  user: User,
  options: { apiKeys: boolean },
): Promise<{ apiKeys: number }> {
  for (const manager of await managers(handle, keys)) {
    await manager.revokeAllTokens(identityOf(manager.config.profile.name, user));
  }
  return { apiKeys: options.apiKeys ? await handle.apiKeys.revokeAll(user.id) : 0 };
}
