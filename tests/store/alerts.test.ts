// AlertStore on both engines: alert groups with their compare-and-swap, the inbox of accepted alerts, the start
// arguments of incidents opened by alerts, and each episode's last known state, where late writes lose.
import type { AlertRecord } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { minutes } from './records';

function alert(fingerprint: string, overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    incidentId: 'INC-1',
    fingerprint,
    startsAt: minutes(0),
    status: 'firing',
    endsAt: null,
    summary: `${fingerprint} is failing`,
    labels: { alertname: 'CheckoutErrors', service: 'checkout', zone: 'eu-1' },
    source: 'alertmanager',
    received: 1,
    firstSeen: minutes(1),
    lastSeen: minutes(1),
    ...overrides,
  };
}

describeEachStore('alert store', (engine) => {
  describe('alert groups', () => {
    it('are created once, swapped only from the expected incident, and deleted only while still that incident', async () => {
      const store = await engine.fresh();
      expect(await store.getAlertGroup('am', 'g1')).toBeUndefined();
      expect(await store.swapAlertGroup('am', 'g1', undefined, 'INC-1', minutes(1))).toBe(true);
      expect(await store.swapAlertGroup('am', 'g1', undefined, 'INC-2', minutes(2))).toBe(false);
      expect(await store.getAlertGroup('am', 'g1')).toEqual({ incidentId: 'INC-1', updatedAt: minutes(1) });

      expect(await store.swapAlertGroup('am', 'g1', 'INC-9', 'INC-2', minutes(3))).toBe(false);
      expect(await store.swapAlertGroup('am', 'g1', 'INC-1', 'INC-2', minutes(3))).toBe(true);
      expect(await store.getAlertGroup('am', 'g1')).toEqual({ incidentId: 'INC-2', updatedAt: minutes(3) });
      expect(await store.swapAlertGroup('am', 'g-new', 'INC-1', 'INC-3', minutes(3))).toBe(false);
      expect(await store.getAlertGroup('am', 'g-new')).toBeUndefined();

      // The same group key under another integration is another group.
      expect(await store.swapAlertGroup('pd', 'g1', undefined, 'INC-5', minutes(4))).toBe(true);
      await store.deleteAlertGroup('am', 'g1', 'INC-1');
      expect(await store.getAlertGroup('am', 'g1')).toEqual({ incidentId: 'INC-2', updatedAt: minutes(3) });
      await store.deleteAlertGroup('am', 'g1', 'INC-2');
      expect(await store.getAlertGroup('am', 'g1')).toBeUndefined();
      expect(await store.getAlertGroup('pd', 'g1')).toEqual({ incidentId: 'INC-5', updatedAt: minutes(4) });
      expect(await store.swapAlertGroup('am', 'g1', undefined, 'INC-6', minutes(5))).toBe(true);
    });

    it('let two stores racing on a new group agree on one incident', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      const contenders = Array.from({ length: 10 }, (_, i) => `INC-${i + 1}`);
      const won = await Promise.all(contenders.map((id, i) => (i % 2 ? a : b).swapAlertGroup('am', 'race', undefined, id, minutes(1))));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = contenders[won.indexOf(true)];
      expect(await a.getAlertGroup('am', 'race')).toEqual({ incidentId: winner, updatedAt: minutes(1) });
      expect(await b.getAlertGroup('am', 'race')).toEqual({ incidentId: winner, updatedAt: minutes(1) });

      const swapped = await Promise.all([
        a.swapAlertGroup('am', 'race', winner, 'INC-A', minutes(2)),
        b.swapAlertGroup('am', 'race', winner, 'INC-B', minutes(2)),
      ]);
      expect(swapped.filter(Boolean)).toHaveLength(1);
      expect((await a.getAlertGroup('am', 'race'))?.incidentId).toBe(swapped[0] ? 'INC-A' : 'INC-B');
    });
  });

  describe('inbox', () => {
    it('keeps accepted alerts pending, oldest first, until forwarded', async () => {
      const store = await engine.fresh();
      const payload = (n: number) => ({ fingerprint: `fp${n}`, labels: { b: '2', a: '1' }, count: n, nested: { none: null, ok: true } });
      await store.enqueueAlerts([
        { incidentId: 'INC-1', alert: payload(1), receivedAt: minutes(1) },
        { incidentId: 'INC-2', alert: payload(2), receivedAt: minutes(1) },
        { incidentId: 'INC-1', alert: payload(3), receivedAt: minutes(2) },
      ]);
      await store.enqueueAlerts([{ incidentId: 'INC-1', alert: payload(4), receivedAt: minutes(3) }]);
      await store.enqueueAlerts([]);

      const pending = await store.pendingAlerts('INC-1', 10);
      expect(pending.map((p) => p.alert)).toEqual([payload(1), payload(3), payload(4)]);
      expect(pending.map((p) => p.receivedAt)).toEqual([minutes(1), minutes(2), minutes(3)]);
      const ids = pending.map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id))).toBe(true);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      expect(await store.pendingAlerts('INC-1', 2)).toEqual(pending.slice(0, 2));
      expect((await store.incidentsWithPendingAlerts()).sort()).toEqual(['INC-1', 'INC-2']);

      await store.markAlertsForwarded(ids.slice(0, 2), minutes(5));
      await store.markAlertsForwarded([], minutes(5));
      expect(await store.pendingAlerts('INC-1', 10)).toEqual(pending.slice(2));
      await store.markAlertsForwarded(ids.slice(2), minutes(6));
      expect(await store.pendingAlerts('INC-1', 10)).toEqual([]);
      expect(await store.incidentsWithPendingAlerts()).toEqual(['INC-2']);

      await expect(store.pendingAlerts('INC-1', 0)).rejects.toThrow(RangeError);
    });

    it('numbers a large batch in the order given, and rows from two stores stay distinct', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      const batch = (from: number) =>
        Array.from({ length: 50 }, (_, i) => ({ incidentId: 'INC-1', alert: { n: from + i }, receivedAt: minutes(1) }));
      await Promise.all([a.enqueueAlerts(batch(0)), b.enqueueAlerts(batch(100))]);
      const pending = await a.pendingAlerts('INC-1', 1000);
      expect(new Set(pending.map((p) => p.id)).size).toBe(100);
      const ns = pending.map((p) => (p.alert as { n: number }).n);
      for (const from of [0, 100]) expect(ns.filter((n) => n >= from && n < from + 50)).toEqual(batch(from).map((r) => r.alert.n));
    });

    it('writes a batch all or nothing', async () => {
      // Engine errors are matched by message: better-sqlite3's error class may come from another test file's realm.
      const store = await engine.fresh();
      await expect(
        store.enqueueAlerts([
          { incidentId: 'INC-1', alert: { n: 1 }, receivedAt: minutes(1) },
          { incidentId: null as unknown as string, alert: { n: 2 }, receivedAt: minutes(1) },
        ]),
      ).rejects.toMatchObject({ message: expect.stringMatching(/NOT NULL constraint|null value/) });
      expect(await store.pendingAlerts('INC-1', 10)).toEqual([]);
    });
  });

  describe('forwarding across replicas', () => {
    it('takes the oldest rows as a batch named by its first row, hands an unfinished batch out again unchanged, then moves on', async () => {
      const store = await engine.fresh();
      expect(await store.takeAlertBatch('INC-1', 10)).toBeUndefined();
      await store.enqueueAlerts(
        Array.from({ length: 5 }, (_, i) => ({ incidentId: 'INC-1', alert: { n: i }, receivedAt: minutes(i) })).concat([
          { incidentId: 'INC-2', alert: { n: 99 }, receivedAt: minutes(0) },
        ]),
      );
      const first = await store.takeAlertBatch('INC-1', 3);
      expect(first!.rows.map((r) => r.alert)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      expect(first!.batch).toBe(first!.rows[0]!.id);
      expect(first!.rows[0]!.receivedAt).toBe(minutes(0));
      // Its forwarder died before marking it: the next holder gets exactly the same batch, even with room for more.
      const again = await store.takeAlertBatch('INC-1', 10);
      expect(again).toEqual(first);
      await store.markAlertsForwarded(
        first!.rows.map((r) => r.id),
        minutes(10),
      );
      const second = await store.takeAlertBatch('INC-1', 10);
      expect(second!.rows.map((r) => r.alert)).toEqual([{ n: 3 }, { n: 4 }]);
      expect(second!.batch).not.toBe(first!.batch);
      await store.markAlertsForwarded(
        second!.rows.map((r) => r.id),
        minutes(11),
      );
      expect(await store.takeAlertBatch('INC-1', 10)).toBeUndefined();
      expect((await store.takeAlertBatch('INC-2', 10))!.rows.map((r) => r.alert)).toEqual([{ n: 99 }]);
      await expect(store.takeAlertBatch('INC-2', 0)).rejects.toThrow(/limit/);
    });
  });

  it('accept NUL characters in alert text and labels (PostgreSQL keeps U+FFFD in their place)', async () => {
    const store = await engine.fresh();
    const nul = 'bad\u0000value';
    await store.enqueueAlerts([{ incidentId: 'INC-1', alert: { labels: { zone: nul }, summary: nul }, receivedAt: minutes(0) }]);
    await store.upsertAlerts([alert('fp-nul', { summary: nul, labels: { zone: nul } })]);
    const replaced = engine.name === 'postgres' ? 'bad\ufffdvalue' : nul;
    expect((await store.pendingAlerts('INC-1', 10))[0]!.alert).toEqual({ labels: { zone: replaced }, summary: replaced });
    const [stored] = await store.listAlerts('INC-1');
    expect([stored!.summary, stored!.labels.zone]).toEqual([replaced, replaced]);
  });

  describe('incident starts', () => {
    it('keep the first arguments saved and when the workflow was started', async () => {
      const store = await engine.fresh();
      expect(await store.getIncidentStart('INC-1')).toBeUndefined();
      const args = { incidentId: 'INC-1', runbook: 'checkout-down', alerts: [{ fingerprint: 'fp1' }], drill: false, note: null };
      await store.saveIncidentStart('INC-1', args);
      await store.saveIncidentStart('INC-1', { other: true });
      expect(await store.getIncidentStart('INC-1')).toEqual({ args, startedAt: null });
      await store.markIncidentStarted('INC-1', minutes(2));
      expect(await store.getIncidentStart('INC-1')).toEqual({ args, startedAt: minutes(2) });
      await store.markIncidentStarted('INC-404', minutes(2));
      expect(await store.getIncidentStart('INC-404')).toBeUndefined();
    });
  });

  describe('alerts', () => {
    it('round-trip every field and list by first seen, then fingerprint', async () => {
      const store = await engine.fresh();
      const rows = [
        alert('b', { firstSeen: minutes(2), lastSeen: minutes(2) }),
        alert('c', { status: 'resolved', endsAt: minutes(3), source: 'generic', labels: {}, received: 4 }),
        alert('a', { firstSeen: minutes(2), lastSeen: minutes(2) }),
        alert('B', { firstSeen: minutes(2), lastSeen: minutes(2) }),
        alert('d', { incidentId: 'INC-2' }),
      ];
      await store.upsertAlerts(rows);
      await store.upsertAlerts([]);
      // Byte order, as SQLite compares text: upper case before lower case.
      expect(await store.listAlerts('INC-1')).toEqual([rows[1], rows[3], rows[2], rows[0]]);
      expect(await store.listAlerts('INC-2')).toEqual([rows[4]]);
      expect(await store.listAlerts('INC-404')).toEqual([]);
    });

    it('keep episodes apart by start time', async () => {
      const store = await engine.fresh();
      const first = alert('fp');
      const second = alert('fp', { startsAt: minutes(30), firstSeen: minutes(31), lastSeen: minutes(31) });
      await store.upsertAlerts([first, second]);
      expect(await store.listAlerts('INC-1')).toEqual([first, second]);
    });

    it('never let an older write overwrite a newer one', async () => {
      const store = await engine.fresh();
      await store.upsertAlerts([alert('fp', { received: 3, lastSeen: minutes(5) })]);
      // Late: an older delivery with fewer deliveries counted, still firing.
      await store.upsertAlerts([alert('fp', { received: 2, lastSeen: minutes(4), status: 'firing', summary: 'late summary' })]);
      const late = await store.listAlerts('INC-1');
      expect(late).toEqual([alert('fp', { received: 3, lastSeen: minutes(5), summary: 'late summary' })]);

      // Newer: resolves it; first seen, labels and source stay as first written.
      const resolved = alert('fp', {
        status: 'resolved',
        endsAt: minutes(7),
        received: 5,
        lastSeen: minutes(7),
        firstSeen: minutes(6),
        labels: { changed: 'yes' },
        source: 'generic',
      });
      await store.upsertAlerts([resolved]);
      expect(await store.listAlerts('INC-1')).toEqual([
        alert('fp', { status: 'resolved', endsAt: minutes(7), received: 5, lastSeen: minutes(7) }),
      ]);

      // Older again, firing: status and end stay resolved, counters stay at their maximum.
      await store.upsertAlerts([alert('fp', { received: 9, lastSeen: minutes(6) })]);
      expect(await store.listAlerts('INC-1')).toEqual([
        alert('fp', { status: 'resolved', endsAt: minutes(7), received: 9, lastSeen: minutes(7) }),
      ]);

      // The same last seen: this write's status wins.
      await store.upsertAlerts([alert('fp', { received: 1, lastSeen: minutes(7), status: 'firing', endsAt: null })]);
      expect(await store.listAlerts('INC-1')).toEqual([alert('fp', { received: 9, lastSeen: minutes(7) })]);
    });

    it('apply one episode repeated within a batch in the order given', async () => {
      const store = await engine.fresh();
      await store.upsertAlerts([
        alert('z', { summary: 'other' }),
        alert('fp', { received: 1, lastSeen: minutes(1), summary: 'one' }),
        alert('fp', { received: 3, lastSeen: minutes(3), status: 'resolved', endsAt: minutes(3), summary: 'three' }),
        alert('fp', { received: 2, lastSeen: minutes(2), status: 'firing', summary: 'two' }),
      ]);
      expect(await store.listAlerts('INC-1')).toEqual([
        alert('fp', { received: 3, lastSeen: minutes(3), status: 'resolved', endsAt: minutes(3), summary: 'two' }),
        alert('z', { summary: 'other' }),
      ]);
    });

    it('converge when two stores upsert overlapping batches at once', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      const fingerprints = Array.from({ length: 20 }, (_, i) => `fp${String(i).padStart(2, '0')}`);
      const batch = (lastSeen: number, reverse: boolean) => {
        const rows = fingerprints.map((fp) => alert(fp, { received: lastSeen, lastSeen: minutes(lastSeen) }));
        return reverse ? rows.reverse() : rows;
      };
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).upsertAlerts(batch(i + 1, i % 2 === 1))));
      expect(await b.listAlerts('INC-1')).toEqual(fingerprints.map((fp) => alert(fp, { received: 6, lastSeen: minutes(6) })));
    });
  });
});
