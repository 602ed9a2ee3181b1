// OidcStore on both engines: pending single sign-on logins (single use, shared by replicas) and the page
// sessions of people signed in through the OpenID provider.
import type { OidcLoginRecord, OidcSessionRecord } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { minutes } from './records';

const DUPLICATE = { message: expect.stringMatching(/UNIQUE|duplicate key/) };

function login(n: number, expiresAt: string): OidcLoginRecord {
  return {
    stateHash: `st${n}`.padEnd(64, '0'),
    browserHash: `br${n}`.padEnd(64, '0'),
    codeVerifier: `verifier-${n}`.padEnd(43, 'v'),
    nonce: `nonce-${n}`,
    returnTo: `/#/incidents/INC-${n}`,
    createdAt: minutes(n),
    expiresAt,
  };
}

function personSession(n: number, expiresAt: string, overrides: Partial<OidcSessionRecord> = {}): OidcSessionRecord {
  return {
    idHash: `os${n}`.padEnd(64, '0'),
    csrf: `csrf-${n}`,
    createdAt: minutes(n),
    expiresAt,
    issuer: 'https://sso.example.test/realms/ops',
    subject: `sub-${n}`,
    name: `Person ${n}`,
    email: `person${n}@example.test`,
    role: 'responder',
    ...overrides,
  };
}

describeEachStore('single sign-on store', (engine) => {
  describe('pending logins', () => {
    it('takes a login once: the second take, from this or another replica, finds nothing', async () => {
      const store = await engine.fresh();
      const other = await engine.another();
      const l = login(1, minutes(10));
      await store.insertOidcLogin(l);
      await expect(store.insertOidcLogin(l)).rejects.toMatchObject(DUPLICATE);
      expect(await other.takeOidcLogin(l.stateHash)).toEqual(l);
      expect(await store.takeOidcLogin(l.stateHash)).toBeUndefined();
      expect(await other.takeOidcLogin(l.stateHash)).toBeUndefined();
      expect(await store.takeOidcLogin('0'.repeat(64))).toBeUndefined();
    });

    it('two replicas taking the same login at once: exactly one gets it', async () => {
      const store = await engine.fresh();
      const other = await engine.another();
      const l = login(2, minutes(10));
      await store.insertOidcLogin(l);
      const taken = await Promise.all([store.takeOidcLogin(l.stateHash), other.takeOidcLogin(l.stateHash)]);
      expect(taken.filter((t) => t !== undefined)).toEqual([l]);
    });

    it('an expired login is still taken (and the service refuses it); pruning removes expired ones only', async () => {
      const store = await engine.fresh();
      for (const [n, expires] of [
        [1, 10],
        [2, 20],
        [3, 30],
      ] as const)
        await store.insertOidcLogin(login(n, minutes(expires)));
      expect(await store.deleteExpiredOidcLogins(minutes(20))).toBe(2);
      expect(await store.deleteExpiredOidcLogins(minutes(20))).toBe(0);
      expect(await store.takeOidcLogin(login(1, minutes(10)).stateHash)).toBeUndefined();
      expect(await store.takeOidcLogin(login(3, minutes(30)).stateHash)).toEqual(login(3, minutes(30)));
    });
  });

  describe('sessions of signed-in people', () => {
    it('finds a live session with its principal, none at or after its expiry', async () => {
      const store = await engine.fresh();
      const s = personSession(1, minutes(60), { role: 'commander' });
      await store.insertOidcSession(s);
      expect(await store.findOidcSession(s.idHash, minutes(59))).toEqual(s);
      expect(await (await engine.another()).findOidcSession(s.idHash, minutes(59))).toEqual(s);
      expect(await store.findOidcSession(s.idHash, minutes(60))).toBeUndefined();
      expect(await store.findOidcSession('0'.repeat(64), minutes(1))).toBeUndefined();
      const noEmail = personSession(2, minutes(60), { email: null });
      await store.insertOidcSession(noEmail);
      expect(await store.findOidcSession(noEmail.idHash, minutes(1))).toEqual(noEmail);
      await expect(store.insertOidcSession(s)).rejects.toMatchObject(DUPLICATE);
      // A token's session with the same hash space never answers for a person's, and the other way round.
      expect(await store.findSession(s.idHash, minutes(1))).toBeUndefined();
    });

    it('deletes one session (idempotently) and the expired ones', async () => {
      const store = await engine.fresh();
      for (const [n, expires] of [
        [1, 10],
        [2, 20],
        [3, 30],
        [4, 40],
      ] as const)
        await store.insertOidcSession(personSession(n, minutes(expires)));
      await store.deleteOidcSession(personSession(4, minutes(40)).idHash);
      await store.deleteOidcSession(personSession(4, minutes(40)).idHash);
      expect(await store.findOidcSession(personSession(4, minutes(40)).idHash, minutes(1))).toBeUndefined();
      expect(await store.deleteExpiredOidcSessions(minutes(20))).toBe(2);
      expect(await store.deleteExpiredOidcSessions(minutes(20))).toBe(0);
      expect(await store.findOidcSession(personSession(3, minutes(30)).idHash, minutes(21))).toEqual(personSession(3, minutes(30)));
    });
  });
});
