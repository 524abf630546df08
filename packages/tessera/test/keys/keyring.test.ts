import { describe, expect, it } from 'vitest';
import { AlgorithmNotAllowedError, ConfigError, KeyNotFoundError } from '../../src/errors.js';
import { decodeJws, signJws, verifyJws } from '../../src/jws/compact.js';
import type { JwsHeader } from '../../src/jws/header.js';
import { generateKey } from '../../src/keys/generate.js';
import { importJwk } from '../../src/keys/import.js';
import { exportJwk } from '../../src/keys/jwks.js';
import { Keyring } from '../../src/keys/keyring.js';

const header = (alg: string, kid?: string): JwsHeader => (kid === undefined ? { alg } : { alg, kid });

describe('Keyring selection', () => {
  const rs = generateKey('RS256', { kid: 'rs-1' });
  const es = generateKey('ES256', { kid: 'es-1' });
  const hs = generateKey('HS256', { kid: 'hs-1' });
  const anonymous = generateKey('ES256');
  const ring = new Keyring([rs, es, hs, anonymous]);

  it('selects by exact kid', () => {
    expect(ring.verificationKeys(header('RS256', 'rs-1'))).toEqual([rs]);
    expect(ring.verificationKeys(header('HS256', 'hs-1'))).toEqual([hs]);
  });

  it('allocates nothing on a hit: the same frozen array every time', () => {
    const first = ring.verificationKeys(header('ES256', 'es-1'));
    expect(ring.verificationKeys(header('ES256', 'es-1'))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(ring.verificationKeys(header('ES256'))).toBe(ring.verificationKeys(header('ES256')));
  });

  it('matches kid as an exact string: no case folding, trimming or paths', () => {
    for (const kid of [
      'RS-1',
      'rs-1 ',
      ' rs-1',
      'rs-1\u0000',
      '../rs-1',
      'rs-1/../rs-1',
      "rs-1' OR '1'='1",
    ]) {
      expect(() => ring.verificationKeys(header('RS256', kid))).toThrow(KeyNotFoundError);
    }
  });

  it('reports a kid miss with KeyNotFoundError, quoting only a short prefix of the kid', () => {
    const long = `x${'A'.repeat(5000)}`;
    let error: unknown;
    try {
      ring.verificationKeys(header('RS256', long));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyNotFoundError);
    // The Python profiles' text quotes a short prefix; the catalog's English quotes nothing.
    const message = (error as KeyNotFoundError).pythonMessage;
    expect(message.length).toBeLessThan(120);
    expect(message).toContain('xAAAA');
    expect((error as Error).message).toBe("No key matches the token's key ID (kid)");
    expect(message).not.toContain('A'.repeat(100));
    expect(() => ring.verificationKeys(header('RS256', 'missing\n"injected'))).toThrow(
      expect.objectContaining({ pythonMessage: expect.stringMatching(/"missing\\n\\"injected"/) }),
    );
  });

  it('refuses a kid found under another algorithm: the header never re-binds a key', () => {
    // The textbook confusion: an RSA key's kid with alg HS256.
    expect(() => ring.verificationKeys(header('HS256', 'rs-1'))).toThrow(AlgorithmNotAllowedError);
    expect(() => ring.verificationKeys(header('PS256', 'rs-1'))).toThrow(AlgorithmNotAllowedError);
    expect(() => ring.verificationKeys(header('none', 'rs-1'))).toThrow(AlgorithmNotAllowedError);
  });

  it('without a kid, offers every key bound to the alg, kid or not', () => {
    expect(ring.verificationKeys(header('ES256'))).toEqual([es, anonymous]);
    expect(ring.verificationKeys(header('RS256'))).toEqual([rs]);
    expect(() => ring.verificationKeys(header('PS256'))).toThrow(AlgorithmNotAllowedError);
    expect(() => ring.verificationKeys(header('none'))).toThrow(AlgorithmNotAllowedError);
    expect(() => ring.verificationKeys(header('__proto__'))).toThrow(AlgorithmNotAllowedError);
  });

  it('verifies a real token through the selected key', () => {
    expect(ring.signingKey()).toBe(rs);
    if (es.signing === undefined) throw new Error('generated keys can sign');
    const decoded = decodeJws(signJws({ kid: 'es-1' }, { sub: 'a' }, es.signing));
    const [key] = ring.verificationKeys(decoded.header);
    expect(key).toBe(es);
    expect(key !== undefined && verifyJws(decoded, key.verifying)).toBe(true);
  });
});

describe('Keyring management', () => {
  it('refuses duplicate kids and the same key twice', () => {
    const a = generateKey('HS256', { kid: 'same' });
    const b = generateKey('HS512', { kid: 'same' });
    const ring = new Keyring([a]);
    expect(() => ring.add(b)).toThrow(ConfigError);
    expect(() => ring.add(b)).toThrow(/Duplicate kid "same"/);
    const anonymous = generateKey('HS256');
    ring.add(anonymous);
    expect(() => ring.add(anonymous)).toThrow(/already in the keyring/);
    expect(() => new Keyring([a, b])).toThrow(ConfigError);
  });

  it('signs with the first key that can sign until use() picks another', () => {
    const publicOnly = importJwk(exportJwk(generateKey('ES256')), { kid: 'pub' });
    const first = generateKey('EdDSA', { kid: 'first' });
    const second = generateKey('RS256', { kid: 'second' });
    const ring = new Keyring([publicOnly, first, second]);
    expect(ring.signingKey()).toBe(first);
    ring.use('second');
    expect(ring.signingKey()).toBe(second);
    expect(() => ring.use('pub')).toThrow(/public: it cannot sign/);
    expect(() => ring.use('nope')).toThrow(ConfigError);
  });

  it('throws ConfigError when nothing can sign', () => {
    expect(() => new Keyring().signingKey()).toThrow(ConfigError);
    const ring = new Keyring([importJwk(exportJwk(generateKey('ES256')))]);
    expect(() => ring.signingKey()).toThrow(/no key that can sign/);
  });

  it('removes keys by kid or by key, and rebuilds the per-alg arrays', () => {
    const a = generateKey('ES256', { kid: 'a' });
    const b = generateKey('ES256');
    const ring = new Keyring([a, b]);
    expect(ring.verificationKeys(header('ES256'))).toEqual([a, b]);
    expect(ring.remove('a')).toBe(true);
    expect(ring.remove('a')).toBe(false);
    expect(ring.verificationKeys(header('ES256'))).toEqual([b]);
    expect(() => ring.verificationKeys(header('ES256', 'a'))).toThrow(KeyNotFoundError);
    expect(ring.remove(b)).toBe(true);
    expect(() => ring.verificationKeys(header('ES256'))).toThrow(AlgorithmNotAllowedError);
    expect(ring.keys()).toEqual([]);
    ring.add(a);
    expect(ring.get('a')).toBe(a);
  });
});

describe('Keyring rotation with grace', () => {
  it('stops signing at once, verifies until the grace period ends, then drops the key', () => {
    let now = 1_000_000;
    const old = generateKey('ES256', { kid: 'old' });
    const next = generateKey('ES256', { kid: 'next' });
    const ring = new Keyring([old], { now: () => now });
    expect(ring.signingKey()).toBe(old);

    ring.add(next).use('next').retire('old', { graceSeconds: 60 });
    expect(ring.signingKey()).toBe(next);
    expect(() => ring.use('old')).toThrow(/retiring/);
    expect(ring.verificationKeys(header('ES256', 'old'))).toEqual([old]);
    expect(ring.verificationKeys(header('ES256'))).toEqual([old, next]);

    now += 59_999;
    expect(ring.verificationKeys(header('ES256', 'old'))).toEqual([old]);
    now += 1;
    expect(() => ring.verificationKeys(header('ES256', 'old'))).toThrow(KeyNotFoundError);
    expect(ring.verificationKeys(header('ES256'))).toEqual([next]);
    expect(ring.keys()).toEqual([next]);
  });

  it('hands signing to the next key when the active one retires, and honours an explicit retirement time', () => {
    let now = 0;
    const a = generateKey('HS256', { kid: 'a' });
    const b = generateKey('HS256', { kid: 'b' });
    const ring = new Keyring([a, b], { now: () => now });
    ring.retire('a', { graceSeconds: 10, now: 5_000 });
    expect(ring.signingKey()).toBe(b);
    now = 14_999;
    expect(ring.get('a')).toBe(a);
    now = 15_000;
    expect(ring.get('a')).toBeUndefined();
  });

  it('drops at once with graceSeconds 0, never extends a grace period, and validates input', () => {
    let now = 0;
    const a = generateKey('HS256', { kid: 'a' });
    const b = generateKey('HS256', { kid: 'b' });
    const ring = new Keyring([a, b], { now: () => now });
    ring.retire('a', { graceSeconds: 0 });
    expect(ring.get('a')).toBeUndefined();
    ring.retire('b', { graceSeconds: 10 });
    ring.retire('b', { graceSeconds: 1000 });
    now = 10_000;
    expect(ring.get('b')).toBeUndefined();
    expect(() => ring.signingKey()).toThrow(ConfigError);
    expect(() => ring.retire('zzz', { graceSeconds: 1 })).toThrow(ConfigError);
    ring.add(generateKey('HS256', { kid: 'c' }));
    expect(() => ring.retire('c', { graceSeconds: -1 })).toThrow(/graceSeconds/);
    expect(() => ring.retire('c', { graceSeconds: Number.NaN })).toThrow(/graceSeconds/);
  });

  it('does not read the clock while nothing is retiring', () => {
    let reads = 0;
    const ring = new Keyring([generateKey('HS256', { kid: 'a' })], {
      now: () => {
        reads++;
        return 0;
      },
    });
    for (let i = 0; i < 100; i++) ring.verificationKeys(header('HS256', 'a'));
    expect(reads).toBe(0);
  });
});

describe('Keyring options', () => {
  it('refuses unknown option keys, naming the closest known one', () => {
    expect(() => new Keyring([], { nwo: Date.now } as never)).toThrow(/Unknown option 'nwo'.*'now'/);
    const ring = new Keyring([generateKey('HS256', { kid: 'a' })]);
    expect(() => ring.retire('a', { grace: 5 } as never)).toThrow(/Unknown option 'grace'/);
    expect(() => generateKey('HS256', { kd: 'x' } as never)).toThrow(/Unknown option 'kd'.*'kid'/);
  });
});
