/**
 * Users from CSV (RFC 4180: comma-separated, CRLF or LF line ends, fields in
 * double quotes may hold commas, line breaks and doubled quotes `""`).
 *
 * The header row names the columns, in any order: `username` and
 * `password_hash` are required; `email`, `is_active` (true/false, 1/0, yes/no,
 * t/f; empty means active) and `roles` (separated by spaces, `;`, `|` or, in a quoted field, commas) are
 * optional. Another column name is an error, so a misspelt `is_activ` does not
 * silently make every user active.
 *
 * @module
 */
import { ConfigError } from 'tessera-auth';
import { refuseUnknownOptions } from 'tessera-auth/core';
import { checkUser, type ImportedUser, type ImportProgress, UserImportError } from './user.js';

const COLUMNS = ['username', 'password_hash', 'email', 'is_active', 'roles'] as const;
type Column = (typeof COLUMNS)[number];

/** Options of {@link readUsersCsv}. */
export interface CsvImportOptions {
  /** Called every `progressEvery` users and once at the end. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Default 1000. */
  readonly progressEvery?: number;
}

/**
 * Reads users from CSV text. Throws {@link UserImportError} naming the line for
 * a malformed file, a missing or unknown column, a bad value or a duplicate username.
 */
export function readUsersCsv(text: string, options: CsvImportOptions = {}): ImportedUser[] {
  refuseUnknownOptions(options, ['onProgress', 'progressEvery'], 'CSV import options');
  if (typeof text !== 'string') throw new UserImportError('CSV input must be text');
  const every = options.progressEvery ?? 1000;
  if (!Number.isInteger(every) || every < 1)
    throw new ConfigError('progressEvery must be a positive integer');
  const records = parseCsv(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const header = records.next();
  if (header.done) throw new UserImportError('the CSV is empty: a header row is required');
  const index = headerIndex(header.value.fields);
  const users: ImportedUser[] = [];
  const seen = new Set<string>();
  for (const { fields, line } of records) {
    // A blank line (one empty field) is not a user.
    if (fields.length === 1 && fields[0] === '') continue;
    const at = `line ${line}`;
    if (fields.length !== index.size) {
      throw new UserImportError(`expected ${index.size} fields as in the header, found ${fields.length}`, at);
    }
    const get = (column: Column): string | undefined => {
      const i = index.get(column);
      return i === undefined ? undefined : fields[i];
    };
    const user = checkUser(
      {
        username: get('username') ?? '',
        passwordHash: (get('password_hash') ?? '').trim(),
        email: get('email'),
        isActive: parseBoolean(get('is_active'), at),
        roles: (get('roles') ?? '').split(/[\s;|,]+/).filter((r) => r !== ''),
      },
      at,
    );
    if (seen.has(user.username)) throw new UserImportError(`duplicate username '${user.username}'`, at);
    seen.add(user.username);
    users.push(user);
    if (users.length % every === 0) options.onProgress?.({ read: users.length });
  }
  options.onProgress?.({ read: users.length, total: users.length });
  return users;
}

function headerIndex(names: readonly string[]): Map<Column, number> {
  const index = new Map<Column, number>();
  names.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name)) {
      throw new UserImportError(
        `unknown column '${raw.slice(0, 40)}'; columns are ${COLUMNS.join(', ')}`,
        'line 1',
      );
    }
    if (index.has(name as Column)) throw new UserImportError(`column '${name}' appears twice`, 'line 1');
    index.set(name as Column, i);
  });
  for (const required of ['username', 'password_hash'] as const) {
    if (!index.has(required)) throw new UserImportError(`the header has no '${required}' column`, 'line 1');
  }
  return index;
}

function parseBoolean(value: string | undefined, at: string): boolean {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'true' || v === '1' || v === 'yes' || v === 't' || v === 'y') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'f' || v === 'n') return false;
  throw new UserImportError(`is_active '${v.slice(0, 20)}' is not true or false`, at);
}

/** One CSV record and the line it starts on. */
interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/** RFC 4180 records, one pass; a quote inside an unquoted field or an unclosed quote is an error. */
function* parseCsv(text: string): Generator<CsvRecord> {
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          const quote = text.indexOf('"', i);
          if (quote === -1) throw new UserImportError('a quoted field is never closed', `line ${start}`);
          const chunk = text.slice(i, quote);
          line += countLines(chunk);
          field += chunk;
          if (text[quote + 1] === '"') {
            field += '"';
            i = quote + 2;
          } else {
            i = quote + 1;
            break;
          }
        }
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new UserImportError('text after a closing quote', `line ${line}`);
        }
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        field = text.slice(i, j);
        if (field.includes('"'))
          throw new UserImportError('a quote inside an unquoted field', `line ${line}`);
        i = j;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    yield { fields, line: start };
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let k = s.indexOf('\n'); k !== -1; k = s.indexOf('\n', k + 1)) n++;
  return n;
}
