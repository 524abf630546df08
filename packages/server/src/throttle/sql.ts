/**
 * The throttle backend on the service's own database (SQLite or PostgreSQL
 * through Kysely), used when there is no Redis: locks and counts survive a
 * restart, and instances sharing one PostgreSQL share them.
 *
 * Each operation is one transaction that locks the rows of its keys, reads
 * them, applies step.ts and writes the result, so check-and-count is atomic
 * across instances:
 * - PostgreSQL: the rows of a `check` are made first (`INSERT … ON CONFLICT DO
 *   NOTHING`, a row of zeros reads as no record), then `SELECT … FOR UPDATE`,
 *   in id order so that two operations on the same keys cannot deadlock;
 * - SQLite: `BEGIN IMMEDIATE` takes the write lock before reading (processes
 *   sharing the file wait on it; within a process Kysely runs one connection).
 *
 * Rows are keyed by the kind and a SHA-256 digest of the value (policy.ts), as
 * in Redis: no username or address is stored. Rows past their `forget_at` are
 * deleted at most once a minute per instance.
 *
 * @module
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AnyDB, Database, ThrottleRow } from '../db/schema.js';
import { type CompiledRule, forgetAt, type ResolvedKey, type ThrottleRecord } from './policy.js';
import { step, type ThrottleOp } from './step.js';

type Executor = Kysely<AnyDB> | Transaction<AnyDB>;

/** The SQL backend: one operation per call, in its own transaction. */
export class SqlThrottleState {
  readonly #database: Database;
  readonly #table: string;
  #nextSweep = 0;

  constructor(database: Database) {
    this.#database = database;
    this.#table = database.t.throttle;
  }

  /** Applies one operation (see step.ts) at `now`; the wait in ms for `check` (0: allowed, counted). */
  async apply(op: ThrottleOp, keys: readonly ResolvedKey[], now: number): Promise<number> {
    if (keys.length === 0) return 0;
    const sorted = [...keys].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const wait = await this.#locked((q) => this.#applyLocked(q, op, sorted, now));
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + 60_000;
      // Housekeeping: a failure here loses nothing, the next sweep tries again.
      await this.#database.db
        .deleteFrom(this.#table)
        .where('forget_at', '<=', now)
        .execute()
        .catch(() => undefined);
    }
    return wait;
  }

  async #applyLocked(q: Executor, op: ThrottleOp, keys: ResolvedKey[], now: number): Promise<number> {
    const ids = keys.map((k) => k.id);
    const postgres = this.#database.dialect === 'postgres';
    if (postgres && op === 'check') {
      await q
        .insertInto(this.#table)
        .values(
          ids.map((id) => ({
            id,
            attempts: 0,
            failures: 0,
            window_start: 0,
            locked_until: 0,
            lock_level: 0,
            forget_at: 0,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
    let select = q.selectFrom(this.#table).selectAll().where('id', 'in', ids).orderBy('id');
    if (postgres) select = select.forUpdate();
    const rows = (await select.execute()) as ThrottleRow[];
    const stored = new Map<string, ThrottleRecord | undefined>();
    for (const row of rows) {
      stored.set(row.id, {
        n: Number(row.attempts),
        f: Number(row.failures),
        ws: Number(row.window_start),
        lock: Number(row.locked_until),
        level: Number(row.lock_level),
      });
    }
    const { wait, write, remove } = step(op, keys, stored, now);
    if (remove.size > 0)
      await q
        .deleteFrom(this.#table)
        .where('id', 'in', [...remove])
        .execute();
    for (const [id, { rule, record }] of write) await this.#store(q, id, rule, record);
    return wait;
  }

  #store(q: Executor, id: string, rule: CompiledRule, record: ThrottleRecord): Promise<unknown> {
    const values = {
      attempts: record.n,
      failures: record.f,
      window_start: record.ws,
      locked_until: record.lock,
      lock_level: record.level,
      forget_at: forgetAt(record, rule),
    };
    return q
      .insertInto(this.#table)
      .values({ id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }

  /** Runs `body` holding the write lock of the rows it reads (see the module comment). */
  #locked<T>(body: (q: Executor) => Promise<T>): Promise<T> {
    const { db, dialect } = this.#database;
    if (dialect === 'postgres') return db.transaction().execute(body);
    return db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await body(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }
}
