/**
 * Refresh tokens under keys of their own (the `refreshKeys` option): a key
 * source that sends a token whose `kid` names a refresh key to the refresh
 * keys, and every other token to the manager's keys; and the rule that a
 * token verified by a refresh key must be a refresh token.
 *
 * Routing is by exact `kid` only: a token without a `kid`, or with one the
 * refresh keys do not hold (they throw KeyNotFoundError, or answer no key with
 * that kid), never meets them. A refresh `kid` with another
 * algorithm is refused by the refresh keys themselves (the algorithm is bound
 * to the key), never retried against the manager's keys.
 *
 * @module
 */
import { ConfigError, KeyNotFoundError } from '../errors.js';
import type { JwsHeader } from '../jws/header.js';
import type { TesseraKey } from '../keys/key.js';
import { Keyring } from '../keys/keyring.js';
import type { KeySource } from '../keys/source.js';

/** What the `refreshKeys` option takes: a key source that can also sign. */
export type RefreshKeySource = KeySource & { signingKey: () => TesseraKey };

/** The manager's keys and the refresh keys as one {@link KeySource}. */
export class RefreshKeySplit implements KeySource {
  readonly #refresh: KeySource;
  readonly #main: KeySource;
  // The kids the refresh keys answered for: only theirs, so as few as they ever held.
  readonly #refreshKids = new Set<string>();

  constructor(refresh: KeySource, main: KeySource) {
    this.#refresh = refresh;
    this.#main = main;
  }

  verificationKeys(header: JwsHeader): readonly TesseraKey[] | Promise<readonly TesseraKey[]> {
    const kid = header.kid;
    if (typeof kid !== 'string') return this.#main.verificationKeys(header);
    // Every access token passes here: a Keyring answers "not mine" without an exception.
    if (this.#refresh instanceof Keyring && this.#refresh.get(kid) === undefined) {
      return this.#main.verificationKeys(header);
    }
    let found: readonly TesseraKey[] | Promise<readonly TesseraKey[]>;
    try {
      found = this.#refresh.verificationKeys(header);
    } catch (error) {
      if (error instanceof KeyNotFoundError) return this.#main.verificationKeys(header);
      throw error;
    }
    if (found instanceof Promise) {
      return found.then(
        (keys) => this.#pick(keys, kid, header),
        (error: unknown) => {
          if (error instanceof KeyNotFoundError) return this.#main.verificationKeys(header);
          throw error;
        },
      );
    }
    return this.#pick(found, kid, header);
  }

  /** Was a token with this `kid` verified by a refresh key? */
  isRefreshKid(kid: unknown): boolean {
    return typeof kid === 'string' && this.#refreshKids.has(kid);
  }

  #pick(
    keys: readonly TesseraKey[],
    kid: string,
    header: JwsHeader,
  ): readonly TesseraKey[] | Promise<readonly TesseraKey[]> {
    // An empty answer (the service's source for kids that are not its own) needs no copy.
    const own = keys.length === 0 ? keys : keys.filter((key) => key.kid === kid);
    if (own.length === 0) return this.#main.verificationKeys(header);
    this.#refreshKids.add(kid);
    return own;
  }
}

/** The refresh key that signs now; it must carry a `kid`, which is how verification finds it. */
export function refreshSigningKey(source: RefreshKeySource): TesseraKey {
  const key = source.signingKey();
  if (key.signing === undefined)
    throw new ConfigError('refreshKeys.signingKey() returned a key that cannot sign');
  if (typeof key.kid !== 'string' || key.kid.length === 0) {
    throw new ConfigError(
      'refreshKeys.signingKey() must return a key with a kid: verification finds refresh keys by kid',
    );
  }
  return key;
}
