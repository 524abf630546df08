/**
 * The one behaviour every {@link TokenStore} must have, as a reusable suite:
 * `describeStoreContract(name, makeStore)` is called once per backend (memory,
 * SQLite, PostgreSQL, MariaDB, Redis with and without local cache).
 *
 * Each test gets a fresh, isolated store (its own tables or key prefix) and a
 * clock it can move, so expiry is tested without sleeping.
 */

import { FamilyExistsError, type TokenStore } from 'tessera-auth';
import type { RotateOutcome } from 'tessera-auth/core';
import { afterEach, describe, expect, it } from 'vitest';

/** A clock the test moves by hand; starts at the real current second. */
export class TestClock {
  /** Current unix second. */
  t = Math.floor(Date.now() / 1000);
  /** The clock function handed to stores. */
  readonly now = (): number => this.t;
  /** Moves time forward. */
  advance(seconds: number): void {
    this.t += seconds;
  }
}

/** A fresh store plus how to drop its namespace afterwards. */
export interface StoreUnderTest {
  store: TokenStore;
  /** Drops tables or keys; called after `close()`. */
  drop?: () => Promise<void>;
}

/** Builds an isolated store using `clock` for methods that take no `now`. */
export type MakeStore = (clock: TestClock) => Promise<StoreUnderTest>;

let seq = 0;
/** A unique id for this test run (ids never collide between tests, even on shared backends). */
function uid(kind: string): string {
  seq += 1;
  return `${kind}-${process.pid}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Counts outcomes by status. */
function tally(outcomes: RotateOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return counts;
}

/** Registers the contract suite for one store. */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`TokenStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const open = async (clock = new TestClock()): Promise<{ store: TokenStore; clock: TestClock }> => {
      current = await makeStore(clock);
      return { store: current.store, clock };
    };
    afterEach(async () => {
      if (current === undefined) return;
      const { store, drop } = current;
      current = undefined;
      await store.close();
      await drop?.();
    });

    describe('revokeToken / isRevoked by jti', () => {
      it('revokes one jti until its expiry, and no other', async () => {
        const { store, clock } = await open();
        const jti = uid('jti');
        expect(await store.isRevoked({ jti })).toBe(false);
        await store.revokeToken(jti, clock.t + 60);
        expect(await store.isRevoked({ jti })).toBe(true);
        expect(await store.isRevoked({ jti: uid('other') })).toBe(false);
        expect(await store.isRevoked({})).toBe(false);
        clock.advance(59);
        expect(await store.isRevoked({ jti })).toBe(true);
        clock.advance(1);
        expect(await store.isRevoked({ jti })).toBe(false);
      });

      it('keeps the later expiry when a jti is revoked twice', async () => {
        const { store, clock } = await open();
        const jti = uid('jti');
        await store.revokeToken(jti, clock.t + 100);
        await store.revokeToken(jti, clock.t + 10);
        clock.advance(50);
        expect(await store.isRevoked({ jti })).toBe(true);
      });

      it('refuses malformed arguments before touching the backend', async () => {
        const { store, clock } = await open();
        await expect(store.revokeToken('', clock.t + 10)).rejects.toThrow(TypeError);
        await expect(store.revokeToken('x'.repeat(256), clock.t + 10)).rejects.toThrow(RangeError);
        await expect(store.revokeToken('a', 1.5)).rejects.toThrow(TypeError);
        await expect(store.revokeUserBefore('u', -1, 10)).rejects.toThrow(TypeError);
      });
    });

    describe('revokeUserBefore (cut-off) vs iat', () => {
      it('revokes iat < cut-off, not iat >= cut-off, only for that user', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const cut = clock.t;
        await store.revokeUserBefore(user, cut, cut + 3600);
        expect(await store.isRevoked({ userKey: user, iat: cut - 1 })).toBe(true);
        expect(await store.isRevoked({ userKey: user, iat: cut - 0.5 })).toBe(true);
        expect(await store.isRevoked({ userKey: user, iat: cut })).toBe(false);
        expect(await store.isRevoked({ userKey: user, iat: cut + 1 })).toBe(false);
        expect(await store.isRevoked({ userKey: uid('user'), iat: cut - 1 })).toBe(false);
        // A token without iat cannot prove it is newer than the cut-off.
        expect(await store.isRevoked({ userKey: user })).toBe(true);
      });

      it('keeps the maximum cut-off and the maximum keepUntil', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        await store.revokeUserBefore(user, clock.t, clock.t + 100);
        await store.revokeUserBefore(user, clock.t - 50, clock.t + 10);
        expect(await store.isRevoked({ userKey: user, iat: clock.t - 1 })).toBe(true);
        clock.advance(50);
        expect(await store.isRevoked({ userKey: user, iat: clock.t - 60 })).toBe(true);
        await store.revokeUserBefore(user, clock.t, clock.t + 10);
        expect(await store.isRevoked({ userKey: user, iat: clock.t - 1 })).toBe(true);
      });

      it('forgets the cut-off at keepUntil', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        await store.revokeUserBefore(user, clock.t, clock.t + 30);
        clock.advance(30);
        expect(await store.isRevoked({ userKey: user, iat: 1 })).toBe(false);
      });
    });

    describe('families: create, list, rotate', () => {
      it('lists live sessions newest first, with metadata', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const t = clock.t;
        await store.createFamily({
          familyId: 'fam-b',
          userKey: user,
          jti: uid('j'),
          now: t,
          expiresAt: t + 100,
        });
        await store.createFamily({
          familyId: 'fam-a',
          userKey: user,
          jti: uid('j'),
          now: t,
          expiresAt: t + 100,
          metadata: { ua: 'Firefox', ip: '192.0.2.1', ключ: 'значение ✓' },
        });
        await store.createFamily({
          familyId: 'fam-c',
          userKey: user,
          jti: uid('j'),
          now: t + 5,
          expiresAt: t + 200,
        });
        await store.createFamily({
          familyId: uid('f'),
          userKey: uid('other'),
          jti: uid('j'),
          now: t,
          expiresAt: t + 100,
        });
        const sessions = await store.listSessions(user, t + 5);
        expect(sessions.map((s) => s.familyId)).toEqual(['fam-c', 'fam-a', 'fam-b']);
        expect(sessions[1]).toEqual({
          familyId: 'fam-a',
          userKey: user,
          createdAt: t,
          lastUsedAt: t,
          expiresAt: t + 100,
          metadata: { ua: 'Firefox', ip: '192.0.2.1', ключ: 'значение ✓' },
        });
        expect(sessions[0]?.metadata).toEqual({});
        expect((await store.listSessions(user, t + 100)).map((s) => s.familyId)).toEqual(['fam-c']);
        expect(await store.listSessions(uid('nobody'), t)).toEqual([]);
      });

      it('refuses a family id that already exists', async () => {
        const { store, clock } = await open();
        const f = {
          familyId: uid('f'),
          userKey: uid('u'),
          jti: uid('j'),
          now: clock.t,
          expiresAt: clock.t + 60,
        };
        await store.createFamily(f);
        await expect(store.createFamily({ ...f, jti: uid('j') })).rejects.toBeInstanceOf(FamilyExistsError);
      });

      it('rotates: current -> rotated, updates lastUsedAt and expiresAt, then the new jti is current', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const familyId = uid('f');
        const [j1, j2, j3] = [uid('j'), uid('j'), uid('j')];
        const t = clock.t;
        await store.createFamily({ familyId, userKey: user, jti: j1, now: t, expiresAt: t + 100 });
        const r1 = await store.rotateFamily({
          familyId,
          presentedJti: j1,
          nextJti: j2,
          now: t + 10,
          graceSeconds: 0,
          expiresAt: t + 300,
        });
        expect(r1).toEqual({ status: 'rotated', currentJti: j2, expiresAt: t + 300 });
        const [s] = await store.listSessions(user, t + 10);
        expect(s).toMatchObject({ createdAt: t, lastUsedAt: t + 10, expiresAt: t + 300 });
        // The family now lives past its first expiry.
        const r2 = await store.rotateFamily({
          familyId,
          presentedJti: j2,
          nextJti: j3,
          now: t + 150,
          graceSeconds: 0,
          expiresAt: t + 400,
        });
        expect(r2.status).toBe('rotated');
        expect(await store.isRevoked({ familyId })).toBe(false);
      });

      it('grace: the previous jti inside the window changes nothing but lastUsedAt and answers the current jti', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const familyId = uid('f');
        const [j1, j2, j3, j4] = [uid('j'), uid('j'), uid('j'), uid('j')];
        const t = clock.t;
        await store.createFamily({ familyId, userKey: user, jti: j1, now: t, expiresAt: t + 1000 });
        const base = { familyId, graceSeconds: 30 };
        expect(
          await store.rotateFamily({
            ...base,
            presentedJti: j1,
            nextJti: j2,
            now: t + 100,
            expiresAt: t + 1000,
          }),
        ).toEqual({ status: 'rotated', currentJti: j2, expiresAt: t + 1000 });
        // Retry with j1 (the response carrying j2 was lost): the answer is j2 again, and
        // neither j3 nor the later expiry it came with is stored.
        expect(
          await store.rotateFamily({
            ...base,
            presentedJti: j1,
            nextJti: j3,
            now: t + 130,
            expiresAt: t + 2000,
          }),
        ).toEqual({ status: 'grace', currentJti: j2, expiresAt: t + 1000 });
        expect(await store.listSessions(user, t + 130)).toMatchObject([
          { familyId, createdAt: t, lastUsedAt: t + 130, expiresAt: t + 1000 },
        ]);
        // j2 is still current: it rotates normally.
        expect(
          await store.rotateFamily({
            ...base,
            presentedJti: j2,
            nextJti: j4,
            now: t + 131,
            expiresAt: t + 1100,
          }),
        ).toEqual({ status: 'rotated', currentJti: j4, expiresAt: t + 1100 });
        expect(await store.isRevoked({ familyId })).toBe(false);
      });

      it('ten concurrent refreshes of one token inside the window converge on one successor, and each refreshes on', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const j1 = uid('j');
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti: j1, now: t, expiresAt: t + 1000 });
        const redeem = (presentedJti: string, now: number, tag: string) =>
          Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              // Each caller proposes its own successor and its own expiry; only the winner's are kept.
              store.rotateFamily({
                familyId,
                presentedJti,
                nextJti: `${presentedJti}-${tag}${i}`,
                now,
                graceSeconds: 10,
                expiresAt: now + 1000 + i,
              }),
            ),
          );
        const converged = (outcomes: RotateOutcome[]) => {
          expect(tally(outcomes)).toEqual({ rotated: 1, grace: 9 });
          const winner = outcomes.find((o) => o.status === 'rotated');
          if (winner?.status !== 'rotated') throw new Error('no rotation won');
          for (const o of outcomes) {
            expect(o).toEqual({
              status: o.status,
              currentJti: winner.currentJti,
              expiresAt: winner.expiresAt,
            });
          }
          return winner;
        };

        // Ten tabs present j1 at once: one rotation, nine retries inside the window, one successor.
        const first = converged(await redeem(j1, t + 1, 'a'));
        expect(first.currentJti).toMatch(new RegExp(`^${j1}-a\\d$`));
        // Every tab holds that successor and refreshes on, again at once: they converge again.
        const second = converged(await redeem(first.currentJti, t + 2, 'b'));
        expect(second.currentJti).not.toBe(first.currentJti);
        expect(await store.isRevoked({ familyId })).toBe(false);
        // And once more, one tab alone, later but inside the window of the last rotation.
        expect(
          await store.rotateFamily({
            familyId,
            presentedJti: first.currentJti,
            nextJti: uid('j'),
            now: t + 12,
            graceSeconds: 10,
            expiresAt: t + 2000,
          }),
        ).toEqual({ status: 'grace', currentJti: second.currentJti, expiresAt: second.expiresAt });

        // After the window, a replay of a spent jti is reuse: the whole family dies.
        expect(
          await store.rotateFamily({
            familyId,
            presentedJti: first.currentJti,
            nextJti: uid('j'),
            now: t + 13,
            graceSeconds: 10,
            expiresAt: t + 2000,
          }),
        ).toEqual({ status: 'reused' });
        expect(await store.isRevoked({ familyId })).toBe(true);
        expect(
          await store.rotateFamily({
            familyId,
            presentedJti: second.currentJti,
            nextJti: uid('j'),
            now: t + 13,
            graceSeconds: 10,
            expiresAt: t + 2000,
          }),
        ).toEqual({ status: 'revoked' });
      });

      it('a jti two rotations old is a reuse even inside the window of the last rotation', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const [j1, j2, j3] = [uid('j'), uid('j'), uid('j')];
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti: j1, now: t, expiresAt: t + 1000 });
        const base = { familyId, graceSeconds: 30, now: t, expiresAt: t + 1000 };
        await store.rotateFamily({ ...base, presentedJti: j1, nextJti: j2 });
        await store.rotateFamily({ ...base, presentedJti: j2, nextJti: j3 });
        expect(await store.rotateFamily({ ...base, presentedJti: j1, nextJti: uid('j') })).toEqual({
          status: 'reused',
        });
        expect(await store.isRevoked({ familyId })).toBe(true);
      });

      it('grace: the previous jti after the window is a reuse and revokes the family', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const familyId = uid('f');
        const [j1, j2, j3] = [uid('j'), uid('j'), uid('j')];
        const t = clock.t;
        await store.createFamily({ familyId, userKey: user, jti: j1, now: t, expiresAt: t + 1000 });
        const base = { familyId, graceSeconds: 30, expiresAt: t + 1000 };
        await store.rotateFamily({ ...base, presentedJti: j1, nextJti: j2, now: t + 100 });
        expect(await store.rotateFamily({ ...base, presentedJti: j1, nextJti: j3, now: t + 131 })).toEqual({
          status: 'reused',
        });
        expect(await store.isRevoked({ familyId })).toBe(true);
        expect(await store.listSessions(user, t + 131)).toEqual([]);
        // Even the legitimate current jti is now refused.
        expect(
          await store.rotateFamily({ ...base, presentedJti: j2, nextJti: uid('j'), now: t + 132 }),
        ).toEqual({
          status: 'revoked',
        });
      });

      it('graceSeconds 0 gives no grace, even within the same second', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const [j1, j2] = [uid('j'), uid('j')];
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti: j1, now: t, expiresAt: t + 100 });
        const base = { familyId, graceSeconds: 0, expiresAt: t + 100, now: t };
        expect((await store.rotateFamily({ ...base, presentedJti: j1, nextJti: j2 })).status).toBe('rotated');
        expect((await store.rotateFamily({ ...base, presentedJti: j1, nextJti: uid('j') })).status).toBe(
          'reused',
        );
        expect(await store.isRevoked({ familyId })).toBe(true);
      });

      it('graceSeconds 0: ten concurrent refreshes give one rotated, one reused, the family revoked', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const j1 = uid('j');
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti: j1, now: t, expiresAt: t + 100 });
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.rotateFamily({
              familyId,
              presentedJti: j1,
              nextJti: `${j1}-${i}`,
              now: t,
              graceSeconds: 0,
              expiresAt: t + 100,
            }),
          ),
        );
        expect(tally(outcomes)).toEqual({ rotated: 1, reused: 1, revoked: 8 });
        expect(await store.isRevoked({ familyId })).toBe(true);
      });

      it('a jti that never belonged to the family is a reuse', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti: uid('j'), now: t, expiresAt: t + 100 });
        const r = {
          familyId,
          presentedJti: uid('forged'),
          nextJti: uid('j'),
          now: t,
          graceSeconds: 60,
          expiresAt: t + 100,
        };
        expect((await store.rotateFamily(r)).status).toBe('reused');
        expect(await store.isRevoked({ familyId })).toBe(true);
      });

      it('unknown family, expired family', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const r = { presentedJti: uid('j'), nextJti: uid('j'), now: t, graceSeconds: 0, expiresAt: t + 100 };
        expect(await store.rotateFamily({ ...r, familyId: uid('f') })).toEqual({ status: 'unknown' });
        const familyId = uid('f');
        const jti = uid('j');
        await store.createFamily({ familyId, userKey: uid('u'), jti, now: t, expiresAt: t + 100 });
        expect(await store.rotateFamily({ ...r, familyId, presentedJti: jti, now: t + 100 })).toEqual({
          status: 'revoked',
        });
        // Expiry is not revocation: the current jti still does not count as reused.
        expect(await store.isRevoked({ familyId })).toBe(false);
      });

      it('a user cut-off newer than the family revokes it; an older one does not', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const t = clock.t;
        const old = { familyId: uid('f'), jti: uid('j') };
        const young = { familyId: uid('f'), jti: uid('j') };
        await store.createFamily({ ...old, userKey: user, now: t - 10, expiresAt: t + 100 });
        await store.createFamily({ ...young, userKey: user, now: t, expiresAt: t + 100 });
        await store.revokeUserBefore(user, t, t + 100);
        const r = { nextJti: uid('j'), now: t + 1, graceSeconds: 0, expiresAt: t + 100 };
        expect(await store.rotateFamily({ ...r, familyId: old.familyId, presentedJti: old.jti })).toEqual({
          status: 'revoked',
        });
        expect((await store.listSessions(user, t + 1)).map((s) => s.familyId)).toEqual([young.familyId]);
        expect(await store.rotateFamily({ ...r, familyId: young.familyId, presentedJti: young.jti })).toEqual(
          { status: 'rotated', currentJti: r.nextJti, expiresAt: t + 100 },
        );
      });

      it('refuses nextJti equal to presentedJti', async () => {
        const { store, clock } = await open();
        const r = {
          familyId: 'f',
          presentedJti: 'a',
          nextJti: 'a',
          now: clock.t,
          graceSeconds: 0,
          expiresAt: clock.t,
        };
        await expect(store.rotateFamily(r)).rejects.toThrow(TypeError);
      });
    });

    describe('rotateFamily with presented: the revocation check inside the rotation', () => {
      /** A live family of `user` whose current jti is `jti`, created at `t`. */
      async function family(store: TokenStore, t: number, user = uid('user')) {
        const familyId = uid('f');
        const jti = uid('j');
        await store.createFamily({ familyId, userKey: user, jti, now: t, expiresAt: t + 600 });
        return { familyId, jti, user };
      }

      it('declares the capability', async () => {
        const { store } = await open();
        expect(store.rotationChecksRevocation).toBe(true);
      });

      it('a revoked presented jti: revoked, and nothing moves until that revocation expires', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const f = await family(store, t);
        await store.revokeToken(f.jti, t + 60);
        const next = uid('j');
        const r = {
          familyId: f.familyId,
          presentedJti: f.jti,
          nextJti: next,
          now: t,
          graceSeconds: 0,
          expiresAt: t + 600,
          presented: { jti: f.jti, userKey: f.user, iat: t, familyId: f.familyId },
        };
        expect(await store.rotateFamily(r)).toEqual({ status: 'revoked' });
        // Neither rotated nor counted as reuse: the family is live and still at the same jti.
        expect(await store.isRevoked({ familyId: f.familyId })).toBe(false);
        expect((await store.listSessions(f.user, t)).map((s) => s.familyId)).toEqual([f.familyId]);
        // The revocation is read by the store's clock, as isRevoked reads it.
        clock.advance(60);
        expect(await store.rotateFamily({ ...r, now: clock.t })).toEqual({
          status: 'rotated',
          currentJti: next,
          expiresAt: t + 600,
        });
      });

      it("the presented token's user cut-off against its iat (no iat counts as older)", async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const f = await family(store, t);
        // The family itself (created at t) is not cut off by a cut-off at t; its older tokens are.
        await store.revokeUserBefore(f.user, t, t + 600);
        await store.revokeUserBefore(uid('user'), t + 100, t + 600);
        const r = { familyId: f.familyId, presentedJti: f.jti, now: t, graceSeconds: 0, expiresAt: t + 600 };
        const presented = { jti: f.jti, userKey: f.user, familyId: f.familyId };
        for (const iat of [t - 1, t - 0.5, undefined]) {
          expect(
            await store.rotateFamily({ ...r, nextJti: uid('j'), presented: { ...presented, iat } }),
          ).toEqual({ status: 'revoked' });
        }
        expect(await store.isRevoked({ familyId: f.familyId })).toBe(false);
        const next = uid('j');
        expect(
          await store.rotateFamily({ ...r, nextJti: next, presented: { ...presented, iat: t } }),
        ).toEqual({
          status: 'rotated',
          currentJti: next,
          expiresAt: t + 600,
        });
      });

      it('a revoked presented jti gets neither the grace answer nor the reuse revocation', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        for (const graceSeconds of [5, 0]) {
          const f = await family(store, t);
          const j2 = uid('j');
          const rotate = { familyId: f.familyId, now: t, graceSeconds, expiresAt: t + 600 };
          expect((await store.rotateFamily({ ...rotate, presentedJti: f.jti, nextJti: j2 })).status).toBe(
            'rotated',
          );
          // SimpleJWT's blacklist after rotation: the spent token's jti is revoked.
          await store.revokeToken(f.jti, t + 60);
          const replay = {
            ...rotate,
            now: t + 1,
            presentedJti: f.jti,
            nextJti: uid('j'),
            presented: { jti: f.jti, userKey: f.user, iat: t, familyId: f.familyId },
          };
          expect(await store.rotateFamily(replay)).toEqual({ status: 'revoked' });
          // The family was not revoked as reused: its current token rotates on.
          expect(await store.isRevoked({ familyId: f.familyId })).toBe(false);
          expect(
            (await store.rotateFamily({ ...rotate, now: t + 1, presentedJti: j2, nextJti: uid('j') })).status,
          ).toBe('rotated');
        }
      });

      it('a live presented token rotates, takes grace and is reused exactly as without presented', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const f = await family(store, t);
        const check = (jti: string) => ({ jti, userKey: f.user, iat: t, familyId: f.familyId });
        const r = { familyId: f.familyId, now: t, graceSeconds: 5, expiresAt: t + 600 };
        const j2 = uid('j');
        expect(
          await store.rotateFamily({ ...r, presentedJti: f.jti, nextJti: j2, presented: check(f.jti) }),
        ).toEqual({ status: 'rotated', currentJti: j2, expiresAt: t + 600 });
        expect(
          await store.rotateFamily({ ...r, presentedJti: f.jti, nextJti: uid('j'), presented: check(f.jti) }),
        ).toEqual({ status: 'grace', currentJti: j2, expiresAt: t + 600 });
        const stranger = uid('j');
        expect(
          await store.rotateFamily({
            ...r,
            presentedJti: stranger,
            nextJti: uid('j'),
            presented: check(stranger),
          }),
        ).toEqual({ status: 'reused' });
        expect(await store.isRevoked({ familyId: f.familyId })).toBe(true);
      });

      it("the family's own user decides its cut-off, whatever user the request names", async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const other = uid('user');
        // The user named as a hint (userKey), or as the presented token's user.
        const forms = [
          (_f: { familyId: string; jti: string }) => ({ userKey: other }),
          (f: { familyId: string; jti: string }) => ({
            presented: { jti: f.jti, userKey: other, iat: t, familyId: f.familyId },
          }),
        ];
        for (const form of forms) {
          const old = await family(store, t - 10);
          const young = await family(store, t, old.user);
          await store.revokeUserBefore(old.user, t, t + 600);
          const r = { now: t, graceSeconds: 0, expiresAt: t + 600 };
          expect(
            await store.rotateFamily({
              ...r,
              familyId: old.familyId,
              presentedJti: old.jti,
              nextJti: uid('j'),
              ...form(old),
            }),
          ).toEqual({ status: 'revoked' });
          const next = uid('j');
          expect(
            await store.rotateFamily({
              ...r,
              familyId: young.familyId,
              presentedJti: young.jti,
              nextJti: next,
              ...form(young),
            }),
          ).toEqual({ status: 'rotated', currentJti: next, expiresAt: t + 600 });
          // The right user's index still lists it.
          expect((await store.listSessions(old.user, t)).map((s) => s.familyId)).toEqual([young.familyId]);
        }
      });

      it('refuses a presented family other than the one rotated', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const f = await family(store, t);
        const r = {
          familyId: f.familyId,
          presentedJti: f.jti,
          nextJti: uid('j'),
          now: t,
          graceSeconds: 0,
          expiresAt: t + 600,
          presented: { jti: f.jti, familyId: uid('f') },
        };
        await expect(store.rotateFamily(r)).rejects.toThrow(TypeError);
      });
    });

    describe('revokeFamily / revokeUserFamilies', () => {
      it('revokes one family: existing -> true, unknown -> false', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const t = clock.t;
        const a = { familyId: uid('f'), jti: uid('j') };
        const b = { familyId: uid('f'), jti: uid('j') };
        await store.createFamily({ ...a, userKey: user, now: t, expiresAt: t + 100 });
        await store.createFamily({ ...b, userKey: user, now: t, expiresAt: t + 100 });
        expect(await store.revokeFamily(a.familyId)).toBe(true);
        expect(await store.revokeFamily(a.familyId)).toBe(true);
        expect(await store.revokeFamily(uid('f'))).toBe(false);
        expect(await store.isRevoked({ familyId: a.familyId })).toBe(true);
        expect(await store.isRevoked({ familyId: b.familyId })).toBe(false);
        expect(await store.isRevoked({ familyId: uid('f') })).toBe(false);
        const r = { nextJti: uid('j'), now: t, graceSeconds: 0, expiresAt: t + 100 };
        expect((await store.rotateFamily({ ...r, ...a, presentedJti: a.jti })).status).toBe('revoked');
        expect((await store.listSessions(user, t)).map((s) => s.familyId)).toEqual([b.familyId]);
      });

      it('revokes every live family of one user and counts them', async () => {
        const { store, clock } = await open();
        const user = uid('user');
        const other = uid('user');
        const t = clock.t;
        const ids = [uid('f'), uid('f'), uid('f'), uid('f')];
        for (const id of ids)
          await store.createFamily({
            familyId: id,
            userKey: user,
            jti: uid('j'),
            now: t,
            expiresAt: t + 100,
          });
        await store.createFamily({
          familyId: uid('f'),
          userKey: user,
          jti: uid('j'),
          now: t - 100,
          expiresAt: t,
        });
        const theirs = uid('f');
        await store.createFamily({
          familyId: theirs,
          userKey: other,
          jti: uid('j'),
          now: t,
          expiresAt: t + 100,
        });
        await store.revokeFamily(ids[0]!);
        expect(await store.revokeUserFamilies(user)).toBe(3);
        expect(await store.revokeUserFamilies(user)).toBe(0);
        expect(await store.revokeUserFamilies(uid('nobody'))).toBe(0);
        for (const id of ids) expect(await store.isRevoked({ familyId: id })).toBe(true);
        expect(await store.isRevoked({ familyId: theirs })).toBe(false);
        expect(await store.listSessions(user, t)).toEqual([]);
        expect(await store.listSessions(other, t)).toHaveLength(1);
      });
    });

    describe('purgeExpired', () => {
      it('removes exactly what has expired and keeps the rest', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const user = uid('user');
        const [deadJ, liveJ] = [uid('j'), uid('j')];
        const [deadF, liveF] = [uid('f'), uid('f')];
        const [deadU, liveU] = [uid('u'), user];
        await store.revokeToken(deadJ, t + 10);
        await store.revokeToken(liveJ, t + 1000);
        await store.revokeUserBefore(deadU, t, t + 10);
        await store.revokeUserBefore(liveU, t - 100, t + 1000);
        await store.createFamily({
          familyId: deadF,
          userKey: user,
          jti: uid('j'),
          now: t,
          expiresAt: t + 10,
        });
        await store.createFamily({
          familyId: liveF,
          userKey: user,
          jti: uid('j'),
          now: t,
          expiresAt: t + 1000,
        });
        await store.revokeFamily(liveF);
        expect(await store.purgeExpired(t + 9)).toBe(0);
        clock.advance(10);
        expect(await store.purgeExpired(t + 10)).toBe(3);
        expect(await store.purgeExpired(t + 10)).toBe(0);
        expect(await store.isRevoked({ jti: liveJ })).toBe(true);
        expect(await store.isRevoked({ userKey: liveU, iat: t - 101 })).toBe(true);
        expect(await store.isRevoked({ familyId: liveF })).toBe(true);
        expect(await store.revokeFamily(deadF)).toBe(false);
        expect(await store.revokeFamily(liveF)).toBe(true);
      });
    });

    describe('races', () => {
      it('200 concurrent redeems of one refresh token: exactly one rotated, the family revoked', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const jti = uid('j');
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti, now: t, expiresAt: t + 1000 });
        const started = performance.now();
        const outcomes = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            store.rotateFamily({
              familyId,
              presentedJti: jti,
              nextJti: `${jti}-next-${i}`,
              now: t,
              graceSeconds: 0,
              expiresAt: t + 1000,
            }),
          ),
        );
        const ms = performance.now() - started;
        const counts = tally(outcomes);
        console.log(
          `[race] ${name}: 200 concurrent rotateFamily -> ${JSON.stringify(counts)} in ${ms.toFixed(1)} ms`,
        );
        expect(counts.rotated).toBe(1);
        expect(counts.reused).toBe(1);
        expect(counts.revoked).toBe(198);
        expect(await store.isRevoked({ familyId })).toBe(true);
      });

      it('200 concurrent redeems checking the presented token: one rotated; none once it is revoked', async () => {
        const { store, clock } = await open();
        const t = clock.t;
        const user = uid('u');
        const redeemAll = (familyId: string, jti: string) =>
          Promise.all(
            Array.from({ length: 200 }, (_, i) =>
              store.rotateFamily({
                familyId,
                presentedJti: jti,
                nextJti: `${jti}-next-${i}`,
                now: t,
                graceSeconds: 0,
                expiresAt: t + 1000,
                userKey: user,
                presented: { jti, userKey: user, iat: t, familyId },
              }),
            ),
          );
        const live = { familyId: uid('f'), jti: uid('j') };
        await store.createFamily({ ...live, userKey: user, now: t, expiresAt: t + 1000 });
        const counts = tally(await redeemAll(live.familyId, live.jti));
        expect(counts.rotated).toBe(1);
        expect(counts.reused).toBe(1);
        expect(counts.revoked).toBe(198);
        // A revoked token, redeemed 200 times at once: never rotated, never taken as reuse.
        const revoked = { familyId: uid('f'), jti: uid('j') };
        await store.createFamily({ ...revoked, userKey: user, now: t, expiresAt: t + 1000 });
        await store.revokeToken(revoked.jti, t + 1000);
        expect(tally(await redeemAll(revoked.familyId, revoked.jti))).toEqual({ revoked: 200 });
        expect(await store.isRevoked({ familyId: revoked.familyId })).toBe(false);
      });

      it('200 concurrent redeems inside a grace window: one rotated, the rest grace', async () => {
        const { store, clock } = await open();
        const familyId = uid('f');
        const jti = uid('j');
        const t = clock.t;
        await store.createFamily({ familyId, userKey: uid('u'), jti, now: t, expiresAt: t + 1000 });
        const outcomes = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            store.rotateFamily({
              familyId,
              presentedJti: jti,
              nextJti: `${jti}-g-${i}`,
              now: t,
              graceSeconds: 10,
              expiresAt: t + 1000,
            }),
          ),
        );
        expect(tally(outcomes)).toEqual({ rotated: 1, grace: 199 });
        const successors = new Set(outcomes.map((o) => ('currentJti' in o ? o.currentJti : undefined)));
        expect(successors.size).toBe(1);
        expect(await store.isRevoked({ familyId })).toBe(false);
      });

      it('200 concurrent revocations of distinct jtis are all kept', async () => {
        const { store, clock } = await open();
        const jtis = Array.from({ length: 200 }, () => uid('j'));
        await Promise.all(jtis.map((jti) => store.revokeToken(jti, clock.t + 600)));
        const seen = await Promise.all(jtis.map((jti) => store.isRevoked({ jti })));
        expect(seen.filter(Boolean)).toHaveLength(200);
      });
    });
  });
}
