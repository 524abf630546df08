/**
 * The keys every options object of the manager accepts, checked by
 * refuseUnknownOptions: the TokenManager options and each nested object at
 * construction, and the options of each call. Internal: not exported from the
 * package.
 */
import type { JwsLimits } from '../jws/limits.js';
import type {
  CookieOptions,
  CsrfOptions,
  ErrorHandlers,
  RotationOptions,
  TokenCallbacks,
  TokenManagerOptions,
} from './options.js';
import type {
  CreateAccessTokenOptions,
  CreateRefreshTokenOptions,
  CreateTokenPairOptions,
  DecodeTokenOptions,
  RefreshTokensOptions,
  VerifyTokenOptions,
} from './types.js';

// Each record names every key of its options type (the compiler checks both ways:
// a missing key and an extra one are both errors), so the lists of accepted keys
// that configuration checks against cannot drift from the documented options.
const managerKeys: Record<keyof TokenManagerOptions<unknown>, true> = {
  profile: true,
  algorithm: true,
  secret: true,
  privateKey: true,
  publicKey: true,
  kid: true,
  keys: true,
  verificationKeys: true,
  refreshKeys: true,
  accessTokenExpires: true,
  refreshTokenExpires: true,
  slidingTokenExpires: true,
  slidingTokenRefreshExpires: true,
  identityClaim: true,
  issuer: true,
  audience: true,
  decodeIssuer: true,
  decodeAudience: true,
  leeway: true,
  encodeNbf: true,
  requireExp: true,
  typ: true,
  acceptedTyp: true,
  limits: true,
  verifiedTokenCache: true,
  now: true,
  tokenLocation: true,
  headerName: true,
  headerType: true,
  queryStringName: true,
  queryStringValuePrefix: true,
  jsonKey: true,
  refreshJsonKey: true,
  cookies: true,
  csrf: true,
  errorMessageKey: true,
  messages: true,
  store: true,
  revocationFailOpen: true,
  rotation: true,
  callbacks: true,
  errorHandlers: true,
};
const callbackKeys: Record<keyof TokenCallbacks<unknown>, true> = {
  additionalClaims: true,
  additionalHeaders: true,
  userIdentity: true,
  userLookup: true,
  tokenInBlocklist: true,
  tokenVerification: true,
  encodeKey: true,
  decodeKey: true,
};
const cookieKeys: Record<keyof CookieOptions, true> = {
  accessName: true,
  refreshName: true,
  accessPath: true,
  refreshPath: true,
  domain: true,
  secure: true,
  sameSite: true,
  session: true,
  hostPrefix: true,
  implicitRefresh: true,
};
const csrfKeys: Record<keyof CsrfOptions, true> = {
  protect: true,
  methods: true,
  inCookies: true,
  accessCookieName: true,
  refreshCookieName: true,
  accessCookiePath: true,
  refreshCookiePath: true,
  accessHeaderName: true,
  refreshHeaderName: true,
  checkForm: true,
  accessFieldName: true,
  refreshFieldName: true,
};
const rotationKeys: Record<keyof RotationOptions, true> = {
  enabled: true,
  graceSeconds: true,
  blacklistAfterRotation: true,
};
const errorHandlerKeys: Record<keyof ErrorHandlers, true> = {
  unauthorized: true,
  invalid: true,
  expired: true,
  needs_fresh: true,
  revoked: true,
  user_lookup: true,
  claims_verification: true,
  csrf: true,
  unavailable: true,
};
const limitKeys: Record<keyof JwsLimits, true> = {
  maxTokenLength: true,
  maxHeaderLength: true,
  maxJsonDepth: true,
};

/** The keys each options object of {@link TokenManagerOptions} accepts. */
export const OPTION_KEYS = Object.freeze({
  manager: Object.keys(managerKeys),
  callbacks: Object.keys(callbackKeys),
  cookies: Object.keys(cookieKeys),
  csrf: Object.keys(csrfKeys),
  rotation: Object.keys(rotationKeys),
  errorHandlers: Object.keys(errorHandlerKeys),
  limits: Object.keys(limitKeys),
});

const accessKeys: Record<keyof CreateAccessTokenOptions, true> = {
  identity: true,
  fresh: true,
  additionalClaims: true,
  additionalHeaders: true,
  expiresIn: true,
};
const refreshKeys: Record<keyof CreateRefreshTokenOptions, true> = {
  identity: true,
  additionalClaims: true,
  additionalHeaders: true,
  expiresIn: true,
};
const pairKeys: Record<keyof CreateTokenPairOptions, true> = { ...accessKeys, metadata: true };
const decodeKeys: Record<keyof DecodeTokenOptions, true> = { allowExpired: true, csrfValue: true };
const verifyKeys: Record<keyof VerifyTokenOptions, true> = {
  ...decodeKeys,
  refresh: true,
  fresh: true,
  verifyType: true,
  skipRevocationCheck: true,
  tokenType: true,
};
const refreshTokensKeys: Record<keyof RefreshTokensOptions, true> = { csrfValue: true };

/** The keys each per-call options object accepts. */
export const CALL_OPTION_KEYS = Object.freeze({
  createAccessToken: Object.keys(accessKeys),
  createRefreshToken: Object.keys(refreshKeys),
  createSlidingToken: Object.keys(refreshKeys),
  createTokenPair: Object.keys(pairKeys),
  decodeToken: Object.keys(decodeKeys),
  verifyToken: Object.keys(verifyKeys),
  refreshTokens: Object.keys(refreshTokensKeys),
});
