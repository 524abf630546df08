/**
 * The `tessera` binary against the service's data: migrate, keys, users,
 * import with progress, revoke and purge, with `tessera serve` running as a
 * child process on the same TESSERA_DATA_DIR (and on PostgreSQL + Redis), so
 * what the CLI changes is what the running service honours.
 */
import { pbkdf2Sync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../tessera/test/stores/services.js';
import {
  buildCli,
  removeTemp,
  runCli,
  type ServedService,
  STACK_LINE,
  serveCli,
  tempDir,
} from './cli-helpers.js';

const ADMIN = { TESSERA_ADMIN_USERNAME: 'root', TESSERA_ADMIN_PASSWORD: 'root-password-1' };

async function login(base: string, username: string, password: string) {
  const response = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function me(base: string, token: string): Promise<number> {
  const response = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/** Revocation cut-offs are per second: a token minted in the same second as the cut-off stays valid. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1100));

beforeAll(() => buildCli(), 120_000);

describe('on SQLite in TESSERA_DATA_DIR', () => {
  let dir: string;
  let env: Record<string, string>;
  let served: ServedService | undefined;
  const run = (args: string[], input?: string) =>
    runCli(args, { env, cwd: dir, ...(input === undefined ? {} : { input }) });

  beforeAll(() => {
    dir = tempDir();
    // The served instance reloads its keys every second, so a rotation by the CLI shows quickly.
    env = { TESSERA_DATA_DIR: join(dir, 'data'), TESSERA_KEY_POLL: '1', ...ADMIN };
  });
  afterAll(async () => {
    await served?.stop();
    removeTemp(dir);
  });

  it('migrate creates the schema and says where; running it again changes nothing', async () => {
    const first = await run(['migrate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`schema up to date: SQLite ${join(dir, 'data', 'tessera.sqlite')}\n`);
    const again = await run(['migrate', '--json']);
    expect(again.code).toBe(0);
    expect(again.json()).toEqual({ migrated: true, store: `SQLite ${join(dir, 'data', 'tessera.sqlite')}` });
  });

  it('keys list before the first start has no key; keys rotate makes one, then retires it into its grace period', async () => {
    const empty = await run(['keys', 'list', '--json']);
    expect(empty.code).toBe(0);
    expect(empty.json()).toEqual({ keys: [] });
    const first = await run(['keys', 'rotate', '--json']);
    expect(first.code).toBe(0);
    const made = first.json<{ kid: string; alg: string }>();
    expect(made.alg).toBe('EdDSA');
    const second = await run(['keys', 'rotate', '--alg', 'ES256', '--json']);
    const next = second.json<{
      kid: string;
      alg: string;
      keys: { kid: string; signing: boolean; expiresAt: number | null }[];
    }>();
    expect(next.alg).toBe('ES256');
    expect(next.keys.map((k) => [k.kid, k.signing])).toEqual([
      [next.kid, true],
      [made.kid, false],
    ]);
    expect(next.keys[1]?.expiresAt).toBeGreaterThan(Date.now() / 1000);
    const text = await run(['keys', 'list']);
    expect(text.stdout).toMatch(
      new RegExp(
        `^${next.kid} {2}ES256 .* signing\\n${made.kid} {2}EdDSA .* verifying until .*\\(in \\d+ days\\)\\n$`,
      ),
    );
    expect(text.stdout).not.toMatch(/"d"|PRIVATE/);
  });

  it('users add reads the password from stdin, refuses short passwords, a taken name, and a password on no channel', async () => {
    const added = await run(
      ['users', 'add', 'alice', '--password-stdin', '--role', 'admin', '--email', 'alice@example.com'],
      'correct horse battery\n',
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^created user alice \(id \d+, roles admin\)\n$/);
    expect(added.stdout + added.stderr).not.toContain('correct horse');
    const taken = await run(['users', 'add', 'alice', '--password-stdin'], 'another password\n');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("a user named 'alice' already exists");
    const short = await run(['users', 'add', 'shorty', '--password-stdin'], 'abc\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('shorter than the minimum (8 characters)');
    const none = await run(['users', 'add', 'nobody']);
    expect(none.code).toBe(2);
    const generated = await run(['users', 'add', 'bob', '--generate-password', '--json']);
    expect(generated.code).toBe(0);
    const bob = generated.json<{ user: Record<string, unknown>; password: string }>();
    expect(bob.user).toMatchObject({ username: 'bob', roles: [], disabled: false });
    expect(bob.password).toMatch(/^[\w-]{24}$/);
    writeFileSync(join(dir, 'bob.password'), bob.password);
    for (const r of [taken, short, none]) expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('users list shows users, never a password hash', async () => {
    const r = await run(['users', 'list', '--json']);
    expect(r.code).toBe(0);
    const list = r.json<{ users: Record<string, unknown>[]; total: number }>();
    expect(list.users.map((u) => u.username)).toEqual(['alice', 'bob']);
    expect(list.total).toBe(2);
    expect(r.stdout).not.toMatch(/argon2|password_hash/);
    const text = await run(['users', 'list', '--limit', '1']);
    expect(text.stdout).toMatch(/alice .*roles admin\n.*1 of 2 user\(s\)\n$/s);
  });

  it('a user added by the CLI signs in at the started service; its token verifies with token verify (service keys)', async () => {
    served = await serveCli(env);
    expect(served.output()).toContain('Tessera auth service listening on http://127.0.0.1:');
    const signedIn = await login(served.base, 'alice', 'correct horse battery');
    expect(signedIn.status).toBe(200);
    const token = signedIn.body.access_token!;
    expect(await me(served.base, token)).toBe(200);
    const verified = await run(['token', 'verify', token, '--json']);
    expect(verified.code).toBe(0);
    expect(verified.json()).toMatchObject({
      valid: true,
      keySource: 'the service',
      payload: { sub: 'alice', roles: ['admin'] },
    });
    // The service signs with the key keys rotate made (ES256): decode finds its kid among the service's keys.
    const decoded = await run(['token', 'decode', token, '--json']);
    expect(decoded.code).toBe(0);
    expect(decoded.json()).toMatchObject({ valid: true, header: { alg: 'ES256' } });
    const foreign = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'gone' })).toString('base64url')}.${token.split('.')[1]}.${token.split('.')[2]}`;
    const unknown = await run(['token', 'decode', foreign]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("unknown kid 'gone': no key of the service has it");
    const verifyUnknown = await run(['token', 'verify', foreign]);
    expect(verifyUnknown.code).toBe(1);
    expect(verifyUnknown.stdout).toBe("invalid: unknown kid 'gone': no key of the service has it\n");
  });

  it("revoke --user: the running service refuses that user's token, token verify says revoked", async () => {
    const { body } = await login(served!.base, 'alice', 'correct horse battery');
    const token = body.access_token!;
    expect(await me(served!.base, token)).toBe(200);
    await nextSecond();
    const revoked = await run(['revoke', '--user', 'alice']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe('revoked every token and session of alice\n');
    expect(await me(served!.base, token)).toBe(401);
    const verified = await run(['token', 'verify', token]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^invalid: revoked/);
    // A new sign-in after the cut-off works.
    await nextSecond();
    const again = await login(served!.base, 'alice', 'correct horse battery');
    expect(await me(served!.base, again.body.access_token!)).toBe(200);
    const nobody = await run(['revoke', '--user', 'nobody']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("no user named 'nobody'");
  });

  it('revoke --session ends one sign-in (its refresh is refused), revoke --token one token', async () => {
    const first = await login(served!.base, 'alice', 'correct horse battery');
    const second = await login(served!.base, 'alice', 'correct horse battery');
    const payload = JSON.parse(
      Buffer.from(first.body.refresh_token!.split('.')[1]!, 'base64url').toString(),
    ) as { fam: string };
    const r = await run(['revoke', '--session', payload.fam, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({ revoked: 'session', session: payload.fam });
    const refresh = (token: string) =>
      fetch(`${served!.base}/auth/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      }).then((res) => res.status);
    expect(await refresh(first.body.refresh_token!)).toBe(401);
    expect(await me(served!.base, second.body.access_token!)).toBe(200);
    const byToken = await run(['revoke', '--token', '-'], `${second.body.access_token}\n`);
    expect(byToken.code).toBe(0);
    expect(await me(served!.base, second.body.access_token!)).toBe(401);
    const missing = await run(['revoke', '--session', 'no-such-family']);
    expect(missing.code).toBe(1);
    const both = await run(['revoke', '--user', 'alice', '--session', 'x']);
    expect(both.code).toBe(2);
    const garbage = await run(['revoke', '--token', 'not.a.token']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toContain('not a token of this service');
    expect(garbage.stderr).not.toMatch(STACK_LINE);
  });

  it('users disable: sign-in refused, tokens already issued refused', async () => {
    const { body } = await login(
      served!.base,
      'bob',
      await import('node:fs').then((fs) => fs.readFileSync(join(dir, 'bob.password'), 'utf8')),
    );
    const token = body.access_token!;
    expect(token).toBeDefined();
    await nextSecond();
    const r = await run(['users', 'disable', 'bob']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('disabled bob: every token and session revoked\n');
    expect(await me(served!.base, token)).toBe(401);
    const again = await login(served!.base, 'bob', 'whatever-password');
    expect(again.status).toBe(401);
    const list = await run(['users', 'list', '--json']);
    expect(
      list
        .json<{ users: { username: string; disabled: boolean }[] }>()
        .users.find((u) => u.username === 'bob')?.disabled,
    ).toBe(true);
  });

  it('keys rotate by the CLI: the running service signs with the new key, tokens of the old one still verify', async () => {
    const before = await login(served!.base, 'alice', 'correct horse battery');
    const oldToken = before.body.access_token!;
    const rotated = await run(['keys', 'rotate', '--alg', 'EdDSA', '--json']);
    expect(rotated.code).toBe(0);
    const { kid } = rotated.json<{ kid: string }>();
    const kidOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    const deadline = Date.now() + 10_000;
    let token = oldToken;
    while (kidOf(token) !== kid && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      token = (await login(served!.base, 'alice', 'correct horse battery')).body.access_token!;
    }
    expect(kidOf(token)).toBe(kid);
    expect(await me(served!.base, token)).toBe(200);
    expect(await me(served!.base, oldToken)).toBe(200);
    expect((await run(['token', 'verify', oldToken])).code).toBe(0);
    expect((await run(['token', 'verify', token])).code).toBe(0);
  }, 60_000);

  it('users import --csv stores users with progress on stderr; existing names are skipped; a bad file names its line', async () => {
    const rows = ['username,password_hash,email,is_active,roles'];
    for (let i = 0; i < 2500; i++)
      rows.push(`user${i},pbkdf2_sha256$600000$salt${i}$aGFzaA==,u${i}@example.com,true,reader`);
    rows.push('alice,pbkdf2_sha256$600000$s$aGFzaA==,,true,');
    writeFileSync(join(dir, 'users.csv'), `${rows.join('\n')}\n`);
    const r = await run(['users', 'import', '--csv', 'users.csv', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('import: 1000 of 2501 users (39%)\n');
    expect(r.stderr).toContain('import: 2000 of 2501 users (79%)\n');
    expect(r.stderr).toContain('import: 2501 of 2501 users (100%)\n');
    const result = r.json<{ created: number; skipped: string[] }>();
    expect(result.created).toBe(2500);
    expect(result.skipped).toEqual(['alice']);
    const count = await run(['users', 'list', '--limit', '1', '--json']);
    // alice, bob, the admin the service made at its start, and the 2500 imported.
    expect(count.json<{ total: number }>().total).toBe(2503);
    writeFileSync(join(dir, 'bad.csv'), 'username,password_hash,is_activ\nx,y,true\n');
    const bad = await run(['users', 'import', '--csv', 'bad.csv']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tessera: error: import: .*is_activ/);
    expect(bad.stderr).not.toMatch(STACK_LINE);
  }, 120_000);

  it('users import --django reads a Django auth_user table; an imported Django hash signs in at the service', async () => {
    const file = join(dir, 'django.sqlite3');
    const db = new BetterSqlite3(file);
    db.exec(
      'create table auth_user (id integer primary key, username text, password text, email text, is_active integer, is_staff integer, is_superuser integer)',
    );
    const django = (password: string, salt: string, iterations = 1000) =>
      `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64')}`;
    const insert = db.prepare(
      'insert into auth_user (username, password, email, is_active, is_staff, is_superuser) values (?, ?, ?, ?, ?, ?)',
    );
    insert.run('dj_alice', django('django-password-1', 'saltA'), 'dj@example.com', 1, 1, 0);
    insert.run('dj_gone', django('django-password-2', 'saltB'), '', 0, 0, 0);
    db.close();
    const r = await run(['users', 'import', '--django', file, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('import: 2 of 2 users (100%)');
    expect(r.json()).toMatchObject({ created: 2, skipped: [] });
    const signedIn = await login(served!.base, 'dj_alice', 'django-password-1');
    expect(signedIn.status).toBe(200);
    const verified = await run(['token', 'verify', signedIn.body.access_token!, '--json']);
    expect(verified.json()).toMatchObject({ valid: true, payload: { sub: 'dj_alice', roles: ['staff'] } });
    expect((await login(served!.base, 'dj_gone', 'django-password-2')).status).toBe(401);
    const missing = await run(['users', 'import', '--django', join(dir, 'absent.sqlite3')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot open the SQLite database');
    expect(missing.stderr).not.toMatch(STACK_LINE);
  }, 60_000);

  it('purge-expired reports progress on stderr and what it removed', async () => {
    const r = await run(['purge-expired', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /purge-expired: opening SQLite .*\npurge-expired: deleting expired .*\npurge-expired: done, \d+ entr(y|ies) removed/,
    );
    expect(r.json()).toMatchObject({ removed: expect.any(Number) });
  });

  it('tessera serve stops on SIGTERM with exit 0', async () => {
    const code = await served!.stop();
    served = undefined;
    expect(code).toBe(0);
  });
});

describe('store unavailable', () => {
  it('tessera serve with an unreachable database exits 3 with one line', async () => {
    const r = await runCli(['serve', '--port', '0'], {
      env: { DATABASE_URL: 'postgres://tessera:s3cret-pw@127.0.0.1:1/tessera' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^tessera: error: the store is unavailable: .+\n$/);
    expect(r.stderr).not.toContain('s3cret-pw');
  });

  it('an unreachable database is exit 3, one line, the password in DATABASE_URL never shown', async () => {
    const dir = tempDir();
    try {
      const r = await runCli(['users', 'list'], {
        env: { DATABASE_URL: 'postgres://tessera:s3cret-pw@127.0.0.1:1/tessera' },
        cwd: dir,
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^tessera: error: the store is unavailable: .+\n$/);
      expect(r.stderr).not.toContain('s3cret-pw');
      expect(r.stderr).not.toMatch(STACK_LINE);
    } finally {
      removeTemp(dir);
    }
  });
});

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const up =
  (await serviceAvailable('postgres', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.end();
  })) &&
  (await serviceAvailable('redis', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    await redis.connect();
    await redis.ping();
    redis.disconnect();
  }));

describe.skipIf(!up)('on PostgreSQL + Redis', () => {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const env = {
    DATABASE_URL,
    REDIS_URL,
    TESSERA_TABLE_PREFIX: `cli${id}_`,
    TESSERA_REDIS_PREFIX: `tessera-test:cli${id}:`,
    ...ADMIN,
  };
  let dir: string;
  let served: ServedService | undefined;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(async () => {
    await served?.stop();
    removeTemp(dir);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ tablename: string }>(
      'select tablename from pg_tables where tablename like $1',
      [`cli${id}_%`],
    );
    for (const row of rows) await client.query(`drop table if exists "${row.tablename}" cascade`);
    await client.end();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`tessera-test:cli${id}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('users add, sign in at the running service, revoke --user: refused at once', async () => {
    const run = (args: string[], input?: string) =>
      runCli(args, { env, cwd: dir, ...(input === undefined ? {} : { input }) });
    const migrated = await run(['migrate']);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toBe(
      'schema up to date: PostgreSQL 127.0.0.1:5432/test + Redis 127.0.0.1:6379\n',
    );
    served = await serveCli(env);
    expect((await run(['users', 'add', 'carol', '--password-stdin'], 'carol-password-1\n')).code).toBe(0);
    const { status, body } = await login(served.base, 'carol', 'carol-password-1');
    expect(status).toBe(200);
    expect(await me(served.base, body.access_token!)).toBe(200);
    await nextSecond();
    expect((await run(['revoke', '--user', 'carol'])).code).toBe(0);
    // The revocation travels to the service's local cache by pub/sub: milliseconds.
    const deadline = Date.now() + 3000;
    let seen = await me(served.base, body.access_token!);
    while (seen !== 401 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await me(served.base, body.access_token!);
    }
    expect(seen).toBe(401);
    const verified = await run(['token', 'verify', body.access_token!]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^invalid: revoked/);
  }, 60_000);
});
