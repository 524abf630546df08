/** What bench/stores.ts and its server (bench/stores-server.ts) agree on. */

export const STORE_NAMES = ['none', 'memory', 'sqlite', 'postgres', 'redis', 'redis-cache'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/** What bench/stores.ts hands the server. */
export interface StoresServerSpec {
  readonly secret: string;
  /** Where the token files go (and the SQLite database). */
  readonly dir: string;
  /** Stores to set up (none is always there). */
  readonly stores: readonly StoreName[];
  /** Distinct users (and sessions) whose access tokens the load rotates through. */
  readonly tokens: number;
  /** Revoked jtis and user cut-offs written to each store first. */
  readonly seed: number;
  readonly postgres: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly database: string;
  };
  readonly redis: { readonly host: string; readonly port: number; readonly db: number };
}

/** The refresh benchmark's two loads. */
export type RefreshMode = 'one' | 'many';

/** Concurrent sessions of the `many` load: one per user. */
export const MANY_SESSIONS = 64;

/** One slice of refreshes. */
export interface RefreshSlice {
  readonly refreshes: number;
  readonly wallMs: number;
  /** CPU time of this process over the slice (the database's own work is not in it). */
  readonly cpuMs: number;
  readonly errors: number;
  readonly firstError?: string;
}
