/**
 * The conformance server under Bun (Bun.serve), Deno (Deno.serve) or Node (the
 * Fetch adapter's serveFetch) on 127.0.0.1, port 0. Prints `LISTENING <port>`;
 * the configuration is read from the JSON file named by the last argument.
 */
import { serveFetch } from 'tessera-auth/fetch';
import { type ConformanceServerConfig, conformanceServer } from './conformance-app.js';

declare const Bun:
  | {
      serve(options: { port: number; hostname: string; fetch: (r: Request) => Promise<Response> }): {
        port: number;
      };
      file(path: string): { text(): Promise<string> };
    }
  | undefined;
declare const Deno:
  | {
      args: string[];
      readTextFile(path: string): Promise<string>;
      serve(
        options: { port: number; hostname: string; onListen: (addr: { port: number }) => void },
        handler: (r: Request) => Promise<Response>,
      ): unknown;
    }
  | undefined;
declare const process: { argv: string[] } | undefined;

const args = typeof Deno !== 'undefined' ? Deno.args : (process?.argv.slice(2) ?? []);
const file = args[args.length - 1] ?? '';
async function readConfig(): Promise<string> {
  if (typeof Deno !== 'undefined') return Deno.readTextFile(file);
  if (typeof Bun !== 'undefined') return Bun.file(file).text();
  const { readFile } = await import('node:fs/promises');
  return readFile(file, 'utf8');
}
const text = await readConfig();
const handler = conformanceServer(JSON.parse(text) as ConformanceServerConfig);

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
