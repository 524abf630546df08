import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledStatements, type SlotOf } from '../../src/stores/sql-compiled.js';

// The store's statements compiled once per shape (SqlStore's rotation and revocation check run
// through them; the store contract covers those on every dialect): here the mechanism itself.
describe('CompiledStatements', () => {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  afterAll(() => db.destroy());

  it('compiles a shape once and runs it with each call’s values', async () => {
    await sql`CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)`.execute(db);
    await sql`INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3)`.execute(db);
    const statements = new CompiledStatements();
    let builds = 0;
    const above = (slot: SlotOf<'id' | 'min'>) => {
      builds += 1;
      return sql<{
        id: string;
      }>`SELECT id FROM t WHERE id <> ${slot('id')} AND n > ${slot('min')} ORDER BY id`;
    };
    const first = await statements.run(db, 'above', above, { id: 'c', min: 0 });
    const second = await statements.run(db, 'above', above, { id: 'a', min: 1 });
    expect(first.rows.map((r) => r.id)).toEqual(['a', 'b']);
    expect(second.rows.map((r) => r.id)).toEqual(['b', 'c']);
    expect(builds).toBe(1);
    // Another shape is compiled on its own, and a slot may appear more than once.
    const twice = await statements.run(
      db,
      'twice',
      (slot: SlotOf<'n'>) =>
        sql<{ id: string }>`SELECT id FROM t WHERE n = ${slot('n')} OR n = ${slot('n')} + 2`,
      { n: 1 },
    );
    expect(twice.rows.map((r) => r.id).sort()).toEqual(['a', 'c']);
    const updated = await statements.run(
      db,
      'bump',
      (slot: SlotOf<'id'>) => sql`UPDATE t SET n = n + 10 WHERE id = ${slot('id')}`,
      { id: 'b' },
    );
    expect(updated.numAffectedRows).toBe(1n);
  });

  it('refuses a statement with a value written into it instead of a slot', () => {
    const statements = new CompiledStatements();
    const now = 1_700_000_000;
    expect(() =>
      statements.run(db, 'inline', (slot: SlotOf<'id'>) => sql`SELECT ${slot('id')} AS id, ${now} AS now`, {
        id: 'x',
      }),
    ).toThrow(/a value was written into the template instead of a slot/);
  });
});
