import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ConfigError, MemoryStore } from 'tessera-auth';
import { RedisStore } from 'tessera-auth/stores/redis';
import { SqlStore } from 'tessera-auth/stores/sql';
import { describe, expect, it } from 'vitest';

// A misspelt store option would otherwise be ignored silently (a `maxEntry` cap
// never applied, a `tablePrefx` writing to the default tables).
describe('store options refuse unknown keys', () => {
  it('MemoryStore', () => {
    expect(() => new MemoryStore({ maxEntry: 10 } as never)).toThrow(ConfigError);
    expect(() => new MemoryStore({ maxEntry: 10 } as never)).toThrow(/'maxEntry'.*did you mean 'maxEntries'/);
    expect(new MemoryStore({ maxEntries: 10 }).size).toBe(0);
  });

  it('SqlStore factories, before opening anything', async () => {
    await expect(SqlStore.sqlite(':memory:', { tablePrefx: 'x_' } as never)).rejects.toThrow(
      /'tablePrefx'.*did you mean 'tablePrefix'/,
    );
    // Refused before a pool is made: no connection is attempted to this closed port.
    await expect(
      SqlStore.postgres({ host: '127.0.0.1', port: 1 }, { operationTimeout: 5 } as never),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      SqlStore.mysql({ host: '127.0.0.1', port: 1 }, { destroyOnclose: true } as never),
    ).rejects.toThrow(/did you mean 'destroyOnClose'/);
  });

  it('new SqlStore(db, options)', async () => {
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }),
    });
    try {
      expect(() => new SqlStore(db, { dialect: 'sqlite', dialekt: 'x' } as never)).toThrow(ConfigError);
      const store = new SqlStore(db, { dialect: 'sqlite', tablePrefix: 'ok_' });
      expect(await store.migrate()).toEqual([1]);
    } finally {
      await db.destroy();
    }
  });

  it('RedisStore and its localCache object, before connecting', () => {
    expect(() => new RedisStore({ redis: { port: 1 }, localcache: true } as never)).toThrow(
      /'localcache'.*did you mean 'localCache'/,
    );
    expect(() => new RedisStore({ redis: { port: 1 }, localCache: { max: 5 } } as never)).toThrow(
      /'max' in RedisStore localCache/,
    );
  });
});
