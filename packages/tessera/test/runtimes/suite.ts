/**
 * The runtime suite: every JWS algorithm, key import and export (PEM, JWK), JWKS
 * in and out, the remote JWKS client over a real fetch, the verified-token cache
 * and the refusals that must hold on every backend. It runs unchanged in Node
 * (Web Crypto backend forced), Bun, Deno, workerd and Chromium: it imports
 * nothing but the library it is handed, and reports every check instead of
 * throwing, so the test on the Node side can name what failed where.
 */
import type * as Tessera from 'tessera-auth/core';
import {
  RFC7515_A1,
  RFC7515_A1_KEY,
  RFC7515_A2,
  RFC7515_A2_KEY,
  RFC7515_A3,
  RFC7515_A3_KEY,
  RFC7515_A4,
  RFC7515_A4_KEY,
  RFC7520_4_1,
  RFC7520_4_2,
  RFC7520_4_3,
  RFC7520_4_4,
  RFC7520_EC_KEY,
  RFC7520_HMAC_KEY,
  RFC7520_RSA_KEY,
  RFC8037_A4,
  RFC8037_KEY,
} from '../jws/rfc-vectors.js';

/** The part of the library the suite uses: the core, without adapters or stores. */
export type Library = Pick<
  typeof Tessera,
  | 'cryptoBackend'
  | 'decodeJws'
  | 'decodeJwsPayload'
  | 'exportJwk'
  | 'exportPem'
  | 'generateKey'
  | 'generateKeyAsync'
  | 'importJwk'
  | 'importPem'
  | 'importSecret'
  | 'Keyring'
  | 'RemoteJwks'
  | 'signJwsAsync'
  | 'thumbprint'
  | 'toJwks'
  | 'TokenVerifier'
  | 'PROFILES'
  | 'verifyJwsAsync'
>;

/**
 * The manager's part, present when the suite is handed the public entry (not
 * the core alone): TokenManager round trips then run too.
 */
export type ManagerLibrary = Pick<typeof Tessera, 'TokenManager' | 'MemoryStore'>;

/** The algorithms of the TokenManager round trip: HMAC, RSA-PSS, ECDSA, EdDSA. */
export const MANAGER_ALGORITHMS = ['HS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** The name of the TokenManager check for `alg` (the Node side asserts it ran). */
export function managerCheckName(alg: Alg): string {
  return `TokenManager ${alg}: createTokenPair, verifyToken, rotation and reuse, a refresh token minted outside a family`;
}

export const ALL_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type Alg = (typeof ALL_ALGORITHMS)[number];

/** A token made by the other side, with the public key (and the secret for HS*) that verifies it. */
export interface ForeignToken {
  readonly alg: Alg;
  readonly token: string;
  /** Public JWK, or the oct JWK for HS*. */
  readonly jwk: Tessera.Jwk;
  /** SPKI PEM (asymmetric only). */
  readonly pem?: string;
  /** Other PEM encodings of the same key pair: label -> PEM. */
  readonly morePems?: Readonly<Record<string, string>>;
}

export interface SuiteInput {
  /** Tokens signed by the node:crypto backend, to verify here. */
  readonly fromNode: readonly ForeignToken[];
  /** A JWKS URL serving the public keys of `fromNode` (asymmetric ones), or undefined to skip. */
  readonly jwksUrl?: string;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface SuiteOutput {
  readonly backend: string;
  readonly checks: Check[];
  /** Tokens signed here, for the node:crypto backend to verify. */
  readonly signed: ForeignToken[];
  /** Access tokens a TokenManager created here (public entry only), for node:crypto to verify. */
  readonly managed: ForeignToken[];
}

const CLAIMS = { sub: 'runtime-user', iat: 1_700_000_000, exp: 4_000_000_000, scope: 'read write', n: 'ünï' };

export async function runSuite(
  lib: Library & Partial<ManagerLibrary>,
  input: SuiteInput,
): Promise<SuiteOutput> {
  const checks: Check[] = [];
  const signed: ForeignToken[] = [];
  const managed: ForeignToken[] = [];
  const check = async (name: string, body: () => unknown): Promise<void> => {
    try {
      const result = await body();
      checks.push(result === false ? { name, ok: false, detail: 'returned false' } : { name, ok: true });
    } catch (error) {
      checks.push({ name, ok: false, detail: describe(error) });
    }
  };
  const refuses = async (name: string, body: () => unknown, code: string): Promise<void> =>
    check(name, async () => {
      try {
        await body();
      } catch (error) {
        const actual = (error as { code?: string }).code;
        if (actual !== code) throw new Error(`expected ${code}, got ${actual ?? describe(error)}`);
        return true;
      }
      throw new Error(`expected ${code}, nothing was thrown`);
    });

  const verify = async (token: string, key: Tessera.TesseraKey): Promise<boolean> =>
    lib.verifyJwsAsync(lib.decodeJws(token), key.verifying);

  // 1. Every algorithm: generate, sign, verify, tamper, export and import (JWK and PEM).
  for (const alg of ALL_ALGORITHMS) {
    await check(
      `${alg}: generate, sign, verify, refuse a tampered token, JWK and PEM round trips`,
      async () => {
        const key = await lib.generateKeyAsync(alg, { kid: `k-${alg}` });
        if (key.signing === undefined) throw new Error('no signing key');
        const token = await lib.signJwsAsync({ typ: 'JWT', kid: key.kid }, CLAIMS, key.signing);
        expect(await verify(token, key), 'own token verifies');
        expect(!(await verify(tamper(token), key)), 'tampered token refused');
        const payload = lib.decodeJwsPayload(lib.decodeJws(token));
        expect(JSON.stringify(payload) === JSON.stringify(CLAIMS), 'payload intact');
        const exported = key.type === 'secret' ? lib.exportJwk(key, { private: true }) : lib.exportJwk(key);
        const reimported = lib.importJwk(exported);
        expect(reimported.alg === alg && (await verify(token, reimported)), 'JWK round trip verifies');
        if (key.type === 'private') {
          const pem = lib.exportPem(key);
          expect(await verify(token, lib.importPem(pem, alg)), 'SPKI PEM round trip verifies');
          const privatePem = lib.exportPem(key, { private: true });
          const again = lib.importPem(privatePem, alg);
          const token2 = await lib.signJwsAsync({}, { sub: 'pem' }, again.signing!);
          expect(await verify(token2, key), 'PKCS#8 PEM round trip signs');
          const privateJwk = lib.importJwk(lib.exportJwk(key, { private: true }));
          const token3 = await lib.signJwsAsync({}, { sub: 'jwk' }, privateJwk.signing!);
          expect(await verify(token3, key), 'private JWK round trip signs');
          signed.push({ alg, token, jwk: lib.exportJwk(key), pem });
        } else {
          signed.push({ alg, token, jwk: lib.exportJwk(key, { private: true }) });
        }
      },
    );
  }

  // 2. Tokens from the node:crypto backend verify here, keys read from JWK and PEM.
  for (const foreign of input.fromNode) {
    await check(
      `${foreign.alg}: a node:crypto token verifies (JWK${foreign.pem ? ', PEM' : ''})`,
      async () => {
        expect(await verify(foreign.token, lib.importJwk(foreign.jwk, { alg: foreign.alg })), 'JWK');
        if (foreign.pem !== undefined)
          expect(await verify(foreign.token, lib.importPem(foreign.pem, foreign.alg)), 'PEM');
        for (const [label, pem] of Object.entries(foreign.morePems ?? {})) {
          expect(await verify(foreign.token, lib.importPem(pem, foreign.alg)), label);
        }
      },
    );
  }

  // 3. Published vectors.
  const vectors: Array<[string, string, Tessera.Jwk, Alg | undefined]> = [
    ['RFC 7515 A.1 HS256', RFC7515_A1, RFC7515_A1_KEY, 'HS256'],
    ['RFC 7515 A.2 RS256', RFC7515_A2, RFC7515_A2_KEY, 'RS256'],
    ['RFC 7515 A.3 ES256', RFC7515_A3, RFC7515_A3_KEY, undefined],
    ['RFC 7515 A.4 ES512', RFC7515_A4, RFC7515_A4_KEY, undefined],
    ['RFC 8037 A.4 Ed25519', RFC8037_A4, RFC8037_KEY, undefined],
    ['RFC 7520 4.1 RS256', RFC7520_4_1, RFC7520_RSA_KEY, 'RS256'],
    ['RFC 7520 4.2 PS384', RFC7520_4_2, RFC7520_RSA_KEY, 'PS384'],
    ['RFC 7520 4.3 ES512', RFC7520_4_3, RFC7520_EC_KEY, undefined],
    ['RFC 7520 4.4 HS256', RFC7520_4_4, RFC7520_HMAC_KEY, undefined],
  ];
  for (const [name, token, jwk, alg] of vectors) {
    await check(`${name} verifies, and not with one bit flipped`, async () => {
      const key = lib.importJwk(jwk, alg === undefined ? {} : { alg });
      expect(await verify(token, key), 'vector verifies');
      expect(!(await verify(tamper(token), key)), 'tampered vector refused');
    });
  }
  await check('RFC 7515 A.2 and RFC 8037 A.4 reproduced byte for byte', async () => {
    const rsa = lib.importJwk(RFC7515_A2_KEY, { alg: 'RS256' });
    const text = lib.decodeJws(RFC7515_A2).payloadSegment;
    const decodedText = new TextDecoder().decode(base64url(text));
    expect((await lib.signJwsAsync({ alg: 'RS256' }, decodedText, rsa.signing!)) === RFC7515_A2, 'RS256');
    const ed = lib.importJwk(RFC8037_KEY);
    expect(
      (await lib.signJwsAsync({ alg: 'EdDSA' }, 'Example of Ed25519 signing', ed.signing!)) === RFC8037_A4,
      'Ed25519',
    );
  });

  // 4. JWKS out, thumbprints, and the verifier with a keyring and the verified-token cache.
  await check('toJwks publishes public keys only, with RFC 7638 thumbprints as kids', async () => {
    const ec = lib.importJwk(RFC7515_A3_KEY);
    const set = lib.toJwks([ec, lib.importJwk(RFC7515_A1_KEY, { alg: 'HS256' })]);
    expect(set.keys.length === 1 && set.keys[0]?.d === undefined, 'only the public EC key');
    // RFC 7638 section 3.1's example key and thumbprint.
    const example = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    };
    expect(lib.thumbprint(example) === 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', 'RFC 7638 example');
  });
  await check('TokenVerifier with a Keyring and the verified-token cache', async () => {
    const key = await lib.generateKeyAsync('ES256', { kid: 'ring-1' });
    const ring = new lib.Keyring([key]);
    const verifier = new lib.TokenVerifier({
      keys: ring,
      rules: {
        profile: lib.PROFILES.standard,
        leeway: 0,
        requireExp: true,
        issuer: undefined,
        audience: undefined,
      },
      clock: () => 1_800_000_000,
      cacheSize: 16,
    });
    const token = await lib.signJwsAsync({ typ: 'JWT', kid: 'ring-1' }, CLAIMS, key.signing!);
    const first = await verifier.verify(token);
    expect(first.payload.sub === 'runtime-user', 'first verification');
    // A cache hit answers without the signature check, hence synchronously, on every backend.
    const second = verifier.verify(token);
    expect(typeof (second as { then?: unknown }).then !== 'function', 'cache hit is synchronous');
    await expectCode(() => verifier.verify(tamper(token)), 'signature_invalid');
    const expired = await lib.signJwsAsync(
      { kid: 'ring-1' },
      { ...CLAIMS, exp: 1_700_000_100 },
      key.signing!,
    );
    await expectCode(() => verifier.verify(expired), 'token_expired');
    ring.remove('ring-1');
    await expectCode(() => verifier.verify(token), 'key_not_found');
  });

  // 5. The remote JWKS client with the runtime's own fetch.
  if (input.jwksUrl !== undefined) {
    const url = input.jwksUrl;
    await check('RemoteJwks fetches the published set and verifies node:crypto tokens with it', async () => {
      const remote = new lib.RemoteJwks(url, {
        algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      });
      const verifier = new lib.TokenVerifier({
        keys: remote,
        rules: {
          profile: lib.PROFILES.standard,
          leeway: 0,
          requireExp: true,
          issuer: undefined,
          audience: undefined,
        },
        clock: () => 1_800_000_000,
      });
      let verified = 0;
      for (const foreign of input.fromNode) {
        if (!['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'].includes(foreign.alg)) continue;
        const result = await verifier.verify(foreign.token);
        if (result.payload.sub === 'node-user') verified++;
      }
      expect(verified === 6, `verified ${verified} of 6`);
    });
  }

  // 6. Refusals: the same rules on every backend.
  await refuses(
    'an RSA key with e = 1 is refused at import',
    () =>
      lib.importJwk({
        ...(RFC7520_RSA_KEY as object),
        d: undefined,
        p: undefined,
        q: undefined,
        dp: undefined,
        dq: undefined,
        qi: undefined,
        e: 'AQ',
        alg: 'RS256',
      } as never),
    'key_invalid',
  );
  await refuses(
    'PEM key material is refused as an HMAC secret',
    () => lib.importSecret(input.fromNode.find((t) => t.pem !== undefined)?.pem ?? '', 'HS256'),
    'key_invalid',
  );
  await refuses(
    'an HS256 secret under 32 bytes is refused',
    () => lib.importSecret('short', 'HS256'),
    'key_invalid',
  );
  await refuses(
    'an EC key is refused for the wrong curve',
    () => lib.importJwk(RFC7515_A3_KEY, { alg: 'ES384' }),
    'key_invalid',
  );
  await refuses(
    'a JWK member with non-canonical trailing bits is refused',
    () =>
      lib.importJwk({
        ...(RFC8037_KEY as object),
        x: nonCanonical((RFC8037_KEY as { x: string }).x),
      } as never),
    'key_invalid',
  );
  await refuses(
    'an unsigned token is refused',
    () => lib.decodeJws(`${b64('{"alg":"HS256"}')}.${b64('{}')}.`),
    'token_malformed',
  );
  await refuses(
    'alg "none" with a signature is refused',
    () => lib.decodeJws(`${b64('{"alg":"none"}')}.${b64('{}')}.AAAA`),
    'algorithm_not_allowed',
  );
  await check('an HS256 token does not verify with an RS256 key (algorithm bound to the key)', async () => {
    const rsa = lib.importJwk(RFC7520_RSA_KEY, { alg: 'RS256' });
    const ring = new lib.Keyring([rsa]);
    const verifier = new lib.TokenVerifier({
      keys: ring,
      rules: {
        profile: lib.PROFILES.standard,
        leeway: 0,
        requireExp: false,
        issuer: undefined,
        audience: undefined,
      },
      clock: () => 1_800_000_000,
    });
    await expectCode(() => verifier.verify(RFC7515_A1), 'algorithm_not_allowed');
  });
  await check('an ECDSA signature of zeros is refused (CVE-2022-21449)', async () => {
    const key = lib.importJwk(RFC7515_A3_KEY);
    const [h, p] = RFC7515_A3.split('.');
    expect(!(await verify(`${h}.${p}.${'A'.repeat(86)}`, key)), 'zero signature refused');
  });

  // 3. TokenManager: tokens created and verified by the manager, sessions on the memory store.
  const { TokenManager, MemoryStore } = lib;
  if (TokenManager !== undefined && MemoryStore !== undefined) {
    for (const alg of MANAGER_ALGORITHMS) {
      await check(managerCheckName(alg), async () => {
        const key = await lib.generateKeyAsync(alg, { kid: `m-${alg}` });
        const secret = key.type === 'secret' ? `${'runtime-secret-'.repeat(4)}${alg}` : undefined;
        const keyOptions =
          secret !== undefined
            ? { secret }
            : { algorithm: alg, privateKey: lib.exportPem(key, { private: true }), kid: key.kid };
        const now = () => 1_700_000_000;
        const manager = new TokenManager({
          ...keyOptions,
          now,
          store: new MemoryStore({ now }),
          rotation: { enabled: true, graceSeconds: 0 },
        });
        const pair = await manager.createTokenPair({
          identity: 'runtime-user',
          additionalClaims: { n: 'ünï' },
        });
        const verified = await manager.verifyToken(pair.accessToken);
        expect(verified.identity === 'runtime-user', 'access token verifies, identity read back');
        expect(verified.header.alg === alg, `header alg ${alg}`);
        expect(verified.payload.n === 'ünï', 'UTF-8 claim read back');
        await expectCode(() => manager.verifyToken(tamper(pair.accessToken)), 'signature_invalid');
        await expectCode(() => manager.verifyToken(pair.refreshToken), 'wrong_token_type');
        const rotated = await manager.refreshTokens(pair.refreshToken);
        expect(
          (await manager.verifyToken(rotated.accessToken)).identity === 'runtime-user',
          'refreshed access',
        );
        expect(rotated.refreshToken !== undefined, 'rotation gives a new refresh token');
        await expectCode(() => manager.refreshTokens(pair.refreshToken), 'refresh_token_reused');
        // Minted without a store: adopted into a family derived from its jti (SHA-256) on first use.
        const outside = new TokenManager({ ...keyOptions, now });
        const loose = await outside.createRefreshToken({ identity: 'runtime-user' });
        expect((await manager.refreshTokens(loose)).accessToken.split('.').length === 3, 'adopted refresh');
        await expectCode(() => manager.refreshTokens(loose), 'refresh_token_reused');
        // The HMAC manager's key is its secret string's UTF-8, not `key`.
        const jwk: Tessera.Jwk = secret !== undefined ? { kty: 'oct', k: b64(secret) } : lib.exportJwk(key);
        managed.push({ alg, token: pair.accessToken, jwk });
      });
    }
  }

  return { backend: lib.cryptoBackend(), checks, signed, managed };
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
}

async function expectCode(body: () => unknown, code: string): Promise<void> {
  try {
    await body();
  } catch (error) {
    const actual = (error as { code?: string }).code;
    if (actual === code) return;
    throw new Error(`expected ${code}, got ${actual ?? describe(error)}`);
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return `${error.name}: ${error.message}${cause instanceof Error ? ` (cause: ${cause.message})` : ''}`;
  }
  return String(error);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function b64(text: string): string {
  return bytesToB64(new TextEncoder().encode(text));
}

function bytesToB64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Flip one bit in the middle of the signature. */
export function tamper(token: string): string {
  const dot = token.lastIndexOf('.');
  const signature = base64url(token.slice(dot + 1));
  const middle = signature.length >> 1;
  signature[middle] = (signature[middle] as number) ^ 0x01;
  return `${token.slice(0, dot + 1)}${bytesToB64(signature)}`;
}

function nonCanonical(segment: string): string {
  const value = ALPHABET.indexOf(segment.at(-1) ?? 'A');
  return `${segment.slice(0, -1)}${ALPHABET[value | 1]}`;
}
