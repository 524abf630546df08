/**
 * `npm start -- import --csv <file>` or `npm start -- import --django <sqlite file | postgres URL>`:
 * import users into the configured database, then exit. Existing usernames are
 * skipped; hashes are kept and upgraded to argon2id at each user's first sign-in.
 */
import { readFileSync } from 'node:fs';
import type { ServiceConfig } from './config.js';
import { openStores } from './db/connect.js';
import { readDjangoAuthUsers, readUsersCsv, UserImportError } from './import/index.js';
import { storeImportedUsers } from './user-import.js';
import { Users } from './users.js';

const USAGE =
  'usage: npm start -- import --csv <file> | --django <sqlite file | postgres:// URL> [--table <name>]';

/** Run the import command; resolves to the exit status (0 done, 2 usage or bad input, 1 store failure). */
export async function runImport(config: ServiceConfig, args: readonly string[]): Promise<number> {
  const [kind, source, flag, table] = args;
  if (
    (kind !== '--csv' && kind !== '--django') ||
    source === undefined ||
    (flag !== undefined && (flag !== '--table' || table === undefined))
  ) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const stores = await openStores(config, (error) => {
    process.stderr.write(`tessera import: ${error instanceof Error ? error.message : String(error)}\n`);
  });
  try {
    const users = new Users(stores.database);
    const read =
      kind === '--csv'
        ? readUsersCsv(readFileSync(source, 'utf8'))
        : readDjangoAuthUsers(source, table === undefined ? {} : { table });
    const result = await storeImportedUsers(users, read);
    process.stdout.write(
      `Imported ${result.created} user(s)${result.skipped.length === 0 ? '' : `; skipped ${result.skipped.length} existing: ${result.skipped.slice(0, 20).join(', ')}${result.skipped.length > 20 ? ', ...' : ''}`}\n`,
    );
    return 0;
  } catch (error) {
    if (
      error instanceof UserImportError ||
      (error instanceof Error && 'code' in error && error.code === 'ENOENT')
    ) {
      process.stderr.write(`tessera import: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await stores.close();
  }
}
