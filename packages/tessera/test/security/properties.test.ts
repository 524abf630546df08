/**
 * Property tests of the verifier, for every algorithm family:
 * - no single-character mutation, insertion, deletion, segment swap or truncation
 *   of a valid token verifies (unless the result is byte-identical);
 * - decoding arbitrary strings, and arbitrary JSON headers and payloads signed with
 *   the right key or a wrong one, never throws anything but a TesseraError.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/errors.js';
import type { JwsAlgorithm } from '../../src/jws/algorithms.js';
import { signBytes } from '../../src/jws/signature.js';
import { generateKey } from '../../src/keys/generate.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { Keyring } from '../../src/keys/keyring.js';
import type { TokenManagerOptions } from '../../src/manager/options.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { b64, NOW } from './helpers.js';

const FAMILIES: readonly JwsAlgorithm[] = ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'];
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters a mutation may write: the alphabet, the separator, and junk Node's decoder would skip. */
const MUTATION_CHARS = `${BASE64URL}.+/= \n\t%\u00e9\u0000`;
const RUNS = 200;

interface Fixture {
  readonly alg: JwsAlgorithm;
  readonly key: TesseraKey;
  readonly other: TesseraKey;
  readonly manager: TokenManager;
  readonly token: string;
  readonly token2: string;
}

const fixtures = new Map<JwsAlgorithm, Fixture>();

beforeAll(async () => {
  for (const alg of FAMILIES) {
    const key = generateKey(alg);
    const other = generateKey(alg);
    const manager = new TokenManager({ algorithm: alg, keys: new Keyring([key]), now: () => NOW });
    const token = await manager.createAccessToken({ identity: 'alice', additionalClaims: { role: 'admin' } });
    const token2 = await manager.createAccessToken({
      identity: 'mallory',
      additionalClaims: { role: 'root' },
    });
    // Control: the originals verify.
    expect(manager.verifier.verifySync(token).payload.sub).toBe('alice');
    fixtures.set(alg, { alg, key, other, manager, token, token2 });
  }
});

function fixture(alg: JwsAlgorithm): Fixture {
  const found = fixtures.get(alg);
  if (found === undefined) throw new Error(`no fixture for ${alg}`);
  return found;
}

/** True when verifying `token` is refused with a TesseraError; fails the property on any other throw. */
function refused(manager: TokenManager, token: string): boolean {
  try {
    manager.verifier.verifySync(token);
    return false;
  } catch (error) {
    if (!(error instanceof TesseraError)) throw error;
    return true;
  }
}

const charArb = fc.constantFrom(...MUTATION_CHARS.split(''));

describe.each(FAMILIES)('%s: no small change to a valid token verifies', (alg) => {
  it('single-character substitution', () => {
    const { manager, token } = fixture(alg);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), charArb, (index, ch) => {
        const mutated = token.slice(0, index) + ch + token.slice(index + 1);
        fc.pre(mutated !== token);
        expect(refused(manager, mutated)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('single-character insertion', () => {
    const { manager, token } = fixture(alg);
    fc.assert(
      fc.property(fc.nat({ max: token.length }), charArb, (index, ch) => {
        const mutated = token.slice(0, index) + ch + token.slice(index);
        expect(refused(manager, mutated)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('single-character deletion', () => {
    const { manager, token } = fixture(alg);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), (index) => {
        const mutated = token.slice(0, index) + token.slice(index + 1);
        expect(refused(manager, mutated)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('segment swaps, within a token and between two valid tokens', () => {
    const { manager, token, token2 } = fixture(alg);
    const a = token.split('.');
    const b = token2.split('.');
    const pool = [...a, ...b];
    fc.assert(
      fc.property(fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 5 }), fc.nat({ max: 5 })), ([i, j, k]) => {
        const mutated = `${pool[i]}.${pool[j]}.${pool[k]}`;
        fc.pre(mutated !== token && mutated !== token2);
        expect(refused(manager, mutated)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncation from either end', () => {
    const { manager, token } = fixture(alg);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.boolean(), (n, fromEnd) => {
        const mutated = fromEnd ? token.slice(0, n) : token.slice(token.length - n);
        expect(refused(manager, mutated)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('decoding arbitrary input never throws anything but a TesseraError', () => {
  const profiles: Array<Partial<TokenManagerOptions<unknown>>> = [
    {},
    { profile: 'flask-jwt-extended' },
    { profile: 'simplejwt' },
    { audience: 'api', issuer: 'https://issuer.example', leeway: 5, verifiedTokenCache: 10 },
  ];

  async function onlyTesseraErrors(manager: TokenManager, token: string): Promise<void> {
    const attempts: Array<() => unknown> = [
      () => manager.verifier.verifySync(token),
      () => manager.decodeToken(token),
      () => manager.decodeToken(token, { allowExpired: true, csrfValue: 'x' }),
      () => manager.verifyToken(token),
      () => manager.verifyToken(token, { refresh: true }),
      () => manager.verifyToken(token, { fresh: true, tokenType: 'sliding' }),
    ];
    for (const attempt of attempts) {
      try {
        await attempt();
      } catch (error) {
        expect(error).toBeInstanceOf(TesseraError);
      }
    }
  }

  it('arbitrary strings', async () => {
    const { key } = fixture('HS256');
    const managers = profiles.map(
      (extra) => new TokenManager({ keys: new Keyring([key]), now: () => NOW, ...extra }),
    );
    const segment = fc.string({ unit: fc.constantFrom(...`${BASE64URL}=+/ `.split('')), maxLength: 60 });
    const tokenish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...`${BASE64URL}.`.split('')), maxLength: 200 }),
      fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')),
    );
    await fc.assert(
      fc.asyncProperty(tokenish, fc.nat({ max: managers.length - 1 }), async (token, which) => {
        await onlyTesseraErrors(managers[which] as TokenManager, token);
      }),
      { numRuns: 400 },
    );
    // Non-string input from an untyped caller.
    for (const input of [undefined, null, 42, {}, ['a.b.c'], Buffer.from('a.b.c')]) {
      await onlyTesseraErrors(managers[0] as TokenManager, input as unknown as string);
    }
  });

  it('arbitrary JSON headers and payloads, signed with the right key or a wrong one', async () => {
    const registered = fc.record(
      {
        exp: fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 100 }), fc.jsonValue()),
        nbf: fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 100 }), fc.jsonValue()),
        iat: fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 100 }), fc.double(), fc.jsonValue()),
        sub: fc.oneof(fc.string(), fc.jsonValue()),
        user_id: fc.jsonValue(),
        jti: fc.oneof(fc.string(), fc.jsonValue()),
        type: fc.oneof(fc.constantFrom('access', 'refresh', 'sliding'), fc.jsonValue()),
        token_type: fc.oneof(fc.constantFrom('access', 'refresh', 'sliding'), fc.jsonValue()),
        fresh: fc.oneof(fc.boolean(), fc.integer({ min: NOW - 10, max: NOW + 10 }), fc.jsonValue()),
        aud: fc.oneof(fc.constant('api'), fc.array(fc.string()), fc.jsonValue()),
        iss: fc.oneof(fc.constant('https://issuer.example'), fc.jsonValue()),
        csrf: fc.oneof(fc.constant('x'), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const extra = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
    const headerArb = fc.record(
      {
        alg: fc.oneof(
          fc.constantFrom<unknown>('RIGHT', 'none', 'HS256', 'ES256', 'RS256', 'EdDSA'),
          fc.jsonValue(),
        ),
        typ: fc.oneof(fc.constantFrom('JWT', 'at+jwt', 'dpop+jwt'), fc.jsonValue()),
        kid: fc.oneof(fc.string({ maxLength: 6 }), fc.jsonValue()),
        crit: fc.oneof(fc.constant(['b64']), fc.jsonValue()),
        b64: fc.jsonValue(),
        jwk: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const managers = FAMILIES.flatMap((alg) =>
      profiles.map((extraOptions) => ({
        alg,
        manager: new TokenManager({
          algorithm: alg,
          keys: new Keyring([fixture(alg).key]),
          now: () => NOW,
          ...extraOptions,
        }),
      })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: managers.length - 1 }),
        headerArb,
        extra,
        registered,
        extra,
        fc.boolean(),
        async (which, header, headerExtra, claims, claimExtra, rightKey) => {
          const { alg, manager } = managers[which] as { alg: JwsAlgorithm; manager: TokenManager };
          const { key, other } = fixture(alg);
          const fullHeader = { ...headerExtra, ...header, alg: header.alg === 'RIGHT' ? alg : header.alg };
          const input = `${b64(fullHeader)}.${b64({ ...claimExtra, ...claims })}`;
          const signer = (rightKey ? key : other).signing;
          if (signer === undefined) throw new Error('fixture key cannot sign');
          const token = `${input}.${Buffer.from(signBytes(signer, Buffer.from(input))).toString('base64url')}`;
          await onlyTesseraErrors(manager, token);
        },
      ),
      { numRuns: 500 },
    );
  });
});
