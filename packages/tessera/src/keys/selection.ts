/**
 * The key selection rules of the verification policy, in one place, so that the
 * Keyring and RemoteJwks cannot drift apart:
 *
 * - the header's `alg` never chooses a routine: it is only compared with the
 *   algorithm each key was bound to at import;
 * - a string `kid` selects by exact string match (a Map lookup: no paths, no
 *   normalisation, no case folding);
 * - without a `kid`, every key bound to the header's `alg` is a candidate.
 */
import { AlgorithmNotAllowedError, KeyNotFoundError } from '../errors.js';
import { isJwsAlgorithm } from '../jws/algorithms.js';
import type { JwsHeader } from '../jws/header.js';
import type { TesseraKey } from './key.js';

/** Longest part of an attacker-chosen `kid` that an error message repeats. */
const KID_ECHO_LIMIT = 64;

/**
 * An immutable index of keys by `kid` and by `alg`. Built once per change of the
 * key set (add, remove, refetch), then read on every verification without
 * allocating: every answer is a frozen array built here.
 */
export class KeyIndex {
  /** Every key of the index, in the order given. */
  readonly keys: readonly TesseraKey[];
  // kid -> alg -> keys. Several keys share a kid only when one material is bound
  // to several algorithms (a JWKS RSA key without `alg`) or a published set
  // repeats a kid; the Keyring itself forbids duplicates.
  private readonly byKid = new Map<string, Map<string, readonly TesseraKey[]>>();
  private readonly byAlg: ReadonlyMap<string, readonly TesseraKey[]>;

  constructor(keys: Iterable<TesseraKey>) {
    const all: TesseraKey[] = [];
    const kidGroups = new Map<string, Map<string, TesseraKey[]>>();
    const algGroups = new Map<string, TesseraKey[]>();
    for (const key of keys) {
      all.push(key);
      if (key.kid !== undefined) {
        const byAlg = kidGroups.get(key.kid) ?? new Map<string, TesseraKey[]>();
        push(byAlg, key.alg, key);
        kidGroups.set(key.kid, byAlg);
      }
      push(algGroups, key.alg, key);
    }
    this.keys = Object.freeze(all);
    for (const [kid, group] of kidGroups) this.byKid.set(kid, freezeGroups(group));
    this.byAlg = freezeGroups(algGroups);
  }

  /** Is there a key with exactly this `kid`? */
  hasKid(kid: string): boolean {
    return this.byKid.has(kid);
  }

  /**
   * The keys that may verify a token with `header`, or a typed error. The
   * returned arrays are shared and frozen: callers must not (and cannot) change them.
   */
  select(header: JwsHeader): readonly TesseraKey[] {
    const { kid, alg } = header;
    if (typeof kid === 'string') {
      const group = this.byKid.get(kid);
      if (group === undefined) throw new KeyNotFoundError(kidNotFoundMessage(kid), { header });
      const matching = group.get(alg);
      if (matching === undefined) throw algorithmRefused(header);
      return matching;
    }
    const candidates = this.byAlg.get(alg);
    if (candidates === undefined) throw algorithmRefused(header);
    return candidates;
  }
}

/**
 * No key is bound to the header's `alg`. The message names the algorithm only
 * when it is one of the table's names: never arbitrary text from the token.
 */
function algorithmRefused(header: JwsHeader): AlgorithmNotAllowedError {
  const { alg } = header;
  const detail = isJwsAlgorithm(alg)
    ? ({ key: 'algorithm_not_allowed.named', params: { alg } } as const)
    : undefined;
  return new AlgorithmNotAllowedError(undefined, { header }, detail);
}

/**
 * The `kid` comes from the token, so the message quotes at most a short,
 * escaped prefix of it: enough to debug a rotation, too little to abuse a log.
 */
export function kidNotFoundMessage(kid: string): string {
  const shown = kid.length > KID_ECHO_LIMIT ? `${kid.slice(0, KID_ECHO_LIMIT)}…` : kid;
  return `No key matches kid ${JSON.stringify(shown)}`;
}

function push(groups: Map<string, TesseraKey[]>, name: string, key: TesseraKey): void {
  const group = groups.get(name);
  if (group === undefined) groups.set(name, [key]);
  else group.push(key);
}

function freezeGroups(groups: Map<string, TesseraKey[]>): Map<string, readonly TesseraKey[]> {
  const frozen = new Map<string, readonly TesseraKey[]>();
  for (const [name, group] of groups) frozen.set(name, Object.freeze(group));
  return frozen;
}
