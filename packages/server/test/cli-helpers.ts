/**
 * Running the built `tessera` binary as a user would: a child process with its
 * own environment (a temporary TESSERA_DATA_DIR), its exit code, stdout and stderr.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'packages/server/dist/cli/main.js');
/** The link npm makes at install for the workspace's bin (bin/tessera.mjs, which runs the build). */
export const LINKED_BIN = join(ROOT, 'node_modules/.bin/tessera');
const SRC = join(ROOT, 'packages/server/src');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Build the server package (tsc -b) unless dist is newer than every source file.
 * Type errors in files other than the CLI's (other work in progress) do not stop
 * the test as long as the CLI's JavaScript was emitted fresh; errors in the CLI do.
 */
export function buildCli(): void {
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newestSource(SRC)) return;
  const result = spawnSync('npx', ['tsc', '-b', 'packages/server'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status === 0) return;
  const output = `${result.stdout}${result.stderr}`;
  const cliErrors = output.split('\n').filter((line) => line.includes('src/cli/'));
  if (cliErrors.length > 0 || !existsSync(BIN) || statSync(BIN).mtimeMs < newestSource(join(SRC, 'cli'))) {
    throw new Error(`tsc -b packages/server failed:\n${output}`);
  }
  process.stderr.write(
    `cli tests: tsc reported errors outside src/cli (ignored, the CLI built):\n${output.slice(0, 2000)}\n`,
  );
}

/** What a run of the binary gave. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

/** The environment of a run: nothing of the caller's TESSERA_* or database settings leaks in. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(TESSERA_|DATABASE_URL|REDIS_URL|PORT$|HOST$|NO_COLOR|FORCE_COLOR)/.test(name)) continue;
    env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** Run `node dist/cli/main.js ...args` (or another executable) to completion. */
export function runCli(
  args: readonly string[],
  options: { env: Record<string, string | undefined>; input?: string; cwd?: string; bin?: string },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const command = options.bin ?? process.execPath;
    const argv = options.bin === undefined ? [BIN, ...args] : [...args];
    const child = spawn(command, argv, {
      env: cliEnv(options.env),
      cwd: options.cwd ?? tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
    child.stdin.end(options.input ?? '');
  });
}

/** A running `tessera serve` child process. */
export interface ServedService {
  readonly base: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

/** Start `tessera serve --port 0` and wait for its banner. */
export function serveCli(env: Record<string, string | undefined>): Promise<ServedService> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: cliEnv({ LOG_LEVEL: 'warn', ...env }),
      cwd: tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera serve did not start in 15 s:\n${output}`));
    }, 15_000);
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve({
          base: match[1]!,
          child,
          output: () => output,
          async stop() {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited with ${code} before listening:\n${output}`));
    });
  });
}

/** A new temporary directory, removed with {@link removeTemp}. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-cli-'));
}

export function removeTemp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A stack trace line (`    at fn (file:line:col)`): never shown for a user's mistake. */
export const STACK_LINE = /^\s+at .+[:(]/m;
