/**
 * Importing users from the system the service replaces: a CSV file, or a
 * Django `auth_user` table (SQLite or PostgreSQL). Password hashes are kept as
 * stored; `verifyPassword` reads Django's and Werkzeug's formats and asks for a
 * rehash on each user's first sign-in, so nobody has to pick a new password.
 *
 * @module
 */
export { type CsvImportOptions, readUsersCsv } from './csv.js';
export { type DjangoImportOptions, readDjangoAuthUsers } from './django.js';
export { type ImportedUser, type ImportProgress, UserImportError } from './user.js';
