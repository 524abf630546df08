/**
 * One server of the service benchmark, run as a child process by
 * bench/service.ts: the Tessera service (packages/server, started the way
 * `npm start` starts it) or better-auth 1.7 (email and password, its JWT
 * plugin) on SQLite or PostgreSQL. Seeds BENCH_USERS users with one password,
 * then prints one JSON line `{"ready":true,"url":...}` on stdout.
 *
 * Environment: BENCH_TARGET (tessera | better-auth), BENCH_DIR (scratch
 * directory), BENCH_USERS, BENCH_PASSWORD, DATABASE_URL (PostgreSQL; absent:
 * SQLite), REDIS_URL (tessera), BENCH_ARGON2 (`m,t,p`, tessera),
 * BENCH_MAX_CONCURRENT (tessera), BENCH_UPDATE_AGE (better-auth session
 * updateAge in seconds; 0 renews the session on every check).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const target = process.env.BENCH_TARGET ?? 'tessera';
const dir = process.env.BENCH_DIR ?? '.';
const users = Number(process.env.BENCH_USERS ?? 100);
const password = process.env.BENCH_PASSWORD ?? 'bench-password-1';
const databaseUrl = process.env.DATABASE_URL;

function ready(info: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, ...info })}\n`);
}

async function tessera(): Promise<void> {
  const { hashPassword, passwordParameters } = await import('../packages/server/src/passwords/index.js');
  const [m, t, p] = (process.env.BENCH_ARGON2 ?? '19456,2,1').split(',');
  const max = process.env.BENCH_MAX_CONCURRENT;
  const { loadConfig } = await import('../packages/server/src/config.js');
  const { startService } = await import('../packages/server/src/service.js');
  // The cost goes through the service's own settings: startService applies them (configurePasswords).
  const config = loadConfig({
    ...process.env,
    TESSERA_ARGON2_MEMORY_KIB: m,
    TESSERA_ARGON2_ITERATIONS: t,
    TESSERA_ARGON2_PARALLELISM: p,
    ...(max === undefined ? {} : { TESSERA_PASSWORD_CONCURRENCY: max }),
    // The bench stops its servers with SIGTERM: no load balancer to wait for.
    TESSERA_DRAIN_DELAY: '0',
    PORT: '0',
    HOST: '127.0.0.1',
    TESSERA_DATA_DIR: dir,
    TESSERA_TRUST_PROXY: 'true',
    TESSERA_ADMIN_USERNAME: 'admin',
    TESSERA_ADMIN_PASSWORD: password,
    LOG_LEVEL: 'warn',
  });
  const service = await startService(config);
  // One hash for every bench user: seeding stays fast at any cost setting, each sign-in still verifies in full.
  const hash = await hashPassword(password);
  for (let i = 0; i < users; i++) {
    if ((await service.context.users.byUsername(`user${i}`)) === undefined) {
      await service.context.users.create({ username: `user${i}`, passwordHash: hash });
    }
  }
  ready({ url: service.url, passwords: passwordParameters() });
  process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
}

async function betterAuth(): Promise<void> {
  const { betterAuth: create } = await import('better-auth');
  const { jwt } = await import('better-auth/plugins');
  const { toNodeHandler } = await import('better-auth/node');
  const { getMigrations } = await import('better-auth/db/migration');
  let database: unknown;
  if (databaseUrl === undefined) {
    // A CommonJS module: its constructor is the default export at run time, the module itself to the types.
    const loaded = (await import('better-sqlite3')) as unknown as {
      default: typeof import('better-sqlite3');
    };
    const Database = loaded.default;
    const db = new Database(join(dir, 'better-auth.sqlite'));
    db.pragma('journal_mode = WAL');
    database = db;
  } else {
    const { default: pg } = await import('pg');
    database = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  }
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const updateAge = Number(process.env.BENCH_UPDATE_AGE ?? 86_400);
  const options = {
    database,
    baseURL: url,
    secret: 'bench-secret-bench-secret-bench-secret-0123',
    emailAndPassword: { enabled: true },
    session: { updateAge },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    plugins: [jwt()],
  } as Parameters<typeof create>[0];
  const auth = create(options);
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  // One real sign-up gives the hash (scrypt N=16384, r=16, p=1); the other users reuse it.
  await auth.api.signUpEmail({ body: { email: 'user0@bench.test', password, name: 'user0' } });
  const ctx = await auth.$context;
  const first = await ctx.internalAdapter.findUserByEmail('user0@bench.test', { includeAccounts: true });
  const hash = first?.accounts.find((a) => a.providerId === 'credential')?.password;
  if (typeof hash !== 'string') throw new Error('better-auth: no credential hash after sign-up');
  for (let i = 1; i < users; i++) {
    const email = `user${i}@bench.test`;
    if ((await ctx.internalAdapter.findUserByEmail(email)) !== null) continue;
    const user = await ctx.internalAdapter.createUser(
      { email, name: `user${i}`, emailVerified: false },
      { method: 'email-password' },
    );
    await ctx.internalAdapter.linkAccount({
      userId: user.id,
      providerId: 'credential',
      accountId: user.id,
      password: hash,
    });
  }
  server.on('request', toNodeHandler(auth));
  ready({ url, hash: hash.slice(0, 0) });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

(target === 'better-auth' ? betterAuth() : tessera()).catch((error: unknown) => {
  process.stderr.write(
    `service-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
