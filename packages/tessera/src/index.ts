/**
 * Tessera: token authentication for TypeScript web APIs.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './jws/index.js';
export { bindKey, type TesseraKey } from './keys/key.js';
