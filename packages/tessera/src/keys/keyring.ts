/**
 * A keyring: the keys one service signs and verifies with, by `kid`, with one
 * active signing key and rotation with a grace period.
 *
 * Verification is the hot path, so the ring keeps a prebuilt {@link KeyIndex}
 * (frozen arrays per kid and per alg) and rebuilds it only when its keys change.
 * A lookup allocates nothing; the clock is read only while a key is retiring.
 */
import { ConfigError } from '../errors.js';
import { type KeyringEventMap, TesseraEvents } from '../events.js';
import type { JwsHeader } from '../jws/header.js';
import { refuseUnknownOptions } from '../known-options.js';
import type { TesseraKey } from './key.js';
import { KeyIndex } from './selection.js';
import type { KeySource } from './source.js';

/** Options of a {@link Keyring}. */
export interface KeyringOptions {
  /** Clock in milliseconds since the epoch; `Date.now` by default. Drives the end of grace periods. */
  readonly now?: () => number;
}

/** Options of {@link Keyring.retire}. */
export interface RetireOptions {
  /** How long the key keeps verifying after it stops signing, in seconds (0 drops it at once). */
  readonly graceSeconds: number;
  /** The moment of retirement in milliseconds since the epoch; the ring's clock by default. */
  readonly now?: number;
}

/** Several keys by `kid`, one of which signs. Implements {@link KeySource}. */
export class Keyring implements KeySource {
  readonly #now: () => number;
  /** Every key held, in insertion order (retiring ones included). */
  #keys: TesseraKey[] = [];
  readonly #byKid = new Map<string, TesseraKey>();
  /** Retiring keys and when (ms) their grace ends. */
  readonly #retiring = new Map<TesseraKey, number>();
  #nextExpiry = Number.POSITIVE_INFINITY;
  /** The key chosen with {@link use}, if any. */
  #chosen: TesseraKey | undefined;
  /** The key that signs now: cached, recomputed on every change. */
  #signer: TesseraKey | undefined;
  #index = new KeyIndex([]);
  /** `key_rotated` when the signing key changes (a TokenManager built on this ring repeats it). */
  readonly events = new TesseraEvents<KeyringEventMap>();

  /** A ring holding `keys`; the first one that can sign signs until {@link use} picks another. */
  constructor(keys: Iterable<TesseraKey> = [], options: KeyringOptions = {}) {
    refuseUnknownOptions(options, ['now'], 'Keyring options');
    this.#now = options.now ?? Date.now;
    for (const key of keys) this.#insert(key);
    this.#rebuild();
  }

  /** Add a key. Refuses a second key with the same `kid`, or the same key twice. */
  add(key: TesseraKey): this {
    this.#insert(key);
    this.#rebuild();
    return this;
  }

  /**
   * Remove a key at once (by `kid`, or the key itself for keys without one).
   * Tokens it signed stop verifying immediately; prefer {@link retire} for rotation.
   * Returns whether a key was removed.
   */
  remove(kidOrKey: string | TesseraKey): boolean {
    const key = typeof kidOrKey === 'string' ? this.#byKid.get(kidOrKey) : kidOrKey;
    if (key === undefined || !this.#keys.includes(key)) return false;
    this.#drop([key]);
    return true;
  }

  /**
   * Stop signing with `kid` now and keep verifying its tokens for `graceSeconds`
   * (normally the lifetime of the longest token it signed); afterwards it is dropped.
   * If it was the signing key, the next key that can sign takes over: call
   * {@link use} with the new key first to choose which.
   */
  retire(kid: string, options: RetireOptions): this {
    const key = this.#byKid.get(kid);
    if (key === undefined) throw new ConfigError(`Cannot retire kid ${JSON.stringify(kid)}: no such key`);
    refuseUnknownOptions(options, ['graceSeconds', 'now'], 'Keyring.retire options');
    const { graceSeconds } = options;
    if (typeof graceSeconds !== 'number' || !Number.isFinite(graceSeconds) || graceSeconds < 0) {
      throw new ConfigError('graceSeconds must be a finite number >= 0');
    }
    if (graceSeconds === 0) {
      this.#drop([key]);
      return this;
    }
    const expiry = (options.now ?? this.#now()) + graceSeconds * 1000;
    // Retiring twice never extends a grace period.
    const current = this.#retiring.get(key);
    this.#retiring.set(key, current === undefined ? expiry : Math.min(current, expiry));
    if (this.#chosen === key) this.#chosen = undefined;
    this.#rebuild();
    return this;
  }

  /** Make `kid` the signing key. It must be present, able to sign, and not retiring. */
  use(kid: string): this {
    const key = this.#byKid.get(kid);
    if (key === undefined) throw new ConfigError(`Cannot sign with kid ${JSON.stringify(kid)}: no such key`);
    if (key.signing === undefined) {
      throw new ConfigError(`Key ${JSON.stringify(kid)} is public: it cannot sign`);
    }
    if (this.#retiring.has(key)) {
      throw new ConfigError(`Key ${JSON.stringify(kid)} is retiring: it cannot sign`);
    }
    this.#chosen = key;
    this.#rebuild();
    return this;
  }

  /** The key that signs new tokens. Throws {@link ConfigError} when no key can sign. */
  signingKey(): TesseraKey {
    const signer = this.#signer;
    if (signer === undefined) {
      throw new ConfigError('The keyring has no key that can sign (add a private key or secret)');
    }
    return signer;
  }

  /** The key with exactly this `kid`, if held. */
  get(kid: string): TesseraKey | undefined {
    this.#expire();
    return this.#byKid.get(kid);
  }

  /** Every key held, retiring ones included until their grace ends. */
  keys(): readonly TesseraKey[] {
    this.#expire();
    return this.#index.keys;
  }

  /**
   * The keys that may verify a token with `header` (exact `kid` match, then
   * `alg` equality with the key's bound algorithm). Throws KeyNotFoundError or
   * AlgorithmNotAllowedError when none.
   */
  verificationKeys(header: JwsHeader): readonly TesseraKey[] {
    this.#expire();
    return this.#index.select(header);
  }

  #expire(): void {
    // Infinity when nothing is retiring: the clock is not even read.
    if (this.#nextExpiry === Number.POSITIVE_INFINITY || this.#now() < this.#nextExpiry) return;
    const now = this.#now();
    const expired: TesseraKey[] = [];
    for (const [key, expiry] of this.#retiring) if (now >= expiry) expired.push(key);
    this.#drop(expired);
  }

  #insert(key: TesseraKey): void {
    if (typeof key !== 'object' || key === null || key.verifying === undefined) {
      throw new ConfigError(
        'Keyring.add expects a TesseraKey (from importSecret, importPem, importJwk or generateKey)',
      );
    }
    if (this.#keys.includes(key)) throw new ConfigError('This key is already in the keyring');
    if (key.kid !== undefined) {
      if (this.#byKid.has(key.kid)) {
        throw new ConfigError(`Duplicate kid ${JSON.stringify(key.kid)} in the keyring`);
      }
      this.#byKid.set(key.kid, key);
    }
    this.#keys.push(key);
  }

  #drop(keys: readonly TesseraKey[]): void {
    if (keys.length === 0) return;
    const gone = new Set(keys);
    this.#keys = this.#keys.filter((key) => !gone.has(key));
    for (const key of gone) {
      if (key.kid !== undefined && this.#byKid.get(key.kid) === key) this.#byKid.delete(key.kid);
      this.#retiring.delete(key);
      if (this.#chosen === key) this.#chosen = undefined;
    }
    this.#rebuild();
  }

  #rebuild(): void {
    this.#index = new KeyIndex(this.#keys);
    this.#nextExpiry = Math.min(Number.POSITIVE_INFINITY, ...this.#retiring.values());
    const previous = this.#signer;
    this.#signer =
      this.#chosen ?? this.#keys.find((key) => key.signing !== undefined && !this.#retiring.has(key));
    if (this.#signer !== previous && this.events.listening('key_rotated')) {
      const signer = this.#signer;
      this.events.emit('key_rotated', { kid: signer?.kid, alg: signer?.alg, previousKid: previous?.kid });
    }
  }
}
