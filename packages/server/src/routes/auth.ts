/**
 * The Flask-shaped endpoints: register, login, refresh (rotation), logout,
 * logout everywhere, me, change password, and the caller's sessions. Tokens
 * travel as Bearer headers, or as HttpOnly cookies with a double-submit CSRF
 * value when the client asks for cookies at login.
 */
import type { Context, Hono } from 'hono';
import { getCsrfToken, type JwtContext, type TokenPair } from 'tessera-auth';
import { createHonoAuth } from 'tessera-auth/hono';
import { z } from 'zod';
import type { Origin } from '../accounts.js';
import type { AppEnv, ServiceContext } from '../context.js';
import { clientAddress, errorBody, HttpError, param, readBody, tokenJson } from '../http.js';
import { hashPassword } from '../passwords/index.js';
import { publicUser, USERNAME_PATTERN, UsernameTakenError, type UserWithHash } from '../users.js';
import { apiKeyInHeader, requireApiKey } from './api-keys.js';

/**
 * The signed-in user of a guarded request, fresh from the database (disabled users are refused).
 * Any route's context: a required route's middleware narrows `jwt` to non-null, which
 * Hono's Context<AppEnv> (where it may be null) does not accept.
 */
export async function currentUser(c: Context, ctx: ServiceContext): Promise<UserWithHash> {
  const jwt: JwtContext | null = c.get('jwt');
  const user = jwt === null ? undefined : await ctx.users.byIdentity(jwt.identity);
  if (user === undefined || user.disabled) {
    throw new HttpError(401, 'user_lookup_failed', 'Error loading the user');
  }
  return user;
}

export function origin(c: Context, ctx: ServiceContext): Origin {
  return {
    address: clientAddress(c, ctx.config.trustProxy),
    userAgent: (c.req.header('user-agent') ?? '').slice(0, 200),
  };
}

export function authRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  const { config, manager, accounts, users } = ctx;
  const auth = createHonoAuth(manager);
  const password = z
    .string()
    .min(config.passwordMinLength, `at least ${config.passwordMinLength} characters`)
    .max(1024);
  const credentials = z.object({
    username: z.string().min(1).max(150),
    password: z.string().min(1).max(1024),
    cookies: z.boolean().optional(),
  });

  const pairBody = (pair: TokenPair) => ({
    access_token: pair.accessToken,
    refresh_token: pair.refreshToken,
    token_type: 'Bearer',
    expires_in: config.accessTokenExpires,
  });

  /** Cookie mode: tokens in HttpOnly cookies, the CSRF values in the body (and script-readable cookies). */
  const cookieAnswer = (c: Context, pair: { accessToken: string; refreshToken?: string | undefined }) => {
    auth.setAccessCookies(c, pair.accessToken);
    const body: Record<string, unknown> = {
      msg: 'Signed in',
      csrf_access_token: getCsrfToken(pair.accessToken),
      expires_in: config.accessTokenExpires,
    };
    if (pair.refreshToken !== undefined) {
      auth.setRefreshCookies(c, pair.refreshToken);
      body.csrf_refresh_token = getCsrfToken(pair.refreshToken);
    }
    return tokenJson(c, body);
  };

  app.post('/auth/register', async (c) => {
    const body = await readBody(
      c,
      z.object({
        username: z.string().regex(USERNAME_PATTERN, 'letters, digits and @.+-_ only, at most 150'),
        password,
        email: z.email().max(254).optional(),
        invite: z.string().min(1).max(200).optional(),
      }),
    );
    const from = origin(c, ctx);
    let roles: string[] = [];
    if (config.registration === 'closed') {
      throw new HttpError(403, 'registration_closed', 'Registration is closed');
    }
    await accounts.gate(from.address);
    if (config.registration === 'invite') {
      const granted = body.invite === undefined ? undefined : await ctx.invites.redeem(body.invite);
      if (granted === undefined) throw new HttpError(403, 'invite_invalid', 'A valid invite is required');
      roles = granted;
    }
    try {
      const user = await users.create({
        username: body.username,
        passwordHash: await hashPassword(body.password),
        email: body.email ?? null,
        roles,
      });
      await ctx.audit.record({ type: 'user.registered', subject: user.username, address: from.address });
      return c.json(publicUser(user), 201);
    } catch (error) {
      if (error instanceof UsernameTakenError) throw new HttpError(409, 'username_taken', error.message);
      throw error;
    }
  });

  app.post('/auth/login', async (c) => {
    const body = await readBody(c, credentials);
    const from = origin(c, ctx);
    const user = await accounts.authenticate(body.username, body.password, from);
    if (user === undefined) {
      return c.json(errorBody('invalid_credentials', 'Bad username or password'), 401);
    }
    const pair = await accounts.issue(manager, user, from);
    return body.cookies ? cookieAnswer(c, pair) : tokenJson(c, pairBody(pair));
  });

  // The guard finds the token (header, or cookie with its CSRF value) and checks its signature and
  // claims; the store is asked once, by the rotation, which checks revocation in the same
  // statement (both stores the service uses do: SqlStore, RedisStore). A refusal reaches
  // app.onError: the same answer as the guard's.
  const refreshGuard = auth.jwtRequired({ refresh: true, skipRevocationCheck: true });
  app.post('/auth/refresh', refreshGuard, async (c) => {
    const jwt = c.get('jwt');
    // The guard's context: no second signature check (the guard checked the CSRF value too).
    const next = await manager.refreshTokens(jwt);
    if (jwt.location === 'cookies') return cookieAnswer(c, next);
    const body: Record<string, unknown> = {
      access_token: next.accessToken,
      token_type: 'Bearer',
      expires_in: config.accessTokenExpires,
    };
    if (next.refreshToken !== undefined) body.refresh_token = next.refreshToken;
    return tokenJson(c, body);
  });

  app.post('/auth/logout', auth.jwtRequired(), async (c) => {
    await manager.logout(c.get('jwt').payload);
    auth.unsetJwtCookies(c);
    return tokenJson(c, { msg: 'Signed out' });
  });

  app.post('/auth/logout-all', auth.jwtRequired(), async (c) => {
    const user = await currentUser(c, ctx);
    await accounts.revokeEverything(user);
    await ctx.audit.record({ type: 'logout.everywhere', actor: user.username, subject: user.username });
    auth.unsetJwtCookies(c);
    return tokenJson(c, { msg: 'Signed out everywhere' });
  });

  const meGuard = auth.jwtRequired();
  // An API key with the read:profile scope may read its owner's profile too.
  app.get('/auth/me', async (c) => {
    if (apiKeyInHeader(c) !== undefined) {
      const { user } = await requireApiKey(c, ctx, 'read:profile');
      return tokenJson(c, publicUser(user));
    }
    let answer: Response | undefined;
    const refused = await meGuard(c, async () => {
      answer = tokenJson(c, publicUser(await currentUser(c, ctx)));
    });
    return answer ?? (refused as Response);
  });

  app.post('/auth/password', auth.jwtRequired(), async (c) => {
    const body = await readBody(
      c,
      z.object({ current_password: z.string().min(1).max(1024), new_password: password }),
    );
    const user = await currentUser(c, ctx);
    const from = origin(c, ctx);
    // The current password through the same throttled check as a login, so a stolen token cannot guess it.
    const checked = await accounts.authenticate(user.username, body.current_password, from);
    if (checked === undefined)
      return c.json(errorBody('invalid_credentials', 'The current password is wrong'), 401);
    await accounts.changePassword(user, body.new_password, user.username, from);
    auth.unsetJwtCookies(c);
    return tokenJson(c, { msg: 'Password changed; every session was signed out' });
  });

  app.get('/auth/sessions', auth.jwtRequired(), async (c) => {
    const jwt = c.get('jwt');
    const sessions = await manager.listSessions(jwt.identity);
    return tokenJson(c, {
      sessions: sessions.map((s) => ({
        id: s.familyId,
        device: s.metadata.userAgent ?? '',
        address: s.metadata.address ?? '',
        created_at: s.createdAt,
        last_used_at: s.lastUsedAt,
        expires_at: s.expiresAt,
        current: s.familyId === jwt.payload.fam,
      })),
    });
  });

  app.delete('/auth/sessions/:id', auth.jwtRequired(), async (c) => {
    const jwt = c.get('jwt');
    const id = param(c, 'id');
    const mine = await manager.listSessions(jwt.identity);
    if (!mine.some((s) => s.familyId === id))
      throw new HttpError(404, 'session_not_found', 'No such session');
    await manager.revokeSession(id);
    return tokenJson(c, { msg: 'Session revoked' });
  });
}
