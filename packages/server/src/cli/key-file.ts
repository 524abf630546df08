/**
 * Reading keys for `token sign` and `token verify --key`: a PEM file (the
 * algorithm from --alg or from the key's type), a JWK or JWK Set file, or a
 * raw HMAC secret (only with an explicit HS* --alg).
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  exportJwk,
  importJwk,
  importPem,
  importSecret,
  type Jwk,
  type JwsAlgorithm,
  type TesseraKey,
  thumbprint,
} from 'tessera-auth';
import { isHmacAlgorithm, isJwsAlgorithm, refuseUnknownOptions } from 'tessera-auth/core';
import { CliError, EXIT, ioError, UsageError } from './errors.js';

/** Check an --alg value. */
export function algorithm(text: string | undefined): JwsAlgorithm | undefined {
  if (text === undefined) return undefined;
  if (!isJwsAlgorithm(text)) {
    throw new UsageError(
      `--alg: unknown algorithm '${text}' (EdDSA, ES256, ES384, ES512, RS256..., PS256..., HS256...)`,
    );
  }
  return text;
}

/** Read a file (or stdin for '-') as text; unreadable is exit 4. */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw ioError(`cannot read ${what} ${path}`, error);
  }
}

/** The algorithm a PEM key implies when none is given. */
function impliedAlgorithm(pem: string): JwsAlgorithm {
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = createPublicKey(pem);
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch (error) {
    throw new CliError(
      `not a PEM key: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
      'key_invalid',
    );
  }
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa') return 'RS256';
  if (type === 'rsa-pss') return 'PS256';
  if (type === 'ec') {
    const byCurve: Record<string, JwsAlgorithm> = {
      prime256v1: 'ES256',
      secp384r1: 'ES384',
      secp521r1: 'ES512',
    };
    const alg = curve === undefined ? undefined : byCurve[curve];
    if (alg !== undefined) return alg;
  }
  throw new UsageError(`cannot tell the algorithm of this ${type ?? 'unknown'} key: give --alg`);
}

/** A key from a file: PEM, JWK, JWK Set (the key named by `kid`, or the only one), or a raw HS secret. */
export function loadKeyFile(path: string, options: { alg?: JwsAlgorithm; kid?: string }): TesseraKey[] {
  refuseUnknownOptions(options, ['alg', 'kid'], 'loadKeyFile options');
  const text = readText(path, 'key file').trim();
  try {
    if (text.startsWith('-----BEGIN')) {
      const alg = options.alg ?? impliedAlgorithm(text);
      // Without --kid, the RFC 7638 thumbprint: the kid keygen and the service give the same key.
      const kid = options.kid ?? thumbprint(exportJwk(importPem(text, alg)));
      return [importPem(text, alg, { kid })];
    }
    if (text.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new CliError(
          `${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
          EXIT.usage,
          'key_invalid',
        );
      }
      const record = parsed as { keys?: unknown };
      const list: Jwk[] = Array.isArray(record.keys) ? (record.keys as Jwk[]) : [parsed as Jwk];
      const chosen = options.kid === undefined ? list : list.filter((jwk) => jwk.kid === options.kid);
      if (chosen.length === 0) throw new UsageError(`${path} has no key with kid '${options.kid}'`);
      return chosen.map((jwk) => importJwk(jwk, options.alg === undefined ? {} : { alg: options.alg }));
    }
    if (options.alg !== undefined && isHmacAlgorithm(options.alg)) {
      return [importSecret(text, options.alg, options.kid === undefined ? {} : { kid: options.kid })];
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `${path}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
      'key_invalid',
    );
  }
  throw new UsageError(
    `${path} holds neither a PEM key nor a JWK; a raw HMAC secret needs --alg HS256 (HS384, HS512)`,
  );
}
