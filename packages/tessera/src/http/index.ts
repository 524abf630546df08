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
  verifyJwtInRequest,
} from './guard.js';
export { type FoundToken, locateToken } from './locate.js';
export {
  isFormContentType,
  isJsonContentType,
  parseCookies,
  queryParam,
  type RequestLike,
} from './request.js';
export { defaultErrorResponse, errorResponse, jsonResponse } from './responses.js';
