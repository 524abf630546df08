/**
 * What the web console needs beyond the admin API: user search, the key
 * rotation schedule, and auth activity as a time series, under
 * /admin/console/. Callers are checked as the admin API checks them: the
 * admin role in the database (not only in the token), or an API key with the
 * `admin` scope whose owner is still an admin.
 */
import type { Hono } from 'hono';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppEnv, ServiceContext } from '../context.js';
import { clientAddress, HttpError, tokenJson } from '../http.js';
import { publicUser, type User } from '../users.js';
import { createAdminGuard } from './admin-guard.js';

/** Audit types the activity chart counts as sign-ins and as refusals. */
const SIGN_IN_TYPES = ['login'] as const;
const REFUSAL_TYPES = ['login.failed', 'login.throttled'] as const;
/** Audit types listed as security events under the chart. */
const SECURITY_TYPES = [...REFUSAL_TYPES, 'refresh.reused', 'user.revoked', 'logout.everywhere'] as const;

/** Chart ranges: total seconds and bucket size. */
const RANGES = {
  '1h': { span: 3_600, bucket: 300 },
  '24h': { span: 86_400, bucket: 3_600 },
  '7d': { span: 7 * 86_400, bucket: 6 * 3_600 },
} as const;

export function consoleApiRoutes(app: Hono<AppEnv>, ctx: ServiceContext): void {
  const { db, t } = ctx.stores.database;
  const at = sql.ref('at');
  const requireAdmin = createAdminGuard(ctx);

  app.get('/admin/console/users', requireAdmin, async (c) => {
    const query = z
      .object({
        q: z.string().max(150).default(''),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      })
      .safeParse(c.req.query());
    if (!query.success)
      throw new HttpError(400, 'invalid_request', 'q is at most 150 characters, limit 1..200');
    const { q, limit } = query.data;
    // LIKE with the pattern characters escaped: a search for "a_b" finds "a_b", not "axb".
    const pattern = `%${q.toLowerCase().replace(/[!%_]/g, (ch) => `!${ch}`)}%`;
    const rows = (await db
      .selectFrom(t.users)
      .select('id')
      .where(sql<boolean>`lower(${sql.ref('username')}) like ${pattern} escape '!'`)
      .orderBy('username')
      .limit(limit)
      .execute()) as { id: number | string }[];
    const users = (await Promise.all(rows.map((r) => ctx.users.byId(Number(r.id))))).filter(
      (u): u is NonNullable<typeof u> => u !== undefined,
    );
    return tokenJson(c, { users: users.map((u: User) => publicUser(u)), total: await ctx.users.count() });
  });

  app.get('/admin/console/keys', requireAdmin, (c) => {
    const keys = ctx.keys.list();
    const newest = keys.reduce<number | undefined>((at, k) => Math.max(at ?? 0, k.createdAt), undefined);
    return tokenJson(c, {
      keys,
      rotation_seconds: ctx.config.keyRotation,
      grace_seconds: ctx.config.keyGrace,
      algorithm: ctx.config.signingAlgorithm,
      // Rotation is checked on the key poll, so it happens at most one poll after this.
      next_rotation_at: newest === undefined ? null : newest + ctx.config.keyRotation,
    });
  });

  app.get('/admin/console/activity', requireAdmin, async (c) => {
    const range = z.enum(['1h', '24h', '7d']).default('24h').safeParse(c.req.query('range'));
    if (!range.success) throw new HttpError(400, 'invalid_request', 'range is 1h, 24h or 7d');
    const { span, bucket } = RANGES[range.data];
    const now = Math.floor(Date.now() / 1000);
    const end = now - (now % bucket) + bucket;
    const start = end - span;
    const counted = [...SIGN_IN_TYPES, ...REFUSAL_TYPES];
    // `at - at % bucket` is the bucket's start in SQLite, PostgreSQL and MySQL alike.
    const grouped = (await db
      .selectFrom(t.audit)
      .select([
        sql<number>`${at} - (${at} % ${sql.lit(bucket)})`.as('bucket'),
        'type',
        (eb) => eb.fn.countAll().as('n'),
      ])
      .where('at', '>=', start)
      .where('type', 'in', counted)
      .groupBy([sql`${at} - (${at} % ${sql.lit(bucket)})`, 'type'])
      .execute()) as { bucket: number | string; type: string; n: number | string | bigint }[];
    const buckets: { start: number; sign_ins: number; refusals: number }[] = [];
    for (let at = start; at < end; at += bucket) buckets.push({ start: at, sign_ins: 0, refusals: 0 });
    for (const row of grouped) {
      const slot = buckets[Math.floor((Number(row.bucket) - start) / bucket)];
      if (slot === undefined) continue;
      if ((SIGN_IN_TYPES as readonly string[]).includes(row.type)) slot.sign_ins += Number(row.n);
      else slot.refusals += Number(row.n);
    }
    const events = (await db
      .selectFrom(t.audit)
      .selectAll()
      .where('type', 'in', [...SECURITY_TYPES])
      .orderBy('id', 'desc')
      .limit(100)
      .execute()) as {
      id: number | string;
      at: number | string;
      type: string;
      actor: string | null;
      subject: string | null;
      address: string | null;
    }[];
    return tokenJson(c, {
      range: range.data,
      bucket_seconds: bucket,
      buckets,
      events: events.map((e) => ({
        id: Number(e.id),
        at: Number(e.at),
        type: e.type,
        actor: e.actor,
        subject: e.subject,
        address: e.address,
      })),
    });
  });
}

/**
 * Records refresh-token reuse (a replayed, already rotated refresh token: the
 * manager revoked its whole family) as a `refresh.reused` audit event, so the
 * console can list reuse detections. Mounted before the auth routes: it wraps
 * POST /auth/refresh and reads the answer's status and error code, and the
 * identity of the (verified) token presented.
 */
export function reuseAuditMiddleware(app: Hono<AppEnv>, ctx: ServiceContext): void {
  app.use('/auth/refresh', async (c, next) => {
    await next();
    if (c.req.method !== 'POST' || c.res.status !== 401) return;
    let code: unknown;
    try {
      code = ((await c.res.clone().json()) as { code?: unknown }).code;
    } catch {
      return;
    }
    if (code === 'refresh_token_reused') {
      // The guard verified the token before the manager found it spent: its identity is the user's.
      const identity = c.get('jwt')?.identity;
      await ctx.audit.record({
        type: 'refresh.reused',
        subject: identity === undefined || identity === null ? null : String(identity),
        address: clientAddress(c, ctx.config.trustProxy),
      });
    }
  });
}
