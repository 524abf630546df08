/**
 * Events an application subscribes to: refusals, refresh-token reuse, revoked
 * sessions, key rotation. The emitter is small and typed, never throws into the
 * code that emits (a listener's error is caught and reported once per listener),
 * and costs one property read when nobody listens: emitters check
 * {@link TesseraEvents.listening} before they build an event.
 */
import type { ErrorCode, ErrorKind, TesseraError } from './errors.js';
import type { JwsAlgorithm } from './jws/algorithms.js';

/** A sign-in was refused. The library does not see passwords: the auth service (or the app) emits this one. */
export interface SignInRefusedEvent {
  /** Why, in a stable word: `bad_credentials`, `throttled`, `unknown_user`, `disabled`... */
  readonly reason: string;
  /** The login name that was tried, if the app chooses to pass it. */
  readonly identity?: string;
  /** The client's address, if the app chooses to pass it. */
  readonly remoteAddress?: string;
}

/** What the manager was doing when it refused a token. */
export type TokenOperation = 'verify' | 'decode' | 'refresh';

/** A presented token was refused by the manager (every check: signature, claims, type, revocation, user). */
export interface TokenRefusedEvent {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly operation: TokenOperation;
  /** The error the caller receives; its `jwtHeader`/`jwtPayload` are set when the token was read that far. */
  readonly error: TesseraError;
}

/**
 * A spent refresh token was presented again outside the grace window: the store
 * has already revoked its whole family (RFC 9700 4.14). Worth an alert.
 */
export interface RefreshReuseDetectedEvent {
  readonly familyId: string | undefined;
  /** The jti of the refresh token presented again. */
  readonly jti: string | undefined;
  /** The identity claim of that token (it verified: the signature is genuine). */
  readonly identity: unknown;
}

/** Why a session ended. */
export type SessionRevokedReason = 'logout' | 'revoke_session' | 'revoke_all' | 'reuse_detected';

/** A session (refresh family), or every session of a user (`revoke_all`), was revoked. */
export interface SessionRevokedEvent {
  readonly reason: SessionRevokedReason;
  /** The family, when one session ended (undefined for `revoke_all`). */
  readonly familyId: string | undefined;
  /** The identity, when known (the claim of the token, or the argument of `revokeAllTokens`). */
  readonly identity: unknown;
}

/** A keyring's signing key changed (`use`, `retire`, `remove`, or a key added to an empty ring). */
export interface KeyRotatedEvent {
  /** The key that signs now; undefined when no key can sign any more. */
  readonly kid: string | undefined;
  readonly alg: JwsAlgorithm | undefined;
  /** The key that signed before. */
  readonly previousKid: string | undefined;
}

/** Every event of a {@link TokenManager}, by name. */
export interface TokenManagerEventMap {
  sign_in_refused: SignInRefusedEvent;
  token_refused: TokenRefusedEvent;
  refresh_reuse_detected: RefreshReuseDetectedEvent;
  session_revoked: SessionRevokedEvent;
  key_rotated: KeyRotatedEvent;
}

/** The events of a {@link Keyring}. */
export interface KeyringEventMap {
  key_rotated: KeyRotatedEvent;
}

/** A listener; what it returns is ignored, a rejected promise included (reported like a throw). */
export type EventListener<T> = (event: T) => unknown;

/** Called with a listener's first failure (the default writes one line to `console.error`). */
export type ListenerErrorReporter = (error: unknown, eventName: string) => void;

const defaultReporter: ListenerErrorReporter = (error, eventName) => {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`[tessera] a listener of "${eventName}" failed (reported once per listener): ${reason}`);
};

/**
 * A typed emitter. `on` returns the function that unsubscribes.
 *
 * @example
 * ```ts
 * import { TokenManager } from 'tessera-auth';
 *
 * const manager = new TokenManager({ secret: 'a-secret-of-at-least-32-characters-long' });
 * manager.events.on('refresh_reuse_detected', (event) => {
 *   console.warn(`refresh token reused: session ${event.familyId} revoked`);
 * });
 * ```
 */
export class TesseraEvents<M extends object> {
  readonly #listeners = new Map<keyof M, Set<EventListener<never>>>();
  /** Listeners that failed once already: their later failures are not reported again. */
  readonly #reported = new WeakSet<EventListener<never>>();
  #reporter: ListenerErrorReporter = defaultReporter;
  readonly #onFirstListener: ((name: keyof M) => void) | undefined;

  /** @internal `onFirstListener` lets an owner wire a source only once somebody listens. */
  constructor(onFirstListener?: (name: keyof M) => void) {
    this.#onFirstListener = onFirstListener;
  }

  /** Subscribe to `name`. Returns the function that unsubscribes. */
  on<K extends keyof M>(name: K, listener: EventListener<M[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
      this.#onFirstListener?.(name);
    }
    set.add(listener as EventListener<never>);
    return () => this.off(name, listener);
  }

  /** Subscribe to the next `name` only. */
  once<K extends keyof M>(name: K, listener: EventListener<M[K]>): () => void {
    const off = this.on(name, (event) => {
      off();
      return listener(event);
    });
    return off;
  }

  /** Unsubscribe. */
  off<K extends keyof M>(name: K, listener: EventListener<M[K]>): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    set.delete(listener as EventListener<never>);
    if (set.size === 0) this.#listeners.delete(name);
  }

  /** Whether anybody listens to `name`: emitters skip building the event when not. */
  listening(name: keyof M): boolean {
    return this.#listeners.has(name);
  }

  /** Where a listener's first failure goes (one call per failing listener). */
  onListenerError(reporter: ListenerErrorReporter): void {
    this.#reporter = reporter;
  }

  /**
   * Deliver `event` to every listener of `name`, synchronously, in subscription
   * order. Never throws: a listener's error (or rejected promise) is caught.
   */
  emit<K extends keyof M>(name: K, event: M[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        const result = (listener as EventListener<M[K]>)(event);
        if (typeof (result as { then?: unknown } | null | undefined)?.then === 'function') {
          (result as Promise<unknown>).then(undefined, (error: unknown) =>
            this.#failed(listener, error, name),
          );
        }
      } catch (error) {
        this.#failed(listener, error, name);
      }
    }
  }

  #failed(listener: EventListener<never>, error: unknown, name: keyof M): void {
    if (this.#reported.has(listener)) return;
    this.#reported.add(listener);
    try {
      this.#reporter(error, String(name));
    } catch {
      // A reporter that throws must not reach the request either.
    }
  }
}
