/**
 * Serving a fetch handler on whichever runtime runs the bundle: Bun (Bun.serve),
 * Deno (Deno.serve) or Node (the Fetch adapter's serveFetch), on 127.0.0.1 at
 * an ephemeral port, announced as `LISTENING <port>` on stdout for the test
 * that spawned it. Bun and Deno both look like Node (`process.versions.node`),
 * so they are asked for first.
 */
import { serveFetch } from 'tessera-auth/fetch';

type Handler = (request: Request) => Promise<Response>;

declare const Bun:
  | {
      serve(options: { port: number; hostname: string; fetch: Handler }): { port: number };
      file(path: string): { text(): Promise<string> };
    }
  | undefined;
declare const Deno:
  | {
      args: string[];
      readTextFile(path: string): Promise<string>;
      serve(
        options: { port: number; hostname: string; onListen: (addr: { port: number }) => void },
        handler: Handler,
      ): unknown;
    }
  | undefined;
declare const process: { argv: string[] } | undefined;

/** The last command-line argument (the test passes its configuration there). */
export function lastArgument(): string {
  const args = typeof Deno !== 'undefined' ? Deno.args : (process?.argv.slice(2) ?? []);
  return args[args.length - 1] ?? '';
}

/** The text of a file, read with the runtime's own API. */
export async function readText(path: string): Promise<string> {
  if (typeof Deno !== 'undefined') return Deno.readTextFile(path);
  if (typeof Bun !== 'undefined') return Bun.file(path).text();
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

/** Serve `handler` and print `LISTENING <port>`. */
export async function serveHere(handler: Handler): Promise<void> {
  if (typeof Bun !== 'undefined') {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler });
    console.log(`LISTENING ${server.port}`);
  } else if (typeof Deno !== 'undefined') {
    Deno.serve(
      { port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(`LISTENING ${port}`) },
      handler,
    );
  } else {
    const server = await serveFetch(handler, { port: 0, hostname: '127.0.0.1' });
    console.log(`LISTENING ${server.port}`);
  }
}
