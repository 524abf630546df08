import { MemoryStore, StoreUnavailableError } from 'tessera-auth';
import { describe, expect, it } from 'vitest';
import { describeStoreContract, TestClock } from './contract.js';

describeStoreContract('MemoryStore', async (clock) => ({ store: new MemoryStore({ now: clock.now }) }));

describe('MemoryStore bounds', () => {
  it('reclaims expired entries, soonest first, when full', async () => {
    const clock = new TestClock();
    const store = new MemoryStore({ maxEntries: 3, now: clock.now });
    await store.revokeToken('a', clock.t + 10);
    await store.revokeToken('b', clock.t + 20);
    await store.revokeUserBefore('u', clock.t, clock.t + 30);
    clock.advance(15);
    await store.revokeToken('c', clock.t + 100); // 'a' has expired: it makes room
    expect(store.size).toBe(3);
    expect(await store.isRevoked({ jti: 'b' })).toBe(true);
    expect(await store.isRevoked({ jti: 'c' })).toBe(true);
  });

  it('refuses to evict a revocation that is still valid', async () => {
    const clock = new TestClock();
    const store = new MemoryStore({ maxEntries: 2, now: clock.now });
    await store.revokeToken('a', clock.t + 10);
    await store.revokeToken('b', clock.t + 20);
    await expect(store.revokeToken('c', clock.t + 5)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(
      store.createFamily({ familyId: 'f', userKey: 'u', jti: 'j', now: clock.t, expiresAt: clock.t + 5 }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    // Updating an entry that is already held needs no room.
    await store.revokeToken('a', clock.t + 30);
    expect(await store.isRevoked({ jti: 'a' })).toBe(true);
    expect(await store.isRevoked({ jti: 'b' })).toBe(true);
  });

  it('does not let superseded expiries pile up (many rotations of one family)', async () => {
    const clock = new TestClock();
    const store = new MemoryStore({ maxEntries: 10, now: clock.now });
    await store.createFamily({
      familyId: 'f',
      userKey: 'u',
      jti: 'j0',
      now: clock.t,
      expiresAt: clock.t + 10,
    });
    for (let i = 0; i < 5000; i++) {
      const r = await store.rotateFamily({
        familyId: 'f',
        presentedJti: `j${i}`,
        nextJti: `j${i + 1}`,
        now: clock.t,
        graceSeconds: 0,
        expiresAt: clock.t + 11 + i,
      });
      expect(r.status).toBe('rotated');
    }
    expect(store.size).toBe(1);
  });

  it('rejects every call after close()', async () => {
    const store = new MemoryStore();
    await store.close();
    await expect(store.isRevoked({ jti: 'a' })).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
