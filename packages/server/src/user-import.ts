/**
 * Storing users read by ./import (a CSV file or a Django `auth_user` table):
 * hashes are kept as they are (Django and Werkzeug formats verify and are
 * upgraded to argon2id at each user's first sign-in), inactive users arrive
 * disabled, existing usernames are skipped, never overwritten.
 */
import type { ImportedUser } from './import/index.js';
import { UsernameTakenError, type Users } from './users.js';

/** What an import did. */
export interface ImportResult {
  created: number;
  /** Usernames that already existed (left unchanged). */
  skipped: string[];
}

/** Store every user of `source`. */
export async function storeImportedUsers(
  users: Users,
  source: Iterable<ImportedUser> | AsyncIterable<ImportedUser>,
): Promise<ImportResult> {
  const result: ImportResult = { created: 0, skipped: [] };
  for await (const user of source) {
    try {
      await users.create({
        username: user.username,
        passwordHash: user.passwordHash,
        email: user.email ?? null,
        roles: user.roles,
        disabled: !user.isActive,
      });
      result.created++;
    } catch (error) {
      if (!(error instanceof UsernameTakenError)) throw error;
      result.skipped.push(user.username);
    }
  }
  return result;
}
