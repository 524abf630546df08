/**
 * Sessions: refresh families in the store (RFC 9700 section 4.14), rotation
 * with reuse detection and its grace window, logout, user cut-offs, and the
 * listing and revocation of a user's sessions.
 */
import { bytesToBase64Url } from '../bytes.js';
import { sha256 } from '../crypto/select.js';
import {
  ConfigError,
  MissingClaimError,
  RefreshTokenReusedError,
  RevokedTokenError,
  StoreUnavailableError,
  TesseraError,
} from '../errors.js';
import {
  FamilyExistsError,
  type RevocationCheck,
  type SessionInfo,
  type TokenStore,
} from '../stores/types.js';
import type { JwtPayload } from '../tokens/validate.js';
import { newJti } from './claims.js';
import type { ResolvedConfig } from './config.js';
import { isKeyableUserKey, type Minted, type Minter, userKey } from './minting.js';
import type {
  CreateRefreshTokenOptions,
  CreateTokenPairOptions,
  RefreshResult,
  TokenPair,
  VerifiedToken,
} from './types.js';
import { revocationCheck } from './verification.js';

/** Refresh families, rotation and revocation in the configured store. */
export class Sessions<TUser> {
  readonly #config: ResolvedConfig<TUser>;
  readonly #minter: Minter<TUser>;

  constructor(config: ResolvedConfig<TUser>, minter: Minter<TUser>) {
    this.#config = config;
    this.#minter = minter;
  }

  /** Whether refresh tokens live in families here (rotation on; config ensures a store). */
  get rotating(): boolean {
    return this.#config.rotation.enabled && this.#config.store !== undefined;
  }

  /**
   * Whether a refresh can leave the store's revocation check to the rotation:
   * rotation on, in a store whose `rotateFamily` checks the presented token
   * (`rotationChecksRevocation`). See {@link refresh}'s `storeCheck`.
   */
  get rotationChecksRevocation(): boolean {
    return this.rotating && this.#config.store!.rotationChecksRevocation === true;
  }

  /**
   * Log in: an access token and a refresh token. Under rotation the refresh
   * token opens a new family and both tokens carry its id in `fam`.
   */
  async createTokenPair(options: CreateTokenPairOptions): Promise<TokenPair> {
    const minter = this.#minter;
    const now = minter.issueTime();
    const freshClaim = minter.freshClaim(options.fresh ?? true);
    if (!this.rotating) {
      const refresh = await this.#mintRefresh(options, now);
      const access = await minter.mint('access', options, {
        now,
        fresh: freshClaim,
        defaultExpires: this.#config.accessExpires,
        csrfValue: sessionCsrf(refresh),
      });
      return { accessToken: access.token, refreshToken: refresh.token, familyId: undefined };
    }
    const { refresh, familyId } = await this.openFamily(options, now, options.metadata);
    const access = await minter.mint('access', options, {
      now,
      fresh: freshClaim,
      defaultExpires: this.#config.accessExpires,
      familyId,
      csrfValue: sessionCsrf(refresh),
    });
    return { accessToken: access.token, refreshToken: refresh.token, familyId };
  }

  /**
   * A refresh token that opens a new family (a session that can be listed and
   * revoked), recorded in the store before the token is handed out.
   */
  async openFamily(
    options: CreateRefreshTokenOptions,
    now: number,
    metadata?: Record<string, string>,
  ): Promise<{ refresh: Minted; familyId: string }> {
    const store = this.requireStore('a refresh family');
    const familyId = newJti({ ...this.#config.profile, jtiStyle: 'uuid' });
    const jti = newJti(this.#config.profile);
    const refresh = await this.#mintRefresh(options, now, { familyId, jti });
    const { payload } = refresh;
    const identity = payload[this.#config.profile.identityClaim];
    // The family lives as long as its first token (a call's own expiresIn included).
    const expiresAt = typeof payload.exp === 'number' ? Math.ceil(payload.exp) : this.#refreshExpiry(now);
    await storeCall('createFamily', () =>
      store.createFamily({ familyId, userKey: userKey(identity), jti, now, expiresAt, metadata }),
    );
    return { refresh, familyId };
  }

  /**
   * Redeem a verified refresh token: a new access token (never fresh) and,
   * under rotation, the family's successor refresh token. See
   * {@link TokenManager.refreshTokens}.
   *
   * `storeCheck`, when given, is the store's revocation check the verification
   * left undone. A token with a family has it made inside the rotation
   * (`RotateRequest.presented`: one store operation); any other token has it
   * made here first, before anything else can refuse the token.
   */
  async refresh(presented: VerifiedToken<unknown>, storeCheck?: () => Promise<void>): Promise<RefreshResult> {
    const { rotation, profile } = this.#config;
    const { payload } = presented;
    const parts = { header: presented.header, payload };
    const now = this.#minter.issueTime();
    let familyId: string | undefined = typeof payload.fam === 'string' ? payload.fam : undefined;
    let refreshToken: string | undefined;
    // A store that checks revocation inside the rotation is always handed the presented
    // token, even when a guard already checked it: it costs no round trip, and a context
    // from a guard built with `skipRevocationCheck` is then still refused when revoked.
    const foldable =
      this.rotationChecksRevocation &&
      familyId !== undefined &&
      typeof payload.jti === 'string' &&
      isKeyableUserKey(userKey(payload[profile.identityClaim]));
    const check: RevocationCheck | undefined = foldable
      ? revocationCheck(payload, profile.identityClaim)
      : undefined;
    if (storeCheck !== undefined && !foldable) await storeCheck();
    if (this.rotating) {
      const store = this.#config.store!;
      const presentedJti = payload.jti;
      // Single use needs an id to spend, and a user the store can file the family under.
      if (typeof presentedJti !== 'string') throw new MissingClaimError('jti', 'Token has no id', parts);
      this.#minter.checkIdentity(payload[profile.identityClaim]);
      const family = familyId ?? (await this.#adoptFamily(store, payload, presentedJti, now));
      familyId = family;
      const nextJti = newJti(profile);
      const expiresAt = this.#refreshExpiry(now);
      const outcome = await storeCall('rotateFamily', () =>
        store.rotateFamily({
          familyId: family,
          presentedJti,
          nextJti,
          now,
          graceSeconds: rotation.graceSeconds,
          expiresAt,
          userKey: userKey(payload[profile.identityClaim]),
          ...(check === undefined ? {} : { presented: check }),
        }),
      );
      // The store has already revoked the whole family when it answers 'reused'. A presented
      // token the store has revoked (checked inside the rotation) is 'revoked', as before.
      if (outcome.status === 'reused') throw new RefreshTokenReusedError(parts);
      if (outcome.status !== 'rotated' && outcome.status !== 'grace') throw new RevokedTokenError(parts);
      // Inside the grace window the family did not move: hand out the successor the
      // winning rotation minted (its jti and expiry), so every tab converges on it.
      const successor =
        outcome.status === 'rotated'
          ? { jti: nextJti, expiresAt }
          : { jti: outcome.currentJti, expiresAt: outcome.expiresAt };
      if (typeof successor.jti !== 'string' || typeof successor.expiresAt !== 'number') {
        throw new StoreUnavailableError('Token store answered a rotation without the current refresh token');
      }
      // SimpleJWT's BLACKLIST_AFTER_ROTATION: the presented token's jti is revoked too.
      if (rotation.blacklistAfterRotation) await this.revokeToken(payload);
      const lifetime = this.#config.refreshExpires === false ? false : successor.expiresAt - now;
      const next = await this.#minter.reissue('refresh', payload, {
        now,
        familyId,
        jti: successor.jti,
        expiresIn: lifetime,
      });
      refreshToken = next.token;
    }
    let accessToken: string;
    if (profile.accessCopiesRefreshClaims) {
      const claims =
        familyId === undefined || payload.fam === familyId ? payload : { ...payload, fam: familyId };
      accessToken = await this.#minter.accessFromRefresh(claims);
    } else {
      const access = await this.#minter.reissue('access', payload, {
        now,
        familyId,
        expiresIn: this.#config.accessExpires,
      });
      accessToken = access.token;
    }
    return { accessToken, refreshToken, presented };
  }

  /** Revoke one token (by jti, until its exp) in the store. */
  async revokeToken(payload: JwtPayload): Promise<void> {
    const store = this.requireStore('revokeToken');
    if (typeof payload.jti !== 'string') throw new MissingClaimError('jti', 'Token has no id');
    const jti = payload.jti;
    const exp = typeof payload.exp === 'number' ? payload.exp : this.#config.now() + this.#longestLifetime();
    // Kept past exp by the leeway: the verifier still accepts the token that long.
    const until = Math.ceil(exp + this.#config.rules.leeway);
    await storeCall('revokeToken', () => store.revokeToken(jti, until));
  }

  /** Log out a token's session: its family when it has one, and the token itself. */
  async logout(payload: JwtPayload): Promise<void> {
    const store = this.requireStore('logout');
    if (typeof payload.fam === 'string') {
      const familyId = payload.fam;
      await storeCall('revokeFamily', () => store.revokeFamily(familyId));
    }
    if (typeof payload.jti === 'string') await this.revokeToken(payload);
  }

  /** Revoke every token of a user issued before now, and all their sessions. */
  async revokeAllTokens(identity: unknown): Promise<void> {
    const store = this.requireStore('revokeAllTokens');
    const key = userKey(await this.#minter.identityClaim(identity));
    const now = Math.floor(this.#config.now());
    await storeCall('revokeUserBefore', () =>
      store.revokeUserBefore(key, now, now + this.#longestLifetime()),
    );
    await storeCall('revokeUserFamilies', () => store.revokeUserFamilies(key));
  }

  /** A user's live sessions (refresh families), newest first. */
  async listSessions(identity: unknown): Promise<SessionInfo[]> {
    const store = this.requireStore('listSessions');
    const key = userKey(await this.#minter.identityClaim(identity));
    return storeCall('listSessions', () => store.listSessions(key, Math.floor(this.#config.now())));
  }

  /** Revoke one session by its family id. Returns whether it existed. */
  async revokeSession(familyId: string): Promise<boolean> {
    const store = this.requireStore('revokeSession');
    return storeCall('revokeFamily', () => store.revokeFamily(familyId));
  }

  /**
   * The family of a refresh token minted outside any (before rotation was on, or
   * by a peer): derived from its jti, so that every presentation of that token
   * lands in the same family and the second one outside the grace window is
   * reuse. Created on first sight; a concurrent creation is the same family.
   */
  async #adoptFamily(store: TokenStore, payload: JwtPayload, jti: string, now: number): Promise<string> {
    const familyId = `jti-${bytesToBase64Url(sha256(jti))}`;
    const identity = payload[this.#config.profile.identityClaim];
    const expiresAt =
      typeof payload.exp === 'number' ? Math.max(Math.ceil(payload.exp), now + 1) : this.#refreshExpiry(now);
    await storeCall('createFamily', async () => {
      try {
        await store.createFamily({ familyId, userKey: userKey(identity), jti, now, expiresAt });
      } catch (error) {
        if (!(error instanceof FamilyExistsError)) throw error;
      }
    });
    return familyId;
  }

  #mintRefresh(
    options: CreateRefreshTokenOptions,
    now: number,
    family: { familyId?: string; jti?: string } = {},
  ): Promise<Minted> {
    return this.#minter.mint('refresh', options, {
      now,
      fresh: false,
      defaultExpires: this.#config.refreshExpires,
      ...family,
    });
  }

  /** The store, or a ConfigError naming what needed it. */
  requireStore(what: string): TokenStore {
    const store = this.#config.store;
    if (store === undefined) throw new ConfigError(`${what} needs a store: configure \`store\``);
    return store;
  }

  // A family of non-expiring refresh tokens still needs a date to be purged at.
  #refreshExpiry(now: number): number {
    const lifetime = this.#config.refreshExpires;
    return Math.ceil(now + (lifetime === false ? 10 * 365 * 86_400 : lifetime));
  }

  #longestLifetime(): number {
    const { accessExpires, refreshExpires, slidingRefreshExpires } = this.#config;
    return Math.max(accessExpires || 0, refreshExpires || 0, slidingRefreshExpires);
  }
}

// Store failures become StoreUnavailableError: nothing is half-done silently.
async function storeCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw new StoreUnavailableError(`Token store failed during ${operation}`, { cause: error });
  }
}

// One CSRF value per session: the pair shares the refresh token's, and every
// re-issue carries it on, so tabs sharing one cookie jar never race on it.
function sessionCsrf(refresh: Minted): string | undefined {
  return typeof refresh.payload.csrf === 'string' ? refresh.payload.csrf : undefined;
}
