export {
  type CookieCallOptions,
  getCsrfToken,
  setAccessCookies,
  setRefreshCookies,
  unsetAccessCookies,
  unsetJwtCookies,
  unsetRefreshCookies,
} from './cookies.js';
export {
  createGuard,
  type Guard,
  type GuardResult,
  type JwtContext,
  type JwtRequiredOptions,
  type RouteJwt,
  type SimpleJwtTokenClass,
  verifyJwtInRequest,
} from './guard.js';
export { AuthResponseError } from './http-error.js';
export { type FoundToken, type KnownToken, locateToken } from './locate.js';
export {
  createOpaqueTokenGuard,
  generateOpaqueToken,
  hashOpaqueToken,
  type OpaqueToken,
  type OpaqueTokenGuardOptions,
  type OpaqueTokenResult,
} from './opaque-token.js';
export {
  createRefreshHandler,
  type RefreshBody,
  type RefreshHandler,
  type RefreshHandlerOptions,
  type RefreshOutcome,
} from './refresh.js';
export {
  cookieCount,
  isFormContentType,
  isJsonContentType,
  parseCookies,
  queryParam,
  type RequestLike,
} from './request.js';
export { defaultErrorResponse, errorResponse, jsonResponse } from './responses.js';
export {
  appendSlash,
  createSimpleJwtViews,
  type SimpleJwtViews,
  type SimpleJwtViewsOptions,
  type View,
} from './simplejwt-views.js';
