/**
 * Fresh keys for every algorithm, synchronously: key generation happens at
 * start-up or in a CLI, where a blocking call is simpler than a promise.
 */
import { createSecretKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { ALGORITHMS, isJwsAlgorithm, type JwsAlgorithm, MIN_RSA_BITS } from '../jws/algorithms.js';
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

/**
 * Generate a key for `alg`: a random secret of the RFC 7518 floor for HS*
 * (32/48/64 bytes, the hash output size), an RSA key pair for RS* and PS*, an EC
 * key pair on the algorithm's curve for ES*, an Ed25519 (or Ed448) pair for EdDSA.
 */
export function generateKey(alg: JwsAlgorithm, options: GenerateKeyOptions = {}): TesseraKey {
  if (!isJwsAlgorithm(alg)) throw new ConfigError(`Unsupported algorithm: ${String(alg).slice(0, 20)}`);
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

  if (spec.family === 'hmac') {
    return bindKey(alg, createSecretKey(randomBytes(spec.minSecretBytes ?? 64)), kid);
  }
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  switch (spec.family) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = modulusLength ?? MIN_RSA_BITS;
      if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > 16384) {
        throw new ConfigError(`modulusLength must be an integer from ${MIN_RSA_BITS} to 16384`);
      }
      // Plain 'rsa' keys even for PS*: they export as JWK, and the algorithm
      // bound below is what restricts them to PSS.
      pair = generateKeyPairSync('rsa', { modulusLength: bits });
      break;
    }
    case 'ecdsa':
      pair = generateKeyPairSync('ec', { namedCurve: spec.curve ?? 'prime256v1' });
      break;
    case 'eddsa': {
      const chosen = curve ?? 'Ed25519';
      if (chosen !== 'Ed25519' && chosen !== 'Ed448') throw new ConfigError('curve must be Ed25519 or Ed448');
      pair = chosen === 'Ed448' ? generateKeyPairSync('ed448') : generateKeyPairSync('ed25519');
      break;
    }
  }
  return bindKey(alg, pair.privateKey, kid, pair.publicKey);
}
