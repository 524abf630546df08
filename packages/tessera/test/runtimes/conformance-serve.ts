/**
 * The conformance server under Bun (Bun.serve) or Deno (Deno.serve) on
 * 127.0.0.1, port 0. Prints `LISTENING <port>`; the configuration is read from
 * the JSON file named by the last argument.
 */
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
const text =
  typeof Deno !== 'undefined' ? await Deno.readTextFile(file) : await (Bun?.file(file).text() ?? '{}');
const handler = conformanceServer(JSON.parse(text) as ConformanceServerConfig);

if (typeof Bun !== 'undefined') {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler });
  console.log(`LISTENING ${server.port}`);
} else if (typeof Deno !== 'undefined') {
  Deno.serve(
    { port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(`LISTENING ${port}`) },
    handler,
  );
}
