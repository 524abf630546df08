/**
 * The keys layer: import, generate, hold, select, publish and fetch keys, each
 * bound at import to the one algorithm it may use.
 */
export { type CryptoBackendName, cryptoBackend, setCryptoBackend } from '../crypto/select.js';
export { type AsymmetricAlgorithm, type HmacAlgorithm, isHmacAlgorithm } from './fit.js';
export { type GenerateKeyOptions, generateKey, generateKeyAsync } from './generate.js';
export {
  type AnyKeyImportOptions,
  importJwk,
  importKey,
  importKeyObject,
  importPem,
  importSecret,
  type JwkImportOptions,
  type KeyImportOptions,
} from './import.js';
export type { Jwk, JwkSet } from './jwk.js';
export { exportJwk, exportPem, type KeyExportOptions, thumbprint, toJwks } from './jwks.js';
export { bindKey, type TesseraKey } from './key.js';
export { Keyring, type KeyringOptions, type RetireOptions } from './keyring.js';
export { RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js';
export { KeyIndex } from './selection.js';
export type { KeySource } from './source.js';
