/**
 * A command of the CLI: its name, its help text and its options (node:util
 * parseArgs), and the function that runs it. Every command takes `--help`
 * and `--json`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { Output } from './output.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** The parsed command line of one command. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;
  readonly positionals: readonly string[];
}

/** One command. */
export interface Command {
  /** `keygen`, `token decode`, ... */
  readonly name: string;
  /** One line for `tessera --help`. */
  readonly summary: string;
  /** The usage line(s), after `tessera `. */
  readonly usage: string;
  /** The rest of the help: what it does, options, examples. */
  readonly help: string;
  readonly options: OptionSpec;
  /** How many positionals it takes. */
  readonly positionals: { min: number; max: number };
  run(args: Parsed, out: Output): Promise<number>;
}

/** Options every command has. */
export const COMMON_OPTIONS: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
};

/** Parse a command's arguments; a mistake is a {@link UsageError} naming it. */
export function parseCommand(command: Command, argv: readonly string[]): Parsed & { help: boolean } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs' messages end with advice about '--' that reads oddly here; keep the first sentence.
    const message = error instanceof Error ? (error.message.split('. ')[0] ?? error.message) : String(error);
    throw new UsageError(`${command.name}: ${message.replace(/\.$/, '')}`);
  }
  const help = parsed.values.help === true;
  if (!help) {
    const n = parsed.positionals.length;
    if (n < command.positionals.min) {
      throw new UsageError(
        `${command.name}: missing argument (usage: tessera ${command.usage.split('\n')[0]})`,
      );
    }
    if (n > command.positionals.max) {
      throw new UsageError(
        `${command.name}: unexpected argument '${parsed.positionals[command.positionals.max]}'`,
      );
    }
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals, help };
}

/** The full help of a command. */
export function helpText(command: Command): string {
  const usage = command.usage
    .split('\n')
    .map((line, i) => `${i === 0 ? 'usage: ' : '       '}tessera ${line}`)
    .join('\n');
  return `${usage}\n\n${command.summary}\n\n${command.help.trim()}\n\nCommon options:\n  --json        machine-readable output on stdout (stable keys)\n  -h, --help    this help\n\nExit codes: 0 ok, 1 check failed, 2 usage or configuration error, 3 store unavailable, 4 file or URL error (docs/cli.md).\n`;
}

/** Read a string option (undefined when absent). */
export function str(args: Parsed, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Read a repeatable string option. */
export function strings(args: Parsed, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Read a boolean flag. */
export function flag(args: Parsed, name: string): boolean {
  return args.values[name] === true;
}

/** Read a positive integer option. */
export function int(args: Parsed, name: string, fallback: number, min = 0): number {
  const text = str(args, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name} must be an integer of at least ${min}, not '${text}'`);
  }
  return Number(text);
}
