/**
 * Check a token's signature against a JWKS with WebCrypto, in the browser:
 * the key is chosen by `kid` (or, without one, by algorithm), and the key's
 * own algorithm must equal the header's, as the service itself requires.
 */
import type { Decoded, Finding } from './decode.js';

export interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  crv?: string;
  use?: string;
  [key: string]: unknown;
}

type Params = {
  import: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams;
  verify: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  kty: string;
  crv?: string;
};

const ALGS: Record<string, Params> = {
  RS256: {
    kty: 'RSA',
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    verify: { name: 'RSASSA-PKCS1-v1_5' },
  },
  RS384: {
    kty: 'RSA',
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
    verify: { name: 'RSASSA-PKCS1-v1_5' },
  },
  RS512: {
    kty: 'RSA',
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
    verify: { name: 'RSASSA-PKCS1-v1_5' },
  },
  PS256: {
    kty: 'RSA',
    import: { name: 'RSA-PSS', hash: 'SHA-256' },
    verify: { name: 'RSA-PSS', saltLength: 32 },
  },
  PS384: {
    kty: 'RSA',
    import: { name: 'RSA-PSS', hash: 'SHA-384' },
    verify: { name: 'RSA-PSS', saltLength: 48 },
  },
  PS512: {
    kty: 'RSA',
    import: { name: 'RSA-PSS', hash: 'SHA-512' },
    verify: { name: 'RSA-PSS', saltLength: 64 },
  },
  ES256: {
    kty: 'EC',
    crv: 'P-256',
    import: { name: 'ECDSA', namedCurve: 'P-256' },
    verify: { name: 'ECDSA', hash: 'SHA-256' },
  },
  ES384: {
    kty: 'EC',
    crv: 'P-384',
    import: { name: 'ECDSA', namedCurve: 'P-384' },
    verify: { name: 'ECDSA', hash: 'SHA-384' },
  },
  ES512: {
    kty: 'EC',
    crv: 'P-521',
    import: { name: 'ECDSA', namedCurve: 'P-521' },
    verify: { name: 'ECDSA', hash: 'SHA-512' },
  },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
};

/** Fetch a JWKS (the service's own, or any https URL the page may reach). */
export async function fetchJwks(url: string): Promise<Jwk[]> {
  let res: Response;
  try {
    res = await fetch(url, {
      credentials: 'omit',
      cache: 'no-store',
      headers: { accept: 'application/json' },
    });
  } catch {
    throw new Error(`Cannot fetch the JWKS at ${url} (unreachable, not https, or no CORS).`);
  }
  if (!res.ok) throw new Error(`The JWKS URL answered ${res.status}.`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new Error('The JWKS URL did not answer JSON.');
  }
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error('The JWKS has no "keys" array.');
  return keys.filter((k): k is Jwk => typeof k === 'object' && k !== null);
}

/** The signature's verdict, in words. */
export async function checkSignature(decoded: Decoded, keys: Jwk[], source: string): Promise<Finding> {
  const alg = decoded.header.alg;
  const kid = decoded.header.kid;
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') {
    return { level: 'error', text: 'No signature to check: the token is unsigned.' };
  }
  if (alg.startsWith('HS')) {
    return {
      level: 'warning',
      text: `Signed with ${alg}, a shared secret: a JWKS of public keys cannot check it.`,
    };
  }
  const params = ALGS[alg];
  if (params === undefined) return { level: 'error', text: `Unknown algorithm "${alg}".` };
  let candidates: Jwk[];
  if (typeof kid === 'string') {
    candidates = keys.filter((k) => k.kid === kid);
    if (candidates.length === 0) {
      return {
        level: 'error',
        text: `Unknown kid: no key "${kid}" in ${source} (${keys.length} key${keys.length === 1 ? '' : 's'}).`,
      };
    }
  } else {
    candidates = keys.filter((k) => k.alg === alg || (k.alg === undefined && k.kty === params.kty));
    if (candidates.length === 0)
      return { level: 'error', text: `No key in ${source} for ${alg}, and the token names no kid.` };
  }
  for (const jwk of candidates) {
    const keyAlg = jwk.alg === 'Ed25519' ? 'EdDSA' : jwk.alg;
    const tokenAlg = alg === 'Ed25519' ? 'EdDSA' : alg;
    if (
      (keyAlg !== undefined && keyAlg !== tokenAlg) ||
      jwk.kty !== params.kty ||
      (params.crv !== undefined && jwk.crv !== params.crv)
    ) {
      return {
        level: 'error',
        text: `Wrong algorithm: the token says ${alg}, but key "${jwk.kid ?? '(no kid)'}" is ${keyAlg ?? `${jwk.kty} ${jwk.crv ?? ''}`.trim()}.`,
      };
    }
    let key: CryptoKey;
    try {
      const { d: _private, ...publicJwk } = jwk;
      key = await crypto.subtle.importKey('jwk', publicJwk as JsonWebKey, params.import, false, ['verify']);
    } catch {
      return {
        level: 'error',
        text: `Key "${jwk.kid ?? '(no kid)'}" in ${source} cannot be used for ${alg} by this browser.`,
      };
    }
    const data = new TextEncoder().encode(decoded.signingInput);
    const ok = await crypto.subtle.verify(
      params.verify,
      key,
      decoded.signature as Uint8Array<ArrayBuffer>,
      data,
    );
    if (ok)
      return {
        level: 'ok',
        text: `Signature valid: signed by key "${jwk.kid ?? '(no kid)'}" (${alg}) of ${source}.`,
      };
  }
  return {
    level: 'error',
    text: 'Signature does not match: the token was altered after signing, or signed by another key.',
  };
}
