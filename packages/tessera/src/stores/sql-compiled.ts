/**
 * Statements the SQL store compiles once per shape and then runs with each
 * call's values: Kysely compiles a `sql` template on every execution (walking
 * its operation tree, freezing nodes, quoting identifiers), which on the
 * refresh and revocation-check paths cost as much as SQLite running the
 * statement. A statement is built once with named slots in place of its values;
 * the compiled text is kept, and each call only lines its values up with the
 * slots. The compilation goes through the caller's Kysely instance, so its
 * plugins still shape the SQL; results still pass through them as well.
 *
 * @module
 */
import type { CompiledQuery, QueryExecutorProvider, QueryResult, RawBuilder } from 'kysely';

/** A named stand-in for a value, put where the value goes when a statement is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

/** Places a slot named `name` in a statement being compiled. */
export type SlotOf<K extends string> = (name: K) => unknown;

interface Kept {
  readonly query: CompiledQuery;
  readonly names: readonly string[];
}

/**
 * Compiled statements by shape. A shape names one statement text: callers
 * whose SQL varies (an optional condition, say) give each variant its own
 * shape. Values are handed over by slot name on every run.
 */
export class CompiledStatements {
  readonly #kept = new Map<string, Kept>();

  /**
   * Runs the statement `build` makes, compiled on its shape's first run.
   * `build` must put every value through its `slot` argument: a value written
   * into the template directly would be compiled into every later run.
   */
  run<R, K extends string>(
    db: QueryExecutorProvider,
    shape: string,
    build: (slot: SlotOf<K>) => RawBuilder<R>,
    values: Readonly<Record<K, unknown>>,
  ): Promise<QueryResult<R>> {
    let kept = this.#kept.get(shape);
    if (kept === undefined) {
      const query = build((name) => new Slot(name)).compile(db);
      const names = query.parameters.map((parameter) => {
        if (!(parameter instanceof Slot)) {
          throw new TypeError(`statement ${shape}: a value was written into the template instead of a slot`);
        }
        return parameter.name;
      });
      kept = { query, names };
      this.#kept.set(shape, kept);
    }
    const { query, names } = kept;
    const parameters = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) parameters[i] = values[names[i] as K];
    return db.getExecutor().executeQuery<R>({
      query: query.query,
      queryId: query.queryId,
      sql: query.sql,
      parameters,
    });
  }
}
