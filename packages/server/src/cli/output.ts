/**
 * Where the CLI writes: results to stdout (text or `--json`), diagnostics and
 * progress to stderr. Colour only on a terminal and never under NO_COLOR.
 */

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
type Style = keyof typeof CODES;

/** Whether a stream may be coloured: a TTY, and NO_COLOR unset or empty (no-color.org's rule). */
export function colourFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** The output of one command run. */
export class Output {
  readonly json: boolean;
  readonly #colour: boolean;
  readonly #errColour: boolean;
  readonly #errTty: boolean;
  #progressShown = false;

  constructor(json: boolean) {
    this.json = json;
    this.#colour = colourFor(process.stdout);
    this.#errColour = colourFor(process.stderr);
    this.#errTty = process.stderr.isTTY === true;
  }

  /** Style text for stdout. */
  style(style: Style, text: string): string {
    return this.#colour ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
  }

  /** A line of the human result (ignored under --json: the JSON is the result). */
  line(text = ''): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  /** Raw stdout (a key, a token: the requested output). */
  raw(text: string): void {
    process.stdout.write(text);
  }

  /** The `--json` result: one JSON document on stdout. */
  result(value: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A diagnostic on stderr (both modes). */
  note(text: string): void {
    this.#endProgress();
    process.stderr.write(`${text}\n`);
  }

  /** A one-line error on stderr. */
  error(text: string): void {
    this.#endProgress();
    const label = this.#errColour ? `\u001b[31mtessera: error:\u001b[0m` : 'tessera: error:';
    process.stderr.write(`${label} ${text}\n`);
  }

  /**
   * Progress of long work on stderr: rewritten in place on a terminal, one line
   * per call otherwise (so logs and tests see it).
   */
  progress(text: string): void {
    if (this.#errTty) {
      process.stderr.write(`\r\u001b[2K${text}`);
      this.#progressShown = true;
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  #endProgress(): void {
    if (this.#progressShown) {
      process.stderr.write('\n');
      this.#progressShown = false;
    }
  }

  /** Finish a progress line. */
  done(): void {
    this.#endProgress();
  }
}
