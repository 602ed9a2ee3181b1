// GET /api/v1/audit through the real app: admins only, filters, cursor pages, and JSONL/CSV exports streamed as
// attachments that carry the chain (an unfiltered export verifies again outside Fireline).
import { GENESIS_HASH, auditHash } from '../../src/audit/chain';
import type { AuditEntry, AuditRecord } from '../../src/store/store';
import { declareIncident, expectError, expectFieldError, parseCsv, startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'audit-api' });
});
afterAll(async () => {
  await api?.stop();
});

const minute = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString();

function entry(n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: `seeded-${n}`,
    at: minute(n),
    actor: { id: 'token:seed', name: 'Seed', role: 'admin' },
    action: 'silence.create',
    method: 'POST',
    path: '/api/v1/silences',
    requestId: `req-${n}`,
    incidentId: null,
    details: { n },
    outcome: 'ok',
    ...overrides,
  };
}

type Exported = AuditRecord;

function expectVerifiableChain(entries: Exported[]): void {
  let prev = { seq: 0, hash: GENESIS_HASH };
  for (const e of entries) {
    const { seq, prevHash, hash, ...fields } = e;
    expect({ seq, prevHash }).toEqual({ seq: prev.seq + 1, prevHash: prev.hash });
    expect(auditHash(fields, prevHash)).toBe(hash);
    prev = { seq, hash };
  }
}

describe('GET /api/v1/audit', () => {
  let incidentId: string;

  beforeAll(async () => {
    // A real action through the API first, then seeded entries around it.
    incidentId = (await declareIncident(api, { title: 'Checkout failing', runbook: 'instant' })).id;
    for (let n = 1; n <= 1100; n++) await api.store.recordAudit(entry(n));
    await api.store.recordAudit(
      entry(2000, {
        id: 'awkward',
        actor: { id: 'token:quoter', name: 'Quote "the" Person, Jr.', role: 'commander' },
        action: 'incident.note',
        path: '=cmd|calc',
        incidentId,
        details: { text: 'line one\nline two, with "quotes"', formula: '=HYPERLINK("x")' },
      }),
    );
  });

  it('is for admins only', async () => {
    expectError(await api.get('/api/v1/audit'), 401, 'unauthorized');
    for (const as of ['viewer', 'responder', 'commander'] as const) expectError(await api.get('/api/v1/audit', { as }), 403, 'forbidden');
    expect((await api.get('/api/v1/audit', { as: 'admin' })).status).toBe(200);
  });

  it('filters by actor, action, target and time', async () => {
    type Page = { entries: Exported[]; next: string | null };
    const declare = await api.get<Page>(`/api/v1/audit?action=incident.declare&target=${incidentId}`, { as: 'admin' });
    expect(declare.body.entries).toEqual([
      expect.objectContaining({
        action: 'incident.declare',
        incidentId,
        actor: { id: `token:${api.tokenIds.commander}`, name: 'Grace Commander', role: 'commander' },
        outcome: 'ok',
        requestId: expect.any(String),
      }),
    ]);
    const byActor = await api.get<Page>('/api/v1/audit?actor=token:quoter', { as: 'admin' });
    expect(byActor.body.entries.map((e) => e.id)).toEqual(['awkward']);
    const window = await api.get<Page>(
      `/api/v1/audit?actor=token:seed&since=${encodeURIComponent('2026-01-01T01:00:00+01:00')}&until=2026-01-01T00:03:00Z`,
      { as: 'admin' },
    );
    expect(window.body).toEqual({
      entries: [expect.objectContaining({ id: 'seeded-2' }), expect.objectContaining({ id: 'seeded-1' })],
      next: null,
    });
  });

  it('pages newest first with a cursor until every entry was seen once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { entries: Exported[]; next: string | null } } = await api.get(
        `/api/v1/audit?actor=token:seed&limit=400${cursor ? `&cursor=${cursor}` : ''}`,
        { as: 'admin' },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.entries.map((e) => e.id));
      cursor = res.body.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 1100 }, (_, i) => `seeded-${1100 - i}`));
  });

  it('exports JSONL in chain order as an attachment that verifies again', async () => {
    // fetch itself: the harness would parse the whole body as one JSON document.
    const res = await fetch(`${api.url}/api/v1/audit?format=jsonl`, { headers: { authorization: `Bearer ${api.tokens.admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=fireline-audit.jsonl');
    const lines = (await res.text()).trimEnd().split('\n');
    const entries = lines.map((l) => JSON.parse(l) as Exported);
    const head = await api.store.auditChainHead();
    expect(entries).toHaveLength(head.seq);
    expectVerifiableChain(entries);
    expect(entries.at(-1)!.hash).toBe(head.hash);
    expect(entries.find((e) => e.id === 'awkward')!.details).toEqual({
      text: 'line one\nline two, with "quotes"',
      formula: '=HYPERLINK("x")',
    });
  });

  it('exports CSV with every cell quoted, formulas defused, filters applied', async () => {
    const res = await api.get(`/api/v1/audit?format=csv&target=${incidentId}`, { as: 'admin' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=fireline-audit.csv');
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual([
      'seq',
      'id',
      'at',
      'actor_id',
      'actor_name',
      'actor_role',
      'action',
      'outcome',
      'incident_id',
      'method',
      'path',
      'request_id',
      'details',
      'prev_hash',
      'hash',
    ]);
    expect(rows.map((r) => r[6])).toEqual(['incident.declare', 'incident.note']);
    const awkward = rows[1]!;
    expect(awkward[4]).toBe('Quote "the" Person, Jr.');
    expect(awkward[10]).toBe("'=cmd|calc");
    expect(JSON.parse(awkward[12]!)).toEqual({ text: 'line one\nline two, with "quotes"', formula: '=HYPERLINK("x")' });
    const csvLine = res.text.split('\r\n').find((l) => l.includes('"awkward"'))!;
    expect(csvLine.startsWith('"')).toBe(true);
    const declared = await api.get<{ entries: Exported[] }>(`/api/v1/audit?action=incident.note&target=${incidentId}`, { as: 'admin' });
    expect(awkward[14]).toBe(declared.body.entries[0]!.hash);
  });

  it('refuses bad queries with a 400 naming the field', async () => {
    const bad: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=many', 'limit'],
      ['since=yesterday', 'since'],
      ['until=2026-13-01T00:00:00Z', 'until'],
      ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
      ['target=orders', 'target'],
      ['action=DROP%20TABLE', 'action'],
      ['cursor=abc', 'cursor'],
      ['cursor=-1', 'cursor'],
      ['format=xml', 'format'],
      ['format=csv&cursor=10', 'cursor'],
      ['actor=', 'actor'],
      ['colour=red', 'colour'],
    ];
    for (const [query, field] of bad) {
      const res = await api.get(`/api/v1/audit?${query}`, { as: 'admin' });
      expectFieldError(res, field);
    }
    const repeated = await api.get('/api/v1/audit?actor=a&actor=b', { as: 'admin' });
    expectFieldError(repeated, 'actor');
  });
});
