// SlackStore on both engines: each incident's channel and card row, the sync loop's candidates (incidents whose
// channel or card is behind, joined with their last timeline seq) and the one sync lease two workers contend for.
import type { SlackIncidentRecord, Store } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { event, incident, minutes } from './records';

function slack(incidentId: string, overrides: Partial<SlackIncidentRecord> = {}): SlackIncidentRecord {
  return {
    incidentId,
    channelId: `C-${incidentId}`,
    channelName: `inc-${incidentId.toLowerCase()}`,
    cardTs: '1700000000.000100',
    pinned: true,
    invited: ['U1', 'U2'],
    cardHash: 'sha256:abc',
    syncedUpdatedAt: null,
    syncedSeq: 0,
    postedSeq: 0,
    final: false,
    createdAt: minutes(1),
    updatedAt: minutes(1),
    ...overrides,
  };
}

describeEachStore('slack store', (engine) => {
  it('saves a row whole, replacing it, and finds it by incident and by channel', async () => {
    const store = await engine.fresh();
    const bare = slack('INC-1', { channelId: null, cardTs: null, pinned: false, invited: [], cardHash: null });
    await store.saveSlackIncident(bare);
    expect(await store.getSlackIncident('INC-1')).toEqual(bare);
    expect(await store.getSlackIncident('INC-404')).toBeUndefined();

    const drawn = slack('INC-1', { syncedUpdatedAt: minutes(3), syncedSeq: 4, postedSeq: 3, final: true, updatedAt: minutes(3) });
    await store.saveSlackIncident(drawn);
    expect(await store.getSlackIncident('INC-1')).toEqual(drawn);
    expect(await store.findSlackIncidentByChannel('C-INC-1')).toEqual(drawn);
    expect(await store.findSlackIncidentByChannel('C-404')).toBeUndefined();

    // Back to nulls: every column is replaced, none merged.
    await store.saveSlackIncident(bare);
    expect(await store.getSlackIncident('INC-1')).toEqual(bare);
    expect(await store.findSlackIncidentByChannel('C-INC-1')).toBeUndefined();
  });

  describe('sync candidates', () => {
    async function seeded(): Promise<Store> {
      const store = await engine.fresh();
      // Declared in this order (minutes(n)), inserted shuffled: the list is oldest declared first.
      const incidents = [
        incident(5, { status: 'open' }), // no row yet
        incident(1, { status: 'open' }), // up to date
        incident(2, { status: 'acknowledged', updatedAt: minutes(20) }), // incident moved since drawn
        incident(3, { status: 'resolved' }), // timeline moved since drawn
        incident(4, { status: 'closed' }), // closed, card not final yet
        incident(6, { status: 'closed' }), // closed and final
        incident(7, { status: 'closed' }), // closed, never had a row: nothing to do
        incident(8, { status: 'open' }), // no card yet
        incident(9, { status: 'open' }), // no channel yet
        incident(10, { status: 'open' }), // final (channel gone)
      ];
      for (const i of incidents) await store.insertIncident(i);
      await store.appendTimeline([event('INC-1', 1), event('INC-1', 2), event('INC-3', 1), event('INC-3', 2), event('INC-3', 3)]);
      await store.saveSlackIncident(slack('INC-1', { syncedUpdatedAt: minutes(1), syncedSeq: 2 }));
      await store.saveSlackIncident(slack('INC-2', { syncedUpdatedAt: minutes(2), syncedSeq: 0 }));
      await store.saveSlackIncident(slack('INC-3', { syncedUpdatedAt: minutes(3), syncedSeq: 2 }));
      await store.saveSlackIncident(slack('INC-4', { syncedUpdatedAt: minutes(4), syncedSeq: 0 }));
      await store.saveSlackIncident(slack('INC-6', { syncedUpdatedAt: minutes(6), syncedSeq: 0, final: true }));
      await store.saveSlackIncident(slack('INC-8', { cardTs: null, syncedUpdatedAt: minutes(8) }));
      await store.saveSlackIncident(slack('INC-9', { channelId: null, syncedUpdatedAt: minutes(9) }));
      await store.saveSlackIncident(slack('INC-10', { syncedUpdatedAt: null, syncedSeq: 7, final: true }));
      return store;
    }

    it('are the incidents whose channel or card is behind, oldest declared first, with their last seq and row', async () => {
      const store = await seeded();
      const candidates = await store.listSlackSyncCandidates(50);
      expect(candidates.map((c) => [c.incident.id, c.maxSeq, c.slack?.incidentId ?? null])).toEqual([
        ['INC-2', 0, 'INC-2'],
        ['INC-3', 3, 'INC-3'],
        ['INC-4', 0, 'INC-4'],
        ['INC-5', 0, null],
        ['INC-8', 0, 'INC-8'],
        ['INC-9', 0, 'INC-9'],
      ]);
      expect(candidates[0]).toEqual({
        incident: incident(2, { status: 'acknowledged', updatedAt: minutes(20) }),
        maxSeq: 0,
        slack: slack('INC-2', { syncedUpdatedAt: minutes(2), syncedSeq: 0 }),
      });
      expect(candidates[3]).toEqual({ incident: incident(5), maxSeq: 0, slack: null });
      expect((await store.listSlackSyncCandidates(2)).map((c) => c.incident.id)).toEqual(['INC-2', 'INC-3']);
      await expect(store.listSlackSyncCandidates(0)).rejects.toThrow(RangeError);
    });

    it('drop an incident once its card is drawn from its latest row and seq, and bring it back when either moves', async () => {
      const store = await seeded();
      await store.saveSlackIncident(slack('INC-3', { syncedUpdatedAt: minutes(3), syncedSeq: 3 }));
      expect((await store.listSlackSyncCandidates(50)).map((c) => c.incident.id)).not.toContain('INC-3');
      await store.appendTimeline([event('INC-3', 4)]);
      expect((await store.listSlackSyncCandidates(50)).find((c) => c.incident.id === 'INC-3')?.maxSeq).toBe(4);

      expect((await store.listSlackSyncCandidates(50)).map((c) => c.incident.id)).not.toContain('INC-1');
      await store.updateIncident('INC-1', { status: 'acknowledged' }, minutes(30));
      expect((await store.listSlackSyncCandidates(50)).map((c) => c.incident.id)).toContain('INC-1');

      // A closed incident stays a candidate until its card is drawn final.
      await store.saveSlackIncident(slack('INC-4', { syncedUpdatedAt: minutes(4), syncedSeq: 0 }));
      expect((await store.listSlackSyncCandidates(50)).map((c) => c.incident.id)).toContain('INC-4');
      await store.saveSlackIncident(slack('INC-4', { syncedUpdatedAt: minutes(4), syncedSeq: 0, final: true }));
      expect((await store.listSlackSyncCandidates(50)).map((c) => c.incident.id)).not.toContain('INC-4');
    });
  });

  describe('sync lease', () => {
    it('is taken when free, extended by its owner, refused to others until it expires, and released only by its owner', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      expect(await a.claimSlackSyncLease('worker-a', minutes(0), minutes(1))).toBe(true);
      expect(await b.claimSlackSyncLease('worker-b', minutes(0), minutes(1))).toBe(false);
      expect(await a.claimSlackSyncLease('worker-a', minutes(0.5), minutes(1.5))).toBe(true);
      expect(await b.claimSlackSyncLease('worker-b', minutes(1), minutes(2))).toBe(false);
      // Expired at its end: another owner takes it, and the old owner is now refused.
      expect(await b.claimSlackSyncLease('worker-b', minutes(1.5), minutes(2.5))).toBe(true);
      expect(await a.claimSlackSyncLease('worker-a', minutes(1.6), minutes(2.6))).toBe(false);

      await a.releaseSlackSyncLease('worker-a');
      expect(await a.claimSlackSyncLease('worker-a', minutes(1.7), minutes(2.7))).toBe(false);
      await b.releaseSlackSyncLease('worker-b');
      expect(await a.claimSlackSyncLease('worker-a', minutes(1.7), minutes(2.7))).toBe(true);
    });

    it('has one holder when several workers claim it at once', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      const owners = Array.from({ length: 8 }, (_, i) => `worker-${i}`);
      const won = await Promise.all(owners.map((o, i) => (i % 2 ? a : b).claimSlackSyncLease(o, minutes(0), minutes(1))));
      expect(won.filter(Boolean)).toHaveLength(1);
      const holder = owners[won.indexOf(true)];
      for (const o of owners) expect(await a.claimSlackSyncLease(o, minutes(0.5), minutes(1.5))).toBe(o === holder);

      // Once expired, several at once again: one takes it.
      const retaken = await Promise.all(owners.map((o, i) => (i % 2 ? a : b).claimSlackSyncLease(o, minutes(2), minutes(3))));
      expect(retaken.filter(Boolean)).toHaveLength(1);
    });
  });
});
