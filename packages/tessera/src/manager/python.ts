/**
 * What the flask-jwt-extended profile needs to answer as the Python library does:
 * Python's str() of JSON values, and the claim defaults Flask-JWT-Extended fills in
 * on decode.
 */

import type { JwtPayload } from '../tokens/validate.js';
import type { VerifiedJwt } from '../tokens/verifier.js';

/** How Python's str() shows a JSON value: Flask-JWT-Extended formats identities that way. */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : pyFloat(value);
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value.replaceAll('\\', '\\\\').replaceAll(quote, `\\${quote}`).replaceAll('\n', '\\n');
    return `${quote}${escaped}${quote}`;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Flask-JWT-Extended fills in `type`, `fresh` and `jti` on decode when a token lacks them (F70). */
export function withFlaskDefaults(verified: VerifiedJwt): VerifiedJwt {
  const { payload } = verified;
  if (payload.type !== undefined && payload.fresh !== undefined && payload.jti !== undefined) return verified;
  const filled: Record<string, unknown> = { ...payload };
  if (filled.type === undefined) filled.type = 'access';
  if (filled.fresh === undefined) filled.fresh = false;
  if (filled.jti === undefined) filled.jti = null;
  return { header: verified.header, payload: filled as JwtPayload };
}
