/**
 * The migration guide's program (docs/migrating-from-simplejwt.md, section 1): a
 * Django + SimpleJWT service moved to Express + Tessera. Clients see the same
 * URLs, statuses and bodies, including Django's trailing-slash redirect and DRF's
 * OPTIONS answers.
 */
import type { Server } from 'node:http';
import express from 'express';
import {
  appendSlash,
  createSimpleJwtViews,
  jsonResponse,
  MemoryStore,
  type RequestLike,
  type ResponseData,
  TokenManager,
  UserLookupError,
  type View,
} from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';

/** A row of the user table. */
export interface User {
  readonly id: number;
  readonly username: string;
  readonly isActive: boolean;
}

/** The user table the program reads (Django's `User` model). */
export interface UserTable {
  /** The user with this id (`user_id` as the token carries it), or undefined. */
  byId(id: unknown): Promise<User | undefined>;
  /** The active user with these credentials, or undefined. */
  check(username: string, password: string): Promise<User | undefined>;
}

export function createApp(secret: string, users: UserTable): express.Express {
  const jwt = new TokenManager<User>({
    profile: 'simplejwt',
    secret,
    accessTokenExpires: '5m',
    store: new MemoryStore(), // SqlStore / RedisStore when there is more than one process
    rotation: { enabled: true, blacklistAfterRotation: true },
    callbacks: {
      // Protected routes load the user; the token views do not, as in SimpleJWT (D86, D87).
      userLookup: async (_header, payload) => {
        const user = await users.byId(payload.user_id);
        if (user !== undefined && !user.isActive) throw new UserLookupError('User is inactive');
        return user;
      },
    },
    errorHandlers: {
      // JWTAuthentication tells an inactive user from a missing one (D28).
      user_lookup: (error, response) =>
        error.message === 'User is inactive'
          ? jsonResponse(
              401,
              { detail: 'User is inactive', code: 'user_inactive' },
              { 'www-authenticate': 'Bearer realm="api"' },
            )
          : response,
    },
  });
  const auth = createExpressAuth(jwt);
  const views = createSimpleJwtViews(jwt, {
    authenticate: async (username, password) => (await users.check(username, password))?.id,
  });

  const request = (req: express.Request): RequestLike => ({
    method: req.method,
    url: req.originalUrl,
    header: (name) => req.get(name),
    body: () => req.body,
  });
  const send = (res: express.Response, answer: ResponseData) => {
    res.status(answer.status).set(answer.headers).send(answer.body);
  };
  const mount =
    (view: View): express.RequestHandler =>
    async (req, res) =>
      send(res, await view(request(req)));

  const tokenViews: Record<string, View> = {
    '/api/token/': views.tokenObtainPair,
    '/api/token/refresh/': views.tokenRefresh,
    '/api/token/verify/': views.tokenVerify,
    '/api/token/blacklist/': views.tokenBlacklist,
    '/api/token/sliding/': views.tokenObtainSliding,
    '/api/token/sliding/refresh/': views.tokenRefreshSliding,
  };
  // Django's APPEND_SLASH: /api/token answers 301 to /api/token/ (D88). Strict
  // routing keeps Express from serving /api/token itself.
  const redirect = appendSlash([...Object.keys(tokenViews), '/api/protected/']);

  const app = express();
  app.set('strict routing', true);
  app.use((req, res, next) => {
    const answer = redirect(request(req));
    if (answer === undefined) next();
    else send(res, answer);
  });
  app.use(express.json(), express.urlencoded({ extended: false }));
  // app.all: the views answer OPTIONS (DRF's metadata) and 405 for other methods.
  for (const [path, view] of Object.entries(tokenViews)) app.all(path, mount(view));

  // The handler behind the guard: req.jwt.user is what userLookup loaded (never missing there).
  const describeUser = auth.jwtRequired({}, (req, res) => {
    const { user, payload } = req.jwt;
    res.json({ user_id: user.id, username: user.username, claims: payload });
  });
  app
    .route('/api/protected/')
    // DRF's Allow, on every answer of the view (refusals included).
    .all((_req, res, next) => {
      res.set('allow', 'GET, POST, OPTIONS');
      next();
    })
    .get(describeUser)
    .post(describeUser)
    // DRF authenticates OPTIONS too (D91), then answers the view's metadata.
    .options(auth.jwtRequired(), (_req, res) => {
      res.json(PROTECTED_METADATA);
    });
  // Last: answers what express.json() refused (malformed JSON: 400) as JSON, not HTML.
  app.use(auth.errorHandler());
  return app;
}

// What DRF's OPTIONS answers for the function view `protected` (no serializer).
const PROTECTED_METADATA = {
  name: 'Protected',
  description: '',
  renders: ['application/json'],
  parses: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
};

/** Listen on 127.0.0.1 (port 0 picks a free one). */
export function start(
  secret: string,
  users: UserTable,
  port = 8000,
): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = createApp(secret, users).listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`,
        server,
      });
    });
  });
}
