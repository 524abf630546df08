/**
 * Fresh keys for every algorithm, synchronously: key generation happens at
 * start-up or in a CLI, where a blocking call is simpler than a promise.
 */
import type { GenerateParameters, KeyHandle } from '../crypto/backend.js';
import { currentBackend } from '../crypto/select.js';
import { ConfigError } from '../errors.js';
import { ALGORITHMS, isJwsAlgorithm, type JwsAlgorithm, MIN_RSA_BITS } from '../jws/algorithms.js';
import { refuseUnknownOptions } from '../known-options.js';
import { bindKey, type TesseraKey } from './key.js';

/** Options of {@link generateKey}. */
export interface GenerateKeyOptions {
  /** Key id for the new key. */
  readonly kid?: string;
  /** RSA modulus length in bits (RS*, PS*); default and minimum 2048. */
  readonly modulusLength?: number;
  /** EdDSA curve; default Ed25519. */
  readonly curve?: 'Ed25519' | 'Ed448';
}

const GENERATE_OPTIONS: readonly string[] = ['kid', 'modulusLength', 'curve'];

/**
 * Generate a key for `alg`: a random secret of the RFC 7518 floor for HS*
 * (32/48/64 bytes, the hash output size), an RSA key pair for RS* and PS*, an EC
 * key pair on the algorithm's curve for ES*, an Ed25519 (or Ed448) pair for EdDSA.
 *
 * Synchronous on the node:crypto backend. On Web Crypto only HMAC secrets are
 * made synchronously; key pairs need {@link generateKeyAsync}.
 */
export function generateKey(alg: JwsAlgorithm, options: GenerateKeyOptions = {}): TesseraKey {
  const parameters = checkOptions(alg, options);
  const backend = currentBackend();
  const key = backend.generate(alg, parameters);
  if (key instanceof Promise) {
    key.catch(() => undefined);
    throw new ConfigError(
      `Generating an ${alg} key pair is asynchronous on Web Crypto: use await generateKeyAsync('${alg}')`,
    );
  }
  return bind(alg, key, options.kid);
}

/** {@link generateKey} on any backend: a promise of the new key. */
export async function generateKeyAsync(
  alg: JwsAlgorithm,
  options: GenerateKeyOptions = {},
): Promise<TesseraKey> {
  const parameters = checkOptions(alg, options);
  return bind(alg, await currentBackend().generate(alg, parameters), options.kid);
}

function bind(alg: JwsAlgorithm, key: KeyHandle, kid: string | undefined): TesseraKey {
  return bindKey(alg, key, kid);
}

function checkOptions(alg: JwsAlgorithm, options: GenerateKeyOptions): GenerateParameters {
  if (!isJwsAlgorithm(alg)) throw new ConfigError(`Unsupported algorithm: ${String(alg).slice(0, 20)}`);
  refuseUnknownOptions(options, GENERATE_OPTIONS, 'generateKey options');
  const { kid, modulusLength, curve } = options;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    throw new ConfigError('kid must be a non-empty string');
  }
  const spec = ALGORITHMS[alg];
  const isRsa = spec.family === 'rsa' || spec.family === 'rsa-pss';
  if (modulusLength !== undefined && !isRsa) {
    throw new ConfigError(`modulusLength applies to RSA keys, not ${alg}`);
  }
  if (curve !== undefined && spec.family !== 'eddsa') {
    throw new ConfigError(`curve applies to EdDSA keys; the curve of ${alg} is fixed`);
  }
  const bits = modulusLength ?? MIN_RSA_BITS;
  if (isRsa && (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > 16384)) {
    throw new ConfigError(`modulusLength must be an integer from ${MIN_RSA_BITS} to 16384`);
  }
  const chosen = curve ?? 'Ed25519';
  if (chosen !== 'Ed25519' && chosen !== 'Ed448') throw new ConfigError('curve must be Ed25519 or Ed448');
  return { modulusLength: bits, curve: chosen };
}
