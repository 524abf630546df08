/**
 * The OpenAPI 3.1 description of the service, and a plain HTML reference page
 * rendered from it (no script, no CDN: it works offline and under a strict CSP).
 */
import type { ServiceConfig } from './config.js';

type Schema = Record<string, unknown>;

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  tag: string;
  summary: string;
  security?: 'bearer' | 'refresh' | 'apiKey' | 'admin' | 'none';
  body?: Schema;
  form?: boolean;
  responses: Record<string, string>;
}

const str = { type: 'string' };
const int = { type: 'integer' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: true,
});
const roles = { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9_:-]{0,39}$' } };

const OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'Operations',
    summary: 'Liveness: the process answers',
    security: 'none',
    responses: { '200': 'Alive' },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'Operations',
    summary: 'Readiness: the database (and Redis) answer',
    security: 'none',
    responses: { '200': 'Ready', '503': 'A store is down, or the service is shutting down' },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    tag: 'Keys',
    summary: 'Public signing keys (current and previous)',
    security: 'none',
    responses: { '200': 'JWK Set' },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Operations',
    summary: 'This document',
    security: 'none',
    responses: { '200': 'OpenAPI 3.1' },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'Operations',
    summary: 'This reference as HTML',
    security: 'none',
    responses: { '200': 'HTML' },
  },
  {
    method: 'post',
    path: '/auth/register',
    tag: 'Users',
    summary: 'Create an account (registration mode open, or invite with an invite code)',
    security: 'none',
    body: obj({ username: str, password: str, email: str, invite: str }, ['username', 'password']),
    responses: {
      '201': 'The user',
      '400': 'Invalid input',
      '403': 'Registration closed or invite invalid',
      '409': 'Username taken',
    },
  },
  {
    method: 'post',
    path: '/auth/login',
    tag: 'Tokens',
    summary: 'Sign in: an access and a refresh token (in the body, or HttpOnly cookies with `cookies: true`)',
    security: 'none',
    body: obj({ username: str, password: str, cookies: { type: 'boolean' } }, ['username', 'password']),
    responses: { '200': 'Tokens', '401': 'Bad username or password', '429': 'Throttled (Retry-After)' },
  },
  {
    method: 'post',
    path: '/auth/refresh',
    tag: 'Tokens',
    summary: 'Redeem a refresh token for a new pair (rotation; a reused token revokes its session)',
    security: 'refresh',
    responses: { '200': 'Tokens', '401': 'Invalid, revoked or reused refresh token' },
  },
  {
    method: 'post',
    path: '/auth/logout',
    tag: 'Tokens',
    summary: 'Sign out this session',
    security: 'bearer',
    responses: { '200': 'Signed out', '401': 'Invalid token' },
  },
  {
    method: 'post',
    path: '/auth/logout-all',
    tag: 'Tokens',
    summary: 'Sign out every session of the user',
    security: 'bearer',
    responses: { '200': 'Signed out everywhere' },
  },
  {
    method: 'get',
    path: '/auth/me',
    tag: 'Users',
    summary: 'The signed-in user (a JWT, or an API key with read:profile)',
    security: 'bearer',
    responses: { '200': 'The user', '401': 'Invalid token' },
  },
  {
    method: 'post',
    path: '/auth/password',
    tag: 'Users',
    summary: 'Change the password; every token and session of the user is revoked',
    security: 'bearer',
    body: obj({ current_password: str, new_password: str }, ['current_password', 'new_password']),
    responses: { '200': 'Changed', '401': 'Wrong current password' },
  },
  {
    method: 'get',
    path: '/auth/sessions',
    tag: 'Sessions',
    summary: 'My sessions: device, address, created, last used',
    security: 'bearer',
    responses: { '200': 'Sessions' },
  },
  {
    method: 'delete',
    path: '/auth/sessions/{id}',
    tag: 'Sessions',
    summary: 'Revoke one of my sessions',
    security: 'bearer',
    responses: { '200': 'Revoked', '404': 'No such session' },
  },
  {
    method: 'get',
    path: '/auth/api-keys',
    tag: 'API keys',
    summary: 'My API keys (never the secrets)',
    security: 'bearer',
    responses: { '200': 'Keys' },
  },
  {
    method: 'post',
    path: '/auth/api-keys',
    tag: 'API keys',
    summary: 'Create an API key; the secret is in this answer only',
    security: 'bearer',
    body: obj(
      {
        name: str,
        scopes: { type: 'array', items: { enum: ['introspect', 'revoke', 'read:profile', 'admin'] } },
        expires_in: int,
      },
      ['name', 'scopes'],
    ),
    responses: { '201': 'The key, with its secret', '403': 'Scope reserved to admins' },
  },
  {
    method: 'delete',
    path: '/auth/api-keys/{id}',
    tag: 'API keys',
    summary: 'Revoke one of my API keys',
    security: 'bearer',
    responses: { '200': 'Revoked', '404': 'No such key' },
  },
  {
    method: 'post',
    path: '/api/token/',
    tag: 'SimpleJWT',
    summary: 'TokenObtainPairView: {username, password} → {refresh, access}',
    security: 'none',
    body: obj({ username: str, password: str }, ['username', 'password']),
    responses: {
      '200': '{refresh, access}',
      '400': 'Field errors',
      '401': 'No active account found with the given credentials',
    },
  },
  {
    method: 'post',
    path: '/api/token/refresh/',
    tag: 'SimpleJWT',
    summary: 'TokenRefreshView: {refresh} → {access, refresh}',
    security: 'none',
    body: obj({ refresh: str }, ['refresh']),
    responses: { '200': '{access, refresh}', '401': 'token_not_valid' },
  },
  {
    method: 'post',
    path: '/api/token/verify/',
    tag: 'SimpleJWT',
    summary: 'TokenVerifyView: {token} → {}',
    security: 'none',
    body: obj({ token: str }, ['token']),
    responses: { '200': '{}', '401': 'token_not_valid' },
  },
  {
    method: 'post',
    path: '/api/token/blacklist/',
    tag: 'SimpleJWT',
    summary: 'TokenBlacklistView: {refresh} → {}',
    security: 'none',
    body: obj({ refresh: str }, ['refresh']),
    responses: { '200': '{}', '401': 'token_not_valid' },
  },
  {
    method: 'post',
    path: '/oauth/introspect',
    tag: 'Resource servers',
    summary: 'RFC 7662 token introspection (API key with the introspect scope)',
    security: 'apiKey',
    form: true,
    body: obj({ token: str, token_type_hint: str }, ['token']),
    responses: { '200': '{active, ...}', '401': 'API key missing or invalid', '403': 'Scope missing' },
  },
  {
    method: 'post',
    path: '/oauth/revoke',
    tag: 'Resource servers',
    summary: 'RFC 7009 token revocation (API key with the revoke scope)',
    security: 'apiKey',
    form: true,
    body: obj({ token: str, token_type_hint: str }, ['token']),
    responses: { '200': 'Revoked (or was not a valid token)' },
  },
  {
    method: 'get',
    path: '/admin/users',
    tag: 'Admin',
    summary: 'List users (?limit, ?offset)',
    security: 'admin',
    responses: { '200': 'Users' },
  },
  {
    method: 'post',
    path: '/admin/users',
    tag: 'Admin',
    summary: 'Create a user',
    security: 'admin',
    body: obj({ username: str, password: str, email: str, roles }, ['username', 'password']),
    responses: { '201': 'The user', '409': 'Username taken' },
  },
  {
    method: 'get',
    path: '/admin/users/{username}',
    tag: 'Admin',
    summary: 'One user',
    security: 'admin',
    responses: { '200': 'The user', '404': 'No such user' },
  },
  {
    method: 'patch',
    path: '/admin/users/{username}',
    tag: 'Admin',
    summary: "Set roles, disable or enable (disabling or a role change revokes the user's tokens)",
    security: 'admin',
    body: obj({ roles, disabled: { type: 'boolean' }, email: str }),
    responses: { '200': 'The user' },
  },
  {
    method: 'post',
    path: '/admin/users/{username}/revoke',
    tag: 'Admin',
    summary: 'Revoke every token, session and API key of a user',
    security: 'admin',
    responses: { '200': 'Revoked' },
  },
  {
    method: 'get',
    path: '/admin/keys',
    tag: 'Admin',
    summary: 'Signing keys still verifying',
    security: 'admin',
    responses: { '200': 'Keys' },
  },
  {
    method: 'post',
    path: '/admin/keys/rotate',
    tag: 'Admin',
    summary: 'Rotate the signing key now (the previous one verifies during the grace period)',
    security: 'admin',
    responses: { '200': 'The new kid' },
  },
  {
    method: 'post',
    path: '/admin/invites',
    tag: 'Admin',
    summary: 'Create a single-use invite (registration mode invite)',
    security: 'admin',
    body: obj({ roles, expires_in: int }),
    responses: { '201': 'The invite code' },
  },
  {
    method: 'post',
    path: '/admin/import',
    tag: 'Admin',
    summary:
      'Import users from CSV (text/csv: username, password_hash, email, is_active, roles); Django and Werkzeug hashes are kept and upgraded at first sign-in; existing usernames are skipped',
    security: 'admin',
    responses: {
      '200': '{created, skipped}',
      '400': 'The CSV is invalid (the line is named)',
      '415': 'Not text/csv',
    },
  },
  {
    method: 'get',
    path: '/admin/audit',
    tag: 'Admin',
    summary: 'Recent audit events (?limit)',
    security: 'admin',
    responses: { '200': 'Events' },
  },
  {
    method: 'get',
    path: '/admin/console/users',
    tag: 'Console',
    summary:
      'Users whose name contains ?q (case-insensitive; ?limit 1..200, default 50), and the total: {users, total}',
    security: 'admin',
    responses: { '200': '{users, total}', '400': 'q longer than 150 or limit out of range' },
  },
  {
    method: 'get',
    path: '/admin/console/keys',
    tag: 'Console',
    summary:
      'Signing keys with the rotation schedule: {keys, rotation_seconds, grace_seconds, algorithm, next_rotation_at}',
    security: 'admin',
    responses: { '200': 'Keys and schedule' },
  },
  {
    method: 'get',
    path: '/admin/console/activity',
    tag: 'Console',
    summary:
      'Sign-ins and refusals per time bucket over ?range (1h, 24h or 7d; default 24h), and the latest 100 security events (failures, throttling, refresh-token reuse, revocations)',
    security: 'admin',
    responses: { '200': '{range, bucket_seconds, buckets, events}', '400': 'Unknown range' },
  },
  {
    method: 'get',
    path: '/console/',
    tag: 'Console',
    summary:
      'The web console (HTML; its assets under /console/assets/). Signs in through /auth/login in cookie mode; the admin views need the admin role',
    security: 'none',
    responses: {
      '200': 'HTML',
      '503': 'The console is not built (npm run build:web -w packages/server)',
    },
  },
];

const ERROR = obj({ msg: str, code: str }, ['msg', 'code']);

/** The OpenAPI 3.1 document. */
export function openApiDocument(config: Pick<ServiceConfig, 'publicUrl'>): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const op of OPERATIONS) {
    const security =
      op.security === 'none' || op.security === undefined
        ? []
        : op.security === 'apiKey'
          ? [{ apiKey: [] }]
          : op.security === 'admin'
            ? [{ bearer: [] }, { apiKey: [] }]
            : [{ bearer: [] }, { cookie: [] }];
    const operation: Schema = {
      tags: [op.tag],
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      security,
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, description]) => [
          status,
          {
            description,
            content: { 'application/json': { schema: status.startsWith('2') ? { type: 'object' } : ERROR } },
          },
        ]),
      ),
    };
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: str,
    }));
    if (params.length > 0) operation.parameters = params;
    if (op.body !== undefined) {
      operation.requestBody = {
        required: true,
        content: {
          [op.form ? 'application/x-www-form-urlencoded' : 'application/json']: { schema: op.body },
        },
      };
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera auth service',
      version: '0.1.0',
      description:
        'Sign-in, refresh with rotation, sessions, API keys, introspection and revocation; tokens verifiable by anyone through the JWKS. Errors answer {msg, code}; every token response carries Cache-Control: no-store.',
    },
    servers: config.publicUrl === undefined ? [] : [{ url: config.publicUrl }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'access_token_cookie',
          description: 'Cookie mode; unsafe methods need X-CSRF-TOKEN',
        },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (tsk_...), as Authorization: Token <key> or Bearer <key>',
        },
      },
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The reference page: one table per tag, rendered from the document. */
export function referencePage(document: Schema): string {
  const byTag = new Map<string, string[]>();
  const paths = document.paths as Record<string, Record<string, Schema>>;
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags as string[])[0]!;
      const body = op.requestBody as
        | {
            content: Record<
              string,
              { schema: { properties?: Record<string, unknown>; required?: string[] } }
            >;
          }
        | undefined;
      const fields =
        body === undefined
          ? ''
          : Object.entries(body.content)
              .map(
                ([type, { schema }]) =>
                  `${escapeHtml(type)}: ${Object.keys(schema.properties ?? {})
                    .map((f) =>
                      (schema.required ?? []).includes(f) ? `<b>${escapeHtml(f)}</b>` : escapeHtml(f),
                    )
                    .join(', ')}`,
              )
              .join('');
      const responses = Object.entries(op.responses as Record<string, { description: string }>)
        .map(([s, r]) => `${s} ${escapeHtml(r.description)}`)
        .join('<br>');
      const rows = byTag.get(tag) ?? [];
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(String(op.summary))}</td><td>${fields}</td><td>${responses}</td></tr>`,
      );
      byTag.set(tag, rows);
    }
  }
  const sections = [...byTag]
    .map(
      ([tag, rows]) =>
        `<h2>${escapeHtml(tag)}</h2><table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Body (required in bold)</th><th>Answers</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    )
    .join('\n');
  const info = document.info as { title: string; description: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(info.title)}</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#111}table{border-collapse:collapse;width:100%;margin-bottom:2rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}th{background:#f3f3f3}code{font-size:13px}</style></head><body><h1>${escapeHtml(info.title)}</h1><p>${escapeHtml(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>${sections}</body></html>`;
}
