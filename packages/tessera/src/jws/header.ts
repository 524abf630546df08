/**
 * The JOSE header rules of RFC 7515 and RFC 8725 that do not depend on a key:
 * `alg` present and never `none`, `kid` a string, `crit` understood, `b64` absent.
 */
import {
  AlgorithmNotAllowedError,
  InvalidHeaderParameterError,
  UnsupportedCriticalHeaderError,
} from '../errors.js';

/** A decoded JOSE header. Only `alg` is guaranteed. */
export interface JwsHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly cty?: string;
  readonly crit?: readonly string[];
  readonly [parameter: string]: unknown;
}

/** Header parameters this implementation understands when listed in `crit`. None today. */
const UNDERSTOOD_CRITICAL: ReadonlySet<string> = new Set();

/** Throw the matching Tessera error if `header` breaks a key-independent rule. */
export function assertHeaderRules(header: Record<string, unknown>): asserts header is JwsHeader {
  const parts = { header };
  const { alg, kid, crit } = header;
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none')
    throw new AlgorithmNotAllowedError(undefined, parts);
  if (kid !== undefined && typeof kid !== 'string') {
    throw new InvalidHeaderParameterError('Key ID header parameter must be a string', parts, {
      key: 'header_invalid.kid',
    });
  }
  if (header.typ !== undefined && typeof header.typ !== 'string') {
    throw new InvalidHeaderParameterError('Type header parameter must be a string', parts, {
      key: 'header_invalid.typ',
    });
  }
  if (crit !== undefined) {
    if (!Array.isArray(crit) || crit.length === 0) {
      throw new UnsupportedCriticalHeaderError(
        "Invalid 'crit' header: must be a non-empty list",
        parts,
        CRIT_MALFORMED,
      );
    }
    for (const name of crit) {
      if (typeof name !== 'string') {
        throw new UnsupportedCriticalHeaderError(
          "Invalid 'crit' header: values must be strings",
          parts,
          CRIT_MALFORMED,
        );
      }
      if (!UNDERSTOOD_CRITICAL.has(name)) {
        throw new UnsupportedCriticalHeaderError(`Unsupported critical extension: ${name}`, parts);
      }
    }
  }
  // RFC 7797 unencoded payloads change what is signed; refuse rather than misverify.
  if (header.b64 !== undefined && header.b64 !== true) {
    throw new UnsupportedCriticalHeaderError('Unencoded payloads (b64: false) are not supported', parts, {
      key: 'crit_unsupported.b64',
    });
  }
}

const CRIT_MALFORMED = { key: 'crit_unsupported.malformed' } as const;

/**
 * Compare a `typ` value with an expected media type the way RFC 7515 section 4.1.9
 * says: case-insensitive, with an optional `application/` prefix.
 */
export function typMatches(typ: string, expected: string): boolean {
  const a = typ.toLowerCase();
  const b = expected.toLowerCase();
  return a === b || a === `application/${b}` || `application/${a}` === b;
}
