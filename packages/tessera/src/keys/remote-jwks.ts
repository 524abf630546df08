/**
 * A published JWK Set (an identity provider's `jwks_uri`) as a {@link KeySource}.
 *
 * The set is fetched with a timeout and a size cap, cached for `maxAgeSeconds`,
 * and refetched early when a token names an unknown `kid` (key rotation), but
 * never more than once per `cooldownSeconds`, so that tokens with random kids
 * cannot turn the verifier into a request amplifier. Concurrent callers share one
 * request. A failed refetch keeps the last good set, for at most
 * `maxStaleSeconds` past its age; then verification fails closed. Redirects are
 * never followed (a 3xx is a failed fetch). Keys from a JWKS are
 * asymmetric only: an `oct` key or HS* algorithm is skipped, never imported,
 * since anyone can read a published set.
 */
import { concatBytes, utf8Decode } from '../bytes.js';
import { ConfigError, JwksInvalidError, JwksUnavailableError, TesseraError } from '../errors.js';
import { ALGORITHMS, isJwsAlgorithm, type JwsAlgorithm } from '../jws/algorithms.js';
import type { JwsHeader } from '../jws/header.js';
import { refuseUnknownOptions } from '../known-options.js';
import { isHmacAlgorithm } from './fit.js';
import { importJwk } from './import.js';
import { type Jwk, PRIVATE_JWK_MEMBERS } from './jwk.js';
import type { TesseraKey } from './key.js';
import { KeyIndex } from './selection.js';
import type { KeySource } from './source.js';

/** Options of {@link RemoteJwks}. */
export interface RemoteJwksOptions {
  /** Abort a fetch (headers and body) after this many milliseconds. Default 5000. */
  readonly timeoutMs?: number;
  /** Serve a fetched set for this long before fetching it again. Default 600. */
  readonly maxAgeSeconds?: number;
  /** Minimum time between refetches triggered by unknown kids or retried after a failure. Default 30. */
  readonly cooldownSeconds?: number;
  /**
   * How long a set that can no longer be refetched keeps serving once it is
   * older than `maxAgeSeconds`, in seconds. Default 3600. Past that, verification
   * fails closed with `jwks_unavailable` (503): a key removed from the published
   * set must stop verifying even while its endpoint cannot be reached.
   */
  readonly maxStaleSeconds?: number;
  /** Refuse a response body larger than this. Default 512 KiB. */
  readonly maxResponseBytes?: number;
  /**
   * Algorithms accepted from the set (asymmetric only). Keys declaring another
   * `alg` are skipped; RSA keys without `alg` are bound to each RSA algorithm
   * listed here (RS256 when this option is absent).
   */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Permit a plain `http:` URL to a non-loopback host. Default false: anyone on the path could swap the keys. */
  readonly allowHttp?: boolean;
  /** The fetch to use; the global fetch by default. */
  readonly fetch?: typeof fetch;
  /** Clock in milliseconds since the epoch; `Date.now` by default. */
  readonly now?: () => number;
}

const DEFAULTS = {
  timeoutMs: 5000,
  maxAgeSeconds: 600,
  cooldownSeconds: 30,
  maxStaleSeconds: 3600,
  maxResponseBytes: 512 * 1024,
} as const;

const REMOTE_JWKS_OPTIONS: readonly string[] = [
  'timeoutMs',
  'maxAgeSeconds',
  'cooldownSeconds',
  'maxStaleSeconds',
  'maxResponseBytes',
  'algorithms',
  'allowHttp',
  'fetch',
  'now',
];

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A remote JWK Set, fetched lazily and cached. Implements {@link KeySource}. */
export class RemoteJwks implements KeySource {
  /** The JWKS URL. */
  readonly url: string;
  readonly #where: string;
  readonly #timeoutMs: number;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #maxStaleMs: number;
  readonly #maxBytes: number;
  readonly #algorithms: readonly JwsAlgorithm[] | undefined;
  readonly #rsaFallback: readonly JwsAlgorithm[];
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  #index: KeyIndex | undefined;
  #fetchedAt: number | undefined;
  #attemptedAt: number | undefined;
  #failedAt: number | undefined;
  #lastError: TesseraError | undefined;
  #inflight: Promise<KeyIndex> | undefined;

  constructor(url: string | URL, options: RemoteJwksOptions = {}) {
    refuseUnknownOptions(options, REMOTE_JWKS_OPTIONS, 'RemoteJwks options');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('RemoteJwks needs an absolute http(s) URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new ConfigError('RemoteJwks needs an http(s) URL');
    }
    if (parsed.protocol === 'http:' && !LOOPBACK.has(parsed.hostname) && options.allowHttp !== true) {
      throw new ConfigError(
        'RemoteJwks refuses plain http: to a non-loopback host; use https (or allowHttp: true)',
      );
    }
    this.url = parsed.href;
    // Messages name the endpoint without its query or credentials.
    this.#where = `${parsed.origin}${parsed.pathname}`;
    this.#timeoutMs = positive(options.timeoutMs ?? DEFAULTS.timeoutMs, 'timeoutMs');
    this.#maxAgeMs = positive(options.maxAgeSeconds ?? DEFAULTS.maxAgeSeconds, 'maxAgeSeconds') * 1000;
    this.#cooldownMs =
      nonNegative(options.cooldownSeconds ?? DEFAULTS.cooldownSeconds, 'cooldownSeconds') * 1000;
    this.#maxStaleMs =
      nonNegative(options.maxStaleSeconds ?? DEFAULTS.maxStaleSeconds, 'maxStaleSeconds') * 1000;
    this.#maxBytes = positive(options.maxResponseBytes ?? DEFAULTS.maxResponseBytes, 'maxResponseBytes');
    if (options.algorithms !== undefined) {
      for (const alg of options.algorithms) {
        if (!isJwsAlgorithm(alg) || isHmacAlgorithm(alg)) {
          throw new ConfigError(
            `RemoteJwks algorithms must be asymmetric JWS algorithms, not ${String(alg)}`,
          );
        }
      }
      this.#algorithms = Object.freeze([...options.algorithms]);
    }
    const rsa = (this.#algorithms ?? ['RS256']).filter((alg) => {
      const family = ALGORITHMS[alg].family;
      return family === 'rsa' || family === 'rsa-pss';
    });
    this.#rsaFallback = Object.freeze(rsa);
    // Called as a plain function: workerd and browsers refuse a fetch invoked
    // with any `this` but the global object ("Illegal invocation").
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
  }

  /** When the current set was fetched (ms since the epoch), or undefined before the first success. */
  get lastFetchedAt(): number | undefined {
    return this.#fetchedAt;
  }

  /**
   * The keys that may verify a token with `header`, by the Keyring's rules. A
   * fresh cached set answers synchronously; otherwise a promise. Rejects with
   * JwksUnavailableError or JwksInvalidError when no good set was ever fetched.
   */
  verificationKeys(header: JwsHeader): readonly TesseraKey[] | Promise<readonly TesseraKey[]> {
    const now = this.#now();
    const index = this.#index;
    if (index !== undefined && this.#fetchedAt !== undefined && now - this.#fetchedAt < this.#maxAgeMs) {
      const kid = header.kid;
      if (
        typeof kid === 'string' &&
        !index.hasKid(kid) &&
        this.#since(this.#attemptedAt, now) >= this.#cooldownMs
      ) {
        // Possibly a rotation: look once more, then answer from whatever set we hold.
        return this.#refresh().then(
          (fresh) => fresh.select(header),
          () => index.select(header),
        );
      }
      return index.select(header);
    }
    if (this.#inflight !== undefined || this.#since(this.#failedAt, now) >= this.#cooldownMs) {
      return this.#refresh().then(
        (fresh) => fresh.select(header),
        (error: unknown) => {
          const stale = this.#usableStale(this.#now());
          if (stale !== undefined) return stale.select(header);
          throw error;
        },
      );
    }
    // A fetch failed moments ago: do not hammer the endpoint, answer from what we have.
    const stale = this.#usableStale(now);
    if (stale !== undefined) return stale.select(header);
    return Promise.reject(this.#unavailable());
  }

  /** The last good set while it may still serve after failed refetches, else undefined. */
  #usableStale(now: number): KeyIndex | undefined {
    if (this.#index === undefined || this.#fetchedAt === undefined) return undefined;
    return now - this.#fetchedAt < this.#maxAgeMs + this.#maxStaleMs ? this.#index : undefined;
  }

  #unavailable(): TesseraError {
    if (this.#index !== undefined && this.#fetchedAt !== undefined) {
      const age = Math.round((this.#now() - this.#fetchedAt) / 1000);
      return new JwksUnavailableError(
        `JWKS ${this.#where} could not be refetched and its last good set (${age} s old) is past maxStaleSeconds`,
        this.#lastError === undefined ? undefined : { cause: this.#lastError },
      );
    }
    return this.#lastError ?? new JwksUnavailableError(`JWKS ${this.#where} is unavailable`);
  }

  /** Fetch the set now (sharing a request already under way). Rejects on failure; the last good set is kept. */
  async reload(): Promise<void> {
    await this.#refresh();
  }

  #since(time: number | undefined, now: number): number {
    return time === undefined ? Number.POSITIVE_INFINITY : now - time;
  }

  #refresh(): Promise<KeyIndex> {
    if (this.#inflight === undefined) {
      this.#inflight = this.#load().finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  async #load(): Promise<KeyIndex> {
    const started = this.#now();
    this.#attemptedAt = started;
    try {
      const index = this.#parse(await this.#download());
      this.#index = index;
      this.#fetchedAt = this.#now();
      this.#failedAt = undefined;
      this.#lastError = undefined;
      return index;
    } catch (error) {
      const failure =
        error instanceof TesseraError
          ? error
          : new JwksUnavailableError(`JWKS ${this.#where} could not be fetched`, { cause: error });
      this.#failedAt = started;
      this.#lastError = failure;
      throw failure;
    }
  }

  async #download(): Promise<Uint8Array> {
    let response: Response;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      response = await this.#fetch(this.url, {
        signal,
        // A redirect could lead anywhere, plain http to another host included,
        // past the checks the constructor made on the URL: never follow one.
        redirect: 'manual',
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
    } catch (error) {
      throw this.#networkError(error);
    }
    // Browsers hide a manual redirect behind an opaque response with status 0.
    if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
      await response.body?.cancel().catch(() => undefined);
      throw new JwksUnavailableError(
        `JWKS ${this.#where} answered with a redirect (HTTP ${response.status}); redirects are not followed: configure the final URL`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new JwksUnavailableError(`JWKS ${this.#where} answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.#maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw this.#tooLarge();
    }
    if (response.body === null) return new Uint8Array(0);
    // Read in chunks and stop at the cap: a content-length can be absent or lie.
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.#maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw this.#tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof TesseraError) throw error;
      throw this.#networkError(error);
    }
    return concatBytes(...chunks);
  }

  #networkError(error: unknown): JwksUnavailableError {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return new JwksUnavailableError(
      timedOut
        ? `JWKS ${this.#where} did not answer within ${this.#timeoutMs} ms`
        : `JWKS ${this.#where} could not be fetched`,
      { cause: error },
    );
  }

  #tooLarge(): JwksInvalidError {
    return new JwksInvalidError(`JWKS ${this.#where} is larger than ${this.#maxBytes} bytes`);
  }

  #parse(body: Uint8Array): KeyIndex {
    let document: unknown;
    try {
      document = JSON.parse(utf8Decode(body));
    } catch (error) {
      throw new JwksInvalidError(`JWKS ${this.#where} is not valid JSON`, { cause: error });
    }
    if (
      typeof document !== 'object' ||
      document === null ||
      !Array.isArray((document as { keys?: unknown }).keys)
    ) {
      throw new JwksInvalidError(`JWKS ${this.#where} is not a JWK Set (no "keys" array)`);
    }
    const keys: TesseraKey[] = [];
    for (const entry of (document as { keys: unknown[] }).keys) keys.push(...this.#importEntry(entry));
    if (keys.length === 0) throw new JwksInvalidError(`JWKS ${this.#where} has no usable signature key`);
    return new KeyIndex(keys);
  }

  /** The keys one JWKS entry yields: none when it is skipped, several for an RSA key without `alg`. */
  #importEntry(entry: unknown): TesseraKey[] {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return [];
    const record = entry as Record<string, unknown>;
    const { kty, alg, use } = record;
    if (typeof kty !== 'string' || kty === 'oct') return [];
    if (use !== undefined && use !== 'sig') return [];
    if (alg !== undefined && (typeof alg !== 'string' || /^HS/i.test(alg))) return [];
    // A published set is public by definition: if a server leaks private members,
    // drop them so that nothing fetched can ever sign.
    const publicJwk: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(record)) {
      if (!PRIVATE_JWK_MEMBERS.includes(name)) publicJwk[name] = value;
    }
    let candidates: readonly (JwsAlgorithm | undefined)[];
    if (alg !== undefined) {
      if (!isJwsAlgorithm(alg) || !this.#allowed(alg)) return [];
      candidates = [alg];
    } else if (kty === 'RSA') {
      candidates = this.#rsaFallback;
    } else {
      candidates = [undefined]; // EC and OKP imply their algorithm by curve.
    }
    const keys: TesseraKey[] = [];
    for (const candidate of candidates) {
      try {
        const key = importJwk(publicJwk as unknown as Jwk, candidate === undefined ? {} : { alg: candidate });
        if (key.type === 'public' && this.#allowed(key.alg)) keys.push(key);
      } catch {
        // One bad key does not spoil the set: it is skipped, the others serve.
      }
    }
    return keys;
  }

  #allowed(alg: JwsAlgorithm): boolean {
    return !isHmacAlgorithm(alg) && (this.#algorithms === undefined || this.#algorithms.includes(alg));
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number`);
  }
  return value;
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a number >= 0`);
  }
  return value;
}
