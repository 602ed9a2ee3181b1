// PagingStore on both engines: page attempts upserted by their idempotency key, the incident's pages in order,
// and the sent pages the per-contact throttle counts.
import type { PageRecord } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { minutes } from './records';

function page(key: string, overrides: Partial<PageRecord> = {}): PageRecord {
  return {
    key,
    incidentId: 'INC-1',
    stepId: 'page-primary',
    round: 1,
    level: 0,
    personId: 'alice',
    channel: 'email',
    recipient: 'alice@example.com',
    status: 'sent',
    attempts: 1,
    error: null,
    providerId: null,
    updatedAt: minutes(1),
    ...overrides,
  };
}

describeEachStore('paging store', (engine) => {
  it('round-trips every field, including nulls, and lists by update time, then key', async () => {
    const store = await engine.fresh();
    const pages = [
      page('p-b', { updatedAt: minutes(2) }),
      page('p-c', { status: 'failed', error: 'SMTP 550 mailbox unavailable', channel: 'webhook', round: 2, level: 1, attempts: 3 }),
      page('p-a', { updatedAt: minutes(2), providerId: '<msg-1@example.com>', status: 'withdrawn' }),
      page('P-z', { updatedAt: minutes(2), channel: 'slack', recipient: 'U123', status: 'throttled' }),
      page('p-d', { incidentId: 'INC-2' }),
    ];
    for (const p of pages) await store.recordPage(p);
    expect(await store.listPages('INC-1')).toEqual([pages[1], pages[3], pages[2], pages[0]]);
    expect(await store.listPages('INC-2')).toEqual([pages[4]]);
    expect(await store.listPages('INC-404')).toEqual([]);
  });

  it('updates a retried page by its key: the outcome is the latest, attempts only grow', async () => {
    const store = await engine.fresh();
    await store.recordPage(page('k', { status: 'sending', attempts: 2, updatedAt: minutes(1) }));
    await store.recordPage(
      page('k', { status: 'failed', attempts: 1, error: 'timeout', updatedAt: minutes(2), stepId: 'ignored', round: 9 }),
    );
    expect(await store.listPages('INC-1')).toEqual([page('k', { status: 'failed', attempts: 2, error: 'timeout', updatedAt: minutes(2) })]);
    await store.recordPage(page('k', { status: 'sent', attempts: 3, providerId: 'id-1', updatedAt: minutes(3) }));
    expect(await store.listPages('INC-1')).toEqual([page('k', { status: 'sent', attempts: 3, providerId: 'id-1', updatedAt: minutes(3) })]);
  });

  it('answers when pages to one recipient were sent or are being sent since a time, oldest first, but for the asker', async () => {
    const store = await engine.fresh();
    await store.recordPage(page('old', { updatedAt: minutes(1) }));
    await store.recordPage(page('at-since', { updatedAt: minutes(5) }));
    await store.recordPage(page('later', { updatedAt: minutes(9), incidentId: 'INC-2' }));
    await store.recordPage(page('mid', { updatedAt: minutes(7) }));
    await store.recordPage(page('failed', { updatedAt: minutes(8), status: 'failed' }));
    await store.recordPage(page('sending', { updatedAt: minutes(8), status: 'sending' }));
    await store.recordPage(page('throttled', { updatedAt: minutes(8), status: 'throttled' }));
    await store.recordPage(page('other-person', { updatedAt: minutes(8), recipient: 'bob@example.com' }));
    await store.recordPage(page('other-channel', { updatedAt: minutes(8), channel: 'slack' }));
    expect(await store.recentPages('email', 'alice@example.com', minutes(5))).toEqual([minutes(5), minutes(7), minutes(8), minutes(9)]);
    expect(await store.recentPages('email', 'alice@example.com', minutes(5), 'sending')).toEqual([minutes(5), minutes(7), minutes(9)]);
    expect(await store.recentPages('email', 'alice@example.com', minutes(10))).toEqual([]);
    expect(await store.recentPages('slack', 'alice@example.com', minutes(0))).toEqual([minutes(8)]);
  });
});
