// IncidentStore on both engines: the INC-<n> sequence, rows and patches, the list with its keyset cursor, the
// head the live list polls, and title search.
import type { IncidentRecord, IncidentStatus } from '../../src/domain/incident';
import { SEVERITIES } from '../../src/domain/severity';
import type { IncidentFilter, Store } from '../../src/store/store';
import { IncidentNotFoundError, InvalidCursorError } from '../../src/store/store-errors';
import { describeEachStore } from '../support/stores';
import { incident, minutes } from './records';

const STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved', 'closed'];
const SERVICES = ['checkout', 'payments', 'orders-db', 'inventory', 'customers'];

function newestFirst(a: IncidentRecord, b: IncidentRecord): number {
  if (a.declaredAt !== b.declaredAt) return a.declaredAt < b.declaredAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

type Lister = (filter: IncidentFilter) => ReturnType<Store['listIncidents']>;

async function listAll(list: Lister, filter: Omit<IncidentFilter, 'cursor'>): Promise<IncidentRecord[]> {
  const items: IncidentRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await list({ ...filter, cursor });
    expect(page.items.length).toBeLessThanOrEqual(filter.limit);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    expect(page.items).toHaveLength(filter.limit);
    cursor = page.nextCursor;
  }
}

describeEachStore('incident store', (engine) => {
  describe('incident numbers', () => {
    it('start at 1 and stay distinct across two stores allocating at once', async () => {
      const a = await engine.fresh();
      const b = await engine.another();
      const numbers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).allocateIncidentNumber()));
      expect([...numbers].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      await a.migrate();
      expect(await b.allocateIncidentNumber()).toBe(61);
    });
  });

  describe('rows', () => {
    it('round-trip every field, including nulls and booleans', async () => {
      const store = await engine.fresh();
      const full = incident(1, {
        service: null,
        summary: 'Payments gateway times out',
        drill: true,
        trigger: { kind: 'alert', by: { id: 'alertmanager', name: 'Alertmanager', role: 'responder' } },
        acknowledgedAt: minutes(2),
        resolvedAt: minutes(3),
        closedAt: minutes(4),
      });
      await store.insertIncident(full);
      await store.insertIncident(incident(2, { title: 'Ünïcode “quotes” and \\ backslash' }));
      expect(await store.getIncident('INC-1')).toEqual(full);
      expect(await store.getIncident('INC-2')).toEqual(incident(2, { title: 'Ünïcode “quotes” and \\ backslash' }));
      expect(await store.getIncident('INC-404')).toBeUndefined();
    });

    it('treat a repeated insert as already done', async () => {
      const store = await engine.fresh();
      await store.insertIncident(incident(1));
      await store.updateIncident('INC-1', { status: 'acknowledged' }, minutes(5));
      await store.insertIncident(incident(1, { title: 'different' }));
      expect(await store.getIncident('INC-1')).toEqual(incident(1, { status: 'acknowledged', updatedAt: minutes(5) }));
    });

    it('apply only the fields in a patch and keep explicit nulls', async () => {
      const store = await engine.fresh();
      await store.insertIncident(incident(1, { acknowledgedAt: minutes(2) }));
      await store.updateIncident('INC-1', { status: 'resolved', resolvedAt: minutes(9), acknowledgedAt: null }, minutes(9));
      expect(await store.getIncident('INC-1')).toEqual(
        incident(1, { status: 'resolved', resolvedAt: minutes(9), acknowledgedAt: null, updatedAt: minutes(9) }),
      );
      await store.updateIncident('INC-1', {}, minutes(10));
      expect(await store.getIncident('INC-1')).toEqual(
        incident(1, { status: 'resolved', resolvedAt: minutes(9), acknowledgedAt: null, updatedAt: minutes(10) }),
      );
      await store.updateIncident(
        'INC-1',
        { status: 'closed', phase: 'closed', severity: 'SEV1', acknowledgedAt: minutes(3), resolvedAt: null, closedAt: minutes(11) },
        minutes(11),
      );
      expect(await store.getIncident('INC-1')).toEqual(
        incident(1, {
          status: 'closed',
          phase: 'closed',
          severity: 'SEV1',
          acknowledgedAt: minutes(3),
          resolvedAt: null,
          closedAt: minutes(11),
          updatedAt: minutes(11),
        }),
      );
    });

    it('ignore a patch older than the stored row, apply one at the same time', async () => {
      const store = await engine.fresh();
      await store.insertIncident(incident(1));
      await store.updateIncident('INC-1', { phase: 'execute', severity: 'SEV1' }, minutes(10));
      await store.updateIncident('INC-1', { phase: 'report', status: 'acknowledged' }, minutes(5));
      expect(await store.getIncident('INC-1')).toMatchObject({
        phase: 'execute',
        severity: 'SEV1',
        status: 'open',
        updatedAt: minutes(10),
      });

      await store.updateIncident('INC-1', { phase: 'recover' }, minutes(10));
      expect(await store.getIncident('INC-1')).toMatchObject({ phase: 'recover', updatedAt: minutes(10) });
    });

    it('refuse a patch for an unknown incident, also when it is late', async () => {
      const store = await engine.fresh();
      await expect(store.updateIncident('INC-404', { status: 'open' }, minutes(1))).rejects.toBeInstanceOf(IncidentNotFoundError);
      await expect(store.updateIncident('INC-404', { status: 'open' }, minutes(1))).rejects.toMatchObject({ incidentId: 'INC-404' });
      await store.insertIncident(incident(1, { updatedAt: minutes(10) }));
      await expect(store.updateIncident('INC-1', { status: 'closed' }, minutes(1))).resolves.toBeUndefined();
    });

    it('can be deleted, twice, without touching the sequence', async () => {
      const store = await engine.fresh();
      const n = await store.allocateIncidentNumber();
      await store.insertIncident(incident(n));
      await store.insertIncident(incident(2));
      await store.deleteIncident(`INC-${n}`);
      await store.deleteIncident(`INC-${n}`);
      expect(await store.getIncident(`INC-${n}`)).toBeUndefined();
      expect(await store.getIncident('INC-2')).toBeDefined();
      expect(await store.allocateIncidentNumber()).toBe(n + 1);
    });
  });

  describe('head', () => {
    it('is null with no incidents, then the latest updatedAt of any', async () => {
      const store = await engine.fresh();
      expect(await store.incidentsHead()).toBeNull();
      await store.insertIncident(incident(5));
      await store.insertIncident(incident(3));
      expect(await store.incidentsHead()).toBe(minutes(5));
      await store.updateIncident('INC-3', { status: 'acknowledged' }, minutes(30));
      expect(await store.incidentsHead()).toBe(minutes(30));
      await store.deleteIncident('INC-3');
      expect(await store.incidentsHead()).toBe(minutes(5));
    });
  });

  describe('list', () => {
    let store: Store;
    let all: IncidentRecord[];

    beforeEach(async () => {
      store = await engine.fresh();
      // Three incidents share each declaredAt, so the id tie-break is exercised on every page boundary.
      all = Array.from({ length: 250 }, (_, i) =>
        incident(i + 1, {
          declaredAt: minutes(Math.floor(i / 3)),
          status: STATUSES[i % STATUSES.length],
          severity: SEVERITIES[i % SEVERITIES.length],
          service: SERVICES[i % SERVICES.length],
          runbookId: i % 2 === 0 ? 'checkout-down' : 'db-failover',
        }),
      );
      for (const record of [...all].reverse()) await store.insertIncident(record);
    });

    it('pages through everything newest first, each incident exactly once', async () => {
      const listed = await listAll((f) => store.listIncidents(f), { limit: 17 });
      expect(listed.map((i) => i.id)).toEqual([...all].sort(newestFirst).map((i) => i.id));
      expect(listed.find((i) => i.id === 'INC-7')).toEqual(all[6]);
    });

    it('returns no cursor when the last page is exactly full', async () => {
      const first = await store.listIncidents({ limit: 125 });
      expect(first.nextCursor).not.toBeNull();
      const second = await store.listIncidents({ limit: 125, cursor: first.nextCursor ?? undefined });
      expect(second.items).toHaveLength(125);
      expect(second.nextCursor).toBeNull();
    });

    it.each<[string, Omit<IncidentFilter, 'limit' | 'cursor'>, (i: IncidentRecord) => boolean]>([
      ['status', { status: 'acknowledged' }, (i) => i.status === 'acknowledged'],
      ['severity', { severity: 'SEV1' }, (i) => i.severity === 'SEV1'],
      ['service', { service: 'payments' }, (i) => i.service === 'payments'],
      ['runbook', { runbook: 'db-failover' }, (i) => i.runbookId === 'db-failover'],
      ['from (inclusive)', { from: minutes(40) }, (i) => i.declaredAt >= minutes(40)],
      ['to (exclusive)', { to: minutes(40) }, (i) => i.declaredAt < minutes(40)],
      [
        'everything at once',
        { status: 'open', service: 'checkout', runbook: 'checkout-down', from: minutes(5), to: minutes(70) },
        (i) =>
          i.status === 'open' &&
          i.service === 'checkout' &&
          i.runbookId === 'checkout-down' &&
          i.declaredAt >= minutes(5) &&
          i.declaredAt < minutes(70),
      ],
    ])('filters by %s across pages', async (_name, filter, keep) => {
      const expected = all
        .filter(keep)
        .sort(newestFirst)
        .map((i) => i.id);
      expect(expected.length).toBeGreaterThan(0);
      const listed = await listAll((f) => store.listIncidents(f), { ...filter, limit: 7 });
      expect(listed.map((i) => i.id)).toEqual(expected);
    });

    it('returns an empty last page for a filter that matches nothing', async () => {
      expect(await store.listIncidents({ service: 'nope', limit: 10 })).toEqual({ items: [], nextCursor: null });
    });

    it.each([
      ['not base64url', 'not a cursor!'],
      ['not JSON', Buffer.from('hello').toString('base64url')],
      ['wrong shape', Buffer.from(JSON.stringify({ at: 'x' })).toString('base64url')],
      ['empty', ''],
    ])('rejects a cursor that is %s', async (_name, cursor) => {
      for (const listing of [
        store.listIncidents({ limit: 10, cursor }),
        store.searchIncidents({ limit: 10, cursor, titleContains: 'x' }),
      ]) {
        await expect(listing).rejects.toBeInstanceOf(InvalidCursorError);
        await expect(listing).rejects.toMatchObject({ name: 'InvalidCursorError' });
      }
    });

    it('rejects a limit that is not a positive integer', async () => {
      await expect(store.listIncidents({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.listIncidents({ limit: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.listIncidents({ limit: 2.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.searchIncidents({ limit: 0, titleContains: 'x' })).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('search', () => {
    const TITLES = [
      'Checkout DOWN in eu-west',
      'checkout slow',
      'Payments 100% errors',
      'Payments 1000 errors',
      'queue_depth high',
      'queue-depth high',
      'path C:\\tmp full',
      'ÉCLAIR service down',
      'éclair service down',
    ];

    async function seeded(): Promise<Store> {
      const store = await engine.fresh();
      for (const [i, title] of TITLES.entries()) {
        await store.insertIncident(incident(i + 1, { title, status: i % 2 === 0 ? 'open' : 'resolved' }));
      }
      return store;
    }

    async function titles(store: Store, filter: Omit<IncidentFilter, 'limit'> & { titleContains?: string }): Promise<string[]> {
      const listed = await listAll((f) => store.searchIncidents({ ...filter, ...f }), { limit: 2 });
      return listed.map((i) => i.title);
    }

    it('finds titles containing the text, ASCII letters in any case, newest first', async () => {
      const store = await seeded();
      expect(await titles(store, { titleContains: 'CHECKOUT' })).toEqual(['checkout slow', 'Checkout DOWN in eu-west']);
      expect(await titles(store, { titleContains: 'down' })).toEqual([
        'éclair service down',
        'ÉCLAIR service down',
        'Checkout DOWN in eu-west',
      ]);
    });

    it('folds only ASCII letters, as SQLite LIKE does', async () => {
      const store = await seeded();
      expect(await titles(store, { titleContains: 'éclair' })).toEqual(['éclair service down']);
      expect(await titles(store, { titleContains: 'ÉCLAIR' })).toEqual(['ÉCLAIR service down']);
      expect(await titles(store, { titleContains: 'Éclair' })).toEqual(['ÉCLAIR service down']);
      expect(await titles(store, { titleContains: 'éCLAIR' })).toEqual(['éclair service down']);
    });

    it('takes LIKE wildcards and the escape character literally', async () => {
      const store = await seeded();
      expect(await titles(store, { titleContains: '100%' })).toEqual(['Payments 100% errors']);
      expect(await titles(store, { titleContains: 'queue_depth' })).toEqual(['queue_depth high']);
      expect(await titles(store, { titleContains: 'C:\\tmp' })).toEqual(['path C:\\tmp full']);
      expect(await titles(store, { titleContains: '%' })).toEqual(['Payments 100% errors']);
      expect(await titles(store, { titleContains: '\\' })).toEqual(['path C:\\tmp full']);
    });

    it('combines with the list filters, and without a text is the list', async () => {
      const store = await seeded();
      expect(await titles(store, { titleContains: 'payments', status: 'resolved' })).toEqual(['Payments 1000 errors']);
      expect(await titles(store, { titleContains: 'L', from: minutes(7), to: minutes(9) })).toEqual([
        'ÉCLAIR service down',
        'path C:\\tmp full',
      ]);
      const everything = await store.listIncidents({ limit: 100 });
      expect(await store.searchIncidents({ limit: 100 })).toEqual(everything);
      expect(await store.searchIncidents({ limit: 100, titleContains: '' })).toEqual(everything);
      expect(await store.searchIncidents({ limit: 3, titleContains: 'nothing like this' })).toEqual({ items: [], nextCursor: null });
    });
  });
});
