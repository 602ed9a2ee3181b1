// PostmortemStore on both engines: one draft per incident, the editable post-mortem with its version and items,
// saves under optimistic concurrency, and the action item list across incidents with its keyset cursor.
import type { ActionItemRecord, ActionItemStatus, PostmortemRecord, Store } from '../../src/store/store';
import { InvalidCursorError } from '../../src/store/store-errors';
import { describeEachStore } from '../support/stores';
import { incident, minutes } from './records';

function postmortem(incidentId: string, overrides: Partial<PostmortemRecord> = {}): PostmortemRecord {
  return {
    incidentId,
    template: 'default',
    status: 'draft',
    dueAt: minutes(7 * 24 * 60),
    body: '# Summary\n\nCheckout failed.',
    createdAt: minutes(10),
    updatedAt: minutes(10),
    ...overrides,
  };
}

function item(id: string, incidentId: string, overrides: Partial<ActionItemRecord> = {}): ActionItemRecord {
  return {
    id,
    incidentId,
    position: 0,
    title: `Fix ${id}`,
    owner: null,
    due: null,
    status: 'open',
    createdAt: minutes(11),
    updatedAt: minutes(11),
    completedAt: null,
    ...overrides,
  };
}

async function save(store: Store, incidentId: string, expectedVersion: number, actionItems: ActionItemRecord[], at = 12) {
  return store.savePostmortem({
    incidentId,
    expectedVersion,
    body: `body v${expectedVersion + 1}`,
    status: 'in-review',
    updatedAt: minutes(at),
    actionItems,
  });
}

describeEachStore('post-mortem store', (engine) => {
  it('inserts one draft per incident', async () => {
    const store = await engine.fresh();
    expect(await store.getPostmortem('INC-1')).toBeUndefined();
    expect(await store.insertPostmortem(postmortem('INC-1'))).toBe(true);
    expect(await store.insertPostmortem(postmortem('INC-1', { body: 'other', template: 'short' }))).toBe(false);
    expect(await store.getPostmortem('INC-1')).toEqual(postmortem('INC-1'));
    expect(await store.getEditablePostmortem('INC-1')).toEqual({ postmortem: postmortem('INC-1'), version: 1, actionItems: [] });
    expect(await store.getEditablePostmortem('INC-404')).toBeUndefined();
  });

  it('saves body, status and the whole item list when the version matches', async () => {
    const store = await engine.fresh();
    await store.insertPostmortem(postmortem('INC-1'));
    const items = [
      item('ai-2', 'INC-1', { position: 1, owner: 'bob', due: '2025-03-10' }),
      item('ai-1', 'INC-1', { position: 0, status: 'done', completedAt: minutes(12), due: '2025-12-31' }),
      item('ai-3', 'INC-1', { position: 2, title: 'Ünïcode “quotes”' }),
    ];
    expect(await save(store, 'INC-1', 1, items)).toEqual({ saved: true, version: 2 });
    expect(await store.getEditablePostmortem('INC-1')).toEqual({
      postmortem: postmortem('INC-1', { body: 'body v2', status: 'in-review', updatedAt: minutes(12) }),
      version: 2,
      actionItems: [items[1], items[0], items[2]],
    });

    // The list is replaced, not merged: a dropped item is gone, a kept one takes its new values.
    const next = [
      item('ai-2', 'INC-1', { position: 0, due: null, title: 'renamed' }),
      item('ai-4', 'INC-1', { position: 1, due: '2025-01-01' }),
    ];
    expect(await save(store, 'INC-1', 2, next, 13)).toEqual({ saved: true, version: 3 });
    expect((await store.getEditablePostmortem('INC-1'))?.actionItems).toEqual(next);
    expect(await save(store, 'INC-1', 3, [], 14)).toEqual({ saved: true, version: 4 });
    expect((await store.getEditablePostmortem('INC-1'))?.actionItems).toEqual([]);
  });

  it('refuses a stale version with the current one, and answers null without a post-mortem', async () => {
    const store = await engine.fresh();
    await store.insertPostmortem(postmortem('INC-1'));
    await save(store, 'INC-1', 1, [item('ai-1', 'INC-1')]);
    expect(await save(store, 'INC-1', 1, [item('ai-9', 'INC-1')], 20)).toEqual({ saved: false, currentVersion: 2 });
    expect(await store.getEditablePostmortem('INC-1')).toEqual({
      postmortem: postmortem('INC-1', { body: 'body v2', status: 'in-review', updatedAt: minutes(12) }),
      version: 2,
      actionItems: [item('ai-1', 'INC-1')],
    });
    expect(await save(store, 'INC-404', 1, [])).toEqual({ saved: false, currentVersion: null });
  });

  it('rolls a failed save back whole', async () => {
    const store = await engine.fresh();
    await store.insertPostmortem(postmortem('INC-1'));
    await store.insertPostmortem(postmortem('INC-2'));
    await save(store, 'INC-2', 1, [item('taken', 'INC-2')]);
    // An item id already used by another incident violates the key: nothing of this save may remain.
    await expect(save(store, 'INC-1', 1, [item('fresh', 'INC-1'), item('taken', 'INC-1', { position: 1 })])).rejects.toMatchObject({
      message: expect.stringMatching(/UNIQUE constraint|duplicate key/),
    });
    expect(await store.getEditablePostmortem('INC-1')).toEqual({ postmortem: postmortem('INC-1'), version: 1, actionItems: [] });
  });

  it('lets one of two stores saving the same version at once win', async () => {
    const a = await engine.fresh();
    const b = await engine.another();
    await a.insertPostmortem(postmortem('INC-1'));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        save(i % 2 ? a : b, 'INC-1', 1, [item(`ai-${i}`, 'INC-1'), item(`ai-${i}b`, 'INC-1', { position: 1 })]),
      ),
    );
    const winners = results.flatMap((r, i) => (r.saved ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.saved)).toEqual(Array.from({ length: 5 }, () => ({ saved: false, currentVersion: 2 })));
    const w = winners[0];
    expect((await b.getEditablePostmortem('INC-1'))?.actionItems.map((x) => x.id)).toEqual([`ai-${w}`, `ai-${w}b`]);
  });

  describe('action item list', () => {
    async function seeded(): Promise<{ store: Store; all: ActionItemRecord[] }> {
      const store = await engine.fresh();
      await store.insertIncident(incident(1, { title: 'Checkout down', severity: 'SEV1', status: 'resolved' }));
      await store.insertIncident(incident(2, { title: 'Payments slow', severity: 'SEV3', status: 'closed' }));
      await store.insertPostmortem(postmortem('INC-1'));
      await store.insertPostmortem(postmortem('INC-2'));
      const first = [
        item('a-3', 'INC-1', { due: '2025-04-01', position: 0 }),
        item('a-1', 'INC-1', { due: null, position: 1 }),
        item('a-2', 'INC-1', { due: '2025-03-15', position: 2, status: 'done', completedAt: minutes(30) }),
        item('A-9', 'INC-1', { due: '2025-04-01', position: 3 }),
      ];
      const second = [
        item('b-1', 'INC-2', { due: '2025-03-15', owner: 'carol' }),
        item('b-2', 'INC-2', { due: null, position: 1, status: 'done', completedAt: minutes(31) }),
        item('b-3', 'INC-2', { due: '9999-12-31', position: 2 }),
      ];
      await save(store, 'INC-1', 1, first);
      await save(store, 'INC-2', 1, second);
      // An item whose incident row is gone is not listed.
      await store.insertPostmortem(postmortem('INC-3'));
      await save(store, 'INC-3', 1, [item('c-1', 'INC-3', { due: '2025-01-01' })]);
      return { store, all: [...first, ...second] };
    }

    const incidentOf = (i: ActionItemRecord) =>
      i.incidentId === 'INC-1'
        ? { title: 'Checkout down', severity: 'SEV1', status: 'resolved' }
        : { title: 'Payments slow', severity: 'SEV3', status: 'closed' };
    const byId = (all: ActionItemRecord[], ids: string[]) =>
      ids.map((id) => all.find((i) => i.id === id)!).map((i) => ({ ...i, incident: incidentOf(i) }));

    async function listAll(store: Store, status: ActionItemStatus | undefined, limit: number) {
      const ids: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listActionItems({ status, cursor, limit });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        ids.push(...page.items.map((i) => i.id));
        if (page.nextCursor === null) return ids;
        expect(page.items).toHaveLength(limit);
        cursor = page.nextCursor;
      }
    }

    it('lists soonest due first, undated last, with the incident joined', async () => {
      const { store, all } = await seeded();
      const page = await store.listActionItems({ limit: 50 });
      // Undated sorts as 9999-12-31, ties by id in byte order.
      expect(page).toEqual({ items: byId(all, ['a-2', 'b-1', 'A-9', 'a-3', 'a-1', 'b-2', 'b-3']), nextCursor: null });
      expect(await store.listActionItems({ status: 'open', limit: 50 })).toEqual({
        items: byId(all, ['b-1', 'A-9', 'a-3', 'a-1', 'b-3']),
        nextCursor: null,
      });
      expect((await store.listActionItems({ status: 'done', limit: 50 })).items.map((i) => i.id)).toEqual(['a-2', 'b-2']);
    });

    it('pages with a cursor through every item exactly once, across dated and undated', async () => {
      const { store } = await seeded();
      for (const limit of [1, 2, 3, 7]) {
        expect(await listAll(store, undefined, limit)).toEqual(['a-2', 'b-1', 'A-9', 'a-3', 'a-1', 'b-2', 'b-3']);
        expect(await listAll(store, 'open', limit)).toEqual(['b-1', 'A-9', 'a-3', 'a-1', 'b-3']);
      }
      const full = await store.listActionItems({ status: 'done', limit: 2 });
      expect(full.nextCursor).toBeNull();
    });

    it('rejects a damaged cursor and a bad limit', async () => {
      const { store } = await seeded();
      await expect(store.listActionItems({ cursor: 'not a cursor!', limit: 2 })).rejects.toBeInstanceOf(InvalidCursorError);
      const noJson = Buffer.from('{"due":', 'utf8').toString('base64url');
      await expect(store.listActionItems({ cursor: noJson, limit: 2 })).rejects.toBeInstanceOf(InvalidCursorError);
      const noId = Buffer.from(JSON.stringify({ due: '2025-03-15' }), 'utf8').toString('base64url');
      await expect(store.listActionItems({ cursor: noId, limit: 2 })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.listActionItems({ limit: 0 })).rejects.toThrow(RangeError);
    });
  });
});
