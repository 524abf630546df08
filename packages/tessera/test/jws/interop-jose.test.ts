/**
 * Interoperability with `jose` (v6), the reference JOSE implementation for
 * JavaScript: for every algorithm, tokens jose signs verify here, and tokens
 * signed here verify in jose, with keys crossing over as JWKs through
 * exportJwk / importJwk.
 */
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { ALGORITHM_NAMES, ALGORITHMS, type JwsAlgorithm } from '../../src/jws/algorithms.js';
import { decodeJws, decodeJwsPayload, signJws, verifyJws } from '../../src/jws/compact.js';
import { generateKey } from '../../src/keys/generate.js';
import { importJwk } from '../../src/keys/import.js';
import type { Jwk } from '../../src/keys/jwk.js';
import { exportJwk } from '../../src/keys/jwks.js';

const claims = { sub: 'user-42', iss: 'https://issuer.example', aud: 'api', scope: 'read write' };

const isHmac = (alg: JwsAlgorithm): boolean => ALGORITHMS[alg].family === 'hmac';

/** A jose key pair (or secret) for `alg`, with its JWKs. */
async function joseKeys(
  alg: JwsAlgorithm,
): Promise<{ signWith: jose.CryptoKey; verifyJwk: Jwk; privateJwk: Jwk }> {
  if (isHmac(alg)) {
    const secret = (await jose.generateSecret(alg, { extractable: true })) as jose.CryptoKey;
    const jwk = (await jose.exportJWK(secret)) as Jwk;
    return { signWith: secret, verifyJwk: jwk, privateJwk: jwk };
  }
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return {
    signWith: privateKey,
    verifyJwk: (await jose.exportJWK(publicKey)) as Jwk,
    privateJwk: (await jose.exportJWK(privateKey)) as Jwk,
  };
}

describe.each(ALGORITHM_NAMES)('%s', (alg) => {
  it('a token signed by jose verifies here, with its key imported through importJwk', async () => {
    const { signWith, verifyJwk } = await joseKeys(alg);
    const token = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg, kid: 'jose-key', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(signWith);

    const verifier = importJwk(verifyJwk, { alg, kid: 'jose-key' });
    expect(verifier.type).toBe(isHmac(alg) ? 'secret' : 'public');
    const decoded = decodeJws(token);
    expect(decoded.header).toMatchObject({ alg, kid: 'jose-key', typ: 'JWT' });
    expect(verifyJws(decoded, verifier.verifying)).toBe(true);
    expect(decodeJwsPayload(decoded)).toMatchObject(claims);

    // And a jose-signed token over a non-JSON payload (compact JWS).
    const compact = await new jose.CompactSign(new TextEncoder().encode('plain bytes'))
      .setProtectedHeader({ alg })
      .sign(signWith);
    expect(verifyJws(decodeJws(compact), verifier.verifying)).toBe(true);
  });

  it('a token signed here verifies in jose, with the key exported through exportJwk', async () => {
    const key = generateKey(alg, { kid: `ours-${alg}` });
    if (key.signing === undefined) throw new Error('generated keys sign');
    const now = Math.floor(Date.now() / 1000);
    const token = signJws({ typ: 'JWT', kid: key.kid }, { ...claims, iat: now, exp: now + 300 }, key.signing);

    const jwk = exportJwk(key, { private: isHmac(alg) });
    expect(jwk).toMatchObject({ alg, kid: `ours-${alg}`, use: 'sig' });
    const joseKey = await jose.importJWK(jwk as jose.JWK, alg);
    const { payload, protectedHeader } = await jose.jwtVerify(token, joseKey, {
      algorithms: [alg],
      issuer: claims.iss,
      audience: claims.aud,
    });
    expect(protectedHeader).toMatchObject({ alg, kid: key.kid });
    expect(payload).toMatchObject(claims);
    const { payload: raw } = await jose.compactVerify(token, joseKey, { algorithms: [alg] });
    expect(JSON.parse(new TextDecoder().decode(raw))).toMatchObject(claims);
  });

  it('private keys cross over too: a jose private JWK signs here, and jose verifies', async () => {
    const { verifyJwk, privateJwk } = await joseKeys(alg);
    const signer = importJwk(privateJwk, { alg });
    if (signer.signing === undefined) throw new Error('private JWK should sign');
    const token = signJws({}, { sub: 'crossed' }, signer.signing);
    const joseVerifier = await jose.importJWK(verifyJwk as jose.JWK, alg);
    const { payload } = await jose.jwtVerify(token, joseVerifier, { algorithms: [alg] });
    expect(payload.sub).toBe('crossed');
  });

  it('jose refuses our token when the signature is altered (the check is real)', async () => {
    const key = generateKey(alg);
    if (key.signing === undefined) throw new Error('generated keys sign');
    const token = signJws({}, { sub: 'x' }, key.signing);
    const dot = token.lastIndexOf('.');
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    signature[0] = (signature[0] ?? 0) ^ 0x80;
    const altered = `${token.slice(0, dot + 1)}${signature.toString('base64url')}`;
    const joseKey = await jose.importJWK(exportJwk(key, { private: isHmac(alg) }) as jose.JWK, alg);
    await expect(jose.compactVerify(altered, joseKey)).rejects.toThrow();
    expect(verifyJws(decodeJws(altered), key.verifying)).toBe(false);
  });
});

describe('Ed448', () => {
  it('verifies here; jose v6 does not take Ed448 JWKs under "EdDSA", so interop is proven on Ed25519', async () => {
    const key = generateKey('EdDSA', { curve: 'Ed448' });
    if (key.signing === undefined) throw new Error('generated keys sign');
    const token = signJws({}, { sub: 'ed448' }, key.signing);
    expect(verifyJws(decodeJws(token), importJwk(exportJwk(key)).verifying)).toBe(true);
    let joseKey: jose.CryptoKey | Uint8Array | undefined;
    try {
      joseKey = await jose.importJWK(exportJwk(key) as jose.JWK, 'EdDSA');
    } catch (error) {
      expect((error as Error).message).toMatch(/crv/);
    }
    // Should a later jose accept Ed448, the token must verify there too.
    if (joseKey !== undefined) {
      const { payload } = await jose.jwtVerify(token, joseKey, { algorithms: ['EdDSA'] });
      expect(payload.sub).toBe('ed448');
    }
  });
});
