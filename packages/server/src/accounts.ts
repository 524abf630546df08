/**
 * Sign-in and account changes, shared by the Flask-shaped and SimpleJWT-shaped
 * routes: throttled credential checks that take the same time whether or not
 * the user exists, password upgrades on login, and the revocations that follow
 * a password change or a disabled account.
 */
import type { TokenManager, TokenPair } from 'tessera-auth';
import type { ApiKeys } from './api-keys.js';
import type { Audit } from './audit.js';
import { throttled } from './http.js';
import { hashPassword, verifyDummy, verifyPassword } from './passwords/index.js';
import { identityOf, TokenSubject, type User, type Users, type UserWithHash } from './users.js';

/** What the throttle module offers (./throttle). */
export interface ThrottleLike {
  check(keys: string[]): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  fail(keys: string[]): Promise<void>;
  succeed(keys: string[]): Promise<void>;
}

/** Where a sign-in comes from. */
export interface Origin {
  address: string;
  userAgent: string;
}

/** Throttle keys of one attempt: the account (case-folded) and the address. */
function throttleKeys(username: string, address: string): string[] {
  return [`acct:${username.toLowerCase().slice(0, 150)}`, `ip:${address}`];
}

/** Sign-in and account operations. */
export class Accounts {
  readonly #users: Users;
  readonly #throttle: ThrottleLike;
  readonly #audit: Audit;
  readonly #apiKeys: ApiKeys;
  readonly #managers: readonly TokenManager[];

  constructor(deps: {
    users: Users;
    throttle: ThrottleLike;
    audit: Audit;
    apiKeys: ApiKeys;
    /** Every manager whose tokens a revocation must reach (they share one store). */
    managers: readonly TokenManager[];
  }) {
    this.#users = deps.users;
    this.#throttle = deps.throttle;
    this.#audit = deps.audit;
    this.#apiKeys = deps.apiKeys;
    this.#managers = deps.managers;
  }

  /**
   * Check credentials. Returns the user, or undefined for a wrong password, an
   * unknown user or a disabled account alike (same work, same answer); throws
   * a 429 HttpError while the account or the address is throttled.
   */
  async authenticate(username: string, password: string, origin: Origin): Promise<UserWithHash | undefined> {
    const keys = throttleKeys(username, origin.address);
    const verdict = await this.#throttle.check(keys);
    if (!verdict.allowed) {
      await this.#audit.record({ type: 'login.throttled', subject: username, address: origin.address });
      throw throttled(verdict.retryAfterSeconds);
    }
    const user = await this.#users.byUsername(username);
    let ok = false;
    let needsRehash = false;
    if (user === undefined) {
      await verifyDummy(password);
    } else {
      ({ ok, needsRehash } = await verifyPassword(password, user.passwordHash));
    }
    if (!ok || user === undefined || user.disabled) {
      await this.#throttle.fail(keys);
      await this.#audit.record({ type: 'login.failed', subject: username, address: origin.address });
      return undefined;
    }
    await this.#throttle.succeed(keys);
    if (needsRehash) {
      // Imported Django/Werkzeug hashes (and weaker argon2 parameters) become argon2id now that we know the password.
      await this.#users.setPasswordHash(user.id, await hashPassword(password), false);
      await this.#audit.record({ type: 'password.upgraded', subject: user.username });
    }
    await this.#users.touchLogin(user.id);
    await this.#audit.record({ type: 'login', subject: user.username, address: origin.address });
    return user;
  }

  /**
   * Count a costly anonymous attempt (a registration hashes a password) against
   * the client address's sign-in budget; throws a 429 HttpError once it is spent.
   */
  async gate(address: string): Promise<void> {
    const verdict = await this.#throttle.check([`ip:${address}`]);
    if (!verdict.allowed) throw throttled(verdict.retryAfterSeconds);
  }

  /** A token pair for a signed-in user, the device and address as session labels (roles come from the manager's claims callback). */
  async issue(manager: TokenManager, user: User, origin: Origin): Promise<TokenPair> {
    return manager.createTokenPair({
      identity: new TokenSubject(user),
      metadata: { userAgent: origin.userAgent.slice(0, 200), address: origin.address },
    });
  }

  /** New password: stored, then every token and session of the user revoked. */
  async changePassword(user: User, newPassword: string, actor: string, origin: Origin): Promise<void> {
    await this.#users.setPasswordHash(user.id, await hashPassword(newPassword), true);
    await this.revokeEverything(user);
    await this.#audit.record({
      type: 'password.changed',
      actor,
      subject: user.username,
      address: origin.address,
    });
  }

  /**
   * Revoke every token and session of a user in every profile's identity form
   * (a username and a numeric id) so tokens from either endpoint family stop working.
   */
  async revokeEverything(user: User, options: { apiKeys?: boolean } = {}): Promise<void> {
    const seen = new Set<string>();
    for (const manager of this.#managers) {
      const identity = identityOf(manager.config.profile.name, user);
      const key = `${manager.config.profile.name === 'simplejwt' ? 'id' : 'name'}:${identity}`;
      if (seen.has(key)) continue;
      seen.add(key);
      await manager.revokeAllTokens(identity);
    }
    if (options.apiKeys) await this.#apiKeys.revokeAll(user.id);
  }
}
