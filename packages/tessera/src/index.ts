/**
 * Tessera: token authentication for TypeScript web APIs.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './http/index.js';
export * from './jws/index.js';
export * from './keys/index.js';
export * from './manager/index.js';
export * from './stores/index.js';
export * from './tokens/index.js';
export { refuseUnknownOptions } from './known-options.js';
