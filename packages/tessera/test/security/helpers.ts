/**
 * Small helpers shared by the security suite. Forged tokens are built here with
 * node:crypto directly, the way an attacker would, never with Tessera's signer.
 */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { type ErrorCode, TesseraError } from '../../src/errors.js';

/** A fixed "now" (seconds) for every time-dependent test. */
export const NOW = 1_800_000_000;

/** Unpadded base64url of a JSON value, a string (UTF-8) or raw bytes. */
export function b64(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url');
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A standard-profile access payload valid at {@link NOW}. */
export function accessPayload(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    fresh: false,
    iat: NOW,
    jti: '7a1c1f0e-2a55-4d7c-9a6e-0c3f5b8d9e11',
    type: 'access',
    sub: 'alice',
    nbf: NOW,
    exp: NOW + 900,
    ...extra,
  };
}

/** An HMAC-signed token over any header, built without Tessera. */
export function forgeHmac(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string | Uint8Array,
  secret: string | Uint8Array,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = createHmac(hash, secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/** Await `action`, require it to fail with a TesseraError (optionally of `code`), and return the error. */
export async function refusal(
  action: Promise<unknown> | (() => unknown),
  code?: ErrorCode,
): Promise<TesseraError> {
  let thrown: unknown;
  let failed = false;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    thrown = error;
    failed = true;
  }
  expect(failed, 'expected a refusal, but the call succeeded').toBe(true);
  expect(thrown).toBeInstanceOf(TesseraError);
  const error = thrown as TesseraError;
  if (code !== undefined) expect(error.code, error.message).toBe(code);
  return error;
}

/** Every token-level error must be a 4xx; configuration errors are the only 5xx (besides store). */
export function isClientError(error: TesseraError): boolean {
  return error.status >= 400 && error.status < 500;
}
