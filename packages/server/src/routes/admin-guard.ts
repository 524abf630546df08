/**
 * Who may call the admin API and the console's admin endpoints: a user with the
 * `admin` role in the database (not only in the token, so a demoted admin's
 * token stops working at once), or an API key with the `admin` scope whose
 * owner is still an admin.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { createHonoAuth } from 'tessera-auth/hono';
import type { AppEnv, ServiceContext } from '../context.js';
import { HttpError } from '../http.js';
import type { UserWithHash } from '../users.js';
import { apiKeyInHeader, requireApiKey } from './api-keys.js';
import { currentUser } from './auth.js';

/** A Hono middleware admitting admins only; `admitted` hears who was let in. */
export function createAdminGuard(
  ctx: ServiceContext,
  admitted?: (c: Context<AppEnv>, user: UserWithHash) => void,
): MiddlewareHandler<AppEnv> {
  const jwtGuard = createHonoAuth(ctx.manager).jwtRequired();
  return async (c, next) => {
    let user: UserWithHash;
    if (apiKeyInHeader(c) !== undefined) {
      user = (await requireApiKey(c, ctx, 'admin')).user;
    } else {
      let passed = false;
      const refused = await jwtGuard(c, async () => {
        passed = true;
      });
      if (!passed) return refused;
      user = await currentUser(c, ctx);
    }
    if (!user.roles.includes('admin'))
      throw new HttpError(403, 'admin_required', 'The admin role is required');
    admitted?.(c, user);
    await next();
  };
}
