#!/usr/bin/env node
/**
 * `tessera`: the command-line tool of the auth service (docs/cli.md). Each
 * command lives in ./commands; this file finds it, parses its arguments and
 * turns every failure into one line on stderr and a documented exit code.
 */
import { readFileSync } from 'node:fs';
import { TesseraError } from 'tessera-auth';
import { type Command, helpText, parseCommand } from './command.js';
import { keygen } from './commands/keygen.js';
import { keysList, keysRotate } from './commands/keys.js';
import { revoke } from './commands/revoke.js';
import { migrate, purgeExpired, serve } from './commands/service.js';
import { tokenDecode, tokenSign, tokenVerify } from './commands/token.js';
import { usersAdd, usersDisable, usersImport, usersList } from './commands/users.js';
import { CliError, EXIT, redactUrls, UsageError } from './errors.js';
import { Output } from './output.js';

const COMMANDS: readonly Command[] = [
  serve,
  migrate,
  keygen,
  keysList,
  keysRotate,
  tokenDecode,
  tokenVerify,
  tokenSign,
  usersAdd,
  usersList,
  usersImport,
  usersDisable,
  revoke,
  purgeExpired,
];

/** Commands with subcommands: `tessera keys` alone lists them. */
const GROUPS = ['keys', 'token', 'users'];

function version(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: tessera <command> [options]

The Tessera auth service's command-line tool: run the service, manage its keys and
users, inspect, verify and sign tokens, revoke access.

Commands:
${lines.join('\n')}

Every command takes --help and --json (machine-readable output with stable keys).
Commands that touch the service's data use its configuration: TESSERA_DATA_DIR
(SQLite, default .data), DATABASE_URL (PostgreSQL), REDIS_URL, TESSERA_CONFIG...

Exit codes: 0 ok, 1 check failed (invalid token, unknown user...), 2 usage or
configuration error, 3 store unavailable, 4 file or URL error, 70 internal error.
Colour only on a terminal, never with NO_COLOR set. Reference: docs/cli.md.
`;
}

function find(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  const [first, second] = argv;
  const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (two !== undefined) return { command: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.name === first);
  return one === undefined ? undefined : { command: one, rest: argv.slice(1) };
}

async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(json);
  try {
    const [first] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? find(argv.slice(1)) : undefined;
      process.stdout.write(topic === undefined ? overview() : helpText(topic.command));
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === '--version' || first === '-v') {
      process.stdout.write(`tessera ${version()}\n`);
      return EXIT.ok;
    }
    const found = find(argv);
    if (found === undefined) {
      if (GROUPS.includes(first)) {
        const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name);
        const second = argv[1];
        if (second === '--help' || second === '-h') {
          process.stdout.write(
            `usage: ${subs.map((s) => `tessera ${s}`).join('\n       ')}\n\nRun tessera ${first} <subcommand> --help for one of them.\n`,
          );
          return EXIT.ok;
        }
        throw new UsageError(
          `${second === undefined ? `'${first}' needs a subcommand` : `unknown subcommand '${first} ${second}'`}: ${subs.join(', ')}`,
        );
      }
      throw new UsageError(`unknown command '${first}' (run tessera --help for the list)`);
    }
    const parsed = parseCommand(found.command, found.rest);
    if (parsed.help) {
      process.stdout.write(helpText(found.command));
      return EXIT.ok;
    }
    return await found.command.run(parsed, out);
  } catch (error) {
    return report(out, error);
  }
}

/** One line for the user; a stack only for a bug, and only with TESSERA_DEBUG. */
function report(out: Output, error: unknown): number {
  let failure: CliError;
  if (error instanceof CliError) {
    failure = error;
  } else if (error instanceof TesseraError) {
    // A library refusal reaching here is about the input (a key, a token, an option).
    failure = new CliError(error.message, EXIT.usage, error.code);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    failure = new CliError(
      `internal error: ${redactUrls(message)} (rerun with TESSERA_DEBUG=1 for details)`,
      EXIT.internal,
      'internal',
    );
    if (process.env.TESSERA_DEBUG === '1' && error instanceof Error && error.stack !== undefined) {
      process.stderr.write(`${error.stack}\n`);
    }
  }
  if (out.json)
    process.stdout.write(
      `${JSON.stringify({ error: { code: failure.code, message: failure.message, exitCode: failure.exitCode } }, null, 2)}\n`,
    );
  out.error(failure.message);
  if (failure instanceof UsageError) out.note('(run with --help for usage)');
  return failure.exitCode;
}

// `tessera users list | head -1`: the reader left; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
});
// Whatever escapes (a driver's background error...) still ends as one line, not a stack.
process.on('uncaughtException', (error) => {
  process.exit(report(new Output(false), error));
});

const code = await main(process.argv.slice(2));
// Let stdout drain before exiting (a pipe may still hold the output).
process.exitCode = code;
// A connection pool or socket left open must not keep a finished command alive.
setTimeout(() => process.exit(code), 2000).unref();
