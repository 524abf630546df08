/**
 * Loading an optional peer dependency (a database driver, Kysely, ioredis) on
 * first use, so that importing Tessera never requires one, and so that a
 * missing one is reported as what it is: a configuration to fix, naming the
 * package to install, instead of a module-resolution stack trace or a "store
 * unavailable" that would send an operator looking at the database.
 *
 * @module
 */
import { ConfigError } from '../errors.js';

/**
 * Imports the package `name`, needed by `feature` (e.g. `SqlStore.postgres`).
 * When the package itself is not installed, throws a {@link ConfigError}:
 * "install pg to use SqlStore.postgres: npm i pg". Any other failure (a broken
 * install, a missing dependency of the package) is rethrown as it is.
 */
export async function loadPeer<M>(name: string, feature: string): Promise<M> {
  try {
    return (await import(name)) as M;
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    const refusal = new ConfigError(`install ${name} to use ${feature}: npm i ${name}`);
    refusal.cause = error;
    throw refusal;
  }
}

/** Is this the resolver saying that `name` itself cannot be found? */
function isMissing(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}
