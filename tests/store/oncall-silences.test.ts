// OnCallStore and SilenceStore on both engines: overrides listed oldest first with their filters and deleted per
// schedule; silences listed latest end first, in force at a time, and expired (a pending one starts and ends then).
import type { OnCallOverrideRecord, SilenceRecord } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { minutes } from './records';

function override(id: string, overrides: Partial<OnCallOverrideRecord> = {}): OnCallOverrideRecord {
  return {
    id,
    scheduleId: 'primary',
    personId: 'alice',
    from: minutes(0),
    to: minutes(60),
    reason: null,
    createdAt: minutes(0),
    createdBy: { id: 'U1', name: 'Alice', role: 'commander' },
    ...overrides,
  };
}

function silence(id: string, overrides: Partial<SilenceRecord> = {}): SilenceRecord {
  return {
    id,
    matchers: [
      { name: 'service', value: 'checkout', op: '=' },
      { name: 'zone', value: 'eu-.*', op: '=~' },
    ],
    startsAt: minutes(0),
    endsAt: minutes(60),
    comment: 'maintenance',
    createdBy: { id: 'U1', name: 'Alice' },
    createdAt: minutes(0),
    updatedAt: minutes(0),
    ...overrides,
  };
}

describeEachStore('on-call store', (engine) => {
  it('round-trips overrides and lists them oldest first, by schedule and end', async () => {
    const store = await engine.fresh();
    const rows = [
      override('o-b', { createdAt: minutes(2), reason: 'swap with Bob' }),
      override('o-a', { createdAt: minutes(2), to: minutes(10), personId: 'bob' }),
      override('o-c', { createdAt: minutes(1), scheduleId: 'secondary', createdBy: { id: 'U2', name: 'Bob', role: 'responder' } }),
      override('O-d', { createdAt: minutes(2), to: minutes(20) }),
    ];
    for (const o of rows) await store.insertOnCallOverride(o);
    expect(await store.listOnCallOverrides({ limit: 10 })).toEqual([rows[2], rows[3], rows[1], rows[0]]);
    expect(await store.listOnCallOverrides({ limit: 2 })).toEqual([rows[2], rows[3]]);
    expect(await store.listOnCallOverrides({ scheduleId: 'primary', limit: 10 })).toEqual([rows[3], rows[1], rows[0]]);
    // Ends strictly after.
    expect(await store.listOnCallOverrides({ endsAfter: minutes(20), limit: 10 })).toEqual([rows[2], rows[0]]);
    expect(await store.listOnCallOverrides({ scheduleId: 'primary', endsAfter: minutes(10), limit: 10 })).toEqual([rows[3], rows[0]]);
    expect(await store.listOnCallOverrides({ scheduleId: 'none', limit: 10 })).toEqual([]);
    await expect(store.listOnCallOverrides({ limit: 0 })).rejects.toThrow(RangeError);
    await expect(store.insertOnCallOverride(override('o-b'))).rejects.toMatchObject({
      message: expect.stringMatching(/UNIQUE constraint|duplicate key/),
    });
  });

  it('deletes an override only from its own schedule, once, answering the deleted row', async () => {
    const store = await engine.fresh();
    await store.insertOnCallOverride(override('o-1', { reason: 'holiday' }));
    expect(await store.deleteOnCallOverride('secondary', 'o-1')).toBeUndefined();
    expect(await store.deleteOnCallOverride('primary', 'o-1')).toEqual(override('o-1', { reason: 'holiday' }));
    expect(await store.deleteOnCallOverride('primary', 'o-1')).toBeUndefined();
    expect(await store.listOnCallOverrides({ limit: 10 })).toEqual([]);
  });
});

describeEachStore('silence store', (engine) => {
  it('round-trips silences and lists them latest end first, then by id', async () => {
    const store = await engine.fresh();
    const rows = [
      silence('s-b', { endsAt: minutes(30) }),
      silence('s-c', { endsAt: minutes(90), matchers: [{ name: 'alertname', value: 'Disk.*', op: '!~' }], comment: 'Ünïcode “ok”' }),
      silence('s-a', { endsAt: minutes(30) }),
      silence('S-d', { endsAt: minutes(30), matchers: [{ name: 'env', value: 'staging', op: '!=' }] }),
    ];
    for (const s of rows) await store.insertSilence(s);
    expect(await store.getSilence('s-c')).toEqual(rows[1]);
    expect(await store.getSilence('s-404')).toBeUndefined();
    expect(await store.listSilences({})).toEqual([rows[1], rows[3], rows[2], rows[0]]);
    expect(await store.listSilences({ limit: 2 })).toEqual([rows[1], rows[3]]);
    await expect(store.listSilences({ limit: 0 })).rejects.toThrow(RangeError);
    await expect(store.insertSilence(silence('s-b'))).rejects.toMatchObject({
      message: expect.stringMatching(/UNIQUE constraint|duplicate key/),
    });
  });

  it('lists 1000 by default', async () => {
    const store = await engine.fresh();
    const many = Array.from({ length: 1001 }, (_, i) => silence(`s-${String(i).padStart(4, '0')}`, { endsAt: minutes(60 + i) }));
    for (const s of many) await store.insertSilence(s);
    const listed = await store.listSilences({});
    expect(listed).toHaveLength(1000);
    expect(listed[0]).toEqual(many[1000]);
    expect(listed.at(-1)).toEqual(many[1]);
  });

  it('lists only those in force at a time: started, not yet ended', async () => {
    const store = await engine.fresh();
    const pending = silence('pending', { startsAt: minutes(20), endsAt: minutes(40) });
    const current = silence('current', { startsAt: minutes(0), endsAt: minutes(30) });
    const ended = silence('ended', { startsAt: minutes(0), endsAt: minutes(10) });
    for (const s of [pending, current, ended]) await store.insertSilence(s);
    expect(await store.listSilences({ activeAt: minutes(10) })).toEqual([current]);
    expect(await store.listSilences({ activeAt: minutes(20) })).toEqual([pending, current]);
    expect(await store.listSilences({ activeAt: minutes(20), limit: 1 })).toEqual([pending]);
    expect(await store.listSilences({ activeAt: minutes(30) })).toEqual([pending]);
    expect(await store.listSilences({ activeAt: minutes(40) })).toEqual([]);
  });

  it('expires a silence at a time; a pending one starts and ends there; an expired one stays as it is', async () => {
    const store = await engine.fresh();
    await store.insertSilence(silence('current', { startsAt: minutes(0), endsAt: minutes(60) }));
    await store.insertSilence(silence('pending', { startsAt: minutes(30), endsAt: minutes(60) }));
    await store.insertSilence(silence('ended', { startsAt: minutes(0), endsAt: minutes(5) }));

    const expired = silence('current', { endsAt: minutes(10), updatedAt: minutes(10) });
    expect(await store.expireSilence('current', minutes(10))).toEqual(expired);
    expect(await store.getSilence('current')).toEqual(expired);
    expect(await store.expireSilence('current', minutes(20))).toEqual(expired);
    expect(await store.getSilence('current')).toEqual(expired);

    expect(await store.expireSilence('pending', minutes(10))).toEqual(
      silence('pending', { startsAt: minutes(10), endsAt: minutes(10), updatedAt: minutes(10) }),
    );
    expect(await store.expireSilence('ended', minutes(10))).toEqual(silence('ended', { startsAt: minutes(0), endsAt: minutes(5) }));
    expect(await store.expireSilence('s-404', minutes(10))).toBeUndefined();
    expect(await store.listSilences({ activeAt: minutes(10) })).toEqual([]);
  });
});
