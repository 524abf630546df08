/**
 * Revocation and refresh-family stores: the contract and the in-memory store.
 *
 * The SQL and Redis stores live behind their own entry points
 * (`tessera-auth/stores/sql`, `tessera-auth/stores/redis`) so that importing Tessera never
 * loads a database driver.
 *
 * @module
 */
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
export {
  type Clock,
  FamilyExistsError,
  type NewFamily,
  type RevocationCheck,
  type RotateOutcome,
  type RotateRequest,
  type SessionInfo,
  systemClock,
  type TokenStore,
} from './types.js';
