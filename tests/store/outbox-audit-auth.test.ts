// OutboxStore, IdempotencyStore, AuditStore and AuthStore on both engines.
import type { AuditEntry, SessionRecord, TokenRecord } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { audit, message, minutes } from './records';

/** The duplicate-key error of either engine. */
const DUPLICATE = { message: expect.stringMatching(/UNIQUE|duplicate key/) };

function token(n: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: `tok_${n}`,
    name: `token ${n}`,
    role: 'admin',
    hash: String(n).repeat(64).slice(0, 64),
    createdAt: minutes(n),
    ...overrides,
  };
}

function session(n: number, tokenId: string, expiresAt: string): SessionRecord {
  return { idHash: `s${n}`.padEnd(64, '0'), tokenId, csrf: `csrf-${n}`, createdAt: minutes(n), expiresAt };
}

describeEachStore('outbox, idempotency, audit and auth stores', (engine) => {
  describe('outbox', () => {
    it('enqueues a message once and lists newest first, optionally per incident', async () => {
      const store = await engine.fresh();
      expect(await store.enqueueOutbox(message('INC-1:page:0', 'INC-1', 1))).toBe(true);
      expect(await store.enqueueOutbox({ ...message('INC-1:page:0', 'INC-1', 1), subject: 'changed' })).toBe(false);
      await store.enqueueOutbox({ ...message('INC-1:page:1', 'INC-1', 3), channel: 'email', to: 'oncall@example.com', drill: false });
      await store.enqueueOutbox(message('INC-2:page:0', 'INC-2', 2));
      // Same createdAt: the id breaks the tie, descending.
      await store.enqueueOutbox(message('INC-2:page:1', 'INC-2', 2));

      const everything = await store.listOutbox({ limit: 10 });
      expect(everything.map((m) => m.id)).toEqual(['INC-1:page:1', 'INC-2:page:1', 'INC-2:page:0', 'INC-1:page:0']);
      expect(everything[3]).toEqual(message('INC-1:page:0', 'INC-1', 1));
      expect(everything[0]).toEqual({ ...message('INC-1:page:1', 'INC-1', 3), channel: 'email', to: 'oncall@example.com', drill: false });

      expect((await store.listOutbox({ limit: 2 })).map((m) => m.id)).toEqual(['INC-1:page:1', 'INC-2:page:1']);
      expect((await store.listOutbox({ incidentId: 'INC-1', limit: 1 })).map((m) => m.id)).toEqual(['INC-1:page:1']);
      expect((await store.listOutbox({ incidentId: 'INC-1', limit: 10 })).map((m) => m.id)).toEqual(['INC-1:page:1', 'INC-1:page:0']);
      expect(await store.listOutbox({ incidentId: 'INC-9', limit: 10 })).toEqual([]);
      await expect(store.listOutbox({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
    });

    it('lets exactly one of two stores enqueue the same message at once', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      const results = await Promise.all([a, b, a, b].map((s) => s.enqueueOutbox(message('INC-1:page:0', 'INC-1', 1))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await a.listOutbox({ limit: 10 })).toEqual([message('INC-1:page:0', 'INC-1', 1)]);
    });
  });

  describe('idempotency keys', () => {
    it('return the first value to later claims, per scope, until released', async () => {
      const store = await engine.fresh();
      expect(await store.claimIdempotencyKey('declare:U1', 'k1', 'INC-1', minutes(1))).toBeUndefined();
      expect(await store.claimIdempotencyKey('declare:U1', 'k1', 'INC-2', minutes(2))).toBe('INC-1');
      expect(await store.claimIdempotencyKey('declare:U2', 'k1', 'INC-3', minutes(2))).toBeUndefined();
      expect(await store.claimIdempotencyKey('declare:U1', 'k2', 'INC-4', minutes(2))).toBeUndefined();

      await store.releaseIdempotencyKey('declare:U1', 'k1');
      await store.releaseIdempotencyKey('declare:U1', 'never-claimed');
      expect(await store.claimIdempotencyKey('declare:U1', 'k1', 'INC-5', minutes(3))).toBeUndefined();
      expect(await store.claimIdempotencyKey('declare:U1', 'k1', 'INC-6', minutes(3))).toBe('INC-5');
      expect(await store.claimIdempotencyKey('declare:U2', 'k1', 'INC-7', minutes(3))).toBe('INC-3');
    });

    it('have one winner between two stores racing for a key, and everyone agrees on its value', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      for (let round = 0; round < 5; round++) {
        const key = `race-${round}`;
        const racers = Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? a : b).claimIdempotencyKey('declare:U1', key, `INC-${i}`, minutes(1)),
        );
        const results = await Promise.all(racers);
        const winners = results.flatMap((r, i) => (r === undefined ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => r !== undefined)).toEqual(Array(5).fill(`INC-${winners[0]}`));
      }
    });
  });

  describe('audit', () => {
    const linked = (entry: AuditEntry, seq: number) => ({ ...entry, seq, prevHash: expect.any(String), hash: expect.any(String) });

    it('records entries and lists them newest first (in chain order), optionally per incident', async () => {
      const store = await engine.fresh();
      await store.recordAudit(audit('a1', 'INC-1', 1));
      await store.recordAudit(audit('a2', null, 2));
      await store.recordAudit({ ...audit('a3', 'INC-1', 3), outcome: 'rejected', details: {} });
      await store.recordAudit(audit('a0', 'INC-2', 3));

      const everything = await store.listAudit({ limit: 10 });
      expect(everything.map((e) => e.id)).toEqual(['a0', 'a3', 'a2', 'a1']);
      expect(everything[2]).toEqual(linked(audit('a2', null, 2), 2));
      expect(everything[3]).toEqual(linked(audit('a1', 'INC-1', 1), 1));
      expect((await store.listAudit({ limit: 1 })).map((e) => e.id)).toEqual(['a0']);

      const forOne = await store.listAudit({ incidentId: 'INC-1', limit: 10 });
      expect(forOne.map((e) => e.id)).toEqual(['a3', 'a1']);
      expect(forOne[0]).toEqual(linked({ ...audit('a3', 'INC-1', 3), outcome: 'rejected', details: {} }, 3));
      await expect(store.listAudit({ limit: -1 })).rejects.toBeInstanceOf(RangeError);
    });

    it('refuses a second entry with the same id, and the chain goes on as if it had not been tried', async () => {
      const store = await engine.fresh();
      await store.recordAudit(audit('a1', 'INC-1', 1));
      await expect(store.recordAudit(audit('a1', 'INC-2', 2))).rejects.toMatchObject(DUPLICATE);
      expect(await store.listAudit({ limit: 10 })).toEqual([linked(audit('a1', 'INC-1', 1), 1)]);
      expect((await store.recordAudit(audit('a2', null, 2))).seq).toBe(2);
    });
  });

  describe('tokens', () => {
    it('are found by hash and counted; an id and a hash are unique', async () => {
      const store = await engine.fresh();
      expect(await store.countTokens()).toBe(0);
      await store.insertToken(token(1));
      await store.insertToken(token(2, { role: 'viewer' }));
      expect(await store.findTokenByHash(token(1).hash)).toEqual(token(1));
      expect(await store.findTokenByHash(token(2).hash)).toEqual(token(2, { role: 'viewer' }));
      expect(await store.findTokenByHash('f'.repeat(64))).toBeUndefined();
      expect(await store.countTokens()).toBe(2);
      await expect(store.insertToken({ ...token(1), id: 'tok_3' })).rejects.toMatchObject(DUPLICATE);
      await expect(store.insertToken({ ...token(3), id: 'tok_1' })).rejects.toMatchObject(DUPLICATE);
      expect(await store.countTokens()).toBe(2);
    });

    it('keep an expiry, are listed newest first and found by id', async () => {
      const store = await engine.fresh();
      await store.insertToken(token(1));
      await store.insertToken(token(2, { expiresAt: minutes(90) }));
      expect(await store.findTokenById('tok_2')).toEqual(token(2, { expiresAt: minutes(90) }));
      expect(await store.findTokenById('tok_9')).toBeUndefined();
      expect((await store.listTokens()).map((t) => t.id)).toEqual(['tok_2', 'tok_1']);
    });

    it('are revoked once, with their sessions, and keep the first revocation time', async () => {
      const store = await engine.fresh();
      await store.insertToken(token(1));
      await store.insertToken(token(2));
      await store.insertSession(session(1, 'tok_1', minutes(60)));
      await store.insertSession(session(2, 'tok_2', minutes(60)));
      expect(await store.revokeToken('tok_1', minutes(5))).toBe(true);
      expect(await store.revokeToken('tok_1', minutes(6))).toBe(false);
      expect(await store.revokeToken('tok_9', minutes(6))).toBe(false);
      expect(await store.findTokenById('tok_1')).toEqual(token(1, { revokedAt: minutes(5) }));
      expect(await store.findSession(session(1, 'tok_1', minutes(60)).idHash, minutes(7))).toBeUndefined();
      expect(await store.findSession(session(2, 'tok_2', minutes(60)).idHash, minutes(7))).toMatchObject({ token: token(2) });
    });

    it('record their last use, at most once per window', async () => {
      const store = await engine.fresh();
      await store.insertToken(token(1));
      await store.touchToken('tok_1', minutes(10), minutes(9));
      expect((await store.findTokenById('tok_1'))?.lastUsedAt).toBe(minutes(10));
      // A use inside the window (the last one is not before notBefore) writes nothing.
      await store.touchToken('tok_1', minutes(10.5), minutes(9.5));
      expect((await store.findTokenById('tok_1'))?.lastUsedAt).toBe(minutes(10));
      await store.touchToken('tok_1', minutes(12), minutes(11));
      expect(await store.findTokenByHash(token(1).hash)).toEqual(token(1, { lastUsedAt: minutes(12) }));
    });
  });

  describe('sessions', () => {
    it('are found with their token until they expire', async () => {
      const store = await engine.fresh();
      await store.insertToken(token(1, { role: 'commander' }));
      const s = session(1, 'tok_1', minutes(60));
      await store.insertSession(s);
      expect(await store.findSession(s.idHash, minutes(59))).toEqual({ session: s, token: token(1, { role: 'commander' }) });
      // Expiry is exclusive: at expiresAt the session is gone.
      expect(await store.findSession(s.idHash, minutes(60))).toBeUndefined();
      expect(await store.findSession(s.idHash, minutes(61))).toBeUndefined();
      expect(await store.findSession('0'.repeat(64), minutes(1))).toBeUndefined();
    });

    it('are not found without their token', async () => {
      const store = await engine.fresh();
      await store.insertSession(session(1, 'tok_gone', minutes(60)));
      expect(await store.findSession(session(1, 'tok_gone', minutes(60)).idHash, minutes(1))).toBeUndefined();
    });

    it('are deleted one by one, or all expired ones at once', async () => {
      const store = await engine.fresh();
      await store.insertToken(token(1));
      for (const [n, expires] of [
        [1, 10],
        [2, 20],
        [3, 30],
        [4, 40],
      ] as const) {
        await store.insertSession(session(n, 'tok_1', minutes(expires)));
      }
      await store.deleteSession(session(4, 'tok_1', minutes(40)).idHash);
      await store.deleteSession(session(4, 'tok_1', minutes(40)).idHash);
      expect(await store.findSession(session(4, 'tok_1', minutes(40)).idHash, minutes(1))).toBeUndefined();

      expect(await store.deleteExpiredSessions(minutes(20))).toBe(2);
      expect(await store.deleteExpiredSessions(minutes(20))).toBe(0);
      expect(await store.findSession(session(3, 'tok_1', minutes(30)).idHash, minutes(21))).toMatchObject({
        session: session(3, 'tok_1', minutes(30)),
      });
      await expect(store.insertSession(session(3, 'tok_1', minutes(90)))).rejects.toMatchObject(DUPLICATE);
    });
  });
});
