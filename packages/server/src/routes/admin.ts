/**
 * Administration: users (list, create, read, roles, disable), revoke
 * everything of a user, signing keys (list, rotate now), invites and the audit
 * log. Callers are users with the `admin` role (checked in the database, not
 * only in the token) or API keys with the `admin` scope.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, ServiceContext } from '../context.js';
import { HttpError, param, readBody, tokenJson } from '../http.js';
import { type ImportedUser, readUsersCsv, UserImportError } from '../import/index.js';
import { calibratePasswordTiming, hashPassword } from '../passwords/index.js';
import { storeImportedUsers } from '../user-import.js';
import {
  publicUser,
  ROLE_PATTERN,
  USERNAME_PATTERN,
  UsernameTakenError,
  type UserWithHash,
} from '../users.js';
import { createAdminGuard } from './admin-guard.js';

const roles = z.array(z.string().regex(ROLE_PATTERN, 'lowercase identifiers')).max(20);

export function adminRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  const admins = new WeakMap<Context, UserWithHash>();
  const requireAdmin = createAdminGuard(ctx, (c, user) => admins.set(c, user));
  const actor = (c: Context) => admins.get(c)?.username ?? null;
  const target = async (c: Context): Promise<UserWithHash> => {
    const user = await ctx.users.byUsername(param(c, 'username'));
    if (user === undefined) throw new HttpError(404, 'user_not_found', 'No such user');
    return user;
  };

  app.get('/admin/users', requireAdmin, async (c) => {
    const query = z
      .object({
        limit: z.coerce.number().int().min(1).max(500).default(100),
        offset: z.coerce.number().int().min(0).default(0),
      })
      .safeParse(c.req.query());
    if (!query.success) throw new HttpError(400, 'invalid_request', 'limit is 1..500, offset 0 or more');
    const list = await ctx.users.list(query.data.limit, query.data.offset);
    return tokenJson(c, { users: list.map(publicUser), total: await ctx.users.count() });
  });

  app.post('/admin/users', requireAdmin, async (c) => {
    const body = await readBody(
      c,
      z.object({
        username: z.string().regex(USERNAME_PATTERN, 'letters, digits and @.+-_ only, at most 150'),
        password: z.string().min(ctx.config.passwordMinLength).max(1024),
        email: z.email().max(254).optional(),
        roles: roles.optional(),
      }),
    );
    try {
      const user = await ctx.users.create({
        username: body.username,
        passwordHash: await hashPassword(body.password),
        email: body.email ?? null,
        roles: body.roles ?? [],
      });
      await ctx.audit.record({ type: 'user.created', actor: actor(c), subject: user.username });
      return tokenJson(c, publicUser(user), 201);
    } catch (error) {
      if (error instanceof UsernameTakenError) throw new HttpError(409, 'username_taken', error.message);
      throw error;
    }
  });

  app.get('/admin/users/:username', requireAdmin, async (c) => tokenJson(c, publicUser(await target(c))));

  app.patch('/admin/users/:username', requireAdmin, async (c) => {
    const body = await readBody(
      c,
      z
        .object({
          roles: roles.optional(),
          disabled: z.boolean().optional(),
          email: z.email().max(254).nullable().optional(),
        })
        .strict(),
    );
    const user = await target(c);
    await ctx.users.update(user.id, body);
    // Roles ride in tokens: a change (or disabling) revokes what was issued, so it takes effect now.
    const rolesChanged =
      body.roles !== undefined &&
      JSON.stringify([...body.roles].sort()) !== JSON.stringify([...user.roles].sort());
    if (body.disabled === true || rolesChanged) {
      await ctx.accounts.revokeEverything(user, { apiKeys: body.disabled === true });
    }
    await ctx.audit.record({
      type: 'user.updated',
      actor: actor(c),
      subject: user.username,
      detail: {
        roles: body.roles === undefined ? null : body.roles.join(' '),
        disabled: body.disabled ?? null,
      },
    });
    const updated = await ctx.users.byId(user.id);
    return tokenJson(c, publicUser(updated ?? user));
  });

  app.post('/admin/users/:username/revoke', requireAdmin, async (c) => {
    const user = await target(c);
    await ctx.accounts.revokeEverything(user, { apiKeys: true });
    await ctx.audit.record({ type: 'user.revoked', actor: actor(c), subject: user.username });
    return tokenJson(c, { msg: 'Every token, session and API key of the user was revoked' });
  });

  app.get('/admin/keys', requireAdmin, (c) => tokenJson(c, { keys: ctx.keys.list() }));

  app.post('/admin/keys/rotate', requireAdmin, async (c) => {
    const kid = await ctx.keys.rotate();
    await ctx.audit.record({ type: 'keys.rotated', actor: actor(c), subject: kid ?? null });
    return tokenJson(c, { kid, keys: ctx.keys.list() });
  });

  app.post('/admin/invites', requireAdmin, async (c) => {
    const body = await readBody(
      c,
      z.object({
        roles: roles.optional(),
        expires_in: z
          .number()
          .int()
          .min(60)
          .max(90 * 86_400)
          .optional(),
      }),
      { optional: true },
    );
    const invite = await ctx.invites.create(
      actor(c) ?? 'admin',
      body.roles ?? [],
      body.expires_in ?? 7 * 86_400,
    );
    await ctx.audit.record({ type: 'invite.created', actor: actor(c) });
    return tokenJson(c, { invite: invite.code, expires_at: invite.expiresAt }, 201);
  });

  // CSV in the body (text/csv): username, password_hash, email, is_active, roles (see ../import/csv.ts).
  app.post('/admin/import', requireAdmin, async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^text\/csv\b/i.test(type)) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the users as text/csv');
    }
    let imported: ImportedUser[];
    try {
      imported = readUsersCsv(await c.req.text());
    } catch (error) {
      if (error instanceof UserImportError) throw new HttpError(400, error.code, error.message);
      throw error;
    }
    const result = await storeImportedUsers(ctx.users, imported);
    // The refusal floor learns the imported kinds now, before anyone probes an imported name.
    await calibratePasswordTiming(imported.map((u) => u.passwordHash));
    await ctx.audit.record({
      type: 'users.imported',
      actor: actor(c),
      detail: { created: result.created, skipped: result.skipped.length },
    });
    return tokenJson(c, result);
  });

  app.get('/admin/audit', requireAdmin, async (c) => {
    const limit = z.coerce.number().int().min(1).max(1000).default(100).safeParse(c.req.query('limit'));
    if (!limit.success) throw new HttpError(400, 'invalid_request', 'limit is 1..1000');
    return tokenJson(c, { events: await ctx.audit.list(limit.data) });
  });
}
