/**
 * Looking at a token without trusting it (`token decode`): its header and
 * claims read leniently so that even a broken token shows what it holds, and
 * everything wrong with it named in words.
 */
import { TesseraError } from 'tessera-auth';
import { decodeJws, refuseUnknownOptions } from 'tessera-auth/core';
import { relative, utc } from './time.js';

/** Something wrong with a token. */
export interface Problem {
  /** Stable code: token_malformed, alg_none, token_expired, token_not_yet_valid, ... */
  readonly code: string;
  readonly message: string;
}

/** A time claim in human terms. */
export interface TimeClaim {
  readonly claim: 'iat' | 'nbf' | 'exp';
  readonly value: number;
  readonly utc: string;
  readonly relative: string;
}

/** What `token decode` found. */
export interface Inspection {
  readonly header: Record<string, unknown> | undefined;
  readonly payload: Record<string, unknown> | undefined;
  readonly times: TimeClaim[];
  readonly problems: Problem[];
  /** Remarks that are not failures (no exp, signature not checked...). */
  readonly notes: string[];
}

/** What to check beyond the token itself. */
export interface InspectOptions {
  readonly now: number;
  readonly audience?: string;
  readonly issuer?: string;
  /** Key ids known to the verifier, and where they come from, when a key source was available. */
  readonly knownKids?: { kids: readonly string[]; source: string };
}

function segmentJson(
  segment: string,
  name: string,
  problems: Problem[],
): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) {
    problems.push({
      code: 'token_malformed',
      message: `the ${name} is not base64url (characters outside A-Z a-z 0-9 - _)`,
    });
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    problems.push({ code: 'token_malformed', message: `the ${name} is not JSON` });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ code: 'token_malformed', message: `the ${name} is not a JSON object` });
    return undefined;
  }
  return value as Record<string, unknown>;
}

/** Inspect a token: never throws, whatever the input. */
export function inspectToken(input: string, options: InspectOptions): Inspection {
  refuseUnknownOptions(options, ['now', 'audience', 'issuer', 'knownKids'], 'inspectToken options');
  const token = input.trim().replace(/^Bearer\s+/i, '');
  const problems: Problem[] = [];
  const notes: string[] = [];
  const times: TimeClaim[] = [];
  const parts = token.split('.');
  if (token === '') {
    problems.push({ code: 'token_malformed', message: 'the token is empty' });
    return { header: undefined, payload: undefined, times, problems, notes };
  }
  if (parts.length !== 3) {
    problems.push({
      code: 'token_malformed',
      message:
        parts.length === 5
          ? 'the token has 5 segments: it is an encrypted JWE, not a signed JWT (this tool reads JWS tokens)'
          : `the token has ${parts.length} segment${parts.length === 1 ? '' : 's'}; a JWT has 3 (header.payload.signature)`,
    });
    return { header: undefined, payload: undefined, times, problems, notes };
  }
  const [h = '', p = '', s = ''] = parts;
  const header = segmentJson(h, 'header', problems);
  const payload = segmentJson(p, 'payload', problems);
  if (header !== undefined) {
    const alg = header.alg;
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      problems.push({
        code: 'alg_none',
        message: "alg is 'none': the token is unsigned and is never accepted",
      });
    } else if (typeof alg !== 'string') {
      problems.push({ code: 'header_invalid', message: 'the header has no alg' });
    }
    if (s === '' && !(typeof alg === 'string' && alg.toLowerCase() === 'none')) {
      problems.push({ code: 'signature_missing', message: 'the signature segment is empty' });
    }
    if (options.knownKids !== undefined) {
      const { kids, source } = options.knownKids;
      if (typeof header.kid === 'string' && !kids.includes(header.kid)) {
        problems.push({
          code: 'unknown_kid',
          message: `unknown kid '${header.kid}': no key of ${source} has it`,
        });
      }
    }
  }
  // The library's strict reading catches what the lenient one lets through (crit, b64, bad padding...).
  if (problems.length === 0) {
    try {
      decodeJws(token);
    } catch (error) {
      const code = error instanceof TesseraError ? error.code : 'token_malformed';
      problems.push({ code, message: error instanceof Error ? error.message : String(error) });
    }
  }
  if (payload !== undefined) {
    const { now } = options;
    for (const claim of ['iat', 'nbf', 'exp'] as const) {
      const value = payload[claim];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        problems.push({
          code: 'claim_invalid',
          message: `${claim} is not a number of seconds (${JSON.stringify(value)})`,
        });
        continue;
      }
      times.push({ claim, value, utc: utc(value), relative: relative(value, now) });
    }
    const exp = payload.exp;
    const nbf = payload.nbf;
    const iat = payload.iat;
    if (typeof exp === 'number') {
      if (exp <= now) problems.push({ code: 'token_expired', message: `expired ${relative(exp, now)}` });
      else notes.push(`expires ${relative(exp, now)}`);
    } else if (exp === undefined) {
      notes.push('has no expiry (exp): valid until revoked');
    }
    if (typeof nbf === 'number' && nbf > now) {
      problems.push({
        code: 'token_not_yet_valid',
        message: `not valid yet: becomes valid ${relative(nbf, now)}`,
      });
    }
    if (typeof iat === 'number' && iat > now) {
      problems.push({
        code: 'token_not_yet_valid',
        message: `issued in the future (${relative(iat, now)}): the issuer's clock is ahead, or the token is forged`,
      });
    }
    if (options.audience !== undefined) {
      const aud = payload.aud;
      const list =
        typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [];
      if (aud === undefined) {
        problems.push({
          code: 'audience_invalid',
          message: `has no audience (aud); expected '${options.audience}'`,
        });
      } else if (!list.includes(options.audience)) {
        problems.push({
          code: 'audience_invalid',
          message: `wrong audience: the token is for ${list.map((a) => `'${a}'`).join(', ') || JSON.stringify(aud)}, expected '${options.audience}'`,
        });
      }
    }
    if (options.issuer !== undefined && payload.iss !== options.issuer) {
      problems.push({
        code: 'issuer_invalid',
        message:
          payload.iss === undefined
            ? `has no issuer (iss); expected '${options.issuer}'`
            : `wrong issuer: '${String(payload.iss)}', expected '${options.issuer}'`,
      });
    }
  }
  return { header, payload, times, problems, notes };
}
