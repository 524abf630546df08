/**
 * `npm start`: read the configuration, start the service, print where it
 * listens and how to sign in, and stop cleanly on SIGTERM/SIGINT.
 * Exit status 2 for a configuration mistake, 1 when the stores cannot be opened.
 * `npm start -- import ...` imports users instead (./import-command.ts).
 */
import { loadConfig, ServiceConfigError } from './config.js';
import { runImport } from './import-command.js';
import { startService } from './service.js';

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

const service = await startService(config).catch((error: unknown) => {
  process.stderr.write(`tessera: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

const base = service.url;
const admin = service.createdAdmin;
const lines = [
  `Tessera auth service listening on ${base}`,
  `  data: ${config.databaseUrl === undefined ? `SQLite in ${config.dataDir}` : 'PostgreSQL'}${config.redisUrl === undefined ? '' : ' + Redis'}; profile ${config.profile}; reference ${base}/docs`,
];
if (admin?.password !== undefined) {
  lines.push(
    `  First admin created: ${admin.username} / ${admin.password}`,
    '  (this password is shown once and never again: sign in and change it)',
  );
} else if (admin !== undefined) {
  lines.push(`  First admin created: ${admin.username} (password from TESSERA_ADMIN_PASSWORD)`);
}
lines.push(
  '',
  `  curl -s -X POST ${base}/auth/login -H 'content-type: application/json' -d '{"username":"admin","password":"..."}'`,
  `  curl -s ${base}/auth/me -H "Authorization: Bearer <access_token>"`,
  `  curl -s -X POST ${base}/auth/refresh -H "Authorization: Bearer <refresh_token>"`,
  `  curl -s ${base}/.well-known/jwks.json`,
  '',
);
process.stdout.write(`${lines.join('\n')}\n`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  service.context.log.info({ signal }, 'shutting down: draining requests');
  service.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
