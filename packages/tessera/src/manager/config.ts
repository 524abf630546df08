/**
 * Validate {@link TokenManagerOptions} once, at construction, into a resolved
 * configuration with every default filled in. Every mistake is a ConfigError
 * that names the option; nothing is discovered on the first request.
 */
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { ALGORITHMS, isJwsAlgorithm, type JwsAlgorithm } from '../jws/algorithms.js';
import { DEFAULT_JWS_LIMITS, type JwsLimits } from '../jws/limits.js';
import { importKeyObject, importPem, importSecret } from '../keys/import.js';
import type { TesseraKey } from '../keys/key.js';
import { Keyring } from '../keys/keyring.js';
import type { KeySource } from '../keys/source.js';
import { refuseUnknownOptions } from '../known-options.js';
import { ENGLISH_MESSAGES, type ResolvedMessages, resolveMessages } from '../messages/messages.js';
import type { TokenStore } from '../stores/types.js';
import { toLifetime, toSeconds } from '../tokens/duration.js';
import { PROFILES, type TokenProfile } from '../tokens/profile.js';
import type { ClaimRules } from '../tokens/validate.js';
import { OPTION_KEYS } from './option-keys.js';
import {
  type ErrorHandlers,
  TOKEN_LOCATIONS,
  type TokenCallbacks,
  type TokenLocation,
  type TokenManagerOptions,
} from './options.js';
import { RefreshKeySplit, refreshSigningKey } from './refresh-keys.js';

/** Resolved cookie settings. */
export interface ResolvedCookies {
  readonly accessName: string;
  readonly refreshName: string;
  readonly accessPath: string;
  readonly refreshPath: string;
  readonly domain: string | undefined;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax' | 'None' | false;
  readonly session: boolean;
  readonly hostPrefix: boolean;
  readonly implicitRefreshWithin: number | false;
}

/** Resolved CSRF settings. */
export interface ResolvedCsrf {
  /** True when cookies are a location and protection is on: every token gets a `csrf` claim. */
  readonly enabled: boolean;
  /** Protection asked for (`csrf.protect`), whether or not cookies are a configured location. */
  readonly protect: boolean;
  readonly methods: ReadonlySet<string>;
  readonly inCookies: boolean;
  readonly accessCookieName: string;
  readonly refreshCookieName: string;
  readonly accessCookiePath: string;
  readonly refreshCookiePath: string;
  readonly accessHeaderName: string;
  readonly refreshHeaderName: string;
  readonly checkForm: boolean;
  readonly accessFieldName: string;
  readonly refreshFieldName: string;
}

/** Resolved transport settings, read by the http layer. */
export interface ResolvedTransport {
  readonly locations: readonly TokenLocation[];
  readonly headerName: string;
  readonly headerType: string;
  readonly queryStringName: string;
  readonly queryStringValuePrefix: string;
  readonly jsonKey: string;
  readonly refreshJsonKey: string;
  readonly cookies: ResolvedCookies;
  readonly csrf: ResolvedCsrf;
  readonly errorMessageKey: string;
}

/** Resolved rotation settings. */
export interface ResolvedRotation {
  readonly enabled: boolean;
  readonly graceSeconds: number;
  readonly blacklistAfterRotation: boolean;
}

/** A validated configuration. */
export interface ResolvedConfig<TUser = unknown> {
  readonly profile: TokenProfile;
  readonly algorithm: JwsAlgorithm;
  /** Signs new tokens, unless an encodeKey callback picks one. Undefined for verify-only managers. */
  readonly signingKey: (() => TesseraKey) | undefined;
  readonly verificationKeys: KeySource;
  /** Signs refresh tokens when `refreshKeys` is configured; else refresh tokens sign with {@link signingKey}. */
  readonly refreshSigningKey: (() => TesseraKey) | undefined;
  /** With `refreshKeys`: did a refresh key verify tokens with this kid? Such tokens must be refresh tokens. */
  readonly isRefreshKid: ((kid: unknown) => boolean) | undefined;
  readonly accessExpires: number | false;
  readonly refreshExpires: number | false;
  readonly slidingExpires: number;
  readonly slidingRefreshExpires: number;
  readonly identityClaim: string;
  readonly issuer: string | undefined;
  readonly audience: string | readonly string[] | undefined;
  readonly rules: ClaimRules;
  readonly encodeNbf: boolean;
  readonly typ: string;
  readonly acceptedTyp: readonly string[] | undefined;
  readonly limits: JwsLimits;
  readonly cacheSize: number;
  readonly now: () => number;
  readonly transport: ResolvedTransport;
  readonly store: TokenStore | undefined;
  readonly revocationFailOpen: boolean;
  readonly rotation: ResolvedRotation;
  readonly callbacks: Readonly<TokenCallbacks<TUser>>;
  readonly errorHandlers: Readonly<ErrorHandlers>;
  /** The standard profile's message catalogs and language. */
  readonly messages: ResolvedMessages;
}

const DEFAULT_CSRF_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** Validate options and fill in defaults. Throws ConfigError naming the faulty option. */
export function resolveConfig<TUser>(options: TokenManagerOptions<TUser>): ResolvedConfig<TUser> {
  refuseUnknownKeys(options);
  const profileName = options.profile ?? 'standard';
  const base = PROFILES[profileName];
  if (base === undefined) {
    throw new ConfigError(
      `profile must be one of ${Object.keys(PROFILES).join(', ')} (got '${String(profileName)}')`,
    );
  }
  const algorithm = options.algorithm ?? 'HS256';
  if (!isJwsAlgorithm(algorithm)) {
    throw new ConfigError(
      `algorithm '${String(algorithm)}' is not supported; use one of ${Object.keys(ALGORITHMS).join(', ')}`,
    );
  }
  const identityClaim = nonEmpty(options.identityClaim ?? base.identityClaim, 'identityClaim');
  const profile: TokenProfile = identityClaim === base.identityClaim ? base : { ...base, identityClaim };
  const keys = resolveKeys(options, algorithm);
  const { signingKey } = keys;
  const refresh = resolveRefreshKeys(options, keys.verificationKeys);
  const verificationKeys = refresh?.split ?? keys.verificationKeys;

  const leeway = toSeconds(options.leeway ?? 0, 'leeway');
  if (leeway < 0) throw new ConfigError('leeway must not be negative');
  const issuer = options.issuer;
  const audience = options.audience;
  const rules: ClaimRules = {
    profile,
    leeway,
    requireExp: options.requireExp ?? profile.requireExp,
    issuer: list(options.decodeIssuer ?? issuer, 'decodeIssuer'),
    audience: list(options.decodeAudience ?? audience, 'decodeAudience'),
  };
  const limits: JwsLimits = { ...DEFAULT_JWS_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new ConfigError(`limits.${name} must be a positive integer`);
  }
  const cache = options.verifiedTokenCache ?? false;
  if (cache !== false && (!Number.isInteger(cache) || cache < 0)) {
    throw new ConfigError(
      'verifiedTokenCache must be false or a non-negative integer (the number of entries)',
    );
  }
  const acceptedTyp =
    options.acceptedTyp === false ? undefined : (options.acceptedTyp ?? profile.acceptedTyp);
  const store = options.store;
  const rotation = options.rotation ?? {};
  const graceSeconds = rotation.graceSeconds ?? 5;
  if (!(graceSeconds >= 0)) throw new ConfigError('rotation.graceSeconds must be a non-negative number');
  // Without a store nothing can spend a refresh token: rotation would silently not happen.
  if (rotation.enabled === true && store === undefined) {
    throw new ConfigError(
      'rotation.enabled needs a store: refresh tokens are single-use only where a store records them (configure `store`, or leave rotation off)',
    );
  }

  return Object.freeze({
    profile,
    algorithm,
    signingKey,
    verificationKeys,
    refreshSigningKey: refresh?.signingKey,
    isRefreshKid: refresh === undefined ? undefined : (kid: unknown) => refresh.split.isRefreshKid(kid),
    accessExpires: toLifetime(options.accessTokenExpires ?? profile.accessExpires, 'accessTokenExpires'),
    refreshExpires: toLifetime(options.refreshTokenExpires ?? profile.refreshExpires, 'refreshTokenExpires'),
    slidingExpires: positive(
      toSeconds(options.slidingTokenExpires ?? 300, 'slidingTokenExpires'),
      'slidingTokenExpires',
    ),
    slidingRefreshExpires: positive(
      toSeconds(options.slidingTokenRefreshExpires ?? 86_400, 'slidingTokenRefreshExpires'),
      'slidingTokenRefreshExpires',
    ),
    identityClaim,
    issuer,
    audience,
    rules,
    encodeNbf: options.encodeNbf ?? profile.encodeNbf,
    typ: options.typ ?? 'JWT',
    acceptedTyp,
    limits,
    cacheSize: cache === false ? 0 : cache,
    now: options.now ?? (() => Date.now() / 1000),
    transport: resolveTransport(options, profile),
    store,
    revocationFailOpen: options.revocationFailOpen ?? false,
    rotation: Object.freeze({
      // SimpleJWT's ROTATE_REFRESH_TOKENS defaults to False; elsewhere a store turns rotation on.
      enabled: rotation.enabled ?? (store !== undefined && profile.rotateWithStore),
      graceSeconds,
      blacklistAfterRotation: rotation.blacklistAfterRotation ?? false,
    }),
    callbacks: Object.freeze({ ...options.callbacks }),
    errorHandlers: Object.freeze({ ...options.errorHandlers }),
    messages: resolveProfileMessages(options, profile),
  });
}

// Only the standard profile's answers are worded by the catalogs: the Python
// profiles' texts are pinned to their peers', so asking to translate them is a mistake.
function resolveProfileMessages(
  options: TokenManagerOptions<unknown>,
  profile: TokenProfile,
): ResolvedMessages {
  if (options.messages !== undefined && profile.errorText !== 'catalog') {
    throw new ConfigError(
      `messages: the '${profile.name}' profile answers with its Python peer's texts; messages apply to the standard profile`,
    );
  }
  return options.messages === undefined ? ENGLISH_MESSAGES : resolveMessages(options.messages);
}

// Every options object is checked once, here: a misspelt key would otherwise be
// ignored and the behaviour it asks for would silently not happen.
function refuseUnknownKeys(options: TokenManagerOptions<unknown>): void {
  if (typeof options === 'object' && options !== null) {
    // A callback one level too high is the likely slip: say where it belongs.
    for (const key of Object.keys(options)) {
      if (OPTION_KEYS.callbacks.includes(key)) {
        throw new ConfigError(
          `Unknown option '${key}' in TokenManager options; callbacks go in \`callbacks\`: did you mean 'callbacks.${key}'?`,
        );
      }
    }
  }
  refuseUnknownOptions(options, OPTION_KEYS.manager, 'TokenManager options');
  refuseUnknownOptions(options.callbacks, OPTION_KEYS.callbacks, 'callbacks');
  refuseUnknownOptions(options.cookies, OPTION_KEYS.cookies, 'cookies');
  refuseUnknownOptions(options.csrf, OPTION_KEYS.csrf, 'csrf');
  refuseUnknownOptions(options.rotation, OPTION_KEYS.rotation, 'rotation');
  refuseUnknownOptions(options.errorHandlers, OPTION_KEYS.errorHandlers, 'errorHandlers');
  refuseUnknownOptions(options.limits, OPTION_KEYS.limits, 'limits');
}

function resolveRefreshKeys(
  options: TokenManagerOptions<unknown>,
  main: KeySource,
): { signingKey: () => TesseraKey; split: RefreshKeySplit } | undefined {
  const source = options.refreshKeys;
  if (source === undefined) return undefined;
  if (typeof source !== 'object' || source === null || typeof source.signingKey !== 'function') {
    throw new ConfigError(
      'refreshKeys must be a key source that can sign (a Keyring with a secret or private key)',
    );
  }
  if (typeof source.verificationKeys !== 'function') {
    throw new ConfigError('refreshKeys must be a key source: verificationKeys(header) is missing');
  }
  // The callbacks choose keys themselves: two mechanisms for one choice would disagree.
  if (options.callbacks?.encodeKey !== undefined || options.callbacks?.decodeKey !== undefined) {
    throw new ConfigError('refreshKeys cannot be combined with the encodeKey or decodeKey callbacks');
  }
  return { signingKey: () => refreshSigningKey(source), split: new RefreshKeySplit(source, main) };
}

function resolveKeys(
  options: TokenManagerOptions<unknown>,
  algorithm: JwsAlgorithm,
): { signingKey: (() => TesseraKey) | undefined; verificationKeys: KeySource } {
  const family = ALGORITHMS[algorithm].family;
  const kid = options.kid;
  if (options.keys !== undefined) {
    const ring = options.keys;
    const signingKey = typeof ring.signingKey === 'function' ? () => ring.signingKey!() : undefined;
    return { signingKey, verificationKeys: options.verificationKeys ?? ring };
  }
  const keys: TesseraKey[] = [];
  if (family === 'hmac') {
    if (options.privateKey !== undefined || options.publicKey !== undefined) {
      throw new ConfigError(
        `${algorithm} is an HMAC algorithm: configure \`secret\`, not privateKey/publicKey`,
      );
    }
    if (options.secret === undefined) {
      if (options.verificationKeys === undefined && options.callbacks?.encodeKey === undefined) {
        throw new ConfigError(
          `secret is required for ${algorithm}: at least ${ALGORITHMS[algorithm].minSecretBytes} random bytes`,
        );
      }
    } else {
      keys.push(importSecret(options.secret, algorithm as 'HS256' | 'HS384' | 'HS512', { kid }));
    }
  } else {
    if (options.secret !== undefined) {
      throw new ConfigError(`${algorithm} is asymmetric: configure privateKey (and publicKey), not secret`);
    }
    if (options.privateKey !== undefined) keys.push(asymmetricKey(options.privateKey, algorithm, kid));
    if (options.publicKey !== undefined) {
      const pub = asymmetricKey(options.publicKey, algorithm, kid);
      if (pub.type !== 'public') throw new ConfigError('publicKey must be a public key');
      if (keys.length === 0) keys.push(pub);
    }
    if (
      keys.length === 0 &&
      options.verificationKeys === undefined &&
      options.callbacks?.encodeKey === undefined
    ) {
      throw new ConfigError(
        `${algorithm} needs privateKey to sign (and/or publicKey, or verificationKeys, to verify)`,
      );
    }
  }
  const ring = new Keyring(keys);
  const signing = keys.find((k) => k.type !== 'public');
  return {
    signingKey: signing === undefined ? undefined : () => signing,
    verificationKeys: options.verificationKeys ?? ring,
  };
}

function asymmetricKey(
  material: string | KeyObject,
  algorithm: JwsAlgorithm,
  kid: string | undefined,
): TesseraKey {
  if (typeof material === 'string') return importPem(material, algorithm, { kid });
  if (material.type === 'secret') throw new ConfigError('privateKey/publicKey must not be a secret key');
  return importKeyObject(material, algorithm, { kid });
}

function resolveTransport(options: TokenManagerOptions<unknown>, profile: TokenProfile): ResolvedTransport {
  const raw = options.tokenLocation ?? ['headers'];
  const locations = typeof raw === 'string' ? [raw] : [...raw];
  if (locations.length === 0) throw new ConfigError('tokenLocation must name at least one location');
  for (const location of locations) {
    if (!TOKEN_LOCATIONS.includes(location)) {
      throw new ConfigError(
        `tokenLocation '${String(location)}' is not one of ${TOKEN_LOCATIONS.join(', ')}`,
      );
    }
  }
  const defaults = profile.cookieDefaults;
  const c = options.cookies ?? {};
  const hostPrefix = c.hostPrefix ?? false;
  if (hostPrefix && (c.domain !== undefined || c.secure === false)) {
    throw new ConfigError('cookies.hostPrefix (__Host-) needs Secure cookies and no domain');
  }
  const sameSite = c.sameSite ?? defaults.sameSite;
  const secure = c.secure ?? (hostPrefix || defaults.secure);
  if (sameSite === 'None' && !secure) throw new ConfigError('cookies.sameSite None needs cookies.secure');
  const prefix = hostPrefix ? '__Host-' : '';
  const cookies: ResolvedCookies = {
    accessName: prefix + cookieName(c.accessName ?? 'access_token_cookie', 'cookies.accessName'),
    refreshName: prefix + cookieName(c.refreshName ?? 'refresh_token_cookie', 'cookies.refreshName'),
    accessPath: hostPrefix ? '/' : (c.accessPath ?? '/'),
    // Standard: only the refresh route (adapters' auth.refresh()) receives the refresh cookie.
    refreshPath: hostPrefix ? '/' : (c.refreshPath ?? defaults.refreshPath),
    domain: c.domain,
    secure,
    sameSite,
    session: c.session ?? true,
    hostPrefix,
    implicitRefreshWithin:
      c.implicitRefresh === undefined || c.implicitRefresh === false
        ? false
        : positive(toSeconds(c.implicitRefresh, 'cookies.implicitRefresh'), 'cookies.implicitRefresh'),
  };
  const x = options.csrf ?? {};
  const csrf: ResolvedCsrf = {
    enabled: (x.protect ?? true) && locations.includes('cookies'),
    protect: x.protect ?? true,
    methods: new Set((x.methods ?? DEFAULT_CSRF_METHODS).map((m) => m.toUpperCase())),
    inCookies: x.inCookies ?? true,
    accessCookieName: prefix + cookieName(x.accessCookieName ?? 'csrf_access_token', 'csrf.accessCookieName'),
    refreshCookieName:
      prefix + cookieName(x.refreshCookieName ?? 'csrf_refresh_token', 'csrf.refreshCookieName'),
    accessCookiePath: hostPrefix ? '/' : (x.accessCookiePath ?? '/'),
    refreshCookiePath: hostPrefix ? '/' : (x.refreshCookiePath ?? '/'),
    accessHeaderName: nonEmpty(x.accessHeaderName ?? 'X-CSRF-TOKEN', 'csrf.accessHeaderName'),
    refreshHeaderName: nonEmpty(x.refreshHeaderName ?? 'X-CSRF-TOKEN', 'csrf.refreshHeaderName'),
    checkForm: x.checkForm ?? false,
    accessFieldName: x.accessFieldName ?? 'csrf_token',
    refreshFieldName: x.refreshFieldName ?? 'csrf_token',
  };
  return {
    locations,
    headerName: nonEmpty(options.headerName ?? 'Authorization', 'headerName'),
    headerType: options.headerType ?? 'Bearer',
    queryStringName: nonEmpty(options.queryStringName ?? 'jwt', 'queryStringName'),
    queryStringValuePrefix: options.queryStringValuePrefix ?? '',
    jsonKey: nonEmpty(options.jsonKey ?? 'access_token', 'jsonKey'),
    refreshJsonKey: nonEmpty(options.refreshJsonKey ?? 'refresh_token', 'refreshJsonKey'),
    cookies,
    csrf,
    errorMessageKey: nonEmpty(options.errorMessageKey ?? 'msg', 'errorMessageKey'),
  };
}

function nonEmpty(value: string, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`${name} cannot be empty`);
  return value;
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function cookieName(value: string, name: string): string {
  if (!COOKIE_NAME.test(value)) throw new ConfigError(`${name} is not a valid cookie name`);
  return value;
}

function positive(value: number, name: string): number {
  if (value <= 0) throw new ConfigError(`${name} must be positive`);
  return value;
}

function list(value: string | readonly string[] | undefined, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const items = typeof value === 'string' ? [value] : [...value];
  if (items.length === 0 || items.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new ConfigError(`${name} must be a non-empty string or list of strings`);
  }
  return items;
}
