// TimelineStore on both engines: writes by id (latest write wins, identical repeats change nothing), trimming,
// paging by seq, the head the live stream polls, and reads by type.
import { describeEachStore } from '../support/stores';
import { event, incident, minutes } from './records';

describeEachStore('timeline store', (engine) => {
  it('stores each event once however often it is appended, and counts rows changed', async () => {
    const store = await engine.fresh();
    const events = [1, 2, 3, 4, 5].map((seq) => event('INC-1', seq));
    expect(await store.appendTimeline(events)).toBe(5);
    expect(await store.appendTimeline(events)).toBe(0);
    expect(await store.appendTimeline([4, 5, 6, 7].map((seq) => event('INC-1', seq)))).toBe(2);
    expect(await store.appendTimeline([event('INC-2', 1)])).toBe(1);
    expect(await store.appendTimeline([])).toBe(0);

    const listed = await store.listTimeline('INC-1', { limit: 100 });
    expect(listed).toEqual([1, 2, 3, 4, 5, 6, 7].map((seq) => event('INC-1', seq)));
  });

  it('lets a later write of an id win, counting each field that differs as a change', async () => {
    const store = await engine.fresh();
    await store.appendTimeline([1, 2, 3, 4, 5, 6, 7].map((seq) => event('INC-1', seq)));
    const changed = [
      event('INC-1', 1, { summary: 'retried' }),
      event('INC-1', 2, { at: minutes(99) }),
      event('INC-1', 3, { type: 'step.failed' }),
      event('INC-1', 4, { phase: 'recover' }),
      event('INC-1', 5, { actor: { id: 'U2', name: 'Bob', role: 'responder' } }),
      event('INC-1', 6, { data: { step: 's6', nested: { ok: false } } }),
      event('INC-1', 7),
    ];
    expect(await store.appendTimeline(changed)).toBe(6);
    expect(await store.listTimeline('INC-1', { limit: 100 })).toEqual(changed);
    expect(await store.appendTimeline(changed)).toBe(0);
  });

  it('applies an id written twice in one batch in order: the last write stays', async () => {
    const store = await engine.fresh();
    const batch = [event('INC-1', 1), event('INC-1', 2), event('INC-1', 1, { summary: 'second' }), event('INC-1', 2)];
    expect(await store.appendTimeline(batch)).toBe(3);
    expect((await store.listTimeline('INC-1', { limit: 10 })).map((e) => e.summary)).toEqual(['second', 'step 2']);
  });

  it('round-trips nested data, nulls, booleans and unicode', async () => {
    const store = await engine.fresh();
    const rich = event('INC-1', 1, {
      summary: 'Ünïcode “quotes” \\ and \n newline',
      data: { list: [1, 2.5, -3, 'x', null, true, { deep: [[]] }], empty: {}, text: '€ 😀', big: 2 ** 52, zero: 0 },
    });
    await store.appendTimeline([rich]);
    expect(await store.listTimeline('INC-1', { limit: 10 })).toEqual([rich]);
  });

  it('agrees on one write between two stores appending the same events at once', async () => {
    const a = await engine.fresh();
    const b = await engine.another();
    const events = Array.from({ length: 20 }, (_, i) => event('INC-1', i + 1));
    const changed = await Promise.all([a.appendTimeline(events), b.appendTimeline([...events].reverse())]);
    expect(changed[0] + changed[1]).toBe(20);
    expect(await b.listTimeline('INC-1', { limit: 100 })).toEqual(events);
  });

  it('trims what a rejected task left past the last event, for that incident only', async () => {
    const store = await engine.fresh();
    await store.appendTimeline([1, 2, 3, 4].map((seq) => event('INC-1', seq)));
    await store.appendTimeline([{ ...event('INC-1', 2), summary: 'retried' }]);
    await store.trimTimeline('INC-1', 3);
    await store.appendTimeline([event('INC-2', 9)]);
    await store.trimTimeline('INC-2', 9);
    const listed = await store.listTimeline('INC-1', { limit: 100 });
    expect(listed.map((e) => [e.seq, e.summary === 'retried'])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect(await store.listTimeline('INC-2', { limit: 10 })).toHaveLength(1);
    await store.trimTimeline('INC-1', 0);
    expect(await store.listTimeline('INC-1', { limit: 10 })).toEqual([]);
  });

  it('lists in seq order after an exclusive seq, up to the limit', async () => {
    const store = await engine.fresh();
    await store.appendTimeline([5, 3, 1, 4, 2].map((seq) => event('INC-1', seq)));
    await store.appendTimeline([event('INC-2', 1)]);
    expect((await store.listTimeline('INC-1', { afterSeq: 2, limit: 2 })).map((e) => e.seq)).toEqual([3, 4]);
    expect((await store.listTimeline('INC-1', { afterSeq: 0, limit: 10 })).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.listTimeline('INC-1', { limit: 3 })).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await store.listTimeline('INC-1', { afterSeq: 5, limit: 10 })).toEqual([]);
    await expect(store.listTimeline('INC-1', { limit: 0 })).rejects.toBeInstanceOf(RangeError);
  });

  it('reports the head: the incident row’s updatedAt and its last seq, 0 when none', async () => {
    const store = await engine.fresh();
    expect(await store.timelineHead('INC-1')).toBeUndefined();
    await store.appendTimeline([event('INC-1', 1)]);
    expect(await store.timelineHead('INC-1')).toBeUndefined();
    await store.insertIncident(incident(1));
    await store.insertIncident(incident(2));
    expect(await store.timelineHead('INC-1')).toEqual({ updatedAt: minutes(1), maxSeq: 1 });
    expect(await store.timelineHead('INC-2')).toEqual({ updatedAt: minutes(2), maxSeq: 0 });
    await store.appendTimeline([event('INC-1', 12), event('INC-1', 3)]);
    await store.updateIncident('INC-1', { status: 'acknowledged' }, minutes(20));
    expect(await store.timelineHead('INC-1')).toEqual({ updatedAt: minutes(20), maxSeq: 12 });
  });

  it('lists an incident’s events of the given types, oldest first', async () => {
    const store = await engine.fresh();
    await store.appendTimeline([
      event('INC-1', 4, { type: 'incident.acknowledged' }),
      event('INC-1', 1, { type: 'incident.declared' }),
      event('INC-1', 2, { type: 'alert.fired' }),
      event('INC-1', 3, { type: 'step.started' }),
      event('INC-1', 5, { type: 'alert.fired' }),
      event('INC-2', 1, { type: 'alert.fired' }),
    ]);
    const seqs = async (types: Parameters<typeof store.listTimelineByType>[1]) =>
      (await store.listTimelineByType('INC-1', types)).map((e) => [e.seq, e.type]);
    expect(await seqs(['alert.fired', 'incident.acknowledged'])).toEqual([
      [2, 'alert.fired'],
      [4, 'incident.acknowledged'],
      [5, 'alert.fired'],
    ]);
    expect(await seqs(['incident.closed'])).toEqual([]);
    expect(await seqs([])).toEqual([]);
    expect(await store.listTimelineByType('INC-1', ['incident.declared'])).toEqual([event('INC-1', 1, { type: 'incident.declared' })]);
  });
});
