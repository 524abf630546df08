/**
 * JWKS across the boundary, against the REAL SimpleJWT 5.2.2 / PyJWT 2.6 PyJWKClient:
 *
 * - a Tessera service publishes its keyring at /.well-known/jwks.json with `toJwks`
 *   (kid = RFC 7638 thumbprint); a Django peer configured with `JWK_URL` and no
 *   `VERIFYING_KEY` accepts Tessera-minted RS256 and ES256 tokens;
 * - a key rotation on the Tessera side (new kid) is picked up by the Python side,
 *   which refetches the set on an unknown kid, and what PyJWKClient's cache means
 *   for keys removed from the set;
 * - the reverse direction: SimpleJWT cannot publish a JWKS, so its public key is
 *   published with `toJwks` and Tessera's `RemoteJwks` verifies the tokens it signs
 *   (they carry no kid: the key is chosen by algorithm).
 *
 * SimpleJWT 5.2.2 supports only HS/RS/ES algorithms, so EdDSA sets are not tried here.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPem } from '../../src/keys/import.js';
import { exportJwk, thumbprint, toJwks } from '../../src/keys/jwks.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { Keyring } from '../../src/keys/keyring.js';
import { RemoteJwks } from '../../src/keys/remote-jwks.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { callPeer, generatePemKeyPair, type PemKeyPair, type PythonPeer, startDjangoPeer } from './peers.js';
import { bearer, field, gatePeers, type Listening, listen, part, peers, stopAll } from './support.js';

gatePeers('JWKS interop');

const ALICE = { username: 'alice', password: 'alice-password' };
const INVALID = {
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid or expired' }],
};

/** A signing key whose kid is its own RFC 7638 thumbprint. */
function thumbprintKey(alg: 'RS256' | 'ES256', pair: PemKeyPair = generatePemKeyPair(alg)): TesseraKey {
  const kid = thumbprint(exportJwk(importPem(pair.privateKey, alg)));
  return importPem(pair.privateKey, alg, { kid });
}

/** RFC 7638 computed here from the public PEM, independently of Tessera. */
function independentThumbprint(publicPem: string): string {
  const jwk = createPublicKey(publicPem).export({ format: 'jwk' });
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A tiny JWKS host: each path serves `toJwks` of a live key list, and counts fetches. */
class JwksHost {
  readonly sets = new Map<string, () => Iterable<TesseraKey> | Keyring>();
  readonly hits = new Map<string, number>();
  #listening: Listening | undefined;

  get url(): string {
    if (this.#listening === undefined) throw new Error('JWKS host not started');
    return this.#listening.url;
  }

  async start(): Promise<void> {
    this.#listening = await listen((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '';
      const keys = this.sets.get(path);
      if (req.method !== 'GET' || keys === undefined) {
        res.writeHead(404).end();
        return;
      }
      this.hits.set(path, this.count(path) + 1);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify(toJwks(keys())));
    });
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  close(): Promise<void> {
    return this.#listening?.close() ?? Promise.resolve();
  }
}

describe.skipIf(!peers.ok)('Tessera publishes a JWKS; SimpleJWT verifies through JWK_URL', () => {
  const host = new JwksHost();
  const RS_PATH = '/.well-known/jwks.json';
  const ES_PATH = '/es/.well-known/jwks.json';
  const PY_PATH = '/python/jwks.json';
  const firstPair = generatePemKeyPair('RS256');
  const first = thumbprintKey('RS256', firstPair);
  const second = thumbprintKey('RS256');
  const ring = new Keyring([first]);
  const esRing = new Keyring([thumbprintKey('ES256')]);
  const djangoKeys = generatePemKeyPair('RS256');
  const djangoPublic = importPem(djangoKeys.publicKey, 'RS256');
  const tessera = new TokenManager({ profile: 'simplejwt', algorithm: 'RS256', keys: ring });
  const esTessera = new TokenManager({ profile: 'simplejwt', algorithm: 'ES256', keys: esRing });
  let rs: PythonPeer;
  let es: PythonPeer;
  /** Tokens of the first key, minted before the rotation. */
  let firstKeyToken: string;

  beforeAll(async () => {
    host.sets.set(RS_PATH, () => ring);
    host.sets.set(ES_PATH, () => esRing);
    host.sets.set(PY_PATH, () => [djangoPublic]);
    await host.start();
    [rs, es] = await Promise.all([
      // SIGNING_KEY only so that the peer can also issue tokens for the reverse direction.
      startDjangoPeer({
        simpleJwt: {
          ALGORITHM: 'RS256',
          JWK_URL: `${host.url}${RS_PATH}`,
          SIGNING_KEY: djangoKeys.privateKey,
        },
      }),
      startDjangoPeer({
        simpleJwt: { ALGORITHM: 'ES256', JWK_URL: `${host.url}${ES_PATH}`, SIGNING_KEY: null },
      }),
    ]);
  });
  afterAll(() => stopAll(rs, es, host));

  const protectedAt = (peer: PythonPeer, token: string) =>
    callPeer(`${peer.url}/api/protected/`, { headers: bearer(token) });

  it('the published set: public members only, alg and use, kid = RFC 7638 thumbprint', async () => {
    const res = await callPeer(`${host.url}${RS_PATH}`);
    expect(res.status).toBe(200);
    const set = res.body as { keys: Record<string, unknown>[] };
    expect(set.keys).toHaveLength(1);
    const [jwk] = set.keys;
    expect(jwk).toMatchObject({
      kty: 'RSA',
      kid: independentThumbprint(firstPair.publicKey),
      alg: 'RS256',
      use: 'sig',
    });
    expect(Object.keys(jwk ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(first.kid).toBe(jwk?.kid);
  });

  it('Django accepts Tessera-minted RS256 tokens (header kid from the set); the set is fetched once, then cached', async () => {
    const before = host.count(RS_PATH);
    firstKeyToken = await tessera.createAccessToken({ identity: 1 });
    expect(part(firstKeyToken, 0)).toEqual({ alg: 'RS256', kid: first.kid, typ: 'JWT' });
    const res = await protectedAt(rs, firstKeyToken);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ user_id: 1, username: 'alice', claims: part(firstKeyToken, 1) });
    const again = await protectedAt(rs, await tessera.createAccessToken({ identity: 3 }));
    expect([again.status, (again.body as { username?: string }).username]).toEqual([200, 'admin']);
    const verify = await callPeer(`${rs.url}/api/token/verify/`, {
      json: { token: await tessera.createRefreshToken({ identity: 1 }) },
    });
    expect([verify.status, verify.text]).toEqual([200, '{}']);
    expect(host.count(RS_PATH) - before).toBe(1);
  });

  it('rotation: a new kid makes Django refetch the set; tokens of the retiring key still verify', async () => {
    ring.add(second);
    ring.use(second.kid!);
    ring.retire(first.kid!, { graceSeconds: 600 });
    const before = host.count(RS_PATH);
    const rotated = await tessera.createAccessToken({ identity: 1 });
    expect(part(rotated, 0).kid).toBe(second.kid);
    expect(part(rotated, 0).kid).not.toBe(first.kid);
    const res = await protectedAt(rs, rotated);
    expect(res.status, res.text).toBe(200);
    expect(host.count(RS_PATH) - before).toBe(1);
    const old = await protectedAt(rs, firstKeyToken);
    expect(old.status, old.text).toBe(200);
    expect(host.count(RS_PATH) - before).toBe(1);
    // Tessera's own RemoteJwks, on the same endpoint, sees the same two keys.
    const remote = new TokenManager({
      profile: 'simplejwt',
      algorithm: 'RS256',
      verificationKeys: new RemoteJwks(`${host.url}${RS_PATH}`),
    });
    await expect(remote.verifyToken(rotated)).resolves.toMatchObject({ identity: 1 });
    await expect(remote.verifyToken(firstKeyToken)).resolves.toMatchObject({ identity: 1 });
  });

  it('a removed key keeps verifying at Django until the set is refetched (PyJWKClient caches it 300 s), then not', async () => {
    ring.remove(first.kid!);
    expect(toJwks(ring).keys.map((jwk) => jwk.kid)).toEqual([second.kid]);
    const before = host.count(RS_PATH);
    const cached = await protectedAt(rs, firstKeyToken);
    expect(cached.status, 'served from the cached set').toBe(200);
    expect(host.count(RS_PATH)).toBe(before);
    // Any unknown kid forces a refetch (PyJWT 2.6 has no cooldown: one fetch per such token).
    const stranger = new TokenManager({
      profile: 'simplejwt',
      algorithm: 'RS256',
      keys: new Keyring([thumbprintKey('RS256')]),
    });
    const unknown = await protectedAt(rs, await stranger.createAccessToken({ identity: 1 }));
    expect([unknown.status, unknown.body]).toEqual([401, INVALID]);
    expect(host.count(RS_PATH) - before).toBe(1);
    const gone = await protectedAt(rs, firstKeyToken);
    expect([gone.status, gone.body]).toEqual([401, INVALID]);
    expect(host.count(RS_PATH) - before).toBe(2);
  });

  it('a token claiming a published kid but signed by another key is refused', async () => {
    const impostorKey = importPem(generatePemKeyPair('RS256').privateKey, 'RS256', { kid: second.kid });
    const impostor = new TokenManager({
      profile: 'simplejwt',
      algorithm: 'RS256',
      keys: new Keyring([impostorKey]),
    });
    const token = await impostor.createAccessToken({ identity: 1 });
    expect(part(token, 0).kid).toBe(second.kid);
    const res = await protectedAt(rs, token);
    expect([res.status, res.body]).toEqual([401, INVALID]);
  });

  it('ES256: Django accepts Tessera-minted ES256 tokens through its JWKS; an RS256 token is refused', async () => {
    const [jwk] = toJwks(esRing).keys;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    const token = await esTessera.createAccessToken({ identity: 1 });
    expect(part(token, 0)).toEqual({ alg: 'ES256', kid: jwk?.kid, typ: 'JWT' });
    const res = await protectedAt(es, token);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ user_id: 1, username: 'alice', claims: part(token, 1) });
    const wrongAlg = await protectedAt(es, await tessera.createAccessToken({ identity: 1 }));
    expect([wrongAlg.status, wrongAlg.body]).toEqual([401, INVALID]);
  });

  it('reverse: Tessera RemoteJwks verifies tokens SimpleJWT signs (its public key published with toJwks)', async () => {
    const obtained = await callPeer(`${rs.url}/api/token/`, { json: ALICE });
    expect(obtained.status, obtained.text).toBe(200);
    const access = field(obtained.body, 'access');
    const refresh = field(obtained.body, 'refresh');
    expect(part(access, 0)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const before = host.count(PY_PATH);
    const remote = new TokenManager({
      profile: 'simplejwt',
      algorithm: 'RS256',
      verificationKeys: new RemoteJwks(`${host.url}${PY_PATH}`, { algorithms: ['RS256'] }),
    });
    const verified = await remote.verifyToken(access);
    expect(verified.identity).toBe(1);
    expect(verified.payload).toEqual(part(access, 1));
    await expect(remote.verifyToken(refresh, { refresh: true })).resolves.toMatchObject({ identity: 1 });
    expect(host.count(PY_PATH) - before).toBe(1);
    // A token from a key that is not in the published set does not verify.
    const other = new TokenManager({
      profile: 'simplejwt',
      algorithm: 'RS256',
      privateKey: generatePemKeyPair('RS256').privateKey,
    });
    await expect(remote.verifyToken(await other.createAccessToken({ identity: 1 }))).rejects.toMatchObject({
      code: 'signature_invalid',
    });
  });
});
