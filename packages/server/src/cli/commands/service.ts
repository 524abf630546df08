/** `tessera serve`, `tessera migrate`, `tessera purge-expired`: the service and its upkeep. */
import { type Command, str } from '../command.js';
import { EXIT, storeUnavailable } from '../errors.js';
import { describeStore, openService, serviceConfig } from '../service-env.js';
import { nowSeconds } from '../time.js';

const CONFIG_HELP = `Configuration: the service's environment (TESSERA_DATA_DIR, DATABASE_URL, REDIS_URL,
TESSERA_TABLE_PREFIX, ...) and TESSERA_CONFIG, as for npm start (docs/service.md).`;

export const serve: Command = {
  name: 'serve',
  summary: 'Run the auth service in the foreground (what npm start runs).',
  usage: 'serve [--port <port>] [--host <host>]',
  help: `
Prints where it listens and how to sign in; SIGTERM or Ctrl-C drains requests and
exits 0. Exit 2 for a configuration mistake, 3 when the stores cannot be opened.

Options:
  --port <port>     listen port (default PORT, else 8080)
  --host <host>     listen address (default HOST, else 127.0.0.1)

${CONFIG_HELP}

Examples:
  TESSERA_DATA_DIR=/var/lib/tessera tessera serve --port 9000`,
  options: { port: { type: 'string' }, host: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(args) {
    const overrides: Record<string, string> = {};
    const port = str(args, 'port');
    const host = str(args, 'host');
    if (port !== undefined) overrides.PORT = port;
    if (host !== undefined) overrides.HOST = host;
    const config = serviceConfig(overrides);
    // Loaded only for serve: the HTTP app is most of the service's code.
    const { serveForeground } = await import('../../serve.js');
    try {
      await serveForeground(config);
    } catch (error) {
      throw storeUnavailable(error);
    }
    // Runs until a signal: serveForeground exits the process once drained.
    return new Promise<number>(() => undefined);
  },
};

export const migrate: Command = {
  name: 'migrate',
  summary: 'Create or update the database schema, then exit.',
  usage: 'migrate',
  help: `
Runs the schema migrations of the service's tables and of its token store; safe to run
again (nothing changes when the schema is current). The service also migrates at start;
run this first when several instances start together, or to check the database.

${CONFIG_HELP}

Examples:
  DATABASE_URL=postgres://tessera@db/tessera tessera migrate`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, out) {
    const config = serviceConfig();
    const handle = await openService(config, { create: true });
    await handle.close();
    const store = describeStore(config);
    out.result({ migrated: true, store });
    out.line(`schema up to date: ${store}`);
    return EXIT.ok;
  },
};

export const purgeExpired: Command = {
  name: 'purge-expired',
  summary: 'Delete revocations and sessions past their expiry from the token store.',
  usage: 'purge-expired',
  help: `
The service purges hourly on its own; this runs the purge now (after a big revocation,
or from cron when the service is not running). Progress goes to stderr.

${CONFIG_HELP}

Examples:
  tessera purge-expired --json`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, out) {
    const config = serviceConfig();
    const store = describeStore(config);
    out.progress(`purge-expired: opening ${store}...`);
    const handle = await openService(config);
    try {
      out.progress('purge-expired: deleting expired revocations, cut-offs and sessions...');
      const started = Date.now();
      let removed: number;
      try {
        removed = await handle.stores.tokenStore.purgeExpired(nowSeconds());
      } catch (error) {
        throw storeUnavailable(error);
      }
      out.progress(
        `purge-expired: done, ${removed} entr${removed === 1 ? 'y' : 'ies'} removed in ${Date.now() - started} ms`,
      );
      out.done();
      out.result({ removed, store });
      out.line(`removed ${removed} expired entr${removed === 1 ? 'y' : 'ies'} from ${store}`);
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};
