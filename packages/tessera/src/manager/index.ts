export { buildClaims, type ClaimInputs, newJti, type TokenKind } from './claims.js';
export {
  type ResolvedConfig,
  type ResolvedCookies,
  type ResolvedCsrf,
  type ResolvedRotation,
  type ResolvedTransport,
  resolveConfig,
} from './config.js';
export * from './options.js';
export * from './token-manager.js';
export * from './types.js';
