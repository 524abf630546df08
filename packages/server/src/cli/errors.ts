/**
 * The CLI's exit codes and the one error type that carries them. Every failure
 * a user can cause ends as a {@link CliError}: one line on stderr, no stack.
 */

/** Exit codes, documented in docs/cli.md; scripts rely on them, so they never change meaning. */
export const EXIT = {
  /** Done; for a check (token verify, token decode), the token passed. */
  ok: 0,
  /** A check failed: the token is invalid, expired, revoked; the user or session does not exist. */
  checkFailed: 1,
  /** Usage or configuration error: unknown option, missing argument, bad TESSERA_* setting. */
  usage: 2,
  /** The database or Redis cannot be reached. */
  storeUnavailable: 3,
  /** A file or URL cannot be read or written (key file, JWKS URL, --out). */
  io: 4,
  /** An unexpected internal error (a bug): rerun with TESSERA_DEBUG=1 for the stack. */
  internal: 70,
} as const;

/** An exit code of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure reported as one line, exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Stable machine-readable code for `--json` output. */
  readonly code: string;

  constructor(message: string, exitCode: ExitCode, code: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** Wrong command line: exit 2 and a pointer to `--help`. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage, 'usage');
    this.name = 'UsageError';
  }
}

/** A store is down: exit 3. The message never holds the connection URL (it may carry a password). */
export function storeUnavailable(error: unknown): CliError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CliError(
    `the store is unavailable: ${redactUrls(reason)}`,
    EXIT.storeUnavailable,
    'store_unavailable',
  );
}

/** A file or URL problem: exit 4. */
export function ioError(what: string, error: unknown): CliError {
  const reason =
    error instanceof Error
      ? ('code' in error && typeof error.code === 'string' ? `${error.code}: ` : '') + error.message
      : String(error);
  return new CliError(`${what}: ${redactUrls(reason)}`, EXIT.io, 'io');
}

/** Drop credentials from any URL in a message. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}
