export {
  ALGORITHM_NAMES,
  ALGORITHMS,
  type AlgorithmFamily,
  type AlgorithmSpec,
  isJwsAlgorithm,
  type JwsAlgorithm,
} from './algorithms.js';
export { decodeBase64Url, encodeBase64Url, hasCanonicalTail, isBase64Url } from './base64url.js';
export {
  type DecodedJws,
  decodeJws,
  decodeJwsPayload,
  decodeProtectedHeader,
  signJws,
  signJwsAsync,
  signJwsMaybe,
  verifyJws,
  verifyJwsAsync,
  verifyJwsMaybe,
} from './compact.js';
export { type JwsHeader, typMatches } from './header.js';
export { DEFAULT_JWS_LIMITS, type JwsLimits } from './limits.js';
export { type BoundKey, signBytes, signBytesMaybe, verifyBytes, verifySignature } from './signature.js';
