/** `tessera users add|list|import|disable`: the service's users, in its database. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { passwordOptions } from '../../config.js';
import { type ImportedUser, readDjangoAuthUsers, readUsersCsv, UserImportError } from '../../import/index.js';
import { storeImportedUsers } from '../../user-import.js';
import { publicUser, ROLE_PATTERN, USERNAME_PATTERN, UsernameTakenError } from '../../users.js';
import { type Command, flag, int, type Parsed, str, strings } from '../command.js';
import { CliError, EXIT, ioError, storeUnavailable, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { loadKeys, openService, revokeEverything, serviceConfig } from '../service-env.js';
import { utc } from '../time.js';

function checkRoles(roles: readonly string[]): void {
  for (const role of roles) {
    if (!ROLE_PATTERN.test(role)) {
      throw new UsageError(`--role '${role}': roles are a lowercase letter then up to 39 of a-z 0-9 _ : -`);
    }
  }
}

function readPassword(args: Parsed): { password: string; generated: boolean } {
  const fromStdin = flag(args, 'password-stdin');
  const generate = flag(args, 'generate-password');
  if (fromStdin === generate) {
    throw new UsageError(
      'users add: give --password-stdin (read it from stdin) or --generate-password (print a new one)',
    );
  }
  if (generate) return { password: randomBytes(18).toString('base64url'), generated: true };
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch (error) {
    throw ioError('cannot read the password from stdin', error);
  }
  // The first line, without its line end: `echo secret | tessera users add ...` works.
  return { password: text.split(/\r?\n/)[0] ?? '', generated: false };
}

export const usersAdd: Command = {
  name: 'users add',
  summary: 'Create a user (argon2id password hash).',
  usage:
    'users add <username> (--password-stdin | --generate-password) [--role <role>]... [--email <address>]',
  help: `
The password is never taken from the command line (it would show in ps and the shell
history): pipe it with --password-stdin, or let --generate-password make one, printed
once on stdout.

Options:
  --password-stdin       read the password from the first line of stdin
  --generate-password    generate a password and print it (the only time it is shown)
  --role <role>          a role (repeatable), e.g. --role admin
  --email <address>      the user's email
  --disabled             create the user disabled

Exit 1 when the username is taken.

Examples:
  printf '%s\\n' "$PASSWORD" | tessera users add alice --password-stdin --role admin
  tessera users add bob --generate-password --json`,
  options: {
    'password-stdin': { type: 'boolean' },
    'generate-password': { type: 'boolean' },
    role: { type: 'string', multiple: true },
    email: { type: 'string' },
    disabled: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  async run(args, out) {
    const username = args.positionals[0]!;
    if (!USERNAME_PATTERN.test(username)) {
      throw new UsageError(`'${username}' is not a username: 1-150 letters, digits and @ . + - _`);
    }
    const roles = strings(args, 'role');
    checkRoles(roles);
    const email = str(args, 'email');
    if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email))
      throw new UsageError(`--email '${email}' is not an address`);
    const config = serviceConfig();
    const { password, generated } = readPassword(args);
    if (password.length < config.passwordMinLength) {
      throw new UsageError(
        `the password is shorter than the minimum (${config.passwordMinLength} characters)`,
      );
    }
    const handle = await openService(config, { create: true });
    try {
      let user: Awaited<ReturnType<typeof handle.users.create>>;
      try {
        user = await handle.users.create({
          username,
          // argon2 (a native module) is loaded only by the command that hashes; at the service's cost.
          passwordHash: await (async () => {
            const passwords = await import('../../passwords/index.js');
            passwords.configurePasswords(passwordOptions(config));
            return passwords.hashPassword(password);
          })(),
          email: email ?? null,
          roles,
          disabled: flag(args, 'disabled'),
        });
      } catch (error) {
        if (error instanceof UsernameTakenError) {
          throw new CliError(`a user named '${username}' already exists`, EXIT.checkFailed, 'username_taken');
        }
        throw storeUnavailable(error);
      }
      await handle.audit.record({ type: 'user.created', actor: 'cli', subject: username });
      out.result({ user: publicUser(user), ...(generated ? { password } : {}) });
      out.line(
        `created user ${user.username} (id ${user.id}${roles.length > 0 ? `, roles ${roles.join(', ')}` : ''})`,
      );
      if (generated) out.line(`password: ${password}  (shown once: store it now)`);
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};

export const usersList: Command = {
  name: 'users list',
  summary: 'List users (never their password hashes).',
  usage: 'users list [--limit 100] [--offset 0]',
  help: `
Options:
  --limit <n>     at most this many users (default 100)
  --offset <n>    skip this many, ordered by id (default 0)

Examples:
  tessera users list --json | jq -r '.users[] | select(.disabled) | .username'`,
  options: { limit: { type: 'string' }, offset: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(args, out) {
    const limit = int(args, 'limit', 100, 1);
    const offset = int(args, 'offset', 0, 0);
    const handle = await openService(serviceConfig());
    try {
      const [users, total] = await Promise.all([handle.users.list(limit, offset), handle.users.count()]);
      out.result({ users: users.map(publicUser), total, limit, offset });
      for (const user of users) {
        const flags = [
          user.roles.length > 0 ? `roles ${user.roles.join(',')}` : '',
          user.disabled ? out.style('red', 'disabled') : '',
        ]
          .filter((s) => s !== '')
          .join('  ');
        out.line(
          `${String(user.id).padStart(5)}  ${user.username.padEnd(24)}  created ${utc(user.createdAt)}  last sign-in ${user.lastLoginAt === null ? 'never' : utc(user.lastLoginAt)}${flags === '' ? '' : `  ${flags}`}`,
        );
      }
      out.line(out.style('dim', `${users.length} of ${total} user(s)`));
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};

export const usersDisable: Command = {
  name: 'users disable',
  summary: 'Disable a user and revoke everything of theirs (tokens, sessions, API keys).',
  usage: 'users disable <username> [--enable]',
  help: `
A disabled user cannot sign in, and every token, session and API key issued before is
refused by the service from now on. --enable lifts the block (nothing revoked comes back).
Exit 1 when there is no such user.

Examples:
  tessera users disable mallory`,
  options: { enable: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(args, out) {
    const username = args.positionals[0]!;
    const enable = flag(args, 'enable');
    const handle = await openService(serviceConfig());
    try {
      const user = await handle.users.byUsername(username);
      if (user === undefined)
        throw new CliError(`no user named '${username}'`, EXIT.checkFailed, 'user_not_found');
      await handle.users.update(user.id, { disabled: !enable });
      let apiKeys = 0;
      if (!enable)
        apiKeys = (await revokeEverything(handle, await loadKeys(handle), user, { apiKeys: true })).apiKeys;
      await handle.audit.record({
        type: 'user.updated',
        actor: 'cli',
        subject: username,
        detail: { disabled: !enable },
      });
      out.result({ username, disabled: !enable, revoked: !enable, apiKeysRevoked: apiKeys });
      out.line(
        enable
          ? `enabled ${username}`
          : `disabled ${username}: every token and session revoked${apiKeys > 0 ? `, ${apiKeys} API key(s) revoked` : ''}`,
      );
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};

/** Count users as they are stored and report every `every` (and at the end). */
async function* counted(
  source: Iterable<ImportedUser> | AsyncIterable<ImportedUser>,
  every: number,
  total: number | undefined,
  report: (stored: number, total: number | undefined) => void,
): AsyncGenerator<ImportedUser> {
  let n = 0;
  for await (const user of source) {
    yield user;
    n++;
    if (n % every === 0) report(n, total);
  }
  if (n % every !== 0 || n === 0) report(n, total);
}

function progressLine(out: Output, stored: number, total: number | undefined): void {
  const share = total === undefined || total === 0 ? '' : ` (${Math.floor((stored / total) * 100)}%)`;
  out.progress(`import: ${stored}${total === undefined ? '' : ` of ${total}`} users${share}`);
}

export const usersImport: Command = {
  name: 'users import',
  summary: 'Import users from a CSV file or a Django auth_user table, keeping their password hashes.',
  usage:
    'users import --csv <file>\nusers import --django <sqlite file | postgres:// URL> [--table auth_user]',
  help: `
Django (pbkdf2_sha256$...) and Werkzeug (pbkdf2:..., scrypt:...) hashes are kept and
upgraded to argon2id at each user's first sign-in, so nobody has to pick a new password.
Existing usernames are skipped, never overwritten; inactive users arrive disabled.
The CSV header names the columns: username and password_hash (required), email,
is_active, roles (optional). Progress goes to stderr.
Exit 2 for a bad file (the line is named), 3 when a database is unavailable.

Options:
  --csv <file>           the CSV file
  --django <source>      a SQLite file or postgres:// URL holding Django's auth_user
  --table <name>         the table (default auth_user)
  --progress-every <n>   report progress every n users (default 1000)

Examples:
  tessera users import --csv users.csv
  tessera users import --django postgres://app@db/app --json`,
  options: {
    csv: { type: 'string' },
    django: { type: 'string' },
    table: { type: 'string' },
    'progress-every': { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  async run(args, out) {
    const csv = str(args, 'csv');
    const django = str(args, 'django');
    const table = str(args, 'table');
    if ((csv === undefined) === (django === undefined))
      throw new UsageError('users import: give --csv <file> or --django <source>');
    if (table !== undefined && django === undefined) throw new UsageError('--table goes with --django');
    const every = int(args, 'progress-every', 1000, 1);
    const config = serviceConfig();
    let known: number | undefined;
    let source: Iterable<ImportedUser> | AsyncIterable<ImportedUser>;
    try {
      if (csv !== undefined) {
        let text: string;
        try {
          text = readFileSync(csv, 'utf8');
        } catch (error) {
          throw ioError(`cannot read ${csv}`, error);
        }
        const users = readUsersCsv(text);
        known = users.length;
        source = users;
      } else {
        // The reader reports after each batch, once its users are stored (the store loop pulls it).
        source = readDjangoAuthUsers(django!, {
          ...(table === undefined ? {} : { table }),
          batchSize: Math.min(every, 100_000),
          onProgress: (p) => progressLine(out, p.read, p.total),
        });
      }
    } catch (error) {
      if (error instanceof UserImportError)
        throw new CliError(`import: ${error.message}`, EXIT.usage, error.code);
      throw error;
    }
    const handle = await openService(config, { create: true });
    try {
      const started = Date.now();
      let result: Awaited<ReturnType<typeof storeImportedUsers>>;
      try {
        result = await storeImportedUsers(
          handle.users,
          csv === undefined
            ? source
            : counted(source, every, known, (stored, total) => progressLine(out, stored, total)),
        );
      } catch (error) {
        if (error instanceof UserImportError)
          throw new CliError(`import: ${error.message}`, EXIT.usage, error.code);
        if (
          error instanceof Error &&
          'code' in error &&
          (error.code === 'ENOENT' || error.code === 'SQLITE_CANTOPEN')
        ) {
          throw ioError(`cannot open ${django ?? csv}`, error);
        }
        throw storeUnavailable(error);
      }
      out.done();
      await handle.audit.record({
        type: 'users.imported',
        actor: 'cli',
        detail: { created: result.created, skipped: result.skipped.length },
      });
      out.result({
        created: result.created,
        skipped: result.skipped,
        seconds: (Date.now() - started) / 1000,
      });
      out.line(
        `imported ${result.created} user(s)${result.skipped.length === 0 ? '' : `; skipped ${result.skipped.length} existing: ${result.skipped.slice(0, 20).join(', ')}${result.skipped.length > 20 ? ', ...' : ''}`}`,
      );
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};
