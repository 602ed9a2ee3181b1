// Timelines of incidents spread over weeks, exported as JSON (paged), Markdown and CSV; and the incident list
// paging through 10,000 incidents with keyset cursors, whole and filtered, at the same speed deep as shallow.
import type { IncidentRecord } from '../../src/domain/incident';
import type { TimelineEvent } from '../../src/domain/timeline';
import type { Page } from '../../src/store/store';
import { expectError, parseCsv, startApiHarness, timelineOf } from '../support/api';
import type { ApiHarness } from '../support/api';
import { DAY, HOUR, MINUTE, buildIncident, seedIncident } from '../support/browser';
import type { SeededIncident } from '../support/browser';

let api: ApiHarness;
const WEEK = 7 * DAY;
/** Sunday 2025-06-01 23:30 UTC: the first incident runs over the week boundary into Monday. */
const BASE = Date.parse('2025-06-01T23:30:00.000Z');
const NASTY_NOTES = ['=SUM(A1:A3)', '+44 20 7946 0000', '-1 for "quotes", commas', '@here | pipes | *stars* _under_ `ticks`', 'two\nlines'];
const spread: SeededIncident[] = [];

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-timeline-export' });
  for (let w = 0; w < 6; w++) {
    spread.push(
      await seedIncident(api.store, {
        title: `Week ${w}: checkout errors, "quoted" | piped`,
        declaredAt: new Date(BASE + w * WEEK),
        service: w % 2 ? 'payments' : 'checkout',
        severity: w % 2 ? 'SEV2' : 'SEV1',
        alertLeadMs: 3 * MINUTE,
        reportMs: 20_000,
        pageMs: 40_000,
        ackMs: 4 * MINUTE,
        clearMs: 50 * MINUTE,
        resolveMs: HOUR,
        closeMs: 2 * DAY,
        notes: NASTY_NOTES.map((text, i) => ({ atMs: (10 + i) * MINUTE, text })),
        fillerSteps: 20 + w * 5,
      }),
    );
  }
});
afterAll(async () => {
  await api?.stop();
});

test('JSON: every event once, oldest first, UTC times, paged with after/next across days and weeks', async () => {
  for (const s of spread) {
    const id = s.incident.id;
    const all = await timelineOf(api, id);
    expect(all.next).toBeNull();
    expect(all.events.map((e) => e.seq)).toEqual(s.events.map((e) => e.seq));
    expect(all.events).toEqual(s.events);
    for (const e of all.events) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(all.events.map((e) => e.at)).toEqual([...all.events.map((e) => e.at)].sort());
    // The incident spans two days (and, for the first, two ISO weeks).
    expect(all.events[0]!.at.slice(0, 10)).not.toBe(all.events.at(-1)!.at.slice(0, 10));

    const paged: TimelineEvent[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: { events: TimelineEvent[]; next: number | null } = await timelineOf(api, id, `?after=${after}&limit=7`);
      expect(page.events.length).toBeLessThanOrEqual(7);
      paged.push(...page.events);
      after = page.next;
    }
    expect(paged).toEqual(all.events);
  }
  const first = spread[0]!;
  expect(first.events[0]!.at).toBe('2025-06-01T23:30:00.000Z');
  expect(first.events.at(-1)!.at).toBe('2025-06-03T23:30:00.000Z');
  expectError(await api.get(`/api/v1/incidents/${first.incident.id}/timeline?limit=0`, { as: 'viewer' }), 400);
  expectError(await api.get(`/api/v1/incidents/${first.incident.id}/timeline?format=xml`, { as: 'viewer' }), 400);
});

test('CSV: a header and one row per event, formulas defused, quotes, commas and line breaks kept', async () => {
  for (const s of spread) {
    const res = await api.get(`/api/v1/incidents/${s.incident.id}/timeline?format=csv`, { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="?${s.incident.id}-timeline\\.csv"?$`));
    const rows = parseCsv(res.text);
    expect(rows[0]).toEqual(['seq', 'at', 'type', 'phase', 'actor', 'summary']);
    expect(rows.slice(1).map((r) => r.slice(0, 4))).toEqual(s.events.map((e) => [String(e.seq), e.at, e.type, e.phase]));
    const notes = rows.filter((r) => r[2] === 'note.added').map((r) => r[5]);
    expect(notes).toEqual([
      "'=SUM(A1:A3)",
      "'+44 20 7946 0000",
      `'-1 for "quotes", commas`,
      "'@here | pipes | *stars* _under_ `ticks`",
      'two\nlines',
    ]);
    for (const row of rows.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
  }
});

test('Markdown: a heading, the facts, one table row per event with table syntax escaped', async () => {
  for (const s of spread) {
    const res = await api.get(`/api/v1/incidents/${s.incident.id}/timeline?format=md`, { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/markdown/);
    const lines = res.text.split('\n');
    expect(lines[0]).toBe(`# ${s.incident.id}: ${s.incident.title.replace(/\|/g, '\\|')}`);
    expect(res.text).toContain(`- Severity: ${s.incident.severity}`);
    expect(res.text).toContain('- Status: closed, phase closed');
    expect(res.text).toContain(`- Declared: ${s.incident.declaredAt}`);
    const rows = lines.filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(s.events.length);
    for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(8);
    expect(res.text).toContain('@here \\| pipes \\| \\*stars\\* \\_under\\_ \\`ticks\\`');
    expect(res.text).toContain('| two lines |');
  }
});

test('a long timeline exports whole with a limit up to 10,000; the default JSON page is 1,000 events', async () => {
  const big = await seedIncident(api.store, {
    title: 'Flapping for a week',
    declaredAt: new Date(BASE + 2 * WEEK),
    ackMs: MINUTE,
    resolveMs: 6 * DAY,
    closeMs: 7 * DAY,
    fillerSteps: 2400,
  });
  const total = big.events.length;
  expect(total).toBeGreaterThan(2400);
  const page = await timelineOf(api, big.incident.id);
  expect(page.events).toHaveLength(1000);
  expect(page.next).toBe(1000);
  const csv = parseCsv((await api.get(`/api/v1/incidents/${big.incident.id}/timeline?format=csv&limit=10000`, { as: 'viewer' })).text);
  expect(csv).toHaveLength(total + 1);
  const md = (await api.get(`/api/v1/incidents/${big.incident.id}/timeline?format=md&limit=10000`, { as: 'viewer' })).text;
  expect(md.split('\n').filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(total);
});

test('the list pages through 10,000 incidents with cursors: each once, in order, a deep cursor resuming exactly', async () => {
  // 10,000 incidents over 40 weeks; every tenth pair shares a declaration time, so ties are broken by id.
  const start = Date.parse('2024-01-01T00:00:00.000Z');
  const STEP = Math.floor((40 * WEEK) / 10_000);
  const services = ['checkout', 'payments', 'orders-db', 'inventory', 'search'];
  const statuses = ['closed', 'closed', 'closed', 'resolved', 'open'] as const;
  for (let i = 0; i < 10_000; i++) {
    const id = `INC-${await api.store.allocateIncidentNumber()}`;
    const declaredAt = new Date(start + (i % 10 === 1 ? i - 1 : i) * STEP).toISOString();
    const incident: IncidentRecord = {
      ...buildIncident(id, { title: `Bulk ${i}`, declaredAt }).incident,
      service: services[i % 5]!,
      status: statuses[i % 5]!,
      severity: (['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const)[i % 4]!,
    };
    await api.store.insertIncident(incident);
  }

  async function pageThrough(query: string, limit: number): Promise<{ items: IncidentRecord[] }> {
    const items: IncidentRecord[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: Page<IncidentRecord> } = await api.get<Page<IncidentRecord>>(
        `/api/v1/incidents?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
        { as: 'viewer' },
      );
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return { items };
  }

  const everything = await pageThrough('&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z', 200);
  expect(everything.items).toHaveLength(10_000);
  expect(new Set(everything.items.map((i) => i.id)).size).toBe(10_000);
  const order = everything.items.map((i) => [i.declaredAt, i.id] as const);
  const sorted = [...order].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? 1 : -1) : a[0] < b[0] ? 1 : -1));
  expect(order).toEqual(sorted);

  const checkout = await pageThrough('&service=checkout&status=closed&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z', 50);
  const expected = everything.items.filter((i) => i.service === 'checkout' && i.status === 'closed');
  expect(checkout.items.map((i) => i.id)).toEqual(expected.map((i) => i.id));

  // A cursor from deep in the list picks up exactly where it left off, whatever page size follows it.
  const cursorAt = async (n: number) => {
    let cursor: string | null = null;
    for (let p = 0; p < n; p++)
      cursor = (await api.get<Page<IncidentRecord>>(`/api/v1/incidents?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { as: 'viewer' }))
        .body.nextCursor;
    return cursor!;
  };
  const deepCursor = await cursorAt(49);
  const deep = await api.get<Page<IncidentRecord>>(`/api/v1/incidents?limit=50&cursor=${deepCursor}`, { as: 'viewer' });
  const unfiltered = await pageThrough('', 200);
  expect(deep.body.items.map((i) => i.id)).toEqual(unfiltered.items.slice(49 * 200, 49 * 200 + 50).map((i) => i.id));

  // The page's search pages the same way, narrowed by title.
  const found = await api.get<Page<IncidentRecord>>('/api/v1/incidents/search?q=bulk%20999&limit=50', { as: 'viewer' });
  expect(found.body.items.map((i) => i.title).sort()).toEqual([
    'Bulk 999',
    'Bulk 9990',
    'Bulk 9991',
    'Bulk 9992',
    'Bulk 9993',
    'Bulk 9994',
    'Bulk 9995',
    'Bulk 9996',
    'Bulk 9997',
    'Bulk 9998',
    'Bulk 9999',
  ]);
  const pct = await api.get<Page<IncidentRecord>>('/api/v1/incidents/search?q=100%25', { as: 'viewer' });
  expect(pct.body.items).toEqual([]);
  const filtered = await api.get<Page<IncidentRecord>>('/api/v1/incidents/search?q=bulk%2099&status=open&limit=3', { as: 'viewer' });
  expect(filtered.body.items.every((i) => i.status === 'open' && i.title.startsWith('Bulk 99'))).toBe(true);
  expect(filtered.body.nextCursor).not.toBeNull();
});

/** Reads server-sent events from a streaming response until `until` is satisfied. */
async function readEvents(res: Response, until: (events: { event: string; id?: string; data: unknown }[]) => boolean, timeoutMs = 10_000) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; id?: string; data: unknown }[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(events.map((e) => e.event))}`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => l && !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
        );
        if (fields.event) events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data ?? 'null') });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

test('live: the stream pushes timeline events another process writes, and catches up from Last-Event-ID', async () => {
  const open = await seedIncident(api.store, { title: 'Live stream target', declaredAt: new Date(), ackMs: MINUTE });
  const id = open.incident.id;
  const last = open.events.at(-1)!.seq;
  const auth = { authorization: `Bearer ${api.tokens.viewer}` };

  const res = await fetch(`${api.url}/api/v1/stream?incident=${id}&after=${last}`, { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  // Written straight to the read model, as a worker in another process would.
  const note: TimelineEvent = {
    id: `${id}:${last + 1}`,
    incidentId: id,
    seq: last + 1,
    at: new Date().toISOString(),
    type: 'note.added',
    phase: 'decide',
    actor: { id: 'x', name: 'Xavier', role: 'responder' },
    summary: 'Database CPU back to 40%',
    data: {},
  };
  setTimeout(() => void api.store.appendTimeline([note]), 300);
  const events = await readEvents(res, (e) => e.some((x) => x.event === 'timeline'));
  expect(events[0]).toMatchObject({ event: 'ready', data: { incident: id, after: last } });
  const push = events.find((e) => e.event === 'timeline')!;
  expect(push.id).toBe(String(last + 1));
  expect(push.data).toMatchObject({
    incident: { id, status: 'acknowledged' },
    events: [{ seq: last + 1, summary: 'Database CPU back to 40%' }],
  });

  // A reconnecting EventSource sends Last-Event-ID and gets what it missed at once.
  const again = await fetch(`${api.url}/api/v1/stream?incident=${id}`, { headers: { ...auth, 'last-event-id': String(last - 1) } });
  const missed = await readEvents(again, (e) => e.some((x) => x.event === 'timeline'));
  expect((missed.find((e) => e.event === 'timeline')!.data as { events: TimelineEvent[] }).events.map((e) => e.seq)).toEqual([
    last,
    last + 1,
  ]);

  // The list stream says when any incident changed.
  const list = await fetch(`${api.url}/api/v1/stream`, { headers: auth });
  setTimeout(
    () =>
      void api.store.updateIncident(
        id,
        { status: 'resolved', resolvedAt: new Date().toISOString() },
        new Date(Date.now() + 10 * MINUTE).toISOString(),
      ),
    300,
  );
  const changed = await readEvents(list, (e) => e.some((x) => x.event === 'incidents'));
  expect(changed.map((e) => e.event)).toEqual(['ready', 'incidents']);

  expectError(await api.get('/api/v1/stream?incident=INC-999999999999', { as: 'viewer' }), 404, 'not_found');
  expectError(await api.get(`/api/v1/stream?incident=${id}`), 401, 'unauthorized');
  expectError(await api.get('/api/v1/stream?incident=nope', { as: 'viewer' }), 400);
});
