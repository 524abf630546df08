/**
 * The service's configuration: environment variables, optionally on top of a
 * JSON file (`TESSERA_CONFIG`), validated once at start. A mistake stops the
 * service with a message naming the setting, never at the first request.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { toSeconds } from 'tessera-auth/core';
import { z } from 'zod';
import type { PasswordOptions } from './passwords/index.js';
import { HASH_LIMITS } from './passwords/limits.js';
import { OWASP_ARGON2ID } from './passwords/owasp.js';
import { DEFAULT_PASSWORD_NICE } from './passwords/threads.js';

/** A configuration mistake: `main` prints it and exits with status 2. */
export class ServiceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceConfigError';
  }
}

const SIGNING_ALGORITHMS = [
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
] as const;

/** Algorithms the service can sign with. */
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const duration = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  try {
    const seconds = toSeconds(value, 'duration');
    if (seconds <= 0) throw new Error('must be positive');
    return seconds;
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `not a duration: ${String(value)} (use seconds or 15m, 12h, 30d)`,
    });
    return z.NEVER;
  }
});

/** A duration that may be 0 (seconds, or 5s, 1m). */
const pause = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  try {
    const seconds = value === '0' ? 0 : toSeconds(value, 'duration');
    if (!(seconds >= 0) || seconds > 300) throw new Error('out of range');
    return seconds;
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `not a pause from 0 to 300 seconds: ${String(value)} (use 0, 5 or 5s)`,
    });
    return z.NEVER;
  }
});

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => {
  return typeof v === 'boolean' ? v : v === 'true' || v === '1' || v === 'yes';
});

const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

/** Every setting, with its environment variable: the schema below and docs/service.md follow this table. */
export const ENVIRONMENT: Readonly<Record<string, string>> = {
  port: 'PORT',
  host: 'HOST',
  dataDir: 'TESSERA_DATA_DIR',
  sqliteSynchronous: 'TESSERA_SQLITE_SYNCHRONOUS',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  tablePrefix: 'TESSERA_TABLE_PREFIX',
  redisPrefix: 'TESSERA_REDIS_PREFIX',
  publicUrl: 'TESSERA_PUBLIC_URL',
  profile: 'TESSERA_PROFILE',
  signingAlgorithm: 'TESSERA_SIGNING_ALG',
  refreshKey: 'TESSERA_REFRESH_KEY',
  keyEncryptionKey: 'TESSERA_KEY_ENCRYPTION_KEY',
  keyRotation: 'TESSERA_KEY_ROTATION',
  keyGrace: 'TESSERA_KEY_GRACE',
  keyPoll: 'TESSERA_KEY_POLL',
  accessTokenExpires: 'TESSERA_ACCESS_TTL',
  refreshTokenExpires: 'TESSERA_REFRESH_TTL',
  issuer: 'TESSERA_ISSUER',
  audience: 'TESSERA_AUDIENCE',
  registration: 'TESSERA_REGISTRATION',
  passwordMinLength: 'TESSERA_PASSWORD_MIN_LENGTH',
  argon2MemoryKiB: 'TESSERA_ARGON2_MEMORY_KIB',
  argon2Iterations: 'TESSERA_ARGON2_ITERATIONS',
  argon2Parallelism: 'TESSERA_ARGON2_PARALLELISM',
  passwordConcurrency: 'TESSERA_PASSWORD_CONCURRENCY',
  passwordNice: 'TESSERA_PASSWORD_NICE',
  adminUsername: 'TESSERA_ADMIN_USERNAME',
  adminPassword: 'TESSERA_ADMIN_PASSWORD',
  corsOrigins: 'TESSERA_CORS_ORIGINS',
  trustProxy: 'TESSERA_TRUST_PROXY',
  maxBodyBytes: 'TESSERA_MAX_BODY',
  logLevel: 'LOG_LEVEL',
  shutdownTimeout: 'TESSERA_SHUTDOWN_TIMEOUT',
  drainDelay: 'TESSERA_DRAIN_DELAY',
};

const schema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default('127.0.0.1'),
    dataDir: z.string().min(1).default('.data'),
    // WAL + NORMAL: no fsync per commit (docs/service.md, "SQLite durability"); FULL: one per commit.
    sqliteSynchronous: z.enum(['normal', 'full']).default('normal'),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    tablePrefix: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,40}$/, 'identifier characters only')
      .default('tessera_'),
    redisPrefix: z.string().min(1).max(100).default('tessera:'),
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    profile: z.enum(['standard', 'flask-jwt-extended', 'simplejwt']).default('standard'),
    signingAlgorithm: z.enum(SIGNING_ALGORITHMS).default('EdDSA'),
    /**
     * What signs refresh tokens in the standard profile: an HS256 key derived from the signing key
     * (only this service reads refresh tokens), or the signing key itself. The Python profiles always
     * use the signing key: their peers may verify refresh tokens.
     */
    refreshKey: z.enum(['derived', 'signing']).default('derived'),
    keyEncryptionKey: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, 'must be 32 bytes, as 64 hex digits or base64')
      .optional(),
    keyRotation: duration.default(30 * 86_400),
    keyGrace: duration.optional(),
    keyPoll: duration.default(30),
    accessTokenExpires: duration.default(15 * 60),
    refreshTokenExpires: duration.default(30 * 86_400),
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    registration: z.enum(['open', 'invite', 'closed']).default('closed'),
    passwordMinLength: z.coerce.number().int().min(1).max(1024).default(8),
    // argon2id cost of new hashes: OWASP's m=19456 KiB, t=2, p=1 by default; bounds as for stored hashes.
    argon2MemoryKiB: z.coerce
      .number()
      .int()
      .min(8)
      .max(HASH_LIMITS.maxArgon2MemoryKiB)
      .default(OWASP_ARGON2ID.memoryCost),
    argon2Iterations: z.coerce
      .number()
      .int()
      .min(1)
      .max(HASH_LIMITS.maxArgon2TimeCost)
      .default(OWASP_ARGON2ID.timeCost),
    argon2Parallelism: z.coerce
      .number()
      .int()
      .min(1)
      .max(HASH_LIMITS.maxArgon2Parallelism)
      .default(OWASP_ARGON2ID.parallelism),
    /** Hashes and verifications at once; absent: one less than min(threadpool, cores), at least 1. */
    passwordConcurrency: z.coerce.number().int().min(1).max(64).optional(),
    /** Added to the nice value of the threads that hash: token requests first on a shared core. */
    passwordNice: z.coerce.number().int().min(0).max(19).default(DEFAULT_PASSWORD_NICE),
    adminUsername: z.string().min(1).max(150).optional(),
    adminPassword: z.string().min(1).max(1024).optional(),
    corsOrigins: list.default([]),
    trustProxy: bool.default(false),
    maxBodyBytes: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    shutdownTimeout: duration.default(10),
    // How long /readyz answers 503 before the listener closes, so a load balancer stops sending first
    // (loadConfig makes it 5 s when NODE_ENV=production).
    drainDelay: pause.default(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.adminUsername === undefined) !== (c.adminPassword === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['adminPassword'],
        message: 'TESSERA_ADMIN_USERNAME and TESSERA_ADMIN_PASSWORD go together',
      });
    }
    if (c.adminPassword !== undefined && c.adminPassword.length < c.passwordMinLength) {
      ctx.addIssue({
        code: 'custom',
        path: ['adminPassword'],
        message: `shorter than the minimum password length (${c.passwordMinLength})`,
      });
    }
    if (c.argon2MemoryKiB < 8 * c.argon2Parallelism) {
      ctx.addIssue({
        code: 'custom',
        path: ['argon2MemoryKiB'],
        message: `argon2 needs at least 8 KiB per lane: at least ${8 * c.argon2Parallelism} with parallelism ${c.argon2Parallelism}`,
      });
    }
    if (c.argon2MemoryKiB * c.argon2Iterations > HASH_LIMITS.maxArgon2Work) {
      ctx.addIssue({
        code: 'custom',
        path: ['argon2MemoryKiB'],
        message: `memory × iterations must be at most ${HASH_LIMITS.maxArgon2Work} KiB (the bound on a stored hash's work, or the service could not verify its own hashes)`,
      });
    }
    if (c.keyGrace !== undefined && c.keyGrace < c.accessTokenExpires) {
      ctx.addIssue({
        code: 'custom',
        path: ['keyGrace'],
        message: 'must be at least the access token lifetime, or tokens stop verifying before they expire',
      });
    }
  });

/** The validated configuration. */
export type ServiceConfig = Omit<z.output<typeof schema>, 'keyGrace'> & {
  /** Seconds a rotated-out key keeps verifying (default: the refresh token lifetime). */
  keyGrace: number;
  /** Where the configuration file was read from, if any. */
  configFile?: string;
};

/** The part of the configuration a caller (or a test) may set directly. */
export type ServiceConfigInput = Partial<Record<keyof typeof ENVIRONMENT, unknown>>;

/**
 * Read and validate the configuration: the file named by `TESSERA_CONFIG` (JSON,
 * the keys of {@link ENVIRONMENT}), then the environment on top of it.
 * Throws {@link ServiceConfigError} with every problem listed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const input: Record<string, unknown> = {};
  const file = env.TESSERA_CONFIG;
  if (file !== undefined && file !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(resolve(file), 'utf8'));
    } catch (error) {
      throw new ServiceConfigError(
        `TESSERA_CONFIG: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ServiceConfigError(`TESSERA_CONFIG: ${file} must hold a JSON object`);
    }
    Object.assign(input, parsed);
  }
  for (const [key, name] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value !== undefined && value !== '') input[key] = value;
  }
  // In production a load balancer is likely in front: give it time to see /readyz fail.
  if (env.NODE_ENV === 'production' && input.drainDelay === undefined) input.drainDelay = 5;
  const config = parseConfig(input);
  return file ? { ...config, configFile: resolve(file) } : config;
}

/** Validate a configuration object (keys of {@link ENVIRONMENT}). */
export function parseConfig(input: ServiceConfigInput): ServiceConfig {
  const result = schema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      if (issue.code === 'unrecognized_keys') {
        return `unknown setting(s) ${issue.keys.join(', ')}; known: ${Object.keys(ENVIRONMENT).join(', ')}`;
      }
      const name = ENVIRONMENT[key];
      return `${name === undefined ? key : `${name} (${key})`}: ${issue.message}`;
    });
    throw new ServiceConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const { keyGrace, ...rest } = result.data;
  return { ...rest, keyGrace: keyGrace ?? Math.max(rest.refreshTokenExpires, rest.accessTokenExpires) };
}

/** The password settings as `configurePasswords` options (applied at start). */
export function passwordOptions(config: ServiceConfig): PasswordOptions {
  return {
    argon2: {
      memoryCost: config.argon2MemoryKiB,
      timeCost: config.argon2Iterations,
      parallelism: config.argon2Parallelism,
    },
    ...(config.passwordConcurrency === undefined ? {} : { maxConcurrent: config.passwordConcurrency }),
    nice: config.passwordNice,
  };
}
