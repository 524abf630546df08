/**
 * API keys of the signed-in user: create (the secret is shown once), list,
 * revoke; and the check that accepts a key as `Authorization: Token <key>` or
 * `Authorization: Bearer <key>`.
 */
import type { Context, Hono } from 'hono';
import { createHonoAuth } from 'tessera-auth/hono';
import { z } from 'zod';
import { API_KEY_SCOPES, type ApiKeyInfo, apiKeyJson } from '../api-keys.js';
import type { AppEnv, ServiceContext } from '../context.js';
import { HttpError, param, readBody, requestHeader, tokenJson } from '../http.js';
import type { UserWithHash } from '../users.js';
import { currentUser } from './auth.js';

/** Scopes only admins may put on a key: they reach other users' tokens. */
const PRIVILEGED_SCOPES = new Set(['introspect', 'revoke', 'admin']);

const API_KEY_HEADER = /^(?:Token|Bearer)[ \t]+(tsk_\S+)$/i;

/** The API key in the Authorization header, if the header carries one (not a JWT). */
export function apiKeyInHeader(c: Context): string | undefined {
  const header = requestHeader(c, 'authorization');
  if (header === undefined) return undefined;
  return API_KEY_HEADER.exec(header.trim())?.[1];
}

/**
 * Authenticate the request by API key and require `scope`. 401 without a valid
 * key (with a `WWW-Authenticate` challenge), 403 without the scope.
 */
export async function requireApiKey(
  c: Context,
  ctx: ServiceContext,
  scope: string,
): Promise<{ key: ApiKeyInfo; user: UserWithHash }> {
  const presented = apiKeyInHeader(c);
  const challenge = { 'www-authenticate': 'Bearer realm="tessera", error="invalid_token"' };
  if (presented === undefined) {
    throw new HttpError(
      401,
      'api_key_required',
      'An API key is required (Authorization: Token <key>)',
      {},
      challenge,
    );
  }
  const key = await ctx.apiKeys.authenticate(presented);
  const user = key === undefined ? undefined : await ctx.users.byId(key.userId);
  if (key === undefined || user === undefined || user.disabled) {
    throw new HttpError(401, 'api_key_invalid', 'Invalid API key', {}, challenge);
  }
  if (!key.scopes.includes(scope)) {
    throw new HttpError(403, 'insufficient_scope', `This API key lacks the '${scope}' scope`);
  }
  return { key, user };
}

export function apiKeyRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  const auth = createHonoAuth(ctx.manager);

  app.get('/auth/api-keys', auth.jwtRequired(), async (c) => {
    const user = await currentUser(c, ctx);
    return tokenJson(c, { api_keys: (await ctx.apiKeys.list(user.id)).map(apiKeyJson) });
  });

  app.post('/auth/api-keys', auth.jwtRequired(), async (c) => {
    const body = await readBody(
      c,
      z.object({
        name: z.string().min(1).max(200),
        scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
        expires_in: z
          .number()
          .int()
          .min(60)
          .max(5 * 365 * 86_400)
          .optional(),
      }),
    );
    const user = await currentUser(c, ctx);
    if (!user.roles.includes('admin') && body.scopes.some((s) => PRIVILEGED_SCOPES.has(s))) {
      throw new HttpError(
        403,
        'scope_forbidden',
        'Only admins may create keys with introspect, revoke or admin scopes',
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const { key, info } = await ctx.apiKeys.create({
      userId: user.id,
      name: body.name,
      scopes: body.scopes,
      expiresAt: body.expires_in === undefined ? null : now + body.expires_in,
    });
    await ctx.audit.record({
      type: 'api_key.created',
      actor: user.username,
      subject: info.id,
      detail: { scopes: info.scopes.join(' ') },
    });
    // The only time the secret is shown.
    return tokenJson(c, { ...apiKeyJson(info), key }, 201);
  });

  app.delete('/auth/api-keys/:id', auth.jwtRequired(), async (c) => {
    const user = await currentUser(c, ctx);
    const id = param(c, 'id');
    if (!(await ctx.apiKeys.revoke(user.id, id)))
      throw new HttpError(404, 'api_key_not_found', 'No such API key');
    await ctx.audit.record({ type: 'api_key.revoked', actor: user.username, subject: id });
    return tokenJson(c, { msg: 'API key revoked' });
  });
}
