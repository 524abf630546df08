/**
 * Tessera: token authentication for TypeScript web APIs.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './http/index.js';
export * from './jws/index.js';
export { type GenerateKeyOptions, generateKey } from './keys/generate.js';
export {
  importJwk,
  importKey,
  importKeyObject,
  importPem,
  importSecret,
  type KeyImportOptions,
} from './keys/import.js';
export type { Jwk, JwkSet } from './keys/jwk.js';
export { exportJwk, exportPem, thumbprint, toJwks } from './keys/jwks.js';
export { bindKey, type TesseraKey } from './keys/key.js';
export { Keyring } from './keys/keyring.js';
export type { KeySource } from './keys/source.js';
export * from './manager/index.js';
export * from './stores/index.js';
export * from './tokens/index.js';
