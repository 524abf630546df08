/**
 * Test harness for the Python peer apps in `./peers/`: a Flask-JWT-Extended app and a
 * Django REST framework + SimpleJWT app, both running on the real Debian-packaged
 * libraries under `/usr/bin/python3`.
 *
 * ```ts
 * const flask = await startFlaskPeer({ config: { JWT_TOKEN_LOCATION: ['headers', 'cookies'] } });
 * const res = await callPeer(`${flask.url}/login`, { json: { username: 'alice', password: 'alice-password' } });
 * await flask.stop();
 * ```
 *
 * Configuration uses each library's own setting names (`JWT_*` for Flask-JWT-Extended,
 * the `SIMPLE_JWT` keys for SimpleJWT), so values can be copied from
 * `docs/reference/python-peers.md` and the libraries' documentation.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The interpreter that sees Debian's python3-* packages (not the pyenv `python3` on PATH). */
export const PYTHON = '/usr/bin/python3';

/** Path of the Flask-JWT-Extended peer script. */
export const FLASK_PEER_SCRIPT = fileURLToPath(new URL('./peers/flask_peer.py', import.meta.url));

/** Path of the SimpleJWT peer script. */
export const DJANGO_PEER_SCRIPT = fileURLToPath(new URL('./peers/django_peer.py', import.meta.url));

/**
 * HMAC secret both peers use by default (Flask `JWT_SECRET_KEY`, Django `SECRET_KEY`, from
 * which SimpleJWT's `SIGNING_KEY` defaults), so Tessera and the two peers share one HS256 key.
 * 48 bytes: long enough for HS256 and HS384 under Tessera's key-length rule.
 */
export const PEER_HS_SECRET = 'tessera-interop-shared-hmac-secret-0123456789ab';

/** Test users known to both peers. Passwords are fixtures, not secrets. */
export const PEER_USERS = {
  /** Active in both peers; Django id 1; Flask adds `role: "admin"` to her tokens. */
  alice: { username: 'alice', password: 'alice-password', djangoId: 1 },
  /** Active in Flask only. */
  bob: { username: 'bob', password: 'bob-password' },
  /** Inactive in both (login refused; Flask user lookup fails; Django id 2). */
  mallory: { username: 'mallory', password: 'mallory-password', djangoId: 2 },
  /** Django only: id 3, is_staff and is_superuser. */
  admin: { username: 'admin', password: 'admin-password', djangoId: 3 },
} as const;

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A Flask-JWT-Extended token location. */
export type FlaskTokenLocation = 'headers' | 'cookies' | 'query_string' | 'json';

/**
 * Flask `app.config` entries, copied verbatim into the app. Names and meanings are
 * Flask-JWT-Extended's (docs/reference/python-peers.md section 3.1). Lifetimes are integer seconds or
 * `false`. `null` becomes Python `None` (e.g. `JWT_SECRET_KEY: null` removes the default secret).
 */
export interface FlaskJwtConfig {
  SECRET_KEY?: string | null;
  JWT_SECRET_KEY?: string | null;
  JWT_PRIVATE_KEY?: string | null;
  JWT_PUBLIC_KEY?: string | null;
  JWT_ALGORITHM?: string;
  JWT_DECODE_ALGORITHMS?: string[] | null;
  JWT_TOKEN_LOCATION?: FlaskTokenLocation | FlaskTokenLocation[];
  JWT_COOKIE_CSRF_PROTECT?: boolean;
  JWT_CSRF_CHECK_FORM?: boolean;
  JWT_ENCODE_AUDIENCE?: string | string[] | null;
  JWT_DECODE_AUDIENCE?: string | string[] | null;
  JWT_ENCODE_ISSUER?: string | null;
  JWT_DECODE_ISSUER?: string | null;
  JWT_DECODE_LEEWAY?: number;
  JWT_HEADER_NAME?: string;
  JWT_HEADER_TYPE?: string;
  JWT_IDENTITY_CLAIM?: string;
  JWT_ACCESS_TOKEN_EXPIRES?: number | false;
  JWT_REFRESH_TOKEN_EXPIRES?: number | false;
  JWT_ENCODE_NBF?: boolean;
  /** Any other `JWT_*` option. */
  [key: `JWT_${string}`]: JsonValue | undefined;
}

/** Options of {@link startFlaskPeer}. */
export interface FlaskPeerOptions {
  /** Merged over `{ JWT_SECRET_KEY: PEER_HS_SECRET }`. */
  config?: FlaskJwtConfig;
  /**
   * `lenient` (default): the user lookup fails for identity `"ghost"` and inactive users
   * (`mallory`), any other identity is a user. `strict`: it fails for everything but the
   * active users `alice` and `bob` (so identity `42` gives `Error loading the user 42`).
   * `none`: no `user_lookup_loader` is registered.
   */
  userLookup?: 'lenient' | 'strict' | 'none';
  /** Log every request to the peer's stderr. */
  verbose?: boolean;
}

/** A SimpleJWT token class, by short name or import path. */
export type SimpleJwtTokenClass = 'access' | 'refresh' | 'sliding' | 'untyped' | (string & {});

/**
 * The Django `SIMPLE_JWT` settings dict (docs/reference/python-peers.md section 4.1), SimpleJWT's own
 * names. `*_LIFETIME` values are numbers of seconds. To verify tokens through a published
 * JWKS, set `ALGORITHM` to RS256/ES256 and `JWK_URL`, and leave `VERIFYING_KEY` unset
 * (the tokens then need a `kid` found in that JWKS).
 */
export interface SimpleJwtSettings {
  ALGORITHM?: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';
  SIGNING_KEY?: string | null;
  VERIFYING_KEY?: string;
  JWK_URL?: string | null;
  AUDIENCE?: string | string[] | null;
  ISSUER?: string | null;
  LEEWAY?: number;
  ROTATE_REFRESH_TOKENS?: boolean;
  BLACKLIST_AFTER_ROTATION?: boolean;
  UPDATE_LAST_LOGIN?: boolean;
  USER_ID_FIELD?: string;
  USER_ID_CLAIM?: string;
  AUTH_HEADER_TYPES?: string[];
  AUTH_TOKEN_CLASSES?: SimpleJwtTokenClass[];
  TOKEN_TYPE_CLAIM?: string | null;
  JTI_CLAIM?: string | null;
  SLIDING_TOKEN_REFRESH_EXP_CLAIM?: string;
  ACCESS_TOKEN_LIFETIME?: number;
  REFRESH_TOKEN_LIFETIME?: number;
  SLIDING_TOKEN_LIFETIME?: number;
  SLIDING_TOKEN_REFRESH_LIFETIME?: number;
  /** Any other SimpleJWT setting. */
  [key: string]: JsonValue | undefined;
}

/** Options of {@link startDjangoPeer}. */
export interface DjangoPeerOptions {
  /** Django `SECRET_KEY` (SimpleJWT's `SIGNING_KEY` defaults to it). Default {@link PEER_HS_SECRET}. */
  secretKey?: string;
  /** The `SIMPLE_JWT` settings. */
  simpleJwt?: SimpleJwtSettings;
  /** Install the `token_blacklist` app (default true). */
  blacklist?: boolean;
  /** Use `JWTStatelessUserAuthentication` (TokenUser, no DB lookup) instead of `JWTAuthentication`. */
  stateless?: boolean;
  /** Log every request to the peer's stderr. */
  verbose?: boolean;
}

/** A running peer process. */
export interface PythonPeer {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The port the peer listens on (127.0.0.1). */
  readonly port: number;
  /** What the peer wrote to stderr so far (last 64 KiB). */
  stderr(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 3 s). Safe to call twice. */
  stop(): Promise<void>;
}

/** Result of {@link pythonPeersAvailable}. */
export interface PeersAvailability {
  ok: boolean;
  /** Why the peers cannot run, when `ok` is false. */
  reason?: string;
}

let availability: PeersAvailability | undefined;

/**
 * Whether `/usr/bin/python3` can import Flask-JWT-Extended and SimpleJWT.
 * The answer is computed once per process.
 */
export function pythonPeersAvailable(): PeersAvailability {
  if (availability) return availability;
  const probe = spawnSync(PYTHON, ['-c', 'import flask_jwt_extended, rest_framework_simplejwt'], {
    encoding: 'utf8',
    timeout: 15_000,
    env: pythonEnv({}),
  });
  if (probe.error) {
    availability = { ok: false, reason: `cannot run ${PYTHON}: ${probe.error.message}` };
  } else if (probe.status !== 0) {
    const lastLine = probe.stderr.trim().split('\n').at(-1) ?? '';
    availability = {
      ok: false,
      reason: `${PYTHON} cannot import flask_jwt_extended and rest_framework_simplejwt (${lastLine}); install python3-python-flask-jwt-extended and python3-djangorestframework-simplejwt`,
    };
  } else {
    availability = { ok: true };
  }
  return availability;
}

/** Starts the Flask-JWT-Extended peer and resolves once `GET /health` answers. */
export function startFlaskPeer(options: FlaskPeerOptions = {}): Promise<PythonPeer> {
  const peerConfig: Record<string, JsonValue> = {
    config: toJson({ JWT_SECRET_KEY: PEER_HS_SECRET, ...options.config }),
    user_lookup: options.userLookup ?? 'lenient',
  };
  return startPeer('flask', FLASK_PEER_SCRIPT, peerConfig, options.verbose ?? false);
}

/** Starts the SimpleJWT peer (migrates a fresh SQLite database) and resolves once `GET /health` answers. */
export function startDjangoPeer(options: DjangoPeerOptions = {}): Promise<PythonPeer> {
  const peerConfig: Record<string, JsonValue> = {
    secret_key: options.secretKey ?? PEER_HS_SECRET,
    simple_jwt: toJson({ ...options.simpleJwt }),
    blacklist: options.blacklist ?? true,
    stateless: options.stateless ?? false,
  };
  return startPeer('django', DJANGO_PEER_SCRIPT, peerConfig, options.verbose ?? false);
}

/** A PEM key pair for the asymmetric peer configurations. */
export interface PemKeyPair {
  privateKey: string;
  publicKey: string;
}

/** Generates a fresh RSA-2048 (`RS256`) or P-256 (`ES256`) key pair as PKCS#8 / SPKI PEM. */
export function generatePemKeyPair(alg: 'RS256' | 'ES256'): PemKeyPair {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  return alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
    : generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
}

/** Options of {@link callPeer}. */
export interface PeerRequest {
  /** Default `POST` when `json` is given, else `GET`. */
  method?: string;
  /** Sent as `application/json`. */
  json?: JsonValue;
  headers?: Record<string, string>;
}

/** Response of {@link callPeer}. */
export interface PeerResponse {
  status: number;
  headers: Headers;
  /** Raw body text. */
  text: string;
  /** Parsed body, or `undefined` when the body is not JSON. */
  body: unknown;
}

/** Small fetch wrapper for talking to a peer: sends JSON, returns status, headers and parsed body. */
export async function callPeer(url: string, request: PeerRequest = {}): Promise<PeerResponse> {
  const headers: Record<string, string> = { ...request.headers };
  let payload: string | undefined;
  if (request.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    payload = JSON.stringify(request.json);
  }
  const response = await fetch(url, {
    method: request.method ?? (payload === undefined ? 'GET' : 'POST'),
    headers,
    body: payload,
    redirect: 'manual',
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

// ---------------------------------------------------------------------------------------

const STARTUP_TIMEOUT_MS = 15_000;
const STDERR_LIMIT = 64 * 1024;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort; the peers also exit by themselves when their stdin closes.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

function toJson(value: object): JsonValue {
  // Drops `undefined` members; everything else in the config types is JSON already.
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // A small, explicit environment: nothing from a pyenv or virtualenv leaks into Debian's python.
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...extra,
  };
}

/** Reserves a free port on 127.0.0.1 by binding port 0 and closing again. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the reserved port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

class PeerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'PeerStartError';
  }
}

async function startPeer(
  name: string,
  script: string,
  peerConfig: Record<string, JsonValue>,
  verbose: boolean,
): Promise<PythonPeer> {
  // The port is free when read but could be taken before Python binds it: retry that case.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(name, script, peerConfig, verbose, await freePort());
    } catch (error) {
      if (!(error instanceof PeerStartError && error.portInUse && attempt < 3)) throw error;
    }
  }
}

async function launch(
  name: string,
  script: string,
  peerConfig: Record<string, JsonValue>,
  verbose: boolean,
  port: number,
): Promise<PythonPeer> {
  installExitHook();
  const child = spawn(PYTHON, [script], {
    env: pythonEnv({
      PEER_PORT: String(port),
      PEER_CONFIG: JSON.stringify(peerConfig),
      PEER_EXIT_ON_STDIN_EOF: '1',
      ...(verbose ? { PEER_VERBOSE: '1' } : {}),
    }),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  running.add(child);
  // A peer someone forgot to stop must not keep the test process alive; the exit hook
  // and the stdin EOF still end it.
  child.unref();
  for (const stream of [child.stdin, child.stderr]) if (stream instanceof Socket) stream.unref();

  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  // Keep stdin open: its EOF (our death) tells the peer to exit.
  child.stdin?.on('error', () => {});

  let exited = false;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      exited = true;
      running.delete(child);
      resolve();
    });
  });

  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exitedPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      const why = spawnError ? spawnError.message : `exited with code ${child.exitCode ?? child.signalCode}`;
      throw new PeerStartError(
        `${name} peer ${why} before answering /health.\n--- stderr ---\n${stderr}`,
        stderr.includes('Address already in use'),
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new PeerStartError(
        `${name} peer did not answer ${url}/health within ${STARTUP_TIMEOUT_MS} ms.\n--- stderr ---\n${stderr}`,
        false,
      );
    }
    if (await healthy(url)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return { url, port, stderr: () => stderr, stop };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    await response.text();
    return response.ok;
  } catch {
    return false;
  }
}
