/**
 * Starting and stopping the service: open the stores (migrated), load or make
 * the signing keys, build the token managers and the app, make the first
 * admin, listen, and on `close()` drain the requests in flight before the
 * connections go.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino, { type DestinationStream, type Logger } from 'pino';
import { TokenManager, type TokenManagerOptions, type TokenStore } from 'tessera-auth';
import { refuseUnknownOptions } from 'tessera-auth/core';
import { Accounts, type ThrottleLike } from './accounts.js';
import { ApiKeys, Invites } from './api-keys.js';
import { createApp, type InFlight } from './app.js';
import { Audit } from './audit.js';
import { passwordOptions, type ServiceConfig } from './config.js';
import type { ServiceContext } from './context.js';
import { openStores } from './db/connect.js';
import { ServiceKeys } from './keys.js';
import {
  calibratePasswordTiming,
  configurePasswords,
  hashPassword,
  passwordParameters,
  startPasswordThreads,
} from './passwords/index.js';
import { createThrottle } from './throttle/index.js';
import { identityOf, TokenSubject, UsernameTakenError, Users } from './users.js';

/** A running service. */
export interface RunningService {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly server: Server;
  readonly context: ServiceContext;
  /** The first admin made on this start, with its generated password (shown once), if one was made. */
  readonly createdAdmin: { username: string; password: string | undefined } | undefined;
  /** Requests being handled now. */
  requestsInFlight(): number;
  /**
   * Stop: /readyz answers 503 at once, the listener closes after `drainDelay`
   * seconds, requests in flight finish (bounded by `shutdownTimeout`), then the stores close.
   */
  close(): Promise<void>;
}

/** Where logs go (tests pass a stream to read them). */
export interface StartOptions {
  logDestination?: DestinationStream;
}

/** Paths pino blanks wherever they appear: never a secret, token or password in a log. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'new_password',
  '*.new_password',
  'current_password',
  '*.current_password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'refresh',
  '*.refresh',
  'access',
  '*.access',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'cookie',
  '*.cookie',
];

export function createLogger(
  config: Pick<ServiceConfig, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'tessera' },
    },
    destination,
  );
}

/** Start the service with a validated configuration. */
export async function startService(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<RunningService> {
  refuseUnknownOptions(options, ['logDestination'], 'startService options');
  const log = createLogger(config, options.logDestination);
  // The argon2id cost of new hashes and the bound on concurrent hashing, before any password is touched.
  configurePasswords(passwordOptions(config));
  // Started before any sign-in, so that the first one (and the refusal floor learnt below) does not wait for a thread.
  const niceness = await startPasswordThreads();
  log.debug({ passwordThreads: niceness.length, nice: niceness }, 'password threads started');
  const warn = (message: string) => (error: unknown) =>
    log.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, message);
  const stores = await openStores(config, warn('store connection error'));
  const cleanup: (() => Promise<void> | void)[] = [() => stores.close()];
  try {
    const database = stores.database;
    const keys = new ServiceKeys(database, config, (message, error) => warn(message)(error));
    await keys.start();
    cleanup.unshift(() => keys.stop());
    if (config.keyEncryptionKey === undefined) {
      log.warn('TESSERA_KEY_ENCRYPTION_KEY is not set: private signing keys are stored unencrypted');
    }

    const users = new Users(database);
    const audit = new Audit(database, (message, error) => warn(message)(error));
    const apiKeys = new ApiKeys(database);
    const common = (profile: ServiceConfig['profile']) =>
      tokenManagerOptions(config, profile, { keys, store: stores.tokenStore });
    const manager = new TokenManager(common(config.profile));
    const simpleJwt = config.profile === 'simplejwt' ? manager : new TokenManager(common('simplejwt'));

    // Redis when configured, else the service's database: locks outlive a restart either way.
    const throttle = createThrottle(
      stores.redis === undefined
        ? { database: stores.database }
        : { redis: stores.redis, prefix: `${config.redisPrefix}throttle:` },
    );
    cleanup.unshift(() => throttle.close());
    const accounts = new Accounts({
      users,
      throttle: throttle satisfies ThrottleLike,
      audit,
      apiKeys,
      managers: manager === simpleJwt ? [manager] : [manager, simpleJwt],
    });

    let draining = false;
    const context: ServiceContext = {
      config,
      log,
      stores,
      keys,
      manager,
      simpleJwt,
      users,
      accounts,
      apiKeys,
      invites: new Invites(database),
      audit,
      draining: () => draining,
    };

    const createdAdmin = await ensureAdmin(context);
    // Refusals must take as long as the slowest stored hash kind (passwords/timing.ts): learn them before serving.
    await calibratePasswordTiming(await users.hashesOtherThan(passwordParameters(), 1000));

    // Revocations and sessions past their expiry are dead weight: purge them hourly.
    const purge = setInterval(() => {
      stores.tokenStore.purgeExpired(Math.floor(Date.now() / 1000)).catch(warn('purge failed'));
    }, 3_600_000);
    purge.unref();
    cleanup.unshift(() => clearInterval(purge));

    const inFlight: InFlight = { count: 0 };
    const app = createApp(context, inFlight);
    const server = await listen(app.fetch, config.port, config.host);
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    log.info(
      { url, database: stores.database.dialect, redis: stores.redis !== undefined, profile: config.profile },
      'listening',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      server,
      context,
      createdAdmin,
      requestsInFlight: () => inFlight.count,
      close() {
        closing ??= (async () => {
          draining = true;
          // /readyz answers 503 from now on while requests are still served, so that a load balancer
          // takes the instance out before its listener closes.
          if (config.drainDelay > 0) {
            log.info(
              { seconds: config.drainDelay },
              'draining: /readyz answers 503 before the listener closes',
            );
            await new Promise((resolve) => setTimeout(resolve, config.drainDelay * 1000));
          }
          // close() stops accepting and ends idle keep-alive connections; a connection with a
          // request in flight ends once its response is written. Past the timeout, cut the rest.
          const closed = new Promise<void>((done) => server.close(() => done()));
          server.closeIdleConnections();
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<boolean>((done) => {
            timer = setTimeout(() => done(true), config.shutdownTimeout * 1000);
          });
          if (await Promise.race([closed.then(() => false), timedOut])) {
            log.warn({ inFlight: inFlight.count }, 'shutdown timeout: closing the remaining connections');
            server.closeAllConnections();
          }
          clearTimeout(timer);
          await closed;
          for (const step of cleanup) await step();
          log.info('stopped');
          log.flush?.();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => undefined);
    throw error;
  }
}

/**
 * The options of the service's token managers, one per profile: shared with the
 * CLI (packages/server/src/cli), which revokes and verifies exactly as the service does.
 */
export function tokenManagerOptions(
  config: ServiceConfig,
  profile: ServiceConfig['profile'],
  deps: { keys: ServiceKeys; store: TokenStore },
): TokenManagerOptions {
  const { keys, store } = deps;
  const https = config.publicUrl?.startsWith('https:') ?? false;
  return {
    profile,
    keys,
    // Refresh tokens only this service reads: an HMAC key derived from the signing key (keys.ts).
    ...(profile === 'standard' && config.refreshKey === 'derived' ? { refreshKeys: keys.refreshKeys } : {}),
    store,
    accessTokenExpires: config.accessTokenExpires,
    refreshTokenExpires: config.refreshTokenExpires,
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    tokenLocation: ['headers', 'cookies'],
    // `__Host-` names and Secure under https; plain names on a local http address.
    cookies: { secure: https, hostPrefix: https, sameSite: 'Lax' },
    csrf: { protect: true },
    rotation: { enabled: true, graceSeconds: 5, blacklistAfterRotation: profile === 'simplejwt' },
    verifiedTokenCache: 10_000,
    callbacks: {
      // Sign-ins mint for a TokenSubject (the user row just read): its identity claim in this profile.
      // Any other identity is a claim value already (a re-issue, a revocation, a session listing).
      userIdentity: (identity: unknown) =>
        identity instanceof TokenSubject ? identityOf(profile, identity.user) : identity,
      // Roles ride in every token: at sign-in from the row just read; a refresh carries the presented
      // token's claims over, roles included (they win over this callback's), so it reads nothing. A
      // role change revokes every token of the user, so no token outlives the roles it carries.
      additionalClaims: (identity: unknown) =>
        identity instanceof TokenSubject ? { roles: [...identity.user.roles] } : {},
    },
  };
}

function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  port: number,
  hostname: string,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * The first admin: from TESSERA_ADMIN_USERNAME/PASSWORD when set (made if
 * absent, never overwritten), else, when there is no user at all, `admin` with
 * a generated password that is returned once for `main` to print.
 */
async function ensureAdmin(ctx: ServiceContext): Promise<RunningService['createdAdmin']> {
  const { config, users, audit } = ctx;
  let username: string;
  let password: string | undefined;
  if (config.adminUsername !== undefined && config.adminPassword !== undefined) {
    if ((await users.byUsername(config.adminUsername)) !== undefined) return undefined;
    username = config.adminUsername;
    password = config.adminPassword;
  } else {
    if ((await users.count()) > 0) return undefined;
    username = 'admin';
    password = randomBytes(18).toString('base64url');
  }
  try {
    await users.create({ username, passwordHash: await hashPassword(password), roles: ['admin'] });
  } catch (error) {
    // Another instance made it first.
    if (error instanceof UsernameTakenError) return undefined;
    throw error;
  }
  await audit.record({ type: 'admin.created', subject: username });
  return { username, password: config.adminPassword === undefined ? password : undefined };
}
