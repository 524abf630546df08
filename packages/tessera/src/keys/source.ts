/**
 * The one question the verification path asks of any key store. The Keyring
 * answers it from memory, RemoteJwks from a published key set; callers need not
 * know which.
 */
import type { JwsHeader } from '../jws/header.js';
import type { TesseraKey } from './key.js';

/** Anything that can name the keys allowed to verify a token. */
export interface KeySource {
  /** Keys that may verify a token with this header; throws KeyNotFoundError/AlgorithmNotAllowedError when none. */
  verificationKeys(header: JwsHeader): readonly TesseraKey[] | Promise<readonly TesseraKey[]>;
}
