/**
 * Signing keys kept in the database, shared by every instance: generated on
 * first start, rotated on schedule (or on demand) with a grace period during
 * which the previous keys keep verifying and stay in the JWKS, private halves
 * encrypted at rest (AES-256-GCM) when a key-encryption key is configured.
 *
 * Every instance reloads the table every `keyPoll` seconds, and at once
 * (at most once a second) when a token names a kid it does not know, so keys
 * rotated by another instance verify here without waiting for the poll.
 *
 * Refresh tokens, which only the service reads, are signed with an HMAC key
 * derived from each signing key's private half (HKDF-SHA256, its own kid with
 * a `.refresh` suffix): it rotates with the signing key, every instance derives
 * the same one from the shared row, it is as secret as the private key and is
 * never published, and it costs a fraction of an asymmetric signature. See
 * {@link ServiceKeys.refreshKeys}.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import {
  exportJwk,
  generateKey,
  importJwk,
  importSecret,
  type Jwk,
  type JwkSet,
  type JwsHeader,
  KeyNotFoundError,
  Keyring,
  type KeySource,
  type TesseraKey,
  thumbprint,
  toJwks,
} from 'tessera-auth';
import type { ServiceConfig, SigningAlgorithm } from './config.js';
import { type Database, int, type SigningKeyRow } from './db/schema.js';

/** What the key manager needs of the configuration. */
type KeyConfig = Pick<
  ServiceConfig,
  'signingAlgorithm' | 'keyEncryptionKey' | 'keyRotation' | 'keyGrace' | 'keyPoll'
>;

/** A key's public facts, for the admin API. */
export interface KeyInfo {
  kid: string;
  alg: string;
  createdAt: number;
  expiresAt: number | null;
  signing: boolean;
}

const ENVELOPE = 'aes256gcm-v1';

/** The suffix that marks a derived refresh key's kid. */
export const REFRESH_KID_SUFFIX = '.refresh';

/** The refresh-token HMAC key of one signing key: HKDF-SHA256 over its private JWK, bound to its kid. */
function deriveRefreshKey(kid: string, privateJwkText: string): TesseraKey {
  const bytes = new Uint8Array(
    hkdfSync(
      'sha256',
      Buffer.from(privateJwkText, 'utf8'),
      new Uint8Array(0),
      `tessera refresh-token key v1 ${kid}`,
      32,
    ),
  );
  return importSecret(bytes, 'HS256', { kid: `${kid}${REFRESH_KID_SUFFIX}` });
}

/** Decode the configured key-encryption key (64 hex digits or base64 of 32 bytes). */
export function decodeKek(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (bytes.length !== 32) throw new Error('TESSERA_KEY_ENCRYPTION_KEY must decode to 32 bytes');
  return bytes;
}

/** Encrypt a private JWK; the kid is bound as associated data, so rows cannot be swapped. */
export function sealPrivateKey(kek: Buffer, kid: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [ENVELOPE, iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** The inverse of {@link sealPrivateKey}; throws when the key or the row is wrong. */
export function openPrivateKey(kek: Buffer, kid: string, envelope: string): string {
  const [tag, iv, auth, body] = envelope.split('.');
  if (tag !== ENVELOPE || iv === undefined || auth === undefined || body === undefined) {
    throw new Error(`signing key ${kid}: not an ${ENVELOPE} envelope`);
  }
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(auth, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** The signing keys of the service: a {@link KeySource} for the TokenManager, and the JWKS. */
export class ServiceKeys implements KeySource {
  readonly #database: Database;
  readonly #config: KeyConfig;
  readonly #kek: Buffer | undefined;
  readonly #log: (message: string, error?: unknown) => void;
  #ring = new Keyring([]);
  #refreshRing = new Keyring([]);
  #rows: SigningKeyRow[] = [];
  #imported = new Map<string, TesseraKey>();
  #derived = new Map<string, TesseraKey>();
  #jwks: JwkSet = { keys: [] };
  #jwksText = '{"keys":[]}';
  readonly #signingReloads = { last: 0 };
  readonly #refreshReloads = { last: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(database: Database, config: KeyConfig, log: (message: string, error?: unknown) => void) {
    this.#database = database;
    this.#config = config;
    this.#kek = decodeKek(config.keyEncryptionKey);
    this.#log = log;
  }

  /** Load the keys; create the first one, or rotate when the newest is past its age. */
  async start(): Promise<void> {
    await this.reload();
    await this.rotateIfDue();
    this.#timer = setInterval(() => {
      this.reload()
        .then(() => this.rotateIfDue())
        .catch((error: unknown) => this.#log('signing keys: refresh failed', error));
    }, this.#config.keyPoll * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The key that signs new tokens. */
  signingKey(): TesseraKey {
    return this.#ring.signingKey();
  }

  verificationKeys(header: JwsHeader): readonly TesseraKey[] | Promise<readonly TesseraKey[]> {
    // Derived refresh kids are never in this ring: refreshKeys looks them up, and reloads for them.
    if (typeof header.kid === 'string' && header.kid.endsWith(REFRESH_KID_SUFFIX)) {
      return this.#ring.verificationKeys(header);
    }
    return this.#lookup(() => this.#ring, header, this.#signingReloads);
  }

  /**
   * The refresh-token keys, for the manager's `refreshKeys` option: HS256 keys
   * derived from the signing keys (module comment), the current one signing.
   * Only kids with the refresh suffix are looked up here, and an unknown one
   * reloads the table as for the signing keys (another instance may have
   * rotated).
   */
  readonly refreshKeys = {
    signingKey: (): TesseraKey => this.#refreshRing.signingKey(),
    verificationKeys: (header: JwsHeader): readonly TesseraKey[] | Promise<readonly TesseraKey[]> => {
      // Not a refresh kid: no key here (an empty answer, not an exception: every access token asks).
      if (typeof header.kid !== 'string' || !header.kid.endsWith(REFRESH_KID_SUFFIX)) return [];
      return this.#lookup(() => this.#refreshRing, header, this.#refreshReloads);
    },
  };

  /**
   * The keys of `ring()` for `header`. A kid it does not know may be a key another
   * instance has just made: reload the table and ask again, at most once a second
   * per `budget` (signing and refresh kids have one each, so that a reload for one
   * does not hold the other back).
   */
  #lookup(
    ring: () => Keyring,
    header: JwsHeader,
    budget: { last: number },
  ): readonly TesseraKey[] | Promise<readonly TesseraKey[]> {
    try {
      return ring().verificationKeys(header);
    } catch (error) {
      const now = Date.now();
      if (
        !(error instanceof KeyNotFoundError) ||
        typeof header.kid !== 'string' ||
        now - budget.last < 1000
      ) {
        throw error;
      }
      budget.last = now;
      return this.reload().then(() => ring().verificationKeys(header));
    }
  }

  /** The public JWK Set (current and previous keys). */
  jwks(): JwkSet {
    return this.#jwks;
  }

  /** The JWKS, serialised once per change. */
  jwksText(): string {
    return this.#jwksText;
  }

  /** Every key still verifying, newest first. */
  list(): KeyInfo[] {
    const signer = this.#ring.signingKey().kid;
    return this.#rows.map((row) => ({
      kid: row.kid,
      alg: row.alg,
      createdAt: int(row.created_at),
      expiresAt: int(row.expires_at),
      signing: row.kid === signer,
    }));
  }

  /** Read the table again and rebuild the ring (keys past their grace leave it). */
  async reload(): Promise<void> {
    const { db, t } = this.#database;
    const now = Math.floor(Date.now() / 1000);
    const rows = (await db
      .selectFrom(t.signingKeys)
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      // The key not rotated out first: two rotations in one second have equal created_at.
      .orderBy(sql`CASE WHEN expires_at IS NULL THEN 0 ELSE 1 END`)
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .execute()) as SigningKeyRow[];
    if (rows.length === 0) {
      this.#rows = [];
      return;
    }
    // Unchanged rows keep their key objects, so the verified-token cache stays warm across polls.
    const derived: TesseraKey[] = [];
    const keys = rows.map((row, i) => {
      const known = this.#imported.get(row.kid);
      if (known !== undefined && known.alg === row.alg) {
        derived[i] = this.#derived.get(row.kid) as TesseraKey;
        return known;
      }
      const text = this.#privateText(row);
      derived[i] = deriveRefreshKey(row.kid, text);
      return importJwk(JSON.parse(text) as Jwk);
    });
    this.#imported = new Map(keys.map((key, i) => [rows[i]!.kid, key]));
    this.#derived = new Map(derived.map((key, i) => [rows[i]!.kid, key]));
    // The newest key not rotated out signs, on every instance alike; its derived key signs refresh tokens.
    const signer = (rows.find((row) => row.expires_at === null) ?? rows[0]!).kid;
    const ring = new Keyring(keys);
    ring.use(signer);
    const refreshRing = new Keyring(derived);
    refreshRing.use(`${signer}${REFRESH_KID_SUFFIX}`);
    this.#ring = ring;
    this.#refreshRing = refreshRing;
    this.#rows = rows;
    this.#jwks = toJwks(keys);
    this.#jwksText = JSON.stringify(this.#jwks);
  }

  /** Rotate when there is no key, or the newest is older than the rotation period. */
  async rotateIfDue(): Promise<void> {
    const newest = this.#rows[0];
    const now = Math.floor(Date.now() / 1000);
    if (newest !== undefined && int(newest.created_at) + this.#config.keyRotation > now) return;
    await this.rotate({ onlyIfDue: true });
  }

  /**
   * Make a new signing key now; the previous ones verify for the grace period.
   * With `onlyIfDue`, another instance that rotated first wins and nothing is made.
   */
  async rotate(
    options: { onlyIfDue?: boolean; algorithm?: SigningAlgorithm } = {},
  ): Promise<string | undefined> {
    const { db, t, dialect } = this.#database;
    const alg = options.algorithm ?? this.#config.signingAlgorithm;
    const generated = generateKey(alg);
    const publicJwk = generated.type === 'secret' ? undefined : exportJwk(generated);
    const privateJwk = exportJwk(generated, { private: true });
    // kid = RFC 7638 thumbprint for public keys, so verifiers that pick keys by kid find it.
    const kid = publicJwk === undefined ? randomBytes(16).toString('base64url') : thumbprint(publicJwk);
    const privateText = JSON.stringify({ ...privateJwk, kid, alg });
    const made = await db.transaction().execute(async (trx) => {
      if (dialect === 'postgres') {
        await sql`select pg_advisory_xact_lock(hashtext(${t.signingKeys}))`.execute(trx);
      }
      const now = Math.floor(Date.now() / 1000);
      if (options.onlyIfDue) {
        const current = (await trx
          .selectFrom(t.signingKeys)
          .select(['created_at'])
          .where('expires_at', 'is', null)
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst()) as Pick<SigningKeyRow, 'created_at'> | undefined;
        if (current !== undefined && int(current.created_at) + this.#config.keyRotation > now) return false;
      }
      await trx
        .updateTable(t.signingKeys)
        .set({ retired_at: now, expires_at: now + this.#config.keyGrace })
        .where('expires_at', 'is', null)
        .execute();
      await trx
        .insertInto(t.signingKeys)
        .values({
          kid,
          alg,
          public_jwk: publicJwk === undefined ? '' : JSON.stringify({ ...publicJwk, kid, alg }),
          private_jwk: this.#kek === undefined ? privateText : sealPrivateKey(this.#kek, kid, privateText),
          encrypted: this.#kek === undefined ? 0 : 1,
          // Strictly after the previous key, so "newest signs" has one answer within a second too.
          created_at: now,
          retired_at: null,
          expires_at: null,
        })
        .execute();
      return true;
    });
    await this.reload();
    return made ? kid : undefined;
  }

  /** A row's private JWK as text, decrypted when it is sealed. */
  #privateText(row: SigningKeyRow): string {
    if (int(row.encrypted) !== 1) return row.private_jwk;
    if (this.#kek === undefined) {
      throw new Error(`signing key ${row.kid} is encrypted: set TESSERA_KEY_ENCRYPTION_KEY`);
    }
    return openPrivateKey(this.#kek, row.kid, row.private_jwk);
  }
}
