/**
 * Running the service in the foreground, shared by `npm start` (./main.ts) and
 * `tessera serve` (./cli): start it, print where it listens and how to sign in,
 * and stop cleanly on SIGTERM/SIGINT (exit 0 once drained).
 */
import type { ServiceConfig } from './config.js';
import { type RunningService, startService } from './service.js';

/** Start the service and print its banner; rejects when the stores cannot be opened (nothing printed). */
export async function serveForeground(config: ServiceConfig): Promise<RunningService> {
  const service = await startService(config);
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
  return service;
}
