/**
 * Audit events: who did what to whom, from where. Written for sign-ins,
 * failures, password changes, role and status changes, key rotations and
 * API-key changes; never a password, token or key.
 */
import type { Database } from './db/schema.js';

/** One event to record. */
export interface AuditEvent {
  type: string;
  actor?: string | null;
  subject?: string | null;
  address?: string | null;
  detail?: Record<string, string | number | boolean | null>;
}

/** Appends audit events; a failure to write is logged, never fails the request it describes. */
export class Audit {
  readonly #database: Database;
  readonly #log: (message: string, error: unknown) => void;

  constructor(database: Database, log: (message: string, error: unknown) => void) {
    this.#database = database;
    this.#log = log;
  }

  async record(event: AuditEvent): Promise<void> {
    const { db, t } = this.#database;
    try {
      await db
        .insertInto(t.audit)
        .values({
          at: Math.floor(Date.now() / 1000),
          type: event.type,
          actor: event.actor?.slice(0, 150) ?? null,
          subject: event.subject?.slice(0, 150) ?? null,
          address: event.address?.slice(0, 100) ?? null,
          detail: JSON.stringify(event.detail ?? {}),
        })
        .execute();
    } catch (error) {
      this.#log(`audit: could not record ${event.type}`, error);
    }
  }

  async list(limit: number): Promise<Record<string, unknown>[]> {
    const { db, t } = this.#database;
    const rows = (await db.selectFrom(t.audit).selectAll().orderBy('id', 'desc').limit(limit).execute()) as {
      id: number | string;
      at: number | string;
      type: string;
      actor: string | null;
      subject: string | null;
      address: string | null;
      detail: string;
    }[];
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      type: r.type,
      actor: r.actor,
      subject: r.subject,
      address: r.address,
      detail: JSON.parse(r.detail) as unknown,
    }));
  }
}
