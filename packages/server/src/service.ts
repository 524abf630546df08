/**
 * The Tessera auth service, as small as it can be while doing the real job:
 * password login, refresh-token rotation with reuse detection, logout, session
 * listing, and a published JWKS so other services verify without a shared secret.
 * State (keys and sessions) lives in SQLite by default.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createGuard,
  errorResponse,
  jsonResponse,
  Keyring,
  type RequestLike,
  type ResponseData,
  TesseraError,
  type TesseraKey,
  TokenManager,
  type TokenStore,
  toJwks,
} from 'tessera-auth';

/** A user the service can log in. */
export interface ServiceUser {
  readonly username: string;
  /** SHA-256 of the password; a real deployment plugs in its own user store and hashing. */
  readonly passwordSha256: Buffer;
}

/** What the service is built from. */
export interface ServiceOptions {
  readonly key: TesseraKey;
  readonly store: TokenStore;
  readonly users: readonly ServiceUser[];
}

const MAX_BODY = 64 * 1024;

/** Hash a password the way {@link ServiceUser} stores it. */
export function hashPassword(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}

/** Build the service's HTTP server (not yet listening). */
export function createService(options: ServiceOptions): { server: Server; manager: TokenManager } {
  const manager = new TokenManager({
    keys: new Keyring([options.key]),
    store: options.store,
    verifiedTokenCache: 10_000,
    rotation: { graceSeconds: 5 },
  });
  const protect = createGuard(manager);
  const refreshGuard = createGuard(manager, { refresh: true });
  const jwks = JSON.stringify(toJwks([options.key]));

  const routes: Record<string, (req: RequestLike, raw: IncomingMessage) => Promise<ResponseData>> = {
    'GET /health': async () => jsonResponse(200, { ok: true }),
    'GET /.well-known/jwks.json': async () => ({
      status: 200,
      headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' },
      body: jwks,
    }),
    'POST /login': async (req) => {
      const body = await req.body?.();
      const { username, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<
        string,
        unknown
      >;
      if (
        typeof username !== 'string' ||
        typeof password !== 'string' ||
        username === '' ||
        password === ''
      ) {
        return jsonResponse(400, { msg: 'username and password are required', code: 'credentials_missing' });
      }
      const user = options.users.find((u) => u.username === username);
      const given = hashPassword(password);
      // Compare even for unknown users so the answer time does not reveal which names exist.
      const ok = timingSafeEqual(given, user?.passwordSha256 ?? given) && user !== undefined;
      if (!ok) return jsonResponse(401, { msg: 'Bad username or password', code: 'invalid_credentials' });
      const pair = await manager.createTokenPair({
        identity: username,
        metadata: { userAgent: (req.header('user-agent') ?? '').slice(0, 200) },
      });
      return jsonResponse(200, { access_token: pair.accessToken, refresh_token: pair.refreshToken });
    },
    'POST /refresh': async (req) => {
      const guard = await refreshGuard(req);
      if (!guard.ok) return guard.response;
      const next = await manager.refreshTokens(guard.jwt!.token);
      return jsonResponse(200, { access_token: next.accessToken, refresh_token: next.refreshToken });
    },
    'GET /protected': async (req) => {
      const guard = await protect(req);
      if (!guard.ok) return guard.response;
      return jsonResponse(200, { logged_in_as: guard.jwt!.identity });
    },
    'GET /sessions': async (req) => {
      const guard = await protect(req);
      if (!guard.ok) return guard.response;
      return jsonResponse(200, { sessions: await manager.listSessions(guard.jwt!.identity) });
    },
    'POST /logout': async (req) => {
      const guard = await protect(req);
      if (!guard.ok) return guard.response;
      await manager.logout(guard.jwt!.payload);
      return jsonResponse(200, { msg: 'Logged out' });
    },
  };

  const server = createServer((raw, res) => {
    const req = toRequestLike(raw);
    const route = routes[`${req.method} ${new URL(req.url, 'http://x').pathname}`];
    const answer =
      route === undefined ? Promise.resolve(jsonResponse(404, { msg: 'Not found' })) : route(req, raw);
    answer
      .catch((error: unknown) => {
        if (error instanceof TesseraError) return errorResponse(manager.config, error);
        // Never a secret or a token in the log: the error's name and message only.
        console.error(
          `tessera-server: ${error instanceof Error ? `${error.name}: ${error.message}` : 'error'}`,
        );
        return jsonResponse(500, { msg: 'Internal error' });
      })
      .then((response) => send(res, response));
  });
  return { server, manager };
}

function send(res: ServerResponse, response: ResponseData): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

function toRequestLike(raw: IncomingMessage): RequestLike {
  let body: Promise<unknown> | undefined;
  return {
    method: raw.method ?? 'GET',
    url: raw.url ?? '/',
    header: (name) => {
      const value = raw.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: () => {
      body ??= readJson(raw);
      return body;
    },
  };
}

async function readJson(raw: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
