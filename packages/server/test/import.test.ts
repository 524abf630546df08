/**
 * Users imported from a Flask or Django app keep their passwords: a
 * Django-hashed (pbkdf2_sha256) and a Werkzeug-hashed (pbkdf2, scrypt) user
 * imported by CSV sign in, and their hashes become argon2id on the way.
 */
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { runImport } from '../src/import-command.js';
import { passwordTiming } from '../src/passwords/index.js';
import {
  ADMIN,
  call,
  login,
  removeDir,
  startTestService,
  type TestService,
  type Tokens,
  tempDir,
} from './support.js';

/** A hash in Django's PBKDF2PasswordHasher format. */
function djangoHash(password: string, iterations = 600_000): string {
  const salt = randomBytes(16).toString('base64url').slice(0, 22);
  const key = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64');
  return `pbkdf2_sha256$${iterations}$${salt}$${key}`;
}

/** A hash in Werkzeug's generate_password_hash format (pbkdf2:sha256). */
function werkzeugPbkdf2(password: string, iterations = 600_000): string {
  const salt = randomBytes(12).toString('base64url').slice(0, 16);
  return `pbkdf2:sha256:${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('hex')}`;
}

/** Werkzeug 3's default: scrypt:32768:8:1$salt$hex. */
function werkzeugScrypt(password: string): string {
  const salt = randomBytes(12).toString('base64url').slice(0, 16);
  const key = scryptSync(password, salt, 64, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return `scrypt:32768:8:1$${salt}$${key.toString('hex')}`;
}

let svc: TestService;
let admin: Tokens;

beforeAll(async () => {
  svc = await startTestService();
  admin = await login(svc.base, ADMIN.username, ADMIN.password);
});
afterAll(async () => {
  await svc.stop();
});

describe('imported users', () => {
  it('sign in with their Django and Werkzeug passwords, upgraded to argon2id', async () => {
    const csv = [
      'username,password_hash,email,is_active,roles',
      `dj-user,${djangoHash('django-password')},dj@example.org,true,staff`,
      `flask-user,${werkzeugPbkdf2('flask-password')},,1,`,
      `scrypt-user,${werkzeugScrypt('scrypt-password')},,yes,`,
      `gone-user,${djangoHash('gone-password', 1000)},,false,`,
      `${ADMIN.username},${djangoHash('takeover', 1000)},,true,admin`,
    ].join('\n');
    const res = await call(svc.base, 'POST', '/admin/import', {
      token: admin.access_token,
      raw: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ created: 4, skipped: [ADMIN.username] });
    // The refusal time floor knows the imported kinds before any of these users is tried.
    const { kinds, floorMs } = passwordTiming();
    for (const kind of ['werkzeug-pbkdf2-sha256:600000', 'werkzeug-scrypt:32768:8:1']) {
      expect(kinds[kind], kind).toBeGreaterThan(0);
      expect(floorMs).toBeGreaterThanOrEqual(kinds[kind] as number);
    }

    const { db, t } = svc.service.context.stores.database;
    const hashOf = async (username: string) =>
      (
        (await db
          .selectFrom(t.users)
          .select('password_hash')
          .where('username', '=', username)
          .executeTakeFirst()) as {
          password_hash: string;
        }
      ).password_hash;

    for (const [username, password, prefix] of [
      ['dj-user', 'django-password', 'pbkdf2_sha256$'],
      ['flask-user', 'flask-password', 'pbkdf2:sha256:'],
      ['scrypt-user', 'scrypt-password', 'scrypt:'],
    ] as const) {
      expect(await hashOf(username)).toMatch(new RegExp(`^${prefix.replace(/\$/g, '\\$')}`));
      const wrong = await call(svc.base, 'POST', '/auth/login', {
        json: { username, password: `${password}x` },
      });
      expect(wrong.status).toBe(401);
      const tokens = await login(svc.base, username, password);
      expect((await call(svc.base, 'GET', '/auth/me', { token: tokens.access_token })).body).toMatchObject({
        username,
      });
      expect(await hashOf(username)).toMatch(/^\$argon2id\$/);
      // And the upgraded hash verifies too.
      expect((await login(svc.base, username, password)).access_token).toBeTypeOf('string');
    }
    expect(
      (await call(svc.base, 'GET', '/admin/users/dj-user', { token: admin.access_token })).body,
    ).toMatchObject({
      roles: ['staff'],
      email: 'dj@example.org',
    });
    // Inactive in the old system: disabled here, refused like a wrong password.
    const gone = await call(svc.base, 'POST', '/auth/login', {
      json: { username: 'gone-user', password: 'gone-password' },
    });
    expect(gone.status).toBe(401);
    // The existing admin was not overwritten.
    expect((await login(svc.base, ADMIN.username, ADMIN.password)).access_token).toBeTypeOf('string');
  });

  it('refuses a bad CSV naming the line, and anything but text/csv', async () => {
    const bad = await call(svc.base, 'POST', '/admin/import', {
      token: admin.access_token,
      raw: 'username,password_hash,is_activ\nx,y,true\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'import_invalid' } });
    const json = await call(svc.base, 'POST', '/admin/import', {
      token: admin.access_token,
      json: { users: [] },
    });
    expect(json.status).toBe(415);
    const anonymous = await call(svc.base, 'POST', '/admin/import', {
      raw: 'a',
      headers: { 'content-type': 'text/csv' },
    });
    expect(anonymous.status).toBe(401);
  });
});

describe('npm start -- import --django', () => {
  it('imports a Django auth_user table (staff and superuser as roles); the users sign in', async () => {
    const dir = tempDir();
    try {
      const source = join(dir, 'django.sqlite3');
      const django = new Database(source);
      django.exec(
        'CREATE TABLE auth_user (id integer primary key autoincrement, password varchar(128) not null, last_login datetime, is_superuser bool not null, username varchar(150) not null unique, first_name varchar(150) not null, last_name varchar(150) not null, email varchar(254) not null, is_staff bool not null, is_active bool not null, date_joined datetime not null)',
      );
      const insert = django.prepare(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, ?, ?, '', '', ?, ?, ?, '2024-01-01')",
      );
      insert.run(djangoHash('boss-password'), 1, 'boss', 'boss@example.org', 1, 1);
      insert.run(djangoHash('member-password'), 0, 'member', '', 0, 1);
      django.close();

      const dataDir = join(dir, 'data');
      const config = parseConfig({ dataDir, logLevel: 'silent' });
      expect(await runImport(config, ['--django', source])).toBe(0);
      expect(await runImport(config, ['--django'])).toBe(2);
      expect(await runImport(config, ['--csv', join(dir, 'missing.csv')])).toBe(2);

      const svc = await startTestService({ dataDir });
      try {
        const boss = await login(svc.base, 'boss', 'boss-password');
        expect((await call(svc.base, 'GET', '/auth/me', { token: boss.access_token })).body).toMatchObject({
          username: 'boss',
          roles: expect.arrayContaining(['admin', 'staff']),
          email: 'boss@example.org',
        });
        // An imported superuser is an admin here too.
        expect((await call(svc.base, 'GET', '/admin/users', { token: boss.access_token })).status).toBe(200);
        const member = await login(svc.base, 'member', 'member-password');
        expect((await call(svc.base, 'GET', '/admin/users', { token: member.access_token })).status).toBe(
          403,
        );
      } finally {
        await svc.stop();
      }
    } finally {
      removeDir(dir);
    }
  });
});
