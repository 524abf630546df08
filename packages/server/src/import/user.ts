/**
 * The user record an import produces, and the checks every source applies to
 * it, so that CSV rows and Django rows are held to the same rules.
 *
 * @module
 */

/** A user read from another system, ready for the service's user store. */
export interface ImportedUser {
  readonly username: string;
  /**
   * The stored hash as the other system kept it (Django `pbkdf2_sha256$…`,
   * Werkzeug `pbkdf2:…`/`scrypt:…`, argon2 PHC). `verifyPassword` reads these
   * and asks for a rehash on the first sign-in; a hash it cannot read (Django's
   * unusable `!…` marker, bcrypt) never verifies: such users need a password reset.
   */
  readonly passwordHash: string;
  readonly email?: string;
  readonly isActive: boolean;
  readonly roles: readonly string[];
}

/** Progress of a long import. */
export interface ImportProgress {
  /** Users read so far. */
  readonly read: number;
  /** Users in the source, when known. */
  readonly total?: number;
}

/** Why an import stopped: the source, the line or row, the reason. Never contains a password hash. */
export class UserImportError extends Error {
  /** Stable code for programs. */
  readonly code = 'import_invalid';
  /** HTTP status when an endpoint reports it: the input is at fault. */
  readonly status = 400;
  /** 1-based line (CSV) or the row's id (Django), when the error is about one. */
  readonly location: string | undefined;

  constructor(message: string, location?: string, options?: { cause?: unknown }) {
    super(location === undefined ? message : `${location}: ${message}`, options);
    this.name = 'UserImportError';
    this.location = location;
  }
}

const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;
// Django's limit on usernames; anything with control characters is refused.
const MAX_USERNAME = 150;
const MAX_EMAIL = 254;
const MAX_HASH = 1024;

/** Checks and normalises one user; throws {@link UserImportError} naming `location`. */
export function checkUser(user: ImportedUser, location: string): ImportedUser {
  const { username, passwordHash, email, isActive, roles } = user;
  if (username.length === 0) throw new UserImportError('username is empty', location);
  if (username.length > MAX_USERNAME) {
    throw new UserImportError(`username is longer than ${MAX_USERNAME} characters`, location);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(username)) {
    throw new UserImportError('username contains control characters', location);
  }
  if (passwordHash.length === 0) throw new UserImportError('password_hash is empty', location);
  if (passwordHash.length > MAX_HASH || /\s/.test(passwordHash)) {
    throw new UserImportError('password_hash is not a stored password hash', location);
  }
  let cleanEmail: string | undefined;
  if (email !== undefined && email.trim() !== '') {
    cleanEmail = email.trim();
    if (cleanEmail.length > MAX_EMAIL || !/^[^\s@]+@[^\s@]+$/.test(cleanEmail)) {
      throw new UserImportError(`email '${cleanEmail.slice(0, 80)}' is not an address`, location);
    }
  }
  for (const role of roles) {
    if (!ROLE.test(role)) {
      throw new UserImportError(`role '${role.slice(0, 80)}' must be 1-64 of A-Z a-z 0-9 _ . : -`, location);
    }
  }
  return {
    username,
    passwordHash,
    ...(cleanEmail === undefined ? {} : { email: cleanEmail }),
    isActive,
    roles: [...new Set(roles)],
  };
}
