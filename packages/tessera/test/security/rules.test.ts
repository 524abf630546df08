/**
 * One regression test per rule of the verification policy (docs: design/security.md),
 * one describe per section, each test named after its rule. Every attack token is
 * built with node:crypto directly, as an attacker would build it. A refusal's
 * reason is pinned by its Python peers' text (`pythonMessage`, one per reason);
 * the standard profile's plain English for each is pinned in test/messages.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  KeyImportError,
  StoreUnavailableError,
  TesseraError,
  TokenTooLargeError,
} from '../../src/errors.js';
import type { JwsAlgorithm } from '../../src/jws/algorithms.js';
import { generateKey } from '../../src/keys/generate.js';
import { importJwk, importKey, importKeyObject, importPem, importSecret } from '../../src/keys/import.js';
import type { Jwk } from '../../src/keys/jwk.js';
import { Keyring } from '../../src/keys/keyring.js';
import { RemoteJwks } from '../../src/keys/remote-jwks.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { TokenStore } from '../../src/stores/types.js';
import { ATTACKER_CERT, ATTACKER_KEY, VICTIM_CERT, VICTIM_KEY } from './fixtures.js';
import { accessPayload, b64, forgeHmac, NOW, refusal } from './helpers.js';

const SECRET = 'rules-test-secret-0123456789-abcdefghijklmnop';
const clock = (): number => NOW;

const victimPrivate = createPrivateKey(VICTIM_KEY);
const victimPublic = createPublicKey(victimPrivate);
const SPKI_PEM = victimPublic.export({ type: 'spki', format: 'pem' }).toString();
const PKCS1_PEM = victimPublic.export({ type: 'pkcs1', format: 'pem' }).toString();
const SPKI_DER = victimPublic.export({ type: 'spki', format: 'der' });
const PKCS1_DER = victimPublic.export({ type: 'pkcs1', format: 'der' });
const PUBLIC_JWK = victimPublic.export({ format: 'jwk' });
const CERT_DER = new X509Certificate(VICTIM_CERT).raw;

/** A verify-only RS256 manager holding the victim's public key. */
function rsVerifier(): TokenManager {
  return new TokenManager({ algorithm: 'RS256', publicKey: SPKI_PEM, now: clock });
}

function hsManager(extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
  return new TokenManager({ secret: SECRET, now: clock, ...extra });
}

/** Split a token into its three segments. */
function parts(token: string): [string, string, string] {
  const [h, p, s] = token.split('.');
  return [h ?? '', p ?? '', s ?? ''];
}

/** Raw ES/RS/PS/EdDSA signature over `input` with a KeyObject, as an attacker computes it. */
function rawSign(alg: JwsAlgorithm, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input);
  if (alg.startsWith('ES')) {
    const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[alg as 'ES256' | 'ES384' | 'ES512'];
    return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  }
  if (alg === 'EdDSA') return sign(null, data, key);
  return sign('sha256', data, key);
}

/** A loopback HTTP server that counts the requests it receives and answers `body`. */
async function countingServer(
  body: string,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("The token's header chooses nothing", () => {
  it('alg in the header never chooses the verification routine (CVE-2015-9235)', async () => {
    const verifier = rsVerifier();
    // Control: a genuine RS256 token verifies.
    const signer = new TokenManager({ algorithm: 'RS256', privateKey: VICTIM_KEY, now: clock });
    const genuine = await signer.createAccessToken({ identity: 'alice' });
    await expect(verifier.decodeToken(genuine)).resolves.toMatchObject({ sub: 'alice' });

    // The classic key confusion: HS256 keyed with the public key's PEM text, in
    // every form the verifier might hold it.
    const secrets: Array<string | Buffer> = [
      SPKI_PEM,
      SPKI_PEM.trim(),
      `${SPKI_PEM}\n`,
      SPKI_PEM.replace(/\n/g, '\r\n'),
      PKCS1_PEM,
      SPKI_DER,
      PKCS1_DER,
      VICTIM_CERT,
      VICTIM_CERT.trim(),
    ];
    for (const secret of secrets) {
      const forged = forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ sub: 'mallory' }), secret);
      const error = await refusal(verifier.decodeToken(forged), 'algorithm_not_allowed');
      expect(error.status).toBe(401);
    }
  });

  it('alg confusion via a JWK: an HS256 token keyed with the JWK text never verifies under the RSA JWK', async () => {
    const rsaKey = importJwk({ ...PUBLIC_JWK, alg: 'RS256' } as Jwk);
    const verifier = new TokenManager({ algorithm: 'RS256', keys: new Keyring([rsaKey]), now: clock });
    const texts = [
      JSON.stringify(PUBLIC_JWK),
      JSON.stringify({ ...PUBLIC_JWK, alg: 'RS256' }),
      JSON.stringify(PUBLIC_JWK, null, 2),
      String(PUBLIC_JWK.n),
      Buffer.from(String(PUBLIC_JWK.n), 'base64url'),
    ];
    for (const secret of texts) {
      for (const [alg, hash] of [
        ['HS256', 'sha256'],
        ['HS384', 'sha384'],
        ['HS512', 'sha512'],
      ] as const) {
        const forged = forgeHmac({ alg, typ: 'JWT' }, accessPayload(), secret, hash);
        await refusal(verifier.decodeToken(forged), 'algorithm_not_allowed');
      }
    }
  });

  it('alg confusion via a JWKS: HS* is never accepted from a published key set, even an oct key in it', async () => {
    const attackerSecret = randomBytes(32);
    const jwks = {
      keys: [
        { ...PUBLIC_JWK, kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { kty: 'oct', kid: 'oct-1', alg: 'HS256', k: attackerSecret.toString('base64url') },
      ],
    };
    const document = JSON.stringify(jwks);
    const server = await countingServer(document);
    try {
      const remote = new RemoteJwks(server.url, { now: () => NOW * 1000 });
      const verifier = new TokenManager({ algorithm: 'RS256', verificationKeys: remote, now: clock });
      const signer = new TokenManager({
        algorithm: 'RS256',
        privateKey: VICTIM_KEY,
        kid: 'rsa-1',
        now: clock,
      });
      // Control: the published RSA key verifies its own tokens.
      await expect(
        verifier.decodeToken(await signer.createAccessToken({ identity: 'alice' })),
      ).resolves.toBeTruthy();
      const forgeries = [
        forgeHmac({ alg: 'HS256', kid: 'oct-1', typ: 'JWT' }, accessPayload(), attackerSecret),
        forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload(), attackerSecret),
        forgeHmac({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' }, accessPayload(), document),
        forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload(), JSON.stringify(jwks.keys[0])),
        forgeHmac({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' }, accessPayload(), SPKI_PEM),
      ];
      for (const forged of forgeries) {
        const error = await refusal(verifier.decodeToken(forged));
        expect(['algorithm_not_allowed', 'key_not_found']).toContain(error.code);
      }
    } finally {
      await server.close();
    }
  });

  it('alg in the header is compared exactly with the key algorithm (case, spelling, family)', async () => {
    const verifier = hsManager();
    for (const alg of ['hs256', 'Hs256', 'HS256 ', ' HS256', 'HS384', 'HS512', 'RS256', 'HMAC', '']) {
      const forged = forgeHmac({ alg, typ: 'JWT' }, accessPayload(), SECRET);
      await refusal(verifier.decodeToken(forged), 'algorithm_not_allowed');
    }
    for (const alg of [undefined, null, 256, ['HS256'], { HS256: true }]) {
      const forged = forgeHmac({ alg, typ: 'JWT' }, accessPayload(), SECRET);
      await refusal(verifier.decodeToken(forged), 'algorithm_not_allowed');
    }
    // ES256 signature presented as ES384 against an ES256 key.
    const es = generateKey('ES256');
    const esManager = new TokenManager({ algorithm: 'ES256', keys: new Keyring([es]), now: clock });
    const [h, p, s] = parts(await esManager.createAccessToken({ identity: 'alice' }));
    const relabelled = `${b64({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'ES384' })}.${p}.${s}`;
    await refusal(esManager.decodeToken(relabelled), 'algorithm_not_allowed');
  });

  it('none never verifies, in any spelling or case', async () => {
    const managers = [
      hsManager(),
      rsVerifier(),
      hsManager({ profile: 'flask-jwt-extended' }),
      hsManager({ profile: 'simplejwt' }),
    ];
    for (const spelling of ['none', 'None', 'NONE', 'nOnE', 'noNe']) {
      const input = `${b64({ alg: spelling, typ: 'JWT' })}.${b64(accessPayload({ user_id: 1, token_type: 'access' }))}`;
      const hmac = parts(forgeHmac({ alg: spelling, typ: 'JWT' }, accessPayload(), SECRET))[2];
      for (const signature of ['', 'c2lnbmF0dXJl', hmac]) {
        for (const manager of managers) {
          await refusal(manager.decodeToken(`${input}.${signature}`), 'algorithm_not_allowed');
        }
      }
    }
  });

  it('an HMAC key is never built from public key material, whatever its encoding', () => {
    const ecPublic = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const edPublic = generateKeyPairSync('ed25519').publicKey;
    const spkiBody = SPKI_PEM.replace(/-----[A-Z ]+-----/g, '').trim();
    const materials: Array<[string, string | Uint8Array]> = [
      ['SPKI PEM', SPKI_PEM],
      ['PEM with a text prefix', `public key: ${SPKI_PEM}`],
      ['PEM with leading and trailing whitespace', `\n\t  ${SPKI_PEM}  \n\n`],
      ['PEM with CRLF line ends', SPKI_PEM.replace(/\n/g, '\r\n')],
      [
        'PEM indented',
        SPKI_PEM.split('\n')
          .map((line) => `    ${line}`)
          .join('\n'),
      ],
      ['PEM with escaped newlines (environment variable)', SPKI_PEM.replace(/\n/g, '\\n')],
      ['PEM with a BOM', `\uFEFF${SPKI_PEM}`],
      ['PKCS#1 PEM', PKCS1_PEM],
      ['SPKI DER bytes', SPKI_DER],
      ['PKCS#1 DER bytes', PKCS1_DER],
      ['SPKI base64 body without armour', spkiBody],
      ['SPKI base64 body on one line', spkiBody.replace(/\s+/g, '')],
      ['SPKI DER as hex', SPKI_DER.toString('hex')],
      ['SPKI DER as base64url', SPKI_DER.toString('base64url')],
      ['X.509 certificate PEM', VICTIM_CERT],
      ['X.509 certificate DER', CERT_DER],
      ['JWK text', JSON.stringify(PUBLIC_JWK)],
      ['JWK text, pretty-printed', JSON.stringify(PUBLIC_JWK, null, 2)],
      ['JWKS document text', JSON.stringify({ keys: [{ ...PUBLIC_JWK, kid: 'a' }] })],
      ['EC SPKI PEM', ecPublic.export({ type: 'spki', format: 'pem' }).toString()],
      ['Ed25519 SPKI PEM', edPublic.export({ type: 'spki', format: 'pem' }).toString()],
      ['PKCS#8 private key PEM', VICTIM_KEY],
    ];
    for (const [label, material] of materials) {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        let thrown: unknown;
        try {
          importSecret(material, alg);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, `${label} accepted as an ${alg} secret`).toBeInstanceOf(KeyImportError);
        expect((thrown as KeyImportError).message).toMatch(/Refusing to use .* as an HMAC secret/);
        // The message never repeats the material.
        expect((thrown as KeyImportError).message).not.toContain(spkiBody.slice(0, 40));
      }
      expect(() => new TokenManager({ secret: material, now: clock }), label).toThrow(TesseraError);
    }
    // Every other import path refuses to bind key-pair material to HS*.
    expect(() => importKey(SPKI_PEM, { alg: 'HS256' })).toThrow(KeyImportError);
    expect(() => importKey(JSON.stringify(PUBLIC_JWK), { alg: 'HS256' })).toThrow(KeyImportError);
    expect(() => importJwk({ ...PUBLIC_JWK, alg: 'HS256' } as Jwk)).toThrow(KeyImportError);
    expect(() => importJwk(PUBLIC_JWK as Jwk, { alg: 'HS256' })).toThrow(KeyImportError);
    expect(() => importKeyObject(victimPublic, 'HS256')).toThrow(KeyImportError);
    expect(() => importPem(SPKI_PEM, 'HS256')).toThrow(KeyImportError);
    expect(() => new TokenManager({ algorithm: 'HS256', publicKey: SPKI_PEM, now: clock })).toThrow(
      ConfigError,
    );
  });

  it('an empty or short HMAC secret is refused at configuration time (RFC 7518 3.2)', () => {
    const cases = [
      ['HS256', 32],
      ['HS384', 48],
      ['HS512', 64],
    ] as const;
    for (const [alg, floor] of cases) {
      for (const short of [randomBytes(floor - 1), 'x'.repeat(floor - 1), '', new Uint8Array(0)]) {
        expect(() => importSecret(short, alg), `${alg} ${short.length}`).toThrow(
          new RegExp(`${alg} needs a secret of at least ${floor} bytes`),
        );
        let thrown: unknown;
        try {
          new TokenManager({ algorithm: alg, secret: short, now: clock });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(TesseraError);
        expect((thrown as TesseraError).kind).toBe('configuration');
        expect((thrown as TesseraError).message).toContain(`at least ${floor} bytes`);
      }
      // The floor itself is enough.
      expect(importSecret(randomBytes(floor), alg).alg).toBe(alg);
      expect(
        () => new TokenManager({ algorithm: alg, secret: randomBytes(floor), now: clock }),
      ).not.toThrow();
    }
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    expect(importSecret('é'.repeat(16), 'HS256').type).toBe('secret');
    expect(() => importSecret(`${'é'.repeat(15)}a`, 'HS256')).toThrow(KeyImportError);
    // No secret at all.
    expect(() => new TokenManager({ now: clock })).toThrow(ConfigError);
  });

  it('jwk, jku, x5u and x5c header parameters are never used to find a key', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
    const server = await countingServer(JSON.stringify({ keys: [{ ...attackerJwk, alg: 'RS256' }] }));
    try {
      const verifier = rsVerifier();
      const forge = (header: Record<string, unknown>, key: KeyObject, alg: JwsAlgorithm): string => {
        const input = `${b64({ typ: 'JWT', ...header, alg })}.${b64(accessPayload({ sub: 'mallory' }))}`;
        return `${input}.${rawSign(alg, key, input).toString('base64url')}`;
      };
      const rsForgeries = [
        forge({ jwk: attackerJwk }, attacker.privateKey, 'RS256'),
        forge({ jwk: { ...attackerJwk, alg: 'RS256', use: 'sig' } }, attacker.privateKey, 'RS256'),
        forge({ jku: server.url }, attacker.privateKey, 'RS256'),
        forge({ x5u: `${server.url}cert.pem` }, attacker.privateKey, 'RS256'),
        forge({ jku: server.url, jwk: attackerJwk, x5u: server.url }, attacker.privateKey, 'RS256'),
      ];
      for (const forged of rsForgeries) await refusal(verifier.decodeToken(forged), 'signature_invalid');
      // With the attacker's own kid: no such key in the ring, nothing fetched.
      await refusal(
        verifier.decodeToken(forge({ kid: 'attacker', jku: server.url }, attacker.privateKey, 'RS256')),
        'key_not_found',
      );

      // x5c: the attacker's certificate chain, signed by the certificate's key.
      const esVictim = generateKey('ES256');
      const esVerifier = new TokenManager({ algorithm: 'ES256', keys: new Keyring([esVictim]), now: clock });
      const attackerCert = new X509Certificate(ATTACKER_CERT);
      const attackerKey = createPrivateKey(ATTACKER_KEY);
      // The certificate really belongs to the key that signs.
      expect(attackerCert.checkPrivateKey(attackerKey)).toBe(true);
      const x5c = [attackerCert.raw.toString('base64')];
      await refusal(esVerifier.decodeToken(forge({ x5c }, attackerKey, 'ES256')), 'signature_invalid');
      await refusal(
        esVerifier.decodeToken(forge({ x5c, x5u: server.url, jku: server.url }, attackerKey, 'ES256')),
        'signature_invalid',
      );
      expect(server.hits()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('kid only selects among keys already in the keyring, by exact string match (no paths, no SQL)', async () => {
    const secretA = randomBytes(32);
    const secretB = randomBytes(32);
    const ring = new Keyring([
      importSecret(secretA, 'HS256', { kid: 'k1' }),
      importSecret(secretB, 'HS256', { kid: 'k2' }),
    ]);
    const verifier = new TokenManager({ keys: ring, now: clock });
    const token = (kid: unknown, secret: Uint8Array = secretA): string =>
      forgeHmac({ alg: 'HS256', typ: 'JWT', kid }, accessPayload(), secret);
    // Control: the exact kid verifies.
    await expect(verifier.decodeToken(token('k1'))).resolves.toMatchObject({ sub: 'alice' });
    await expect(verifier.decodeToken(token('k2', secretB))).resolves.toMatchObject({ sub: 'alice' });
    const variants = [
      '../k1',
      './k1',
      'k1/../k1',
      '/k1',
      'keys/k1',
      '..\\k1',
      'K1',
      ' k1',
      'k1 ',
      'k1\n',
      'k1\u0000',
      "k1' OR '1'='1",
      "' OR 1=1 --",
      'k1; DROP TABLE keys',
      'k%31',
      'k\u200b1',
      '\u043a1', // Cyrillic ka
      'k\uff11', // fullwidth digit one
      '\uff4b1', // fullwidth k
      'k1\u0301',
      '',
      '*',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ];
    for (const kid of variants) await refusal(verifier.decodeToken(token(kid)), 'key_not_found');
    // A kid chooses one key; a wrong pairing never falls back to another key.
    await refusal(verifier.decodeToken(token('k2', secretA)), 'signature_invalid');
    // A kid that is not a string is a malformed header.
    for (const kid of [1, null, ['k1'], { kid: 'k1' }, true]) {
      await refusal(verifier.decodeToken(token(kid)), 'header_invalid');
    }
  });

  it('crit naming a parameter the verifier does not implement is refused (RFC 7515 4.1.11)', async () => {
    const verifier = hsManager();
    const headers: Array<Record<string, unknown>> = [
      { crit: ['exp'], exp: NOW },
      { crit: ['http://example.com/ext'], 'http://example.com/ext': true },
      { crit: ['b64'], b64: true },
      { crit: ['x'] },
      { crit: [] },
      { crit: 'exp' },
      { crit: [1] },
      { crit: null },
      { crit: {} },
    ];
    for (const extra of headers) {
      const forged = forgeHmac({ alg: 'HS256', typ: 'JWT', ...extra }, accessPayload(), SECRET);
      const error = await refusal(verifier.decodeToken(forged), 'crit_unsupported');
      expect(error.status).toBe(401);
    }
    const unknown = forgeHmac({ alg: 'HS256', crit: ['exp'], exp: 1 }, accessPayload(), SECRET);
    expect((await refusal(verifier.decodeToken(unknown))).pythonMessage).toBe(
      'Unsupported critical extension: exp',
    );
  });

  it('b64: false is refused (RFC 7797 unencoded payloads)', async () => {
    const verifier = hsManager();
    const header = { alg: 'HS256', typ: 'JWT', b64: false, crit: ['b64'] };
    const encoded = forgeHmac(header, accessPayload(), SECRET);
    await refusal(verifier.decodeToken(encoded), 'crit_unsupported');
    // b64 false without crit, and with non-boolean values.
    for (const b64Value of [false, 'false', 0, null]) {
      const forged = forgeHmac({ alg: 'HS256', typ: 'JWT', b64: b64Value }, accessPayload(), SECRET);
      await refusal(verifier.decodeToken(forged), 'crit_unsupported');
    }
    // The detached/unencoded form itself: the payload as raw JSON between the dots.
    const raw = JSON.stringify(accessPayload());
    const input = `${b64(header)}.${raw}`;
    const unencoded = await refusal(verifier.decodeToken(`${input}.${parts(encoded)[2]}`));
    expect(['crit_unsupported', 'token_malformed']).toContain(unencoded.code);
  });

  it('typ is checked where the profile sets one (RFC 8725 3.11, at+jwt of RFC 9068)', async () => {
    const standard = hsManager();
    for (const typ of ['JWT', 'jwt', 'at+jwt', 'AT+JWT', 'application/jwt', 'application/at+jwt']) {
      const token = forgeHmac({ alg: 'HS256', typ }, accessPayload(), SECRET);
      await expect(standard.decodeToken(token), typ).resolves.toMatchObject({ sub: 'alice' });
    }
    for (const typ of [
      'dpop+jwt',
      'application/dpop+jwt',
      'secevent+jwt',
      'JOSE',
      'JWE',
      'jwt ',
      'at+jwt+x',
    ]) {
      const token = forgeHmac({ alg: 'HS256', typ }, accessPayload(), SECRET);
      const error = await refusal(standard.decodeToken(token), 'header_invalid');
      expect(error.pythonMessage).toBe('Token type header (typ) is not accepted');
    }
    for (const typ of [1, null, ['JWT'], { JWT: true }]) {
      const token = forgeHmac({ alg: 'HS256', typ }, accessPayload(), SECRET);
      await refusal(standard.decodeToken(token), 'header_invalid');
    }
    // A stricter configuration: only RFC 9068 access tokens.
    const at = hsManager({ acceptedTyp: ['at+jwt'] });
    await refusal(
      at.decodeToken(forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload(), SECRET)),
      'header_invalid',
    );
    await expect(
      at.decodeToken(forgeHmac({ alg: 'HS256', typ: 'at+jwt' }, accessPayload(), SECRET)),
    ).resolves.toBeTruthy();
  });
});

describe('Strict parsing', () => {
  let valid = '';
  const verifier = hsManager();
  beforeAll(async () => {
    valid = await verifier.createAccessToken({ identity: 'alice', additionalClaims: { role: 'admin~?' } });
    await expect(verifier.decodeToken(valid)).resolves.toBeTruthy();
  });

  it('exactly three segments: 1, 2, 4 and more segments are refused', async () => {
    const [h, p, s] = parts(valid);
    const cases: Array<[string, string]> = [
      [h, 'Not enough segments'],
      [`${h}.${p}`, 'Not enough segments'],
      // PyJWT splits once from each end: the extra dots land in its payload segment.
      [`${h}.${p}.${s}.${s}`, 'Invalid payload padding'],
      [`${h}.${p}.${s}.`, 'Invalid payload padding'],
      [`${h}.${p}.${s}.${s}.${s}.${s}`, 'Invalid payload padding'],
      ['', 'Not enough segments'],
      ['..', 'Invalid header padding'],
      [`.${p}.${s}`, 'Invalid header padding'],
      [`${h}..${s}`, 'Invalid payload padding'],
    ];
    for (const [token, message] of cases) {
      const error = await refusal(verifier.decodeToken(token), 'token_malformed');
      expect(error.pythonMessage, token.slice(0, 30)).toBe(message);
      if (token.split('.').length !== 3) {
        expect(error.message).toBe('The token must have three parts separated by dots');
      }
    }
    const missing = await refusal(verifier.decodeToken(`${h}.${p}.`), 'token_malformed');
    expect(missing.pythonMessage).toBe('Signature is missing');
  });

  it('a JWE (five segments) where a JWS is expected is refused', async () => {
    const jweHeader = b64({ alg: 'RSA-OAEP', enc: 'A256GCM' });
    const jwe = `${jweHeader}.${b64('key')}.${b64('iv')}.${b64('ciphertext')}.${b64('tag')}`;
    const error = await refusal(verifier.decodeToken(jwe), 'token_malformed');
    expect(error.message).toBe('Encrypted tokens (JWE) are not accepted');
    // Also with "dir" (empty encrypted key segment).
    const dir = `${b64({ alg: 'dir', enc: 'A128GCM' })}..${b64('iv')}.${b64('ct')}.${b64('tag')}`;
    await refusal(verifier.decodeToken(dir), 'token_malformed');
  });

  it('each segment is only [A-Za-z0-9_-]: + / = space and newlines are refused anywhere', async () => {
    const segments = parts(valid);
    const junk = ['+', '/', '=', ' ', '\n', '\r', '\t', '%', '!', '\u00e9', '\u0000', '~'];
    let count = 0;
    for (let index = 0; index < 3; index++) {
      const segment = segments[index] ?? '';
      for (const at of [0, Math.floor(segment.length / 2), segment.length]) {
        for (const ch of junk) {
          const mutated = [...segments];
          mutated[index] = segment.slice(0, at) + ch + segment.slice(at);
          await refusal(verifier.decodeToken(mutated.join('.')), 'token_malformed');
          count++;
        }
      }
    }
    expect(count).toBe(3 * 3 * junk.length);
    // Leading and trailing whitespace around the whole token, too.
    for (const token of [` ${valid}`, `${valid} `, `${valid}\n`, `\n${valid}`, `${valid}\r\n`]) {
      await refusal(verifier.decodeToken(token), 'token_malformed');
    }
    // base64 (not base64url) alphabet: Node would decode these to the same bytes.
    const standardAlphabet = valid.replace(/-/g, '+').replace(/_/g, '/');
    if (standardAlphabet !== valid) await refusal(verifier.decodeToken(standardAlphabet), 'token_malformed');
    const sig = segments[2];
    const swapped = `${segments[0]}.${segments[1]}.${Buffer.from(sig, 'base64url').toString('base64').replace(/=+$/, '')}`;
    if (swapped !== valid) await refusal(verifier.decodeToken(swapped), 'token_malformed');
  });

  it('padding is refused in every segment', async () => {
    const segments = parts(valid);
    for (let index = 0; index < 3; index++) {
      for (const pad of ['=', '==', '===']) {
        const mutated = [...segments];
        mutated[index] = `${segments[index]}${pad}`;
        await refusal(verifier.decodeToken(mutated.join('.')), 'token_malformed');
      }
    }
    // Properly padded standard base64 of the same header.
    const padded = Buffer.from(segments[0], 'base64url').toString('base64');
    if (padded.endsWith('=')) {
      await refusal(verifier.decodeToken(`${padded}.${segments[1]}.${segments[2]}`), 'token_malformed');
    }
    // Non-canonical trailing bits: same bytes, different text.
    const sig = segments[2];
    const last = sig.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = sig.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    await refusal(verifier.decodeToken(`${segments[0]}.${segments[1]}.${twin}`), 'token_malformed');
  });

  it('a header that is a JSON array, string, number, boolean or null is refused', async () => {
    const [, p, s] = parts(valid);
    for (const header of ['[]', '["HS256"]', '"HS256"', '123', 'true', 'null', '[{"alg":"HS256"}]']) {
      const error = await refusal(verifier.decodeToken(`${b64(header)}.${p}.${s}`), 'token_malformed');
      expect(error.pythonMessage).toBe('Invalid header string: must be a json object');
    }
    for (const header of ['', '{', 'alg', "{'alg':'HS256'}", '{"alg":"HS256",}']) {
      const token = `${header === '' ? '' : b64(header)}.${p}.${s}`;
      await refusal(verifier.decodeToken(token), 'token_malformed');
    }
  });

  it('a payload that is a JSON array, string, number, boolean or null is refused, even correctly signed', async () => {
    for (const payload of ['[]', '[{"sub":"alice"}]', '"alice"', '42', 'false', 'null']) {
      const token = forgeHmac({ alg: 'HS256', typ: 'JWT' }, payload, SECRET);
      const error = await refusal(verifier.decodeToken(token), 'token_malformed');
      expect(error.pythonMessage).toBe('Invalid payload string: must be a json object');
    }
    for (const payload of ['{', 'sub=alice', '{"sub":"alice",}']) {
      await refusal(verifier.decodeToken(forgeHmac({ alg: 'HS256' }, payload, SECRET)), 'token_malformed');
    }
  });

  it('invalid UTF-8 in the header or payload is refused', async () => {
    const badSequences = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80]];
    const [, p, s] = parts(valid);
    for (const bad of badSequences) {
      const headerBytes = Buffer.concat([
        Buffer.from('{"alg":"HS256","typ":"JWT","x":"'),
        Buffer.from(bad),
        Buffer.from('"}'),
      ]);
      const headerError = await refusal(
        verifier.decodeToken(`${b64(headerBytes)}.${p}.${s}`),
        'token_malformed',
      );
      expect(headerError.pythonMessage).toBe('Invalid header string: not valid UTF-8');
      const payloadBytes = Buffer.concat([
        Buffer.from(JSON.stringify(accessPayload()).slice(0, -1)),
        Buffer.from(',"x":"'),
        Buffer.from(bad),
        Buffer.from('"}'),
      ]);
      const signed = forgeHmac({ alg: 'HS256', typ: 'JWT' }, payloadBytes, SECRET);
      const payloadError = await refusal(verifier.decodeToken(signed), 'token_malformed');
      expect(payloadError.pythonMessage).toBe('Invalid payload string: not valid UTF-8');
    }
  });

  it('valid UTF-8 beyond ASCII is accepted, a literal U+FFFD and a brace inside a string included', async () => {
    const claims = accessPayload({ name: 'Zoë 🙂 \uFFFD', note: '{ not [ nested' });
    const token = forgeHmac({ alg: 'HS256', typ: 'JWT' }, claims, SECRET);
    await expect(verifier.decodeToken(token)).resolves.toMatchObject({
      name: 'Zoë 🙂 \uFFFD',
      note: '{ not [ nested',
    });
    // A flat payload is depth 1, the smallest limit there is.
    const flatOnly = hsManager({ limits: { maxJsonDepth: 1 } });
    await expect(
      flatOnly.decodeToken(forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload(), SECRET)),
    ).resolves.toBeTruthy();
    await refusal(
      flatOnly.decodeToken(forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ roles: ['a'] }), SECRET)),
      'token_malformed',
    );
  });

  it('JSON nesting deeper than the limit is refused, in the header and the payload', async () => {
    const nest = (levels: number): unknown => (levels <= 1 ? {} : { a: nest(levels - 1) });
    const nestArrays = (levels: number): unknown => (levels <= 1 ? [] : [nestArrays(levels - 1)]);
    // Default limit 16: the root object is level 1.
    const ok = forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ deep: nest(15) }), SECRET);
    await expect(verifier.decodeToken(ok)).resolves.toBeTruthy();
    for (const deep of [nest(16), nestArrays(16), nest(500)]) {
      const token = forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ deep }), SECRET);
      const error = await refusal(verifier.decodeToken(token), 'token_malformed');
      expect(error.pythonMessage).toBe('Invalid payload string: nested too deeply');
    }
    const headerOk = forgeHmac({ alg: 'HS256', typ: 'JWT', x: nest(15) }, accessPayload(), SECRET);
    await expect(verifier.decodeToken(headerOk)).resolves.toBeTruthy();
    const headerDeep = forgeHmac({ alg: 'HS256', typ: 'JWT', x: nestArrays(16) }, accessPayload(), SECRET);
    const error = await refusal(verifier.decodeToken(headerDeep), 'token_malformed');
    expect(error.pythonMessage).toBe('Invalid header string: nested too deeply');
    // A configured limit applies.
    const shallow = hsManager({ limits: { maxJsonDepth: 2 } });
    await refusal(
      shallow.decodeToken(forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ deep: nest(2) }), SECRET)),
      'token_malformed',
    );
  });

  it('ECDSA signatures are raw r||s of the exact length; r = 0 or s = 0 is refused (CVE-2022-21449)', async () => {
    const P256_ORDER = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';
    for (const [alg, size, hash] of [
      ['ES256', 64, 'sha256'],
      ['ES384', 96, 'sha384'],
      ['ES512', 132, 'sha512'],
    ] as const) {
      const key = generateKey(alg);
      const manager = new TokenManager({ algorithm: alg, keys: new Keyring([key]), now: clock });
      const token = await manager.createAccessToken({ identity: 'alice' });
      await expect(manager.decodeToken(token), `${alg} control`).resolves.toBeTruthy();
      const [h, p, s] = parts(token);
      const real = Buffer.from(s, 'base64url');
      expect(real.length).toBe(size);
      const half = size / 2;
      const zero = Buffer.alloc(half);
      const r = real.subarray(0, half);
      const sHalf = real.subarray(half);
      const der = sign(hash, Buffer.from(`${h}.${p}`), {
        key: key.signing?.key as KeyObject,
        dsaEncoding: 'der',
      });
      const psychic: Array<[string, Buffer]> = [
        ['r = s = 0 (the psychic signature)', Buffer.alloc(size)],
        ['r = 0', Buffer.concat([zero, sHalf])],
        ['s = 0', Buffer.concat([r, zero])],
        ['r = s = all ones (>= n)', Buffer.alloc(size, 0xff)],
        ['DER encoding of a valid signature', der],
        ['one byte short', real.subarray(0, size - 1)],
        ['one byte long', Buffer.concat([real, Buffer.from([0])])],
        ['leading zero byte', Buffer.concat([Buffer.from([0]), real])],
        ['halves swapped', Buffer.concat([sHalf, r])],
        ['empty-ish', Buffer.from([0])],
      ];
      if (alg === 'ES256') {
        const n = Buffer.from(P256_ORDER, 'hex');
        psychic.push(['r = s = n (the curve order)', Buffer.concat([n, n])]);
        psychic.push(['r = n, s = real', Buffer.concat([n, sHalf])]);
      }
      for (const [label, signature] of psychic) {
        const forged = `${h}.${p}.${signature.toString('base64url')}`;
        const error = await refusal(manager.decodeToken(forged));
        expect(['signature_invalid', 'token_malformed'], `${alg} ${label}`).toContain(error.code);
      }
      // The explicit psychic signature over an attacker-chosen payload.
      const input = `${b64({ alg, typ: 'JWT' })}.${b64(accessPayload({ sub: 'root' }))}`;
      await refusal(
        manager.decodeToken(`${input}.${Buffer.alloc(size).toString('base64url')}`),
        'signature_invalid',
      );
    }
  });

  it('token length is bounded before any decoding: a 1 MB token is refused with token_too_large in microseconds', async () => {
    const huge = `${'a'.repeat(512 * 1024)}.${'b'.repeat(512 * 1024 - 10)}.${'c'.repeat(8)}`;
    expect(huge.length).toBeGreaterThanOrEqual(1024 * 1024 - 1);
    await refusal(verifier.decodeToken(huge), 'token_too_large');
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const start = performance.now();
      try {
        await verifier.decodeToken(huge);
      } catch (error) {
        expect(error).toBeInstanceOf(TokenTooLargeError);
      }
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    // Median under 5 ms: guards against any O(n) or O(n²) work before the length check.
    expect(times[3]).toBeLessThan(5);
    // Through verifyToken as well.
    await refusal(verifier.verifyToken(huge), 'token_too_large');
  });

  it('the default token limit is 8 KiB and configurable; the header has its own limit', async () => {
    const [h, , s] = parts(valid);
    const filler = (total: number): string => `${h}.${'A'.repeat(total - h.length - s.length - 2)}.${s}`;
    expect(filler(8192).length).toBe(8192);
    expect((await refusal(verifier.decodeToken(filler(8192)))).code).not.toBe('token_too_large');
    await refusal(verifier.decodeToken(filler(8193)), 'token_too_large');
    const small = hsManager({ limits: { maxTokenLength: 100 } });
    await refusal(small.decodeToken(valid), 'token_too_large');
    const bigHeader = forgeHmac({ alg: 'HS256', typ: 'JWT', x: 'y'.repeat(1600) }, accessPayload(), SECRET);
    const error = await refusal(verifier.decodeToken(bigHeader), 'token_too_large');
    expect(error.pythonMessage).toBe('Token header is too large');
  });

  it('with the length limit raised, a 1 MB malformed token is still refused in linear time', async () => {
    const roomy = hsManager({ limits: { maxTokenLength: 4 * 1024 * 1024 } });
    const [h] = parts(valid);
    const mb = 1024 * 1024;
    const cases = [
      'a'.repeat(mb),
      'a.'.repeat(mb / 2),
      '.'.repeat(mb),
      `${h}.${'a'.repeat(mb)}.a`,
      `${h}.${'a'.repeat(mb)}+`,
      `${'a'.repeat(mb)}=.a.a`,
    ];
    for (const token of cases) {
      const start = performance.now();
      const error = await refusal(roomy.decodeToken(token));
      expect(['token_malformed', 'token_too_large']).toContain(error.code);
      expect(performance.now() - start).toBeLessThan(250);
    }
  });
});

describe('Claims', () => {
  const at = (
    now: number,
    extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {},
  ): TokenManager => new TokenManager({ secret: SECRET, now: () => now, ...extra });
  const signed = (payload: Record<string, unknown>): string =>
    forgeHmac({ alg: 'HS256', typ: 'JWT' }, payload, SECRET);

  it('exp is required unless the token is configured as non-expiring', async () => {
    const noExp = accessPayload();
    delete noExp.exp;
    const error = await refusal(at(NOW).decodeToken(signed(noExp)), 'claim_missing');
    expect(error.pythonMessage).toBe('Token is missing the "exp" claim');
    // Explicitly configured as non-expiring.
    await expect(at(NOW, { requireExp: false }).decodeToken(signed(noExp))).resolves.toBeTruthy();
    await expect(at(NOW, { profile: 'flask-jwt-extended' }).decodeToken(signed(noExp))).resolves.toBeTruthy();
    // A token minted with expiresIn false is refused where exp is required.
    const standard = at(NOW);
    const forever = await standard.createAccessToken({ identity: 'alice', expiresIn: false });
    await refusal(standard.decodeToken(forever), 'claim_missing');
  });

  it('a token is expired at now >= exp + leeway (exact boundary)', async () => {
    const exp = NOW + 100;
    const token = signed(accessPayload({ exp }));
    await expect(at(exp - 1).decodeToken(token)).resolves.toBeTruthy();
    await expect(at(exp - 0.001).decodeToken(token)).resolves.toBeTruthy();
    const expired = await refusal(at(exp).decodeToken(token), 'token_expired');
    expect(expired.pythonMessage).toBe('Token has expired');
    expect(expired.kind).toBe('expired');
    expect(expired.jwtPayload?.exp).toBe(exp);
    await refusal(at(exp + 1).decodeToken(token), 'token_expired');
    // With leeway 10: valid until exp + 10, expired at exp + 10.
    await expect(at(exp + 9, { leeway: 10 }).decodeToken(token)).resolves.toBeTruthy();
    await expect(at(exp + 9.999, { leeway: 10 }).decodeToken(token)).resolves.toBeTruthy();
    await refusal(at(exp + 10, { leeway: 10 }).decodeToken(token), 'token_expired');
    // Fractional exp in the standard profile.
    const fractional = signed(accessPayload({ exp: NOW + 0.5 }));
    await expect(at(NOW + 0.4).decodeToken(fractional)).resolves.toBeTruthy();
    await refusal(at(NOW + 0.5).decodeToken(fractional), 'token_expired');
  });

  it('nbf in the future beyond leeway is refused, within leeway accepted', async () => {
    const token = signed(accessPayload({ nbf: NOW + 10, iat: NOW }));
    await expect(at(NOW + 10).decodeToken(token)).resolves.toBeTruthy();
    const early = await refusal(at(NOW + 9).decodeToken(token), 'token_not_yet_valid');
    expect(early.pythonMessage).toBe('The token is not yet valid (nbf)');
    await expect(at(NOW + 5, { leeway: 5 }).decodeToken(token)).resolves.toBeTruthy();
    await refusal(at(NOW + 4, { leeway: 5 }).decodeToken(token), 'token_not_yet_valid');
    await refusal(at(NOW + 4.5, { leeway: 5 }).decodeToken(token), 'token_not_yet_valid');
  });

  it('iat in the future beyond leeway is refused, within leeway accepted', async () => {
    const token = signed(accessPayload({ iat: NOW + 10, nbf: NOW }));
    await expect(at(NOW + 10).decodeToken(token)).resolves.toBeTruthy();
    const early = await refusal(at(NOW + 9).decodeToken(token), 'token_not_yet_valid');
    expect(early.pythonMessage).toBe('The token is not yet valid (iat)');
    await expect(at(NOW + 7, { leeway: 3 }).decodeToken(token)).resolves.toBeTruthy();
    await refusal(at(NOW + 6, { leeway: 3 }).decodeToken(token), 'token_not_yet_valid');
  });

  it('exp, nbf and iat must be numbers (integers in the python profiles)', async () => {
    const names = { exp: 'Expiration Time', nbf: 'Not Before', iat: 'Issued At' } as const;
    for (const claim of ['exp', 'nbf', 'iat'] as const) {
      for (const bad of [String(NOW), null, true, [NOW], { t: NOW }, '']) {
        const error = await refusal(
          at(NOW).decodeToken(signed(accessPayload({ [claim]: bad }))),
          'claim_invalid',
        );
        expect(error.pythonMessage).toBe(`${names[claim]} claim (${claim}) must be a number.`);
      }
      // Fractional values are numbers (RFC 7519 NumericDate) in the standard profile ...
      const fractional = signed(accessPayload({ [claim]: claim === 'exp' ? NOW + 60.5 : NOW - 0.5 }));
      await expect(at(NOW).decodeToken(fractional)).resolves.toBeTruthy();
      // ... and in the flask and simplejwt profiles, which read them as PyJWT 2.6 does:
      // int() accepts fractions (truncating nbf/exp), and refuses what is not a number.
      for (const profile of ['flask-jwt-extended', 'simplejwt'] as const) {
        const extra = profile === 'simplejwt' ? { user_id: 1, token_type: 'access' } : {};
        const value = claim === 'exp' ? NOW + 60.5 : NOW - 0.5;
        const token = signed(accessPayload({ ...extra, [claim]: value }));
        await expect(at(NOW, { profile }).decodeToken(token)).resolves.toBeTruthy();
        for (const bad of [null, [NOW], { t: NOW }, '', 'soon']) {
          const error = await refusal(
            at(NOW, { profile }).decodeToken(signed(accessPayload({ ...extra, [claim]: bad }))),
            'claim_invalid',
          );
          expect(error.pythonMessage).toBe(`${names[claim]} claim (${claim}) must be an integer.`);
        }
      }
    }
  });

  it('sub and jti must be strings (standard profile)', async () => {
    for (const sub of [42, { id: 42 }, ['alice'], true, null]) {
      const error = await refusal(at(NOW).decodeToken(signed(accessPayload({ sub }))), 'claim_invalid');
      expect(error.pythonMessage).toBe('Subject (sub) must be a string');
    }
    for (const jti of [42, { id: 1 }, ['x'], false, null]) {
      const error = await refusal(at(NOW).decodeToken(signed(accessPayload({ jti }))), 'claim_invalid');
      expect(error.pythonMessage).toBe('JWT ID (jti) must be a string');
    }
    // Flask-JWT-Extended 4.4 accepts any JSON identity (python-peers 3.4).
    await expect(
      at(NOW, { profile: 'flask-jwt-extended' }).decodeToken(signed(accessPayload({ sub: 42 }))),
    ).resolves.toMatchObject({ sub: 42 });
  });

  it('the identity claim (sub, or user_id in the simplejwt profile) is required', async () => {
    const noSub = accessPayload();
    delete noSub.sub;
    const error = await refusal(at(NOW).decodeToken(signed(noSub)), 'claim_missing');
    expect(error.pythonMessage).toBe('Missing claim: sub');
    await refusal(at(NOW, { profile: 'flask-jwt-extended' }).decodeToken(signed(noSub)), 'claim_missing');
    await refusal(at(NOW).verifyToken(signed(noSub)), 'claim_missing');
    const simple = at(NOW, { profile: 'simplejwt' });
    const noUser = { token_type: 'access', exp: NOW + 60, iat: NOW, jti: 'a'.repeat(32) };
    const simpleError = await refusal(simple.verifyToken(signed(noUser)), 'claim_missing');
    expect(simpleError.pythonMessage).toBe('Token contained no recognizable user identification');
    await expect(simple.verifyToken(signed({ ...noUser, user_id: 7 }))).resolves.toMatchObject({
      identity: 7,
    });
  });

  it('iss is checked when configured', async () => {
    const manager = at(NOW, { issuer: 'https://issuer.example' });
    await expect(
      manager.decodeToken(signed(accessPayload({ iss: 'https://issuer.example' }))),
    ).resolves.toBeTruthy();
    const missing = await refusal(manager.decodeToken(signed(accessPayload())), 'claim_missing');
    expect(missing.pythonMessage).toBe('Token is missing the "iss" claim');
    for (const iss of [
      'https://evil.example',
      'https://issuer.example/',
      'HTTPS://ISSUER.EXAMPLE',
      '',
      7,
      ['https://issuer.example'],
    ]) {
      const error = await refusal(manager.decodeToken(signed(accessPayload({ iss }))), 'issuer_invalid');
      expect(error.pythonMessage).toBe('Invalid issuer');
    }
    const several = at(NOW, { decodeIssuer: ['a', 'b'] });
    await expect(several.decodeToken(signed(accessPayload({ iss: 'b' })))).resolves.toBeTruthy();
    await refusal(several.decodeToken(signed(accessPayload({ iss: 'c' }))), 'issuer_invalid');
    // Not configured: a token's iss is not checked.
    await expect(at(NOW).decodeToken(signed(accessPayload({ iss: 'anyone' })))).resolves.toBeTruthy();
  });

  it('aud is checked when configured; it may be a string or an array', async () => {
    const manager = at(NOW, { audience: 'api' });
    await expect(manager.decodeToken(signed(accessPayload({ aud: 'api' })))).resolves.toBeTruthy();
    await expect(manager.decodeToken(signed(accessPayload({ aud: ['other', 'api'] })))).resolves.toBeTruthy();
    for (const aud of ['web', 'API', ['web', 'admin'], []]) {
      const error = await refusal(manager.decodeToken(signed(accessPayload({ aud }))), 'audience_invalid');
      expect(error.pythonMessage).toBe('Invalid audience');
    }
    const missing = await refusal(manager.decodeToken(signed(accessPayload())), 'claim_missing');
    expect(missing.pythonMessage).toBe('Token is missing the "aud" claim');
    for (const aud of [1, null, { api: true }, ['api', 1], [['api']], true]) {
      const error = await refusal(manager.decodeToken(signed(accessPayload({ aud }))), 'audience_invalid');
      expect(error.pythonMessage).toBe('Invalid claim format in token');
    }
    const several = at(NOW, { decodeAudience: ['api', 'admin'] });
    await expect(several.decodeToken(signed(accessPayload({ aud: ['x', 'admin'] })))).resolves.toBeTruthy();
    // Not configured: the token's aud is ignored (python-peers F76).
    await expect(at(NOW).decodeToken(signed(accessPayload({ aud: 'whatever' })))).resolves.toBeTruthy();
  });

  it('access routes accept only access tokens and refresh routes only refresh tokens', async () => {
    const manager = at(NOW);
    const access = await manager.createAccessToken({ identity: 'alice' });
    const refresh = await manager.createRefreshToken({ identity: 'alice' });
    await expect(manager.verifyToken(access)).resolves.toMatchObject({ identity: 'alice' });
    await expect(manager.verifyToken(refresh, { refresh: true })).resolves.toMatchObject({
      identity: 'alice',
    });
    const atAccess = await refusal(manager.verifyToken(refresh, { refresh: false }), 'wrong_token_type');
    expect(atAccess.pythonMessage).toBe('Only non-refresh tokens are allowed');
    await refusal(manager.verifyToken(refresh), 'wrong_token_type');
    const atRefresh = await refusal(manager.verifyToken(access, { refresh: true }), 'wrong_token_type');
    expect(atRefresh.pythonMessage).toBe('Only refresh tokens are allowed');
    // The standard profile reads the type exactly: unknown or missing types are not access tokens.
    await refusal(manager.verifyToken(signed(accessPayload({ type: 'foo' }))), 'wrong_token_type');
    const untyped = accessPayload();
    delete untyped.type;
    await refusal(manager.verifyToken(signed(untyped)), 'wrong_token_type');
    await refusal(manager.verifyToken(signed(untyped), { refresh: true }), 'wrong_token_type');
    // The simplejwt profile uses token_type.
    const simple = at(NOW, { profile: 'simplejwt' });
    const simpleRefresh = await simple.createRefreshToken({ identity: 1 });
    const wrong = await refusal(simple.verifyToken(simpleRefresh), 'wrong_token_type');
    expect(wrong.pythonMessage).toBe('Token has wrong type');
    const simpleAccess = await simple.createAccessToken({ identity: 1 });
    await refusal(simple.verifyToken(simpleAccess, { refresh: true }), 'wrong_token_type');
  });

  it('revocation is by jti, never by the raw token string', async () => {
    const store = new MemoryStore({ now: clock });
    const manager = at(NOW, { store });
    const payload = accessPayload({ jti: 'revoked-jti' });
    const token = signed(payload);
    await expect(manager.verifyToken(token)).resolves.toBeTruthy();
    await store.revokeToken('revoked-jti', NOW + 1000);
    const error = await refusal(manager.verifyToken(token), 'token_revoked');
    expect(error.pythonMessage).toBe('Token has been revoked');
    // Another token string with the same jti (a different header) is revoked too.
    const twin = forgeHmac({ alg: 'HS256', typ: 'at+jwt', x: 1 }, payload, SECRET);
    expect(twin).not.toBe(token);
    await refusal(manager.verifyToken(twin), 'token_revoked');
    // A different jti with otherwise identical claims is not.
    await expect(manager.verifyToken(signed(accessPayload({ jti: 'other' })))).resolves.toBeTruthy();

    // The tokenInBlocklist callback sees the verified header and payload.
    const seen: Array<Record<string, unknown>> = [];
    const blocklisting = at(NOW, {
      callbacks: {
        tokenInBlocklist: (header, claims) => {
          seen.push({ header, claims });
          return claims.jti === 'blocked';
        },
      },
    });
    await refusal(blocklisting.verifyToken(signed(accessPayload({ jti: 'blocked' }))), 'token_revoked');
    await expect(blocklisting.verifyToken(signed(accessPayload({ jti: 'fine' })))).resolves.toBeTruthy();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({
      header: { alg: 'HS256', typ: 'JWT' },
      claims: { jti: 'blocked', sub: 'alice' },
    });
  });

  it('an unreachable revocation store fails closed (StoreUnavailableError) unless revocationFailOpen', async () => {
    const closed = new MemoryStore({ now: clock });
    await closed.close();
    const token = signed(accessPayload());
    const error = await refusal(at(NOW, { store: closed }).verifyToken(token), 'store_unavailable');
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.status).toBe(503);

    // A backend failing with a plain error (a driver's connection error) is wrapped.
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    const down = unreachableStore(cause);
    const wrapped = await refusal(at(NOW, { store: down }).verifyToken(token), 'store_unavailable');
    expect(wrapped).toBeInstanceOf(StoreUnavailableError);
    expect(wrapped.cause).toBe(cause);
    // The blocklist callback cannot rescue a closed store.
    await refusal(
      at(NOW, { store: down, callbacks: { tokenInBlocklist: () => false } }).verifyToken(token),
      'store_unavailable',
    );

    // Chosen fail-open: accepted, with a warning; the callback still applies.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const open = at(NOW, { store: down, revocationFailOpen: true });
      await expect(open.verifyToken(token)).resolves.toMatchObject({ identity: 'alice' });
      expect(warn).toHaveBeenCalledTimes(1);
      const openWithBlocklist = at(NOW, {
        store: down,
        revocationFailOpen: true,
        callbacks: { tokenInBlocklist: () => true },
      });
      await refusal(openWithBlocklist.verifyToken(token), 'token_revoked');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('Transport', () => {
  it('CSRF double-submit values are compared in constant time (equal passes, any difference fails)', async () => {
    const manager = new TokenManager({ secret: SECRET, now: clock, tokenLocation: ['headers', 'cookies'] });
    const token = await manager.createAccessToken({ identity: 'alice' });
    const payload = await manager.decodeToken(token);
    const csrf = payload.csrf as string;
    expect(csrf).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await expect(manager.decodeToken(token, { csrfValue: csrf })).resolves.toMatchObject({ csrf });
    await expect(manager.verifyToken(token, { csrfValue: csrf })).resolves.toBeTruthy();
    const flip = (text: string, index: number): string =>
      text.slice(0, index) + (text[index] === 'a' ? 'b' : 'a') + text.slice(index + 1);
    const mismatches = [
      flip(csrf, 0),
      flip(csrf, csrf.length - 1),
      csrf.slice(0, -1),
      `${csrf}0`,
      csrf.toUpperCase(),
      '',
      ` ${csrf}`,
      `${csrf}\u0000`,
      'é'.repeat(18),
    ];
    for (const value of mismatches) {
      const error = await refusal(manager.decodeToken(token, { csrfValue: value }), 'csrf_mismatch');
      expect(error.pythonMessage).toBe('CSRF double submit tokens do not match');
      await refusal(manager.verifyToken(token, { csrfValue: value }), 'csrf_mismatch');
    }
    // A token without a csrf claim, and one whose csrf claim is not a string.
    const noCsrf = forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload(), SECRET);
    const missing = await refusal(manager.decodeToken(noCsrf, { csrfValue: csrf }), 'claim_missing');
    expect(missing.pythonMessage).toBe('Missing claim: csrf');
    const numeric = forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ csrf: 12345 }), SECRET);
    await refusal(manager.decodeToken(numeric, { csrfValue: '12345' }), 'csrf_mismatch');
    // Multi-byte values compare by content.
    const unicode = forgeHmac({ alg: 'HS256', typ: 'JWT' }, accessPayload({ csrf: 'ключ-é' }), SECRET);
    await expect(manager.decodeToken(unicode, { csrfValue: 'ключ-é' })).resolves.toBeTruthy();
    await refusal(manager.decodeToken(unicode, { csrfValue: 'ключ-e' }), 'csrf_mismatch');
  });

  it('an expired token with a wrong CSRF value reports the CSRF failure (python-peers F92)', async () => {
    let now = NOW;
    const manager = new TokenManager({ secret: SECRET, now: () => now, tokenLocation: ['cookies'] });
    const token = await manager.createAccessToken({ identity: 'alice', expiresIn: 10 });
    now = NOW + 11;
    await refusal(manager.decodeToken(token, { csrfValue: 'wrong' }), 'csrf_mismatch');
    const payload = JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString()) as { csrf: string };
    await refusal(manager.decodeToken(token, { csrfValue: payload.csrf }), 'token_expired');
  });
});

/** A revocation store whose backend cannot be reached: every call rejects with `cause`. */
function unreachableStore(cause: Error): TokenStore {
  const fail = async (): Promise<never> => {
    throw cause;
  };
  return {
    revokeToken: fail,
    revokeUserBefore: fail,
    isRevoked: fail,
    createFamily: fail,
    rotateFamily: fail,
    revokeFamily: fail,
    revokeUserFamilies: fail,
    listSessions: fail,
    purgeExpired: fail,
    close: async () => undefined,
  };
}

afterAll(() => {
  vi.restoreAllMocks();
});
