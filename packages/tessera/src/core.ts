/**
 * `tessera-auth/core`: everything the package is made of, for code that builds on
 * Tessera rather than using it: compact JWS primitives, base64url, the algorithm
 * table, key selection (`KeyIndex`), the synchronous `TokenVerifier`, claim
 * validation, request parsing helpers, the response builders adapters use, the
 * store contract's pieces. It re-exports the root entry's names too, so one
 * import serves an adapter or a store written outside the package.
 *
 * Applications import from `tessera-auth`; what is only here may change between
 * minor versions before 1.0.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './events.js';
export * from './http/index.js';
export * from './jws/index.js';
export * from './keys/index.js';
export { closestName, refuseUnknownOptions } from './known-options.js';
export * from './manager/index.js';
export * from './messages/index.js';
export * from './stores/index.js';
export * from './tokens/index.js';
