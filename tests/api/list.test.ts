// GET /api/v1/incidents: filters, cursor paging and refused queries, over a store of its own.
import type { IncidentRecord } from '../../src/domain/incident';
import type { Page } from '../../src/store/store';
import { eventually } from '../support/temporal';
import { declareIncident, expectError, expectFieldError, startApiHarness, waitForOpenDecision } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;
/** Declared incidents by label. */
const inc: Record<string, IncidentRecord> = {};

async function list(query: string): Promise<Page<IncidentRecord>> {
  const res = await api.get<Page<IncidentRecord>>(`/api/v1/incidents${query}`, { as: 'viewer' });
  expect({ query, status: res.status, body: res.text }).toMatchObject({ status: 200 });
  return res.body;
}

const labelsOf = (page: Page<IncidentRecord>) =>
  page.items.map((i) => Object.keys(inc).find((label) => inc[label]!.id === i.id) ?? i.id).sort();

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-list' });
  // Declared all at once, so several share a millisecond and paging must break ties by id.
  const specs: Record<string, Record<string, unknown>> = {
    a: { runbook: 'instant' }, // SEV4 from the runbook's risk, service catalog
    b: { runbook: 'instant', severity: 'SEV1', service: 'payments' },
    c: { runbook: 'instant', likelihood: 'likely', impact: 'severe', service: 'payments' }, // SEV1
    d: { runbook: 'instant', severity: 'SEV2' },
    e: { runbook: 'hold' }, // SEV2, service checkout; stays open
    f: { runbook: 'hold', severity: 'SEV1' },
    g: { runbook: 'hold', severity: 'SEV4', service: 'payments' },
  };
  const declared = await Promise.all(
    Object.entries(specs).map(([label, spec]) => declareIncident(api, { title: `Incident ${label}`, ...spec })),
  );
  Object.keys(specs).forEach((label, i) => (inc[label] = declared[i]!));
  await eventually(async () => {
    const rows = await Promise.all(['a', 'b', 'c', 'd'].map((l) => api.store.getIncident(inc[l]!.id)));
    return rows.every((r) => r?.status === 'closed') ? true : undefined;
  }, 'the instant incidents to close');
  for (const l of ['e', 'f', 'g']) await waitForOpenDecision(api, inc[l]!.id, 'go-ahead');
});
afterAll(async () => {
  await api?.stop();
});

test('without filters: every incident, newest first, no next page', async () => {
  const page = await list('');
  expect(labelsOf(page)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  expect(page.nextCursor).toBeNull();
  const keys = page.items.map((i) => [i.declaredAt, i.id] as const);
  const sorted = [...keys].sort((x, y) => (x[0] === y[0] ? (x[1] < y[1] ? 1 : x[1] > y[1] ? -1 : 0) : x[0] < y[0] ? 1 : -1));
  expect(keys).toEqual(sorted);
});

test.each([
  ['?status=closed', ['a', 'b', 'c', 'd']],
  ['?status=open', ['e', 'f', 'g']],
  ['?status=acknowledged', []],
  ['?severity=SEV1', ['b', 'c', 'f']],
  ['?severity=SEV2', ['d', 'e']],
  ['?severity=SEV4', ['a', 'g']],
  ['?runbook=hold', ['e', 'f', 'g']],
  ['?runbook=instant', ['a', 'b', 'c', 'd']],
  ['?runbook=no-such-runbook', []],
  ['?service=payments', ['b', 'c', 'g']],
  ['?service=checkout', ['e', 'f']],
  ['?runbook=instant&severity=SEV1', ['b', 'c']],
  ['?status=open&service=payments', ['g']],
  ['?from=2000-01-01T00:00:00Z', ['a', 'b', 'c', 'd', 'e', 'f', 'g']],
  ['?from=2999-01-01T00:00:00Z', []],
  ['?to=2000-01-01T00:00:00Z', []],
  ['?to=2999-01-01T00:00:00Z', ['a', 'b', 'c', 'd', 'e', 'f', 'g']],
])('filter %s', async (query, expected) => {
  expect(labelsOf(await list(query))).toEqual(expected);
});

test('from/to bound by declaredAt', async () => {
  const times = Object.values(inc)
    .map((i) => i.declaredAt)
    .sort();
  const first = times[0]!;
  const last = times.at(-1)!;
  expect((await list(`?from=${encodeURIComponent(first)}`)).items).toHaveLength(7);
  expect((await list(`?to=${encodeURIComponent(first)}`)).items).toHaveLength(0);
  const afterLast = new Date(Date.parse(last) + 1).toISOString();
  expect((await list(`?from=${encodeURIComponent(afterLast)}`)).items).toHaveLength(0);
  expect((await list(`?to=${encodeURIComponent(afterLast)}`)).items).toHaveLength(7);
});

// BUG (src/store/sqlite/incidents.ts LIST_CONDITIONS): `from`/`to` are compared as text with declared_at, but the API accepts
// any ISO offset (z.iso.datetime({ offset: true })) and declared_at is always UTC "…sssZ". An hour ago written
// in +05:00 sorts after "now" in Z, so incidents declared since then vanish. Flip to `test` once fixed.
test('from/to given with a non-UTC offset mean the same instant as in UTC', async () => {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const plus5 = new Date(hourAgo.getTime() + 5 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+05:00');
  expect(Date.parse(plus5)).toBe(Math.floor(hourAgo.getTime() / 1000) * 1000);
  expect((await list(`?from=${encodeURIComponent(plus5)}`)).items).toHaveLength(7);
});

// BUG (same place): a bound without milliseconds ("…:05Z") compares "." < "Z" against stored "…:05.123Z", so an
// incident declared within that second is dropped by `from` and kept by `to`. Flip to `test` once fixed.
test('from/to without milliseconds are instants too', async () => {
  const first = Object.values(inc)
    .map((i) => i.declaredAt)
    .sort()[0]!;
  const second = first.replace(/\.\d{3}Z$/, 'Z');
  const expected = (await list('')).items.filter((i) => Date.parse(i.declaredAt) >= Date.parse(second)).length;
  expect((await list(`?from=${encodeURIComponent(second)}`)).items).toHaveLength(expected);
});

test.each([
  ['', 1],
  ['', 2],
  ['', 3],
  ['&runbook=instant', 3],
  ['&severity=SEV1', 1],
])('paging%s with limit %d visits every incident once, in order', async (filter, limit) => {
  const everything = await list(`?limit=200${filter}`);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list(`?limit=${limit}${filter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    seen.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
    pages += 1;
    expect(pages).toBeLessThan(20);
  } while (cursor);
  expect(seen).toEqual(everything.items.map((i) => i.id));
  expect(pages).toBe(Math.max(1, Math.ceil(everything.items.length / limit)));
});

test('a full last page has no next cursor', async () => {
  expect((await list('?limit=7')).nextCursor).toBeNull();
  expect((await list('?limit=6')).nextCursor).not.toBeNull();
});

test.each([
  ['?limit=0', 'limit'],
  ['?limit=201', 'limit'],
  ['?limit=-1', 'limit'],
  ['?limit=abc', 'limit'],
  ['?limit=1.5', 'limit'],
  ['?limit=', 'limit'],
  ['?limit=1&limit=2', 'limit'],
  ['?status=bogus', 'status'],
  ['?status=Open', 'status'],
  ['?severity=sev1', 'severity'],
  ['?from=yesterday', 'from'],
  ['?to=2024-01-01', 'to'],
  ['?runbook=', 'runbook'],
  ['?cursor=', 'cursor'],
  ['?cursor=not%20a%20cursor', 'cursor'],
  ['?cursor=%21%21%21', 'cursor'],
  [`?cursor=${Buffer.from('{"x":1}').toString('base64url')}`, 'cursor'],
  [`?cursor=${Buffer.from('not json').toString('base64url')}`, 'cursor'],
  ['?sort=asc', 'sort'],
  ['?page=2', 'page'],
])('%s → 400 naming %s', async (query, field) => {
  const res = await api.get(`/api/v1/incidents${query}`, { as: 'viewer' });
  const error = expectError(res, 400, 'invalid_request');
  expect(error.message).toContain(field);
});

test('a cursor from another filter still pages without errors', async () => {
  const page = await list('?limit=2&runbook=instant');
  expect(page.nextCursor).not.toBeNull();
  const other = await list(`?limit=2&runbook=hold&cursor=${encodeURIComponent(page.nextCursor!)}`);
  expect(other.items.every((i) => i.runbookId === 'hold')).toBe(true);
});

test('list needs a token', async () => {
  expectError(await api.get('/api/v1/incidents'), 401, 'unauthorized');
  expectFieldError(await api.get('/api/v1/incidents?limit=0', { as: 'viewer' }), 'limit');
});
