// MetricsStore on both engines: which incidents need their metrics recomputed, the upsert, and range reads.
import type { IncidentMetricsRecord, Store } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { event, incident, metrics, minutes } from './records';

async function staleIds(store: Store, limit = 100): Promise<[string, number][]> {
  const stale = await store.listStaleIncidentMetrics(limit);
  return stale.map((s): [string, number] => [s.incident.id, s.maxSeq]).sort(([a], [b]) => (a < b ? -1 : 1));
}

describeEachStore('metrics store', (engine) => {
  describe('stale incidents', () => {
    it('are the ones without a row, with the whole incident and its last seq', async () => {
      const store = await engine.fresh();
      expect(await store.listStaleIncidentMetrics(10)).toEqual([]);
      await store.insertIncident(incident(1, { drill: true, status: 'closed' }));
      await store.insertIncident(incident(2));
      await store.appendTimeline([event('INC-1', 1), event('INC-1', 7), event('INC-9', 3)]);
      const stale = await store.listStaleIncidentMetrics(10);
      expect(stale.sort((a, b) => (a.incident.id < b.incident.id ? -1 : 1))).toEqual([
        { incident: incident(1, { drill: true, status: 'closed' }), maxSeq: 7 },
        { incident: incident(2), maxSeq: 0 },
      ]);
    });

    it('are the ones whose row or timeline moved on since computed, unless the row is final', async () => {
      const store = await engine.fresh();
      for (const n of [1, 2, 3, 4]) await store.insertIncident(incident(n));
      await store.appendTimeline([event('INC-1', 1), event('INC-2', 1), event('INC-3', 1), event('INC-4', 1)]);
      await store.upsertIncidentMetrics([1, 2, 3].map((n) => metrics(incident(n), { sourceSeq: 1 })));
      await store.upsertIncidentMetrics([metrics(incident(4), { sourceSeq: 1, final: true })]);
      expect(await staleIds(store)).toEqual([]);

      await store.updateIncident('INC-1', { status: 'acknowledged' }, minutes(30));
      await store.appendTimeline([event('INC-2', 2)]);
      await store.appendTimeline([event('INC-3', 1, { summary: 'rewritten' })]);
      await store.updateIncident('INC-4', { status: 'open' }, minutes(30));
      await store.appendTimeline([event('INC-4', 2)]);
      expect(await staleIds(store)).toEqual([
        ['INC-1', 1],
        ['INC-2', 2],
      ]);

      // A trimmed timeline moves the seq backwards: also a change.
      await store.trimTimeline('INC-3', 0);
      expect(await staleIds(store)).toEqual([
        ['INC-1', 1],
        ['INC-2', 2],
        ['INC-3', 0],
      ]);
      await store.upsertIncidentMetrics([metrics(incident(1, { updatedAt: minutes(30) }), { sourceSeq: 1 })]);
      expect((await staleIds(store)).map(([id]) => id)).toEqual(['INC-2', 'INC-3']);
    });

    it('ignore rows of incidents that no longer exist, and stop at the limit', async () => {
      const store = await engine.fresh();
      await store.upsertIncidentMetrics([metrics(incident(99))]);
      expect(await store.listStaleIncidentMetrics(10)).toEqual([]);
      for (let n = 1; n <= 7; n++) await store.insertIncident(incident(n));
      const some = await store.listStaleIncidentMetrics(3);
      expect(some).toHaveLength(3);
      expect(new Set(some.map((s) => s.incident.id)).size).toBe(3);
      await store.upsertIncidentMetrics(some.map((s) => metrics(s.incident)));
      expect(await store.listStaleIncidentMetrics(10)).toHaveLength(4);
      await expect(store.listStaleIncidentMetrics(0)).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('rows', () => {
    const full = (n: number, overrides: Partial<IncidentMetricsRecord> = {}): IncidentMetricsRecord =>
      metrics(incident(n), {
        service: null,
        drill: true,
        impactStartedAt: minutes(n - 2),
        reportedAt: minutes(n),
        acknowledgedAt: minutes(n + 1),
        mitigatedAt: minutes(n + 2),
        resolvedAt: minutes(n + 3),
        timeToDetectMs: 120_000,
        timeToAcknowledgeMs: 180_000,
        timeToMitigateMs: 240_000,
        timeToResolveMs: 2 ** 40,
        final: true,
        sourceSeq: 42,
        computedAt: minutes(n + 10),
        ...overrides,
      });

    it('round-trip every field, including nulls, booleans and large durations', async () => {
      const store = await engine.fresh();
      await store.upsertIncidentMetrics([full(1), metrics(incident(2))]);
      expect(await store.getIncidentMetrics('INC-1')).toEqual(full(1));
      expect(await store.getIncidentMetrics('INC-2')).toEqual(metrics(incident(2)));
      expect(await store.getIncidentMetrics('INC-3')).toBeUndefined();
      await store.upsertIncidentMetrics([]);
    });

    it('are replaced by a later upsert; the last of one incident in a batch wins', async () => {
      const store = await engine.fresh();
      await store.upsertIncidentMetrics([metrics(incident(1)), metrics(incident(2))]);
      await store.upsertIncidentMetrics([full(1, { severity: 'SEV1', runbookId: 'other' }), metrics(incident(3))]);
      expect(await store.getIncidentMetrics('INC-1')).toEqual(full(1, { severity: 'SEV1', runbookId: 'other' }));
      await store.upsertIncidentMetrics([full(1), metrics(incident(1), { sourceSeq: 5 }), metrics(incident(2), { sourceSeq: 6 })]);
      expect(await store.getIncidentMetrics('INC-1')).toEqual(metrics(incident(1), { sourceSeq: 5 }));
      expect(await store.getIncidentMetrics('INC-2')).toEqual(metrics(incident(2), { sourceSeq: 6 }));
      expect(await store.getIncidentMetrics('INC-3')).toEqual(metrics(incident(3)));
    });

    it('refuse a row whose declaredAt changed, which never happens to an incident', async () => {
      const store = await engine.fresh();
      await store.upsertIncidentMetrics([metrics(incident(1))]);
      await expect(store.upsertIncidentMetrics([metrics(incident(1, { declaredAt: minutes(50) }))])).rejects.toMatchObject({
        message: expect.stringMatching(/UNIQUE|duplicate key/),
      });
      expect(await store.getIncidentMetrics('INC-1')).toEqual(metrics(incident(1)));
    });
  });

  describe('range', () => {
    it('lists the points declared in [from, to), oldest first, ids breaking ties', async () => {
      const store = await engine.fresh();
      const at = (n: number, minute: number) => incident(n, { declaredAt: minutes(minute) });
      await store.upsertIncidentMetrics([
        metrics(at(5, 10)),
        metrics(at(3, 10), { drill: true, resolvedAt: minutes(12), timeToResolveMs: 120_000, timeToAcknowledgeMs: 1 }),
        metrics(at(4, 9)),
        metrics(at(1, 20)),
        metrics(at(2, 8)),
      ]);
      const points = await store.listIncidentMetrics({ from: minutes(9), to: minutes(20) });
      expect(points.map((p) => p.incidentId)).toEqual(['INC-4', 'INC-3', 'INC-5']);
      expect(points[1]).toEqual({
        incidentId: 'INC-3',
        declaredAt: minutes(10),
        severity: 'SEV2',
        service: 'checkout',
        runbookId: 'checkout-down',
        drill: true,
        resolvedAt: minutes(12),
        timeToDetectMs: 0,
        timeToAcknowledgeMs: 1,
        timeToMitigateMs: null,
        timeToResolveMs: 120_000,
      });
      expect(await store.listIncidentMetrics({ from: minutes(20), to: minutes(20) })).toEqual([]);
      expect((await store.listIncidentMetrics({ from: minutes(0), to: minutes(21) })).map((p) => p.incidentId)).toEqual([
        'INC-2',
        'INC-4',
        'INC-3',
        'INC-5',
        'INC-1',
      ]);
    });
  });
});
