/**
 * Passwords: argon2id round trips, and hashes made by the real Django and
 * Werkzeug (Debian's /usr/bin/python3) verifying with the right password and
 * not with a wrong one. Without Django or Werkzeug the peer tests fail under
 * CI and are skipped with a printed reason elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync, scryptSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { hash as argon2Hash } from '@node-rs/argon2';
import { ConfigError } from 'tessera-auth';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from '../src/passwords/concurrency.js';
import {
  calibratePasswordTiming,
  configurePasswords,
  HASH_LIMITS,
  hashPassword,
  OWASP_ARGON2ID,
  passwordParameters,
  passwordTiming,
  startPasswordThreads,
  verifyDummy,
  verifyPassword,
} from '../src/passwords/index.js';
import { HashThreads } from '../src/passwords/threads.js';

const PASSWORD = 'correct horse battery staple, naïve 🔑';
const WRONG = 'correct horse battery staple, naive 🔑';

afterEach(() => configurePasswords({}));

describe('argon2id', () => {
  it('hashes with OWASP parameters into a PHC string that verifies', async () => {
    const encoded = await hashPassword(PASSWORD);
    expect(encoded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword(WRONG, encoded)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword('', encoded)).toEqual({ ok: false, needsRehash: false });
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    expect(a).not.toBe(b);
  });

  it('reports the parameters it uses', () => {
    const p = passwordParameters();
    expect(p).toMatchObject({
      algorithm: 'argon2id',
      version: 19,
      memoryCost: 19_456,
      timeCost: 2,
      parallelism: 1,
      saltBytes: 16,
      outputBytes: 32,
    });
    expect(p.maxConcurrent).toBeGreaterThanOrEqual(1);
  });

  it('asks for a rehash of weaker argon2 parameters and of other variants, not of stronger ones', async () => {
    const weaker = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 19_456, timeCost: 1 } as never);
    expect(await verifyPassword(PASSWORD, weaker)).toEqual({ ok: true, needsRehash: true });
    const lessMemory = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 8192, timeCost: 2 } as never);
    expect(await verifyPassword(PASSWORD, lessMemory)).toEqual({ ok: true, needsRehash: true });
    const argon2i = await argon2Hash(PASSWORD, { algorithm: 1, memoryCost: 19_456, timeCost: 2 } as never);
    expect(argon2i.startsWith('$argon2i$')).toBe(true);
    expect(await verifyPassword(PASSWORD, argon2i)).toEqual({ ok: true, needsRehash: true });
    const stronger = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 32_768, timeCost: 3 } as never);
    expect(await verifyPassword(PASSWORD, stronger)).toEqual({ ok: true, needsRehash: false });
    // A wrong password never asks for a rehash.
    expect(await verifyPassword(WRONG, weaker)).toEqual({ ok: false, needsRehash: false });
  });

  it('rehashes after the configured cost goes up', async () => {
    const owasp = await hashPassword(PASSWORD);
    configurePasswords({ argon2: { timeCost: 3 } });
    expect(passwordParameters().timeCost).toBe(3);
    expect(await verifyPassword(PASSWORD, owasp)).toEqual({ ok: true, needsRehash: true });
    const upgraded = await hashPassword(PASSWORD);
    expect(upgraded).toContain('$m=19456,t=3,p=1$');
    expect(await verifyPassword(PASSWORD, upgraded)).toEqual({ ok: true, needsRehash: false });
  });

  it('reads Django argon2$ hashes (the PHC string behind Django’s prefix) and rehashes them', async () => {
    // argon2-cffi is not installed for Debian's python3, so this string is made the way Django
    // makes it: "argon2" + argon2-cffi's PHC output, with Django 3.2's parameters (t=2, m=102400, p=8).
    const phc = await argon2Hash(PASSWORD, {
      algorithm: 2,
      memoryCost: 102_400,
      timeCost: 2,
      parallelism: 8,
    } as never);
    const django = `argon2${phc}`;
    expect(await verifyPassword(PASSWORD, django)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword(WRONG, django)).toEqual({ ok: false, needsRehash: false });
  });
});

describe('malformed and hostile stored hashes', () => {
  const bad = [
    '',
    'garbage',
    '$argon2id$',
    '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$',
    '$argon2id$v=19$m=19456,t=2,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA',
    '$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
    '$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
    '$argon2id$v=19$m=19456,t=4000000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
    '$argon2id$v=19$m=19456,t=2,p=255$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
    'pbkdf2_sha256$',
    'pbkdf2_sha256$abc$salt$aGFzaA==',
    'pbkdf2_sha256$0$salt$aGFzaA==',
    'pbkdf2_sha256$-5$salt$aGFzaA==',
    'pbkdf2_sha256$260000$salt$not base64!',
    'pbkdf2_sha256$260000$salt$aGFzaA==', // 4 bytes, not a SHA-256 digest
    'pbkdf2_sha256$2000000000$salt$sOatJ7vlZ2MvCAq2wUr59NcvOrQqNLDISXO+g2M81/o=',
    'pbkdf2_md5$260000$salt$sOatJ7vlZ2MvCAq2wUr59NcvOrQqNLDISXO+g2M81/o=',
    'pbkdf2_sha256$260000$$sOatJ7vlZ2MvCAq2wUr59NcvOrQqNLDISXO+g2M81/o=',
    'pbkdf2:sha256:260000$salt$xyz',
    'pbkdf2:sha256:260000$salt$abcd',
    'pbkdf2:md5:260000$salt$24315145b9e540d7ea80f41e0f6f98ac',
    'pbkdf2:sha256$salt$24315145b9e540d7ea80f41e0f6f98ac7d300c99b8beff46519fb80e0fcc940f',
    'pbkdf2:sha256:99999999999$salt$24315145b9e540d7ea80f41e0f6f98ac7d300c99b8beff46519fb80e0fcc940f',
    'scrypt:32768:8:1$salt$zz',
    `scrypt:32768:8$salt$${'ab'.repeat(64)}`,
    `scrypt:30000:8:1$salt$${'ab'.repeat(64)}`,
    `scrypt:1073741824:8:1$salt$${'ab'.repeat(64)}`,
    `scrypt:32768:1024:1$salt$${'ab'.repeat(64)}`,
    `scrypt:32768:8:1000$salt$${'ab'.repeat(64)}`,
    `scrypt:32768:8:1$${'s'.repeat(300)}$${'ab'.repeat(64)}`,
    'bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuuJ0l0m3y6mS7bq9wUu7v1rQG2i3Lq1a',
    'md5$salt$5f4dcc3b5aa765d61d8327deb882cf99',
    '!unusable-password-in-django',
  ];

  it.each(bad)('%s does not verify and does not throw', async (encoded) => {
    await expect(verifyPassword('pw', encoded)).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('refuses inputs that are not strings without throwing', async () => {
    await expect(verifyPassword('pw', undefined as unknown as string)).resolves.toEqual({
      ok: false,
      needsRehash: false,
    });
    await expect(verifyPassword(42 as unknown as string, '$argon2id$')).resolves.toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('refuses a correct PBKDF2 hash whose iteration count is past the limit', async () => {
    const n = HASH_LIMITS.maxPbkdf2Iterations + 1;
    const digest = pbkdf2Sync('pw', 'salt', n, 32, 'sha256');
    const atLimit = `pbkdf2_sha256$${n}$salt$${digest.toString('base64')}`;
    expect(await verifyPassword('pw', atLimit)).toEqual({ ok: false, needsRehash: false });
    // The same shape under the limit verifies: the refusal above is the bound, not the format.
    const under = `pbkdf2_sha256$1000$salt$${pbkdf2Sync('pw', 'salt', 1000, 32, 'sha256').toString('base64')}`;
    expect(await verifyPassword('pw', under)).toEqual({ ok: true, needsRehash: true });
  });

  it('refuses a correct scrypt hash whose N·r·p is past the limit', async () => {
    const over = { N: 2 ** 14, r: 8, p: 17 };
    expect(over.N * over.r * over.p).toBeGreaterThan(HASH_LIMITS.maxScryptWork);
    const key = scryptSync('pw', 'salt', 64, { ...over, maxmem: 64 * 1024 * 1024 });
    expect(
      await verifyPassword('pw', `scrypt:${over.N}:${over.r}:${over.p}$salt$${key.toString('hex')}`),
    ).toEqual({ ok: false, needsRehash: false });
    const fine = scryptSync('pw', 'salt', 64, { N: 2 ** 14, r: 8, p: 1 });
    expect(await verifyPassword('pw', `scrypt:16384:8:1$salt$${fine.toString('hex')}`)).toEqual({
      ok: true,
      needsRehash: true,
    });
  });

  it('does not verify passwords past the byte limit, and refuses to hash them', async () => {
    const long = 'x'.repeat(HASH_LIMITS.maxPasswordBytes + 1);
    const encoded = await hashPassword('x'.repeat(HASH_LIMITS.maxPasswordBytes));
    expect(await verifyPassword('x'.repeat(HASH_LIMITS.maxPasswordBytes), encoded)).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await verifyPassword(long, encoded)).toEqual({ ok: false, needsRehash: false });
    await expect(hashPassword(long)).rejects.toThrow(RangeError);
  });
});

describe('unknown users and the event loop', () => {
  it('verifyDummy completes without answering anything', async () => {
    await expect(verifyDummy(PASSWORD)).resolves.toBeUndefined();
    await expect(verifyDummy('')).resolves.toBeUndefined();
  });

  it('hashes off the event loop: timers fire while a hash is pending', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      // A cost a synchronous hash would spend tens of milliseconds on.
      configurePasswords({ argon2: { timeCost: 6 } });
      await hashPassword(PASSWORD);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('hashes on threads of its own, below the event loop in priority (nice +10 by default, or as configured)', async () => {
    const process = getPriority();
    const tasks = () =>
      readdirSync('/proc/self/task').map((tid) => {
        // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value; the command name before it may hold spaces.
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    configurePasswords({ maxConcurrent: 2 });
    expect(passwordParameters().nice).toBe(10);
    expect(await startPasswordThreads()).toEqual([Math.min(19, process + 10), Math.min(19, process + 10)]);
    expect(tasks().filter((nice) => nice === Math.min(19, process + 10)).length).toBeGreaterThanOrEqual(2);
    // The event loop's own thread keeps the process's priority.
    expect(getPriority()).toBe(process);
    const encoded = await hashPassword(PASSWORD);
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true, needsRehash: false });

    configurePasswords({ nice: 3 });
    expect(await startPasswordThreads()).toEqual([Math.min(19, process + 3)]);
    configurePasswords({ nice: 0 });
    expect(await startPasswordThreads()).toEqual([null]);
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true, needsRehash: false });
  });

  it('a job a thread cannot run fails alone: the thread goes on with the next', async () => {
    const threads = new HashThreads({ size: 1, nice: 0 });
    try {
      await expect(threads.run({ op: 'nonsense' } as never)).rejects.toThrow('unknown password job');
      await expect(
        threads.run({
          op: 'pbkdf2',
          password: 'p',
          salt: 's',
          iterations: 1,
          keyBytes: 32,
          digest: 'sha256',
        }),
      ).resolves.toEqual(new Uint8Array(pbkdf2Sync('p', 's', 1, 32, 'sha256')));
    } finally {
      threads.close();
    }
    await expect(threads.run({ op: 'argon2-verify', encoded: '', password: '' })).rejects.toThrow(/closed/);
  });

  it('runs no more than maxConcurrent hashes at once and finishes all of them', async () => {
    configurePasswords({ maxConcurrent: 2 });
    expect(passwordParameters().maxConcurrent).toBe(2);
    const results = await Promise.all(Array.from({ length: 6 }, () => hashPassword(PASSWORD)));
    expect(new Set(results).size).toBe(6);
    const checks = await Promise.all(results.map((r, i) => verifyPassword(i % 2 ? PASSWORD : WRONG, r)));
    expect(checks.map((c) => c.ok)).toEqual([false, true, false, true, false, true]);
  });

  it('ConcurrencyLimit holds the bound, keeps arrival order and frees slots after failures', async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = Array.from({ length: 5 }, (_, i) =>
      limit.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        if (i === 1) throw new Error('task failed');
        return i;
      }),
    );
    const settling = Promise.allSettled(tasks);
    await new Promise((resolve) => setImmediate(resolve));
    expect(limit.running).toBe(2);
    expect(limit.waiting).toBe(3);
    while (gates.length > 0 || limit.running > 0) {
      const open = gates.shift();
      if (open === undefined) await new Promise((resolve) => setImmediate(resolve));
      else open();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const settled = await settling;
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(limit.running).toBe(0);
  });
});

describe('refusal timing: unknown users take as long as imported ones', () => {
  // Django 5's PBKDF2 count: several times the cost of an argon2id verification at OWASP's setting.
  const KIND = 'django-pbkdf2-sha256:600000';
  const imported = `pbkdf2_sha256$600000$salt$${pbkdf2Sync('pw', 'salt', 600_000, 32, 'sha256').toString('base64')}`;
  const elapsed = async (work: () => Promise<unknown>): Promise<number> => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };

  it('after a wrong password on an imported hash, an unknown user and a wrong argon2id password take as long', async () => {
    const argon = await hashPassword(PASSWORD);
    expect(await verifyPassword('wrong', imported)).toEqual({ ok: false, needsRehash: false });
    const importedMs = passwordTiming().kinds[KIND] as number;
    expect(importedMs).toBeGreaterThan(0);
    // Both cost an argon2id verification; the answer waits until the floor above the PBKDF2 kind.
    expect(await elapsed(() => verifyDummy('who-is-this'))).toBeGreaterThanOrEqual(importedMs);
    expect(await elapsed(() => verifyPassword(WRONG, argon))).toBeGreaterThanOrEqual(importedMs);
    expect(passwordTiming().floorMs).toBeGreaterThanOrEqual(importedMs);
    // A right password is not held back, and the imported one is upgraded.
    expect(await verifyPassword('pw', imported)).toEqual({ ok: true, needsRehash: true });
  });

  it('calibratePasswordTiming learns a kind before anyone signs in with it (one probe per kind)', async () => {
    expect(passwordTiming().kinds[KIND]).toBeUndefined();
    await calibratePasswordTiming([imported, imported, 'not a hash', `${imported.slice(0, -4)}AAA=`]);
    const { kinds, floorMs } = passwordTiming();
    expect(Object.keys(kinds).sort()).toEqual([KIND, 'argon2:argon2id:m=19456,t=2,p=1'].sort());
    expect(floorMs).toBeGreaterThanOrEqual(kinds[KIND] as number);
    expect(await elapsed(() => verifyDummy('who-is-this'))).toBeGreaterThanOrEqual(kinds[KIND] as number);
  });
});

describe('configuration', () => {
  it('refuses unknown keys and out-of-range costs', () => {
    expect(() => configurePasswords({ argon2: { memoryCost: 4 } })).toThrow(ConfigError);
    expect(() => configurePasswords({ argon2: { timeCost: 0 } })).toThrow(ConfigError);
    expect(() => configurePasswords({ argon2: { memoryCost: 10_000_000 } })).toThrow(ConfigError);
    expect(() => configurePasswords({ maxConcurrent: 0 })).toThrow(ConfigError);
    expect(() => configurePasswords({ nice: 20 })).toThrow(/nice must be an integer from 0 to 19/);
    expect(() => configurePasswords({ nice: -1 })).toThrow(ConfigError);
    expect(() => configurePasswords({ argon2: { timecost: 3 } } as never)).toThrow(/did you mean 'timeCost'/);
    expect(() => configurePasswords({ concurrency: 2 } as never)).toThrow(/Unknown option 'concurrency'/);
    expect(passwordParameters()).toMatchObject(OWASP_ARGON2ID);
  });
});

// ---------------------------------------------------------------------------------------------
// The Python peers.

const PYTHON = '/usr/bin/python3';

interface PeerHashes {
  readonly django: Record<string, string>;
  readonly werkzeug: Record<string, string>;
  readonly scryptSource: string;
}

// Werkzeug 3 made scrypt its default; Debian's Werkzeug may be 2.2, which has no scrypt method.
// Then the hash is made with Werkzeug 3's exact derivation (hashlib.scrypt, 64-byte key, salt
// from werkzeug's gen_salt, maxmem 132·N·r·p) so the format is still tested against Python.
const SCRIPT = `
import hashlib, json, sys
from django.conf import settings
settings.configure(PASSWORD_HASHERS=[
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
    'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher',
])
from django.contrib.auth.hashers import make_password
import werkzeug
from werkzeug.security import generate_password_hash, gen_salt
pw = sys.argv[1]
out = {'django': {}, 'werkzeug': {}}
out['django']['pbkdf2_sha256'] = make_password(pw, hasher='pbkdf2_sha256')
out['django']['pbkdf2_sha1'] = make_password(pw, hasher='pbkdf2_sha1')
out['werkzeug']['pbkdf2:sha256'] = generate_password_hash(pw, method='pbkdf2:sha256')
out['werkzeug']['pbkdf2:sha512:100000'] = generate_password_hash(pw, method='pbkdf2:sha512:100000')
try:
    out['werkzeug']['scrypt'] = generate_password_hash(pw, method='scrypt')
    out['scryptSource'] = 'werkzeug ' + werkzeug.__version__
except Exception:
    salt = gen_salt(16)
    n, r, p = 2 ** 15, 8, 1
    key = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p)
    out['werkzeug']['scrypt'] = 'scrypt:%d:%d:%d$%s$%s' % (n, r, p, salt, key.hex())
    out['scryptSource'] = "hashlib.scrypt with Werkzeug 3's derivation (werkzeug " + werkzeug.__version__ + ' has no scrypt)'
print(json.dumps(out))
`;

function peerHashes(): PeerHashes | string {
  try {
    const text = execFileSync(PYTHON, ['-c', SCRIPT, PASSWORD], { encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(text) as PeerHashes;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
    return `${PYTHON} could not make Django/Werkzeug hashes: ${reason}`;
  }
}

const peers = peerHashes();
if (typeof peers === 'string') {
  if (process.env.CI) {
    describe('python peers', () => {
      it('are installed (required under CI)', () => {
        throw new Error(peers);
      });
    });
  } else {
    console.warn(`[passwords] skipping the Django/Werkzeug tests: ${peers}; set CI=1 to fail instead`);
  }
} else {
  describe('hashes made by the real Django and Werkzeug', () => {
    const all = [
      ...Object.entries(peers.django).map(([k, v]) => [`django ${k}`, v] as const),
      ...Object.entries(peers.werkzeug).map(([k, v]) => [`werkzeug ${k}`, v] as const),
    ];
    it('made the formats expected', () => {
      expect(peers.django.pbkdf2_sha256).toMatch(/^pbkdf2_sha256\$\d+\$[A-Za-z0-9]+\$[A-Za-z0-9+/]+=*$/);
      expect(peers.django.pbkdf2_sha1).toMatch(/^pbkdf2_sha1\$\d+\$/);
      expect(peers.werkzeug['pbkdf2:sha256']).toMatch(/^pbkdf2:sha256:\d+\$[A-Za-z0-9]+\$[0-9a-f]{64}$/);
      expect(peers.werkzeug.scrypt).toMatch(/^scrypt:32768:8:1\$[A-Za-z0-9]+\$[0-9a-f]{128}$/);
      console.info(`[passwords] scrypt hash made by ${peers.scryptSource}`);
    });
    it.each(all)(
      '%s verifies with the right password, asks for a rehash, and refuses a wrong one',
      async (_, h) => {
        expect(await verifyPassword(PASSWORD, h)).toEqual({ ok: true, needsRehash: true });
        expect(await verifyPassword(WRONG, h)).toEqual({ ok: false, needsRehash: false });
        // One flipped character of the stored digest: no match. Not one of the last
        // characters: in base64 the one before '=' also holds padding bits, so flipping
        // its lowest bit can leave the decoded digest unchanged.
        const at = h.length - 6;
        const flipped = h[at] === 'a' ? 'b' : 'a';
        expect(await verifyPassword(PASSWORD, `${h.slice(0, at)}${flipped}${h.slice(at + 1)}`)).toEqual({
          ok: false,
          needsRehash: false,
        });
      },
    );
    it('the rehash of an imported hash is an argon2id hash that verifies', async () => {
      const django = peers.django.pbkdf2_sha256 as string;
      const check = await verifyPassword(PASSWORD, django);
      expect(check.needsRehash).toBe(true);
      const fresh = await hashPassword(PASSWORD);
      expect(await verifyPassword(PASSWORD, fresh)).toEqual({ ok: true, needsRehash: false });
    });
  });
}
