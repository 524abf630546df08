/** `tessera keys list|rotate`: the service's signing keys in its database. */
import type { SigningAlgorithm } from '../../config.js';
import { type Command, str } from '../command.js';
import { EXIT, storeUnavailable, UsageError } from '../errors.js';
import { loadKeys, openService, serviceConfig } from '../service-env.js';
import { nowSeconds, relative, utc } from '../time.js';

const ALGORITHMS = [
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
];

export const keysList: Command = {
  name: 'keys list',
  summary: "List the service's signing keys: the one signing now and those still verifying.",
  usage: 'keys list',
  help: `
Shows kid, algorithm, creation time and status (signing, or verifying until the end of
its grace period). Keys past their grace period are not shown: they verify nothing.
No key material is printed.

Examples:
  tessera keys list
  tessera keys list --json | jq -r '.keys[] | select(.signing) | .kid'`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, out) {
    const handle = await openService(serviceConfig());
    try {
      const keys = await loadKeys(handle);
      let list: ReturnType<typeof keys.list> = [];
      try {
        list = keys.list();
      } catch {
        // No key yet: the service makes its first at start (or run keys rotate).
      }
      out.result({ keys: list });
      if (list.length === 0) {
        out.line('no signing key yet: the service makes one at its first start (or run tessera keys rotate)');
        return EXIT.ok;
      }
      const now = nowSeconds();
      for (const key of list) {
        const status = key.signing
          ? out.style('green', 'signing')
          : `verifying until ${key.expiresAt === null ? '?' : `${utc(key.expiresAt)} (${relative(key.expiresAt, now)})`}`;
        out.line(
          `${key.kid}  ${key.alg.padEnd(6)}  created ${utc(key.createdAt)} (${relative(key.createdAt, now)})  ${status}`,
        );
      }
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'Make a new signing key now; the previous ones keep verifying for the grace period.',
  usage: 'keys rotate [--alg <alg>]',
  help: `
New tokens are signed with the new key; tokens signed before keep verifying until
TESSERA_KEY_GRACE ends. Running instances pick the new key up at their next poll
(TESSERA_KEY_POLL) or at once when they see a token with its kid.

Options:
  --alg <alg>   algorithm of the new key (default TESSERA_SIGNING_ALG, else EdDSA)

Examples:
  tessera keys rotate
  tessera keys rotate --alg ES256 --json`,
  options: { alg: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(args, out) {
    const alg = str(args, 'alg');
    if (alg !== undefined && !ALGORITHMS.includes(alg)) {
      throw new UsageError(`--alg must be one of ${ALGORITHMS.join(', ')}, not '${alg}'`);
    }
    const handle = await openService(serviceConfig(), { create: true });
    try {
      const keys = await loadKeys(handle);
      let kid: string | undefined;
      try {
        kid = await keys.rotate(alg === undefined ? {} : { algorithm: alg as SigningAlgorithm });
      } catch (error) {
        throw storeUnavailable(error);
      }
      await handle.audit.record({ type: 'keys.rotated', actor: 'cli', subject: kid ?? null });
      const list = keys.list();
      const made = list.find((k) => k.kid === kid) ?? list.find((k) => k.signing);
      out.result({ kid: made?.kid ?? null, alg: made?.alg ?? null, keys: list });
      out.line(
        `new signing key ${made?.kid} (${made?.alg}); ${list.length - 1} previous key(s) verify until their grace period ends`,
      );
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};
