/**
 * `npm start`: read the configuration, start the service (./serve.ts: print where it
 * listens and how to sign in, stop cleanly on SIGTERM/SIGINT).
 * Exit status 2 for a configuration mistake, 1 when the stores cannot be opened.
 * `npm start -- import ...` imports users instead (./import-command.ts).
 */
import { loadConfig, ServiceConfigError } from './config.js';
import { runImport } from './import-command.js';
import { serveForeground } from './serve.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ServiceConfigError) {
    process.stderr.write(`tessera: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

if (process.argv[2] === 'import') {
  process.exit(await runImport(config, process.argv.slice(3)));
}

await serveForeground(config).catch((error: unknown) => {
  process.stderr.write(`tessera: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
