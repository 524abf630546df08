/**
 * The `tessera` binary without a service: help, usage errors, keygen, token
 * sign/decode/verify against key files and a JWKS URL, colour rules. Each test
 * runs the built binary as a child process, as a user would.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildCli, LINKED_BIN, removeTemp, runCli, STACK_LINE, tempDir } from './cli-helpers.js';

let dir: string;
let env: Record<string, string>;
const run = (args: string[], input?: string, extra: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: dir, ...(input === undefined ? {} : { input }) });

beforeAll(() => {
  buildCli();
  dir = tempDir();
  // A data directory that stays empty: these commands never need the service.
  env = { TESSERA_DATA_DIR: join(dir, 'data') };
}, 120_000);
afterAll(() => removeTemp(dir));

const COMMANDS = [
  'serve',
  'migrate',
  'keygen',
  'keys list',
  'keys rotate',
  'token decode',
  'token verify',
  'token sign',
  'users add',
  'users list',
  'users import',
  'users disable',
  'revoke',
  'purge-expired',
];

const now = () => Math.floor(Date.now() / 1000);

describe('help and usage', () => {
  it('tessera --help lists every command and the exit codes', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const name of COMMANDS) expect(r.stdout).toContain(`  ${name} `);
    expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 check failed.*2 usage/s);
    expect(r.stderr).toBe('');
  });

  it('tessera --version and tessera help <command>', async () => {
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^tessera \d+\.\d+\.\d+\n$/);
    const help = await run(['help', 'token', 'verify']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: tessera token verify/);
  });

  it('a reader that leaves early (a closed pipe) is not an error', async () => {
    // Output well past a pipe's buffer, so the write fails with EPIPE once head has gone.
    const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`c${i}`, 'x'.repeat(40)]));
    writeFileSync(join(dir, 'big.token'), `${seg({ alg: 'HS256' })}.${seg(claims)}.c2ln`);
    const r = await runCli(['-c', `node ${BIN} token decode - --offline < big.token | head -c 6`], {
      env,
      cwd: dir,
      bin: '/bin/sh',
    });
    expect(r.stdout).toBe('Header');
    expect(r.stderr).toBe('');
  });

  it('tessera with no command prints the overview and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('usage: tessera <command>');
  });

  it.each(COMMANDS)('%s --help shows its usage and options, exit 0', async (name) => {
    const r = await run([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: tessera ${name}`));
    expect(r.stdout).toContain('--json');
    expect(r.stdout).toContain('Exit codes');
  });

  it('an unknown option is a usage error: exit 2, one line, no stack trace', async () => {
    const r = await run(['keygen', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tessera: error: keygen: Unknown option '--bogus'\n/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
  });

  it('an unknown command, a group without subcommand, a missing argument: exit 2', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const group = await run(['token']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('token decode, token verify, token sign');
    const missing = await run(['users', 'add']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing argument');
    for (const r of [unknown, group, missing]) expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('with --json a usage error is a JSON document too', async () => {
    const r = await run(['keygen', '--alg', 'XX999', '--json']);
    expect(r.code).toBe(2);
    expect(r.json()).toEqual({
      error: { code: 'usage', message: expect.stringContaining('XX999'), exitCode: 2 },
    });
  });

  it('a command that only looks never creates a database: exit 2 naming where it looked', async () => {
    for (const args of [
      ['users', 'list'],
      ['keys', 'list'],
      ['revoke', '--user', 'x'],
      ['token', 'verify', 'a.b.c'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`no service data at ${join(dir, 'data', 'tessera.sqlite')}`);
    }
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('a configuration mistake exits 2 naming the setting', async () => {
    const r = await run(['users', 'list'], undefined, { TESSERA_PROFILE: 'nonsense' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TESSERA_PROFILE');
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe('keygen', () => {
  it('EdDSA PEM: private key 0600, public key 0644, never overwritten without --force', async () => {
    const r = await run(['keygen', '--out', 'ed.pem', '--public-out', 'ed.pub.pem']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/wrote the private key \(EdDSA, kid [\w-]{43}\) to ed\.pem \(mode 0600\)/);
    expect(statSync(join(dir, 'ed.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ed.pub.pem')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, 'ed.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(join(dir, 'ed.pub.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const again = await run(['keygen', '--out', 'ed.pem']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ed.pem exists');
    const forced = await run(['keygen', '--out', 'ed2.pem', '--force']);
    expect(forced.code).toBe(0);
  });

  it.each([
    ['ES256', 'EC', 'P-256'],
    ['ES384', 'EC', 'P-384'],
    ['RS256', 'RSA', undefined],
    ['EdDSA', 'OKP', 'Ed25519'],
  ])(
    '%s as JWKS: private set to --out, public set to --public-out, --json summary',
    async (alg, kty, crv) => {
      const r = await run([
        'keygen',
        '--alg',
        alg,
        '--format',
        'jwks',
        '--out',
        `${alg}.private.json`,
        '--public-out',
        `${alg}.jwks.json`,
        '--json',
      ]);
      expect(r.code).toBe(0);
      const summary = r.json<{ alg: string; kid: string; public: { keys: Record<string, unknown>[] } }>();
      expect(summary.alg).toBe(alg);
      expect(summary).not.toHaveProperty('private');
      const priv = JSON.parse(readFileSync(join(dir, `${alg}.private.json`), 'utf8')) as {
        keys: Record<string, unknown>[];
      };
      const pub = JSON.parse(readFileSync(join(dir, `${alg}.jwks.json`), 'utf8')) as {
        keys: Record<string, unknown>[];
      };
      expect(statSync(join(dir, `${alg}.private.json`)).mode & 0o777).toBe(0o600);
      expect(priv.keys[0]).toMatchObject({ kty, alg, kid: summary.kid, use: 'sig' });
      expect(priv.keys[0]).toHaveProperty('d');
      expect(pub.keys[0]).toMatchObject({ kty, alg, kid: summary.kid });
      expect(pub.keys[0]).not.toHaveProperty('d');
      if (crv !== undefined) expect(pub.keys[0]?.crv).toBe(crv);
      expect(summary.public.keys[0]).toEqual(pub.keys[0]);
    },
  );

  it('HS256: a JWK by default on stdout (the requested output), raw base64url with --format raw; no PEM', async () => {
    const jwk = await run(['keygen', '--alg', 'HS256']);
    expect(jwk.code).toBe(0);
    const parsed = JSON.parse(jwk.stdout) as Record<string, unknown>;
    expect(parsed).toMatchObject({ kty: 'oct', alg: 'HS256' });
    expect(Buffer.from(String(parsed.k), 'base64url').length).toBeGreaterThanOrEqual(32);
    const raw = await run(['keygen', '--alg', 'HS512', '--format', 'raw', '--out', 'hs.txt']);
    expect(raw.code).toBe(0);
    expect(readFileSync(join(dir, 'hs.txt'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{86}\n$/);
    expect(statSync(join(dir, 'hs.txt')).mode & 0o777).toBe(0o600);
    const pem = await run(['keygen', '--alg', 'HS256', '--format', 'pem']);
    expect(pem.code).toBe(2);
    expect(pem.stderr).toContain('no PEM form');
    expect(pem.stdout).toBe('');
  });

  it('an unwritable --out is an I/O error: exit 4', async () => {
    const r = await run(['keygen', '--out', join(dir, 'no-such-dir', 'k.pem')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('cannot write');
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe('token sign, decode, verify', () => {
  beforeAll(async () => {
    for (const args of [
      ['keygen', '--out', 'sign.pem', '--public-out', 'sign.pub.pem'],
      [
        'keygen',
        '--alg',
        'ES256',
        '--format',
        'jwks',
        '--out',
        'es.private.json',
        '--public-out',
        'es.jwks.json',
      ],
      ['keygen', '--out', 'other.pem', '--public-out', 'other.pub.pem'],
    ]) {
      expect((await run(args)).code).toBe(0);
    }
  }, 60_000);

  it('a token signed by token sign is verified by token verify (PEM), with the same kid', async () => {
    const signed = await run([
      'token',
      'sign',
      '--key',
      'sign.pem',
      '--claims',
      '{"sub":"alice","aud":"api"}',
      '--json',
    ]);
    expect(signed.code).toBe(0);
    const { token, header, payload } = signed.json<{
      token: string;
      header: Record<string, unknown>;
      payload: Record<string, number>;
    }>();
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'JWT', kid: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);
    const verified = await run(['token', 'verify', token, '--key', 'sign.pub.pem', '--audience', 'api']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^valid: EdDSA signature by key \S+ of sign\.pub\.pem; expires in 15 minutes/,
    );
    expect(verified.stdout).toContain('sub: "alice"');
    const asJson = await run(['token', 'verify', '-', '--key', 'sign.pub.pem', '--json'], `${token}\n`);
    expect(asJson.code).toBe(0);
    expect(asJson.json()).toMatchObject({
      valid: true,
      problem: null,
      payload: { sub: 'alice' },
      keySource: 'sign.pub.pem',
    });
  });

  it('a JWKS file verifies tokens of its key; an HS256 raw secret signs and verifies', async () => {
    const es = await run([
      'token',
      'sign',
      '--key',
      'es.private.json',
      '--claims',
      '{"sub":"bob"}',
      '--expires',
      '1h',
    ]);
    expect(es.code).toBe(0);
    const v = await run(['token', 'verify', es.stdout.trim(), '--jwks', 'es.jwks.json', '--json']);
    expect(v.code).toBe(0);
    expect(v.json()).toMatchObject({ valid: true, header: { alg: 'ES256' } });
    writeFileSync(join(dir, 'secret.txt'), 'a-shared-secret-of-enough-length-for-hs256!\n');
    const hs = await run([
      'token',
      'sign',
      '--key',
      'secret.txt',
      '--alg',
      'HS256',
      '--claims',
      '{"sub":"c"}',
    ]);
    expect(hs.code).toBe(0);
    expect(
      (await run(['token', 'verify', hs.stdout.trim(), '--key', 'secret.txt', '--alg', 'HS256'])).code,
    ).toBe(0);
    const withoutAlg = await run(['token', 'sign', '--key', 'secret.txt', '--claims', '{}']);
    expect(withoutAlg.code).toBe(2);
    expect(withoutAlg.stderr).toContain('--alg HS256');
  });

  it('a tampered token fails verify with exit 1 and says why', async () => {
    const signed = await run([
      'token',
      'sign',
      '--key',
      'sign.pem',
      '--claims',
      '{"sub":"alice","admin":false}',
    ]);
    const [h, p, s] = signed.stdout.trim().split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), admin: true }),
    ).toString('base64url');
    const r = await run(['token', 'verify', `${h}.${forged}.${s}`, '--key', 'sign.pub.pem']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'invalid: the signature does not match: the token was altered, or signed by another key\n',
    );
    const other = await run(['token', 'verify', signed.stdout.trim(), '--key', 'other.pub.pem', '--json']);
    expect(other.code).toBe(1);
    expect(other.json()).toMatchObject({
      valid: false,
      problem: { code: expect.stringMatching(/key_not_found|signature_invalid/) },
    });
  });

  it('an expired token: decode names the expiry in words, verify fails with it', async () => {
    const expired = await run([
      'token',
      'sign',
      '--key',
      'sign.pem',
      '--claims',
      JSON.stringify({ sub: 'alice', iat: now() - 1000, exp: now() - 180 }),
    ]);
    const token = expired.stdout.trim();
    const decoded = await run(['token', 'decode', token, '--offline']);
    expect(decoded.code).toBe(1);
    expect(decoded.stdout).toMatch(/Problems\n {2}✗ expired 3 minutes ago\n/);
    expect(decoded.stdout).toMatch(/exp +\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(3 minutes ago\)/);
    expect(decoded.stdout).toMatch(/sub +"alice"/);
    const json = await run(['token', 'decode', token, '--offline', '--json']);
    expect(json.json()).toMatchObject({
      valid: false,
      problems: [{ code: 'token_expired', message: 'expired 3 minutes ago' }],
      times: expect.arrayContaining([expect.objectContaining({ claim: 'exp', relative: '3 minutes ago' })]),
    });
    const verified = await run(['token', 'verify', token, '--key', 'sign.pub.pem']);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toBe('invalid: expired 3 minutes ago\n');
  });

  it('a fresh token decodes with no problem and its expiry ahead in words', async () => {
    const signed = await run([
      'token',
      'sign',
      '--key',
      'sign.pem',
      '--claims',
      '{"sub":"x"}',
      '--expires',
      '15m',
    ]);
    const r = await run(['token', 'decode', signed.stdout.trim(), '--offline']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('expires in 15 minutes');
    expect(r.stdout).not.toContain('Problems');
  });

  it('decode names what is wrong: malformed, JWE, alg none, not yet valid, wrong audience, unknown kid', async () => {
    const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const cases: [string[], RegExp][] = [
      [['not-a-token'], /the token has 1 segment; a JWT has 3/],
      [['a.b.c.d.e'], /5 segments: it is an encrypted JWE/],
      [
        [`${seg({ alg: 'none' })}.${seg({ sub: 'x' })}.`],
        /alg is 'none': the token is unsigned and is never accepted/,
      ],
      [[`${seg({ alg: 'HS256' })}.!!!.sig`], /the payload is not base64url/],
      [
        [`${seg({ alg: 'HS256' })}.${seg({ nbf: now() + 300, exp: now() + 900 })}.c2ln`],
        /not valid yet: becomes valid in 5 minutes/,
      ],
      [
        [`${seg({ alg: 'HS256' })}.${seg({ aud: 'billing', exp: now() + 60 })}.c2ln`, '--audience', 'api'],
        /wrong audience: the token is for 'billing', expected 'api'/,
      ],
      [
        [
          `${seg({ alg: 'ES256', kid: 'nobody' })}.${seg({ exp: now() + 60 })}.c2ln`,
          '--jwks',
          'es.jwks.json',
        ],
        /unknown kid 'nobody': no key of es\.jwks\.json has it/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await run(['token', 'decode', ...args, '--offline']);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toMatch(expected);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('verify against a JWKS URL; an unreachable URL is exit 4', async () => {
    const jwks = readFileSync(join(dir, 'es.jwks.json'), 'utf8');
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    try {
      const signed = await run(['token', 'sign', '--key', 'es.private.json', '--claims', '{"sub":"d"}']);
      const ok = await run(['token', 'verify', signed.stdout.trim(), '--jwks', url]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(`of ${url}`);
      const wrong = await run(['token', 'sign', '--key', 'sign.pem', '--claims', '{"sub":"d"}']);
      expect((await run(['token', 'verify', wrong.stdout.trim(), '--jwks', url])).code).toBe(1);
    } finally {
      await new Promise((done) => server.close(done));
    }
    const down = await run(['token', 'verify', 'a.b.c', '--jwks', url]);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('cannot fetch the JWKS');
  });

  it('bad --claims and a missing key file are clear errors (2 and 4), no stack', async () => {
    const claims = await run(['token', 'sign', '--key', 'sign.pem', '--claims', '{nope']);
    expect(claims.code).toBe(2);
    expect(claims.stderr).toContain('--claims is not JSON');
    const missing = await run(['token', 'sign', '--key', 'absent.pem', '--claims', '{}']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('cannot read key file absent.pem');
    const publicOnly = await run(['token', 'sign', '--key', 'sign.pub.pem', '--claims', '{}']);
    expect(publicOnly.code).toBe(2);
    expect(publicOnly.stderr).toContain('public key');
    for (const r of [claims, missing, publicOnly]) expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe('colour', () => {
  // `script` gives the binary a pseudo-terminal, as an interactive shell would.
  const hasScript = existsSync('/usr/bin/script');
  const inTty = (args: string, extra: Record<string, string>) =>
    runCli(['-qec', `node ${join(process.cwd(), 'packages/server/dist/cli/main.js')} ${args}`, '/dev/null'], {
      env: { ...env, ...extra },
      cwd: dir,
      bin: '/usr/bin/script',
    });
  const expired = () => {
    const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    return `${seg({ alg: 'none' })}.${seg({ exp: 1 })}.`;
  };

  it('never when stdout is not a terminal', async () => {
    const r = await run(['token', 'decode', expired(), '--offline']);
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stderr).not.toContain('\u001b[');
  });

  it.skipIf(!hasScript)('on a terminal, and never with NO_COLOR set', async () => {
    const coloured = await inTty(`token decode ${expired()} --offline`, { TERM: 'xterm' });
    expect(coloured.stdout).toContain('\u001b[31m');
    const plain = await inTty(`token decode ${expired()} --offline`, { TERM: 'xterm', NO_COLOR: '1' });
    expect(plain.stdout).toContain('expired');
    expect(plain.stdout).not.toContain('\u001b[');
  });
});

describe('npx tessera', () => {
  const linked = existsSync(LINKED_BIN);
  if (!linked)
    console.warn(`[cli] ${LINKED_BIN} is absent (npm links the bin at install): npx tessera is not tested`);
  // Under CI the link must exist (npm ci links bin/tessera.mjs, which is committed).
  it.skipIf(!linked && !process.env.CI)('node_modules/.bin/tessera runs the same binary', async () => {
    const r = await runCli(['--help'], { env, cwd: dir, bin: LINKED_BIN });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: tessera <command>');
  });
});
