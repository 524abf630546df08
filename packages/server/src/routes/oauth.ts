/**
 * For resource servers: token introspection (RFC 7662) and revocation
 * (RFC 7009). A service that verifies tokens locally through the JWKS asks
 * here whether one was revoked. Callers authenticate with an API key carrying
 * the `introspect` or `revoke` scope.
 */
import type { Hono } from 'hono';
import type { JwtPayload, TokenManager } from 'tessera-auth';
import { z } from 'zod';
import type { AppEnv, ServiceContext } from '../context.js';
import { readBody, tokenJson } from '../http.js';
import { requireApiKey } from './api-keys.js';

const tokenRequest = z.object({
  token: z.string().min(1).max(16_384),
  token_type_hint: z.string().max(100).optional(),
});

/** The first manager that verifies the token (signature, claims, revocation), with its payload. */
async function verifyAny(
  managers: readonly TokenManager[],
  token: string,
  revocation: boolean,
): Promise<{ manager: TokenManager; payload: JwtPayload; identity: unknown } | undefined> {
  for (const manager of managers) {
    try {
      const verified = await manager.verifyToken(token, {
        verifyType: false,
        skipRevocationCheck: !revocation,
      });
      return { manager, payload: verified.payload, identity: verified.identity };
    } catch (error) {
      // A store outage must not read as "inactive": let it answer 503.
      if (error instanceof Error && 'code' in error && error.code === 'store_unavailable') throw error;
    }
  }
  return undefined;
}

export function oauthRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  const managers = ctx.simpleJwt === ctx.manager ? [ctx.manager] : [ctx.manager, ctx.simpleJwt];

  app.post('/oauth/introspect', async (c) => {
    await requireApiKey(c, ctx, 'introspect');
    const body = await readBody(c, tokenRequest, { form: true });
    const found = await verifyAny(managers, body.token, true);
    if (found === undefined) return tokenJson(c, { active: false });
    const { payload, manager, identity } = found;
    const profile = manager.config.profile;
    const answer: Record<string, unknown> = {
      active: true,
      sub: String(identity),
      token_type: payload[profile.typeClaim] ?? 'access',
    };
    for (const claim of ['exp', 'iat', 'nbf', 'jti', 'iss', 'aud', 'roles'] as const) {
      if (payload[claim] !== undefined) answer[claim] = payload[claim];
    }
    const user = await ctx.users.byIdentity(identity);
    if (user !== undefined) answer.username = user.username;
    return tokenJson(c, answer);
  });

  app.post('/oauth/revoke', async (c) => {
    const { user } = await requireApiKey(c, ctx, 'revoke');
    const body = await readBody(c, tokenRequest, { form: true });
    const found = await verifyAny(managers, body.token, false);
    // RFC 7009 2.2: an invalid or unknown token is answered 200 as well.
    if (found !== undefined) {
      const { manager, payload } = found;
      const type = payload[manager.config.profile.typeClaim];
      // A refresh token ends its whole session (the family); an access token only itself.
      if (type === 'refresh') await manager.logout(payload);
      else await manager.revokeToken(payload);
      await ctx.audit.record({
        type: 'token.revoked',
        actor: user.username,
        subject: String(found.identity),
        detail: { token_type: typeof type === 'string' ? type : 'access' },
      });
    }
    return tokenJson(c, {});
  });
}
