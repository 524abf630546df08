/**
 * How `RedisStore` and its helpers talk to Redis: the Lua scripts registered
 * on a client under versioned names, how to call them (EVALSHA, falling back
 * to EVAL after a Redis restart), pipelines that fail as a whole, and SCAN over
 * one kind of key.
 *
 * ioredis is named in type positions only; nothing here loads it.
 *
 * @module
 */
import type { ChainableCommander, Redis } from 'ioredis';
import {
  CHECK_GENERATION,
  CREATE_FAMILY,
  PRUNE_INDEX,
  PURGE_FAMILY,
  PURGE_KEY,
  REVOKE_FAMILIES,
  REVOKE_TOKEN,
  REVOKE_USER_BEFORE,
  ROTATE_FAMILY,
} from './redis-scripts.js';

/** Scripts, defined on the client under versioned names so they never clash with the app's own. */
export const SCRIPTS = {
  tesseraV1RevokeToken: REVOKE_TOKEN,
  tesseraV1RevokeUserBefore: REVOKE_USER_BEFORE,
  tesseraV1CreateFamily: CREATE_FAMILY,
  tesseraV3RotateFamily: ROTATE_FAMILY,
  tesseraV1RevokeFamilies: REVOKE_FAMILIES,
  tesseraV1PurgeKey: PURGE_KEY,
  tesseraV1PurgeFamily: PURGE_FAMILY,
  tesseraV1PruneIndex: PRUNE_INDEX,
  tesseraV1CheckGeneration: CHECK_GENERATION,
} as const;

/** The name of one of {@link SCRIPTS}. */
export type ScriptName = keyof typeof SCRIPTS;
type ScriptArg = string | number;

/** Registers every script on a client (idempotent). */
export function defineScripts(client: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
}

/** Calls a script defined with {@link defineScripts}. */
export function callScript(
  target: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown>;
export function callScript(
  target: ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): ChainableCommander;
export function callScript(
  target: Redis | ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): unknown {
  const fn = (target as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`script ${name} is not defined on this client`);
  return (fn as (...a: ScriptArg[]) => unknown).call(target, keys.length, ...keys, ...args);
}

/** Runs a pipeline; a failed command fails the whole call. */
export async function execPipeline(pipe: ChainableCommander): Promise<unknown[]> {
  const results = (await pipe.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** Escapes glob characters so the prefix matches itself in SCAN MATCH. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** SCANs `<prefix><kind>:*` in batches. */
export async function scanKind(
  client: Redis,
  prefix: string,
  kind: string,
  each: (keys: string[]) => Promise<void>,
): Promise<void> {
  const match = `${globEscape(prefix)}${kind}:*`;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await each(keys);
  } while (cursor !== '0');
}

/** Parses a user cut-off value `<revokedBefore>|<keepUntil>`. */
export function parseCutoff(value: unknown): { revokedBefore: number; keepUntil: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const bar = value.indexOf('|');
  if (bar < 0) return undefined;
  return { revokedBefore: Number(value.slice(0, bar)), keepUntil: Number(value.slice(bar + 1)) };
}

/** Parses the store-wide cut-off value `<revokedBefore>|<generation>`; 0 when absent. */
export function parseEveryoneCutoff(value: unknown): number {
  if (typeof value !== 'string' || value === '') return 0;
  const before = Number(value.slice(0, value.indexOf('|')));
  return Number.isSafeInteger(before) ? before : 0;
}
