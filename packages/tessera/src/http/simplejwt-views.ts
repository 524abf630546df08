/**
 * SimpleJWT's token endpoints as framework-neutral handlers: obtain pair,
 * refresh, verify, blacklist, obtain sliding, refresh sliding. Request and
 * response shapes, statuses and messages follow djangorestframework-simplejwt
 * 5.2 (docs/reference/python-peers.md 4.3 and 4.6), so a Django client keeps working when its
 * auth service moves to TypeScript. Where SimpleJWT answers 500 (a refresh token
 * without jti), these answer 401.
 */
import {
  ConfigError,
  MissingClaimError,
  RevokedTokenError,
  TesseraError,
  TokenExpiredError,
  WrongTokenTypeError,
} from '../errors.js';
import { decodeProtectedHeader } from '../jws/compact.js';
import type { ResolvedConfig } from '../manager/config.js';
import type { ResponseData } from '../manager/options.js';
import type { TokenManager } from '../manager/token-manager.js';
import type { VerifiedToken } from '../manager/types.js';
import { jsonResponse, SIMPLEJWT_CHALLENGE, simpleJwtTokenMessage } from '../messages/answers.js';
import { isFormContentType, isJsonContentType, type RequestLike } from './request.js';

/** How the obtain views check credentials. */
export interface SimpleJwtViewsOptions {
  /**
   * Check a username and password; return the identity to put in `user_id`, or
   * null/undefined when there is no active account with these credentials.
   */
  authenticate: (username: string, password: string) => unknown | Promise<unknown>;
  /** The username field of the obtain views (Django's USERNAME_FIELD). Default `username`. */
  usernameField?: string;
  /**
   * SimpleJWT's UPDATE_LAST_LOGIN: called with the identity after each successful
   * obtain, before the tokens are answered (a failure fails the login).
   */
  updateLastLogin?: (identity: unknown) => void | Promise<void>;
}

/** A view: a neutral request in, an answer out. Never throws for bad input. */
export type View = (req: RequestLike) => Promise<ResponseData>;

/** The six SimpleJWT views. */
export interface SimpleJwtViews {
  /** POST {username, password} → {refresh, access} (TokenObtainPairView). */
  tokenObtainPair: View;
  /** POST {refresh} → {access[, refresh]} (TokenRefreshView). */
  tokenRefresh: View;
  /** POST {token} → {} (TokenVerifyView). */
  tokenVerify: View;
  /** POST {refresh} → {} (TokenBlacklistView); needs a store. */
  tokenBlacklist: View;
  /** POST {username, password} → {token} (TokenObtainSlidingView). */
  tokenObtainSliding: View;
  /** POST {token} → {token} (TokenRefreshSlidingView). */
  tokenRefreshSliding: View;
}

const REALM = SIMPLEJWT_CHALLENGE;
const REFRESH_EXP = { key: 'token_expired.refresh_exp' } as const;

/**
 * Build the views for a manager with the `simplejwt` profile.
 *
 * @example
 * ```ts
 * const jwt = new TokenManager({ profile: 'simplejwt', secret, store, rotation: { enabled: true, blacklistAfterRotation: true } });
 * const views = createSimpleJwtViews(jwt, { authenticate: async (u, p) => (await users.check(u, p))?.id });
 * // Fetch-style: route POST /api/token/ to views.tokenObtainPair(toRequestLike(request))
 * ```
 */
export function createSimpleJwtViews(manager: TokenManager, options: SimpleJwtViewsOptions): SimpleJwtViews {
  const config = manager.config as ResolvedConfig<unknown>;
  if (!config.profile.simpleJwtClasses) {
    throw new ConfigError("createSimpleJwtViews needs a TokenManager with profile 'simplejwt'");
  }
  const usernameField = options.usernameField ?? 'username';

  const obtain = (about: ViewAbout, makeBody: (identity: unknown) => Promise<Record<string, string>>): View =>
    view(about, [usernameField, 'password'], [], async (body) => {
      const errors = fieldErrors(body, [usernameField, 'password']);
      if (errors !== undefined) return jsonResponse(400, errors);
      const identity = await options.authenticate(body[usernameField] as string, body.password as string);
      if (identity === null || identity === undefined) {
        return jsonResponse(401, { detail: 'No active account found with the given credentials' }, REALM);
      }
      const tokens = await makeBody(identity);
      await options.updateLastLogin?.(identity);
      return jsonResponse(200, tokens);
    });

  // SimpleJWT checks a refresh/sliding token's blacklist entry before its type (Q10),
  // and never loads the user: a refresh for a deleted or inactive user succeeds
  // (D86/D87), so the same manager can carry a userLookup for the protected routes.
  async function checked(token: string, type: 'refresh' | 'sliding'): Promise<VerifiedToken> {
    const payload = await manager.decodeToken(token);
    const header = decodeProtectedHeader(token);
    // The store and the tokenInBlocklist callback, as verification would ask them.
    if (await manager.isRevoked(header, payload)) throw new RevokedTokenError({ header, payload });
    const actual = payload[config.profile.typeClaim];
    if (actual === undefined) {
      throw new WrongTokenTypeError(
        'Token has no type',
        { header, payload },
        { key: 'wrong_token_type.missing' },
      );
    }
    if (actual !== type) {
      throw new WrongTokenTypeError(
        'Token has wrong type',
        { header, payload },
        { params: { expected: type } },
      );
    }
    return { header, payload, identity: payload[config.profile.identityClaim], user: undefined };
  }

  return {
    tokenObtainPair: obtain(ABOUT.tokenObtainPair, async (identity) => {
      const refresh = await manager.createRefreshToken({ identity });
      const access = await manager.createAccessTokenFromRefresh(await manager.decodeToken(refresh));
      return { refresh, access };
    }),
    tokenObtainSliding: obtain(ABOUT.tokenObtainSliding, async (identity) => ({
      token: await manager.createSlidingToken({ identity }),
    })),
    tokenRefresh: view(ABOUT.tokenRefresh, ['refresh'], ['access'], async (body) => {
      const errors = fieldErrors(body, ['refresh']);
      if (errors !== undefined) return jsonResponse(400, errors);
      // Handing over the checked token keeps refreshTokens from verifying it again
      // (which would run userLookup).
      const result = await manager.refreshTokens(await checked(body.refresh as string, 'refresh'));
      const answer: Record<string, string> = { access: result.accessToken };
      if (result.refreshToken !== undefined) answer.refresh = result.refreshToken;
      return jsonResponse(200, answer);
    }),
    tokenVerify: view(ABOUT.tokenVerify, ['token'], [], async (body) => {
      const errors = fieldErrors(body, ['token']);
      if (errors !== undefined) return jsonResponse(400, errors);
      // UntypedToken: signature, exp and jti; any type, no user.
      const token = body.token as string;
      const payload = await manager.decodeToken(token);
      if (config.rotation.blacklistAfterRotation && config.store !== undefined) {
        if (await manager.isRevoked(decodeProtectedHeader(token), payload)) {
          return jsonResponse(400, { non_field_errors: ['Token is blacklisted'] });
        }
      }
      return jsonResponse(200, {});
    }),
    tokenBlacklist: view(ABOUT.tokenBlacklist, ['refresh'], [], async (body) => {
      const errors = fieldErrors(body, ['refresh']);
      if (errors !== undefined) return jsonResponse(400, errors);
      const { payload } = await checked(body.refresh as string, 'refresh');
      await manager.revokeToken(payload);
      return jsonResponse(200, {});
    }),
    tokenRefreshSliding: view(ABOUT.tokenRefreshSliding, ['token'], [], async (body) => {
      const errors = fieldErrors(body, ['token']);
      if (errors !== undefined) return jsonResponse(400, errors);
      const { header, payload, identity } = await checked(body.token as string, 'sliding');
      // refreshSlidingToken's checks, without its userLookup (SimpleJWT loads no user here).
      const refreshExp = payload.refresh_exp;
      if (refreshExp === undefined)
        throw new MissingClaimError('refresh_exp', "Token has no 'refresh_exp' claim", { header, payload });
      if (typeof refreshExp !== 'number' || refreshExp <= config.now() - config.rules.leeway) {
        throw new TokenExpiredError(
          { header, payload },
          "Token 'refresh_exp' claim has expired",
          REFRESH_EXP,
        );
      }
      const now = Math.floor(config.now());
      const token = await manager.signPayload(
        { ...payload, exp: now + config.slidingExpires, iat: now },
        { identity },
      );
      return jsonResponse(200, { token });
    }),
  };
}

const NO_BODY = Symbol('no body');

/** A view's name and docstring, as DRF's OPTIONS metadata shows them. */
interface ViewAbout {
  readonly name: string;
  readonly description: string;
}

// SimpleJWT 5.2.2's view names and docstrings (DRF dedents them and joins nothing).
const ABOUT = {
  tokenObtainPair: {
    name: 'Token Obtain Pair',
    description:
      'Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.',
  },
  tokenRefresh: {
    name: 'Token Refresh',
    description:
      'Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.',
  },
  tokenVerify: {
    name: 'Token Verify',
    description:
      "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
  },
  tokenBlacklist: {
    name: 'Token Blacklist',
    description:
      'Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.',
  },
  tokenObtainSliding: {
    name: 'Token Obtain Sliding',
    description:
      'Takes a set of user credentials and returns a sliding JSON web token to\nprove the authentication of those credentials.',
  },
  tokenRefreshSliding: {
    name: 'Token Refresh Sliding',
    description:
      "Takes a sliding JSON web token and returns a new, refreshed version if the\ntoken's refresh period has not expired.",
  },
} as const satisfies Record<keyof SimpleJwtViews, ViewAbout>;

// DRF's APIView puts Allow on every answer of a view.
const ALLOW = { allow: 'POST, OPTIONS' };

/**
 * DRF's SimpleMetadata for a POST-only view: what OPTIONS answers. Fields are
 * CharFields; the label is DRF's default (`field_name.replace('_', ' ').capitalize()`).
 */
function metadata(about: ViewAbout, fields: readonly string[], readOnly: readonly string[]): string {
  const field = (name: string, writable: boolean) => ({
    type: 'string',
    required: writable,
    read_only: !writable,
    label: pythonCapitalize(name.replaceAll('_', ' ')),
  });
  const post: Record<string, ReturnType<typeof field>> = {};
  for (const name of fields) post[name] = field(name, true);
  for (const name of readOnly) post[name] = field(name, false);
  return JSON.stringify({
    name: about.name,
    description: about.description,
    renders: ['application/json'],
    parses: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
    actions: { POST: post },
  });
}

function pythonCapitalize(text: string): string {
  return text.slice(0, 1).toUpperCase() + text.slice(1).toLowerCase();
}

/** Method, content type and body handling shared by every view (DRF's parsers). */
function view(
  about: ViewAbout,
  fields: readonly string[],
  readOnly: readonly string[],
  handle: (body: Record<string, unknown>) => Promise<ResponseData>,
): View {
  const options = metadata(about, fields, readOnly);
  return async (req) => {
    const answer = await answerView(req, options, handle);
    return { ...answer, headers: { ...answer.headers, ...ALLOW } };
  };
}

async function answerView(
  req: RequestLike,
  options: string,
  handle: (body: Record<string, unknown>) => Promise<ResponseData>,
): Promise<ResponseData> {
  const method = req.method.toUpperCase();
  if (method === 'OPTIONS')
    return { status: 200, headers: { 'content-type': 'application/json' }, body: options };
  if (method !== 'POST') return jsonResponse(405, { detail: `Method "${method}" not allowed.` });
  const type = req.header('content-type');
  if (type !== undefined && !isJsonContentType(type) && !isFormContentType(type)) {
    const media = type.split(';', 1)[0]!.trim();
    return jsonResponse(415, { detail: `Unsupported media type "${media}" in request.` });
  }
  const body = type === undefined ? {} : await readBody(req);
  if (body === NO_BODY) return jsonResponse(400, { detail: 'JSON parse error' });
  try {
    return await handle(body);
  } catch (error) {
    // Configuration mistakes are the server's, not the client's: let them surface.
    if (!(error instanceof TesseraError) || error.kind === 'configuration') throw error;
    if (error.code === 'store_unavailable')
      return jsonResponse(503, { detail: error.pythonMessage, code: error.code });
    return jsonResponse(401, { detail: simpleJwtTokenMessage(error), code: 'token_not_valid' }, REALM);
  }
}

async function readBody(req: RequestLike): Promise<Record<string, unknown> | typeof NO_BODY> {
  let body: unknown;
  try {
    body = await req.body?.();
  } catch {
    return NO_BODY;
  }
  if (body === undefined) return NO_BODY;
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

/** DRF serializer field errors: required, then not blank, in field order. */
function fieldErrors(
  body: Record<string, unknown>,
  fields: readonly string[],
): Record<string, string[]> | undefined {
  const errors: Record<string, string[]> = {};
  for (const field of fields) {
    const value = body[field];
    if (value === undefined || value === null) errors[field] = ['This field is required.'];
    else if (typeof value !== 'string') errors[field] = ['Not a valid string.'];
    else if (value.trim() === '' && field !== 'password') errors[field] = ['This field may not be blank.'];
    else if (value === '') errors[field] = ['This field may not be blank.'];
  }
  return Object.keys(errors).length === 0 ? undefined : errors;
}

/**
 * Django's `APPEND_SLASH` (CommonMiddleware) for the paths a program routes: a
 * request for `/api/token` when `/api/token/` is routed answers 301 with
 * `Location: /api/token/` (query string kept) and an empty body, for every
 * method, as Django does with `DEBUG` off (D88). Anything else gives undefined:
 * the routes answer it. Route the paths strictly (Express: `strict routing`),
 * or the framework serves `/api/token` itself.
 *
 * @param paths - the routed paths, each starting and ending with `/`.
 * @example
 * ```ts
 * const redirect = appendSlash(['/api/token/', '/api/protected/']);
 * // Before the routes: send the answer when there is one (Express: docs/migrating-from-simplejwt.md).
 * const answer = redirect({ method: 'POST', url: '/api/token?next=1', header: () => undefined });
 * // answer: 301, location '/api/token/?next=1', empty body
 * ```
 */
export function appendSlash(paths: readonly string[]): (req: RequestLike) => ResponseData | undefined {
  const routed = new Set<string>();
  for (const path of paths) {
    if (typeof path !== 'string' || !path.startsWith('/') || !path.endsWith('/')) {
      throw new ConfigError(`appendSlash: '${String(path)}' must start and end with '/'`);
    }
    routed.add(path);
  }
  return (req) => {
    const query = req.url.indexOf('?');
    const target = query < 0 ? req.url : req.url.slice(0, query);
    const path = target.startsWith('/') ? target : absolutePath(target);
    if (path === undefined || path.endsWith('/') || !routed.has(`${path}/`)) return undefined;
    return {
      status: 301,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        location: `${path}/${query < 0 ? '' : req.url.slice(query)}`,
      },
      body: '',
    };
  };
}

// An absolute request target (a proxy's form): its path, or undefined when it is not a URL.
function absolutePath(target: string): string | undefined {
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}
