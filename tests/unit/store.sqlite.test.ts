import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { IncidentRecord, IncidentStatus } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import { SEVERITIES } from '../../src/domain/severity';
import type { TimelineEvent } from '../../src/domain/timeline';
import { openSqliteStore } from '../../src/store/sqlite';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import type { AuditEntry, IncidentFilter, OutboxMessage, Store } from '../../src/store/store';
import { IncidentNotFoundError, InvalidCursorError } from '../../src/store/store-errors';

const run = promisify(execFile);

const ALICE: Actor = { id: 'U1', name: 'Alice', role: 'commander' };
const BASE = Date.parse('2025-03-01T00:00:00.000Z');
const STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved', 'closed'];
const SERVICES = ['checkout', 'payments', 'orders-db', 'inventory', 'customers'];

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-store-'));
  opened = [];
});

afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function dbFile(name = 'fireline.db'): string {
  return path.join(dir, name);
}

function open(file = dbFile()): Store {
  const store = openSqliteStore(file);
  opened.push(store);
  return store;
}

async function migrated(file = dbFile()): Promise<Store> {
  const store = open(file);
  await store.migrate();
  return store;
}

function minutes(n: number): string {
  return new Date(BASE + n * 60_000).toISOString();
}

function incident(n: number, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id: `INC-${n}`,
    title: `Checkout errors ${n}`,
    service: 'checkout',
    severity: 'SEV2',
    summary: null,
    drill: false,
    trigger: { kind: 'manual', by: ALICE },
    declaredAt: minutes(n),
    runbookId: 'checkout-down',
    runbookVersion: 'abc123',
    workflowId: `incident-INC-${n}`,
    status: 'open',
    phase: 'detect',
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    updatedAt: minutes(n),
    ...overrides,
  };
}

function event(incidentId: string, seq: number): TimelineEvent {
  return {
    id: `${incidentId}:${seq}`,
    incidentId,
    seq,
    at: minutes(seq),
    type: 'step.succeeded',
    phase: 'execute',
    actor: ALICE,
    summary: `step ${seq}`,
    data: { step: `s${seq}`, nested: { ok: true, n: seq } },
  };
}

function message(id: string, incidentId: string, at: number): OutboxMessage {
  return {
    id,
    incidentId,
    channel: 'outbox',
    to: null,
    subject: `page ${id}`,
    body: 'Checkout is down',
    drill: true,
    createdAt: minutes(at),
  };
}

function audit(id: string, incidentId: string | null, at: number): AuditEntry {
  return {
    id,
    at: minutes(at),
    actor: ALICE,
    action: 'incident.declare',
    method: 'POST',
    path: '/api/v1/incidents',
    requestId: `req-${id}`,
    incidentId,
    details: { runbook: 'checkout-down', tags: ['a', 'b'] },
    outcome: 'ok',
  };
}

function newestFirst(a: IncidentRecord, b: IncidentRecord): number {
  if (a.declaredAt !== b.declaredAt) return a.declaredAt < b.declaredAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

async function listAll(store: Store, filter: Omit<IncidentFilter, 'cursor'>): Promise<IncidentRecord[]> {
  const items: IncidentRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listIncidents({ ...filter, cursor });
    expect(page.items.length).toBeLessThanOrEqual(filter.limit);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    expect(page.items).toHaveLength(filter.limit);
    cursor = page.nextCursor;
  }
}

describe('migrations', () => {
  it('have unique, ascending ids', () => {
    const ids = MIGRATIONS.map((m) => m.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
  });

  it('apply once; a second migrate is a no-op', async () => {
    const store = await migrated();
    expect(await store.allocateIncidentNumber()).toBe(1);
    await store.migrate();
    expect(await store.allocateIncidentNumber()).toBe(2);

    const raw = new Database(dbFile(), { readonly: true });
    try {
      const applied = raw.prepare('SELECT id, name FROM schema_migrations ORDER BY id').all();
      expect(applied).toEqual(MIGRATIONS.map(({ id, name }) => ({ id, name })));
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('creates the parent directory and answers ping before migrating', async () => {
    const store = open(path.join(dir, 'nested', 'deeper', 'read.db'));
    await expect(store.ping()).resolves.toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'nested', 'deeper', 'read.db'))).toBe(true);
  });

  it('works in memory', async () => {
    const store = open(':memory:');
    await store.migrate();
    expect(await store.allocateIncidentNumber()).toBe(1);
  });
});

describe('incident numbers', () => {
  it('are distinct across two stores on the same file', async () => {
    const a = await migrated();
    const b = await migrated();
    const numbers = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).allocateIncidentNumber()));
    expect([...numbers].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('are distinct across two processes migrating and allocating at once', async () => {
    const script = `
      require('tsx/cjs');
      const { openSqliteStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/store/sqlite/index.ts'))});
      (async () => {
        const store = openSqliteStore(process.env.STORE_FILE);
        await store.migrate();
        const numbers = [];
        for (let i = 0; i < 100; i++) numbers.push(await store.allocateIncidentNumber());
        await store.close();
        process.stdout.write(JSON.stringify(numbers));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const env = { ...process.env, STORE_FILE: dbFile('shared.db') };
    const children = [1, 2].map(() => run(process.execPath, ['-e', script], { env, cwd: path.resolve(__dirname, '../..') }));
    const outputs = await Promise.all(children);
    const numbers = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as number[]);
    expect(numbers.sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});

describe('incidents', () => {
  it('round-trip every field, including nulls and booleans', async () => {
    const store = await migrated();
    const full = incident(1, {
      service: null,
      summary: 'Payments gateway times out',
      drill: true,
      trigger: { kind: 'alert', by: { id: 'alertmanager', name: 'Alertmanager', role: 'responder' } },
      acknowledgedAt: minutes(2),
    });
    await store.insertIncident(full);
    expect(await store.getIncident('INC-1')).toEqual(full);
    expect(await store.getIncident('INC-404')).toBeUndefined();
  });

  it('treat a repeated insert as already done', async () => {
    const store = await migrated();
    await store.insertIncident(incident(1));
    await store.updateIncident('INC-1', { status: 'acknowledged' }, minutes(5));
    await store.insertIncident(incident(1));
    expect((await store.getIncident('INC-1'))?.status).toBe('acknowledged');
  });

  it('apply only the fields in a patch and keep explicit nulls', async () => {
    const store = await migrated();
    await store.insertIncident(incident(1, { acknowledgedAt: minutes(2) }));
    await store.updateIncident('INC-1', { status: 'resolved', resolvedAt: minutes(9), acknowledgedAt: null }, minutes(9));
    expect(await store.getIncident('INC-1')).toEqual(
      incident(1, { status: 'resolved', resolvedAt: minutes(9), acknowledgedAt: null, updatedAt: minutes(9) }),
    );
  });

  it('ignore a patch older than the stored row', async () => {
    const store = await migrated();
    await store.insertIncident(incident(1));
    await store.updateIncident('INC-1', { phase: 'execute', severity: 'SEV1' }, minutes(10));
    await store.updateIncident('INC-1', { phase: 'report', status: 'acknowledged' }, minutes(5));
    const stored = await store.getIncident('INC-1');
    expect(stored).toMatchObject({ phase: 'execute', severity: 'SEV1', status: 'open', updatedAt: minutes(10) });

    await store.updateIncident('INC-1', { phase: 'recover' }, minutes(10));
    expect(await store.getIncident('INC-1')).toMatchObject({ phase: 'recover', updatedAt: minutes(10) });
  });

  it('refuse a patch for an unknown incident', async () => {
    const store = await migrated();
    await expect(store.updateIncident('INC-404', { status: 'open' }, minutes(1))).rejects.toBeInstanceOf(IncidentNotFoundError);
  });

  it('can be deleted', async () => {
    const store = await migrated();
    await store.insertIncident(incident(1));
    await store.deleteIncident('INC-1');
    await store.deleteIncident('INC-1');
    expect(await store.getIncident('INC-1')).toBeUndefined();
  });
});

describe('listIncidents', () => {
  let store: Store;
  let all: IncidentRecord[];

  beforeEach(async () => {
    store = await migrated();
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
    const listed = await listAll(store, { limit: 17 });
    expect(listed.map((i) => i.id)).toEqual([...all].sort(newestFirst).map((i) => i.id));
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
    const listed = await listAll(store, { ...filter, limit: 7 });
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
    const listing = store.listIncidents({ limit: 10, cursor });
    await expect(listing).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(listing).rejects.toMatchObject({ name: 'InvalidCursorError' });
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(store.listIncidents({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(store.listIncidents({ limit: 2.5 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('timeline', () => {
  it('stores each event once however often it is appended', async () => {
    const store = await migrated();
    const events = [1, 2, 3, 4, 5].map((seq) => event('INC-1', seq));
    expect(await store.appendTimeline(events)).toBe(5);
    expect(await store.appendTimeline(events)).toBe(0);
    expect(await store.appendTimeline([4, 5, 6, 7].map((seq) => event('INC-1', seq)))).toBe(2);
    expect(await store.appendTimeline([event('INC-2', 1)])).toBe(1);
    expect(await store.appendTimeline([])).toBe(0);

    const listed = await store.listTimeline('INC-1', { limit: 100 });
    expect(listed).toEqual([1, 2, 3, 4, 5, 6, 7].map((seq) => event('INC-1', seq)));
  });

  it('lets a later write of an id win, and trims what a rejected task left past the last event', async () => {
    const store = await migrated();
    await store.appendTimeline([1, 2, 3, 4].map((seq) => event('INC-1', seq)));
    await store.appendTimeline([{ ...event('INC-1', 2), summary: 'retried' }]);
    await store.trimTimeline('INC-1', 3);
    await store.appendTimeline([event('INC-2', 9)]);
    const listed = await store.listTimeline('INC-1', { limit: 100 });
    expect(listed.map((e) => [e.seq, e.summary === 'retried'])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect(await store.listTimeline('INC-2', { limit: 10 })).toHaveLength(1);
  });

  it('lists in seq order after an exclusive seq, up to the limit', async () => {
    const store = await migrated();
    await store.appendTimeline([5, 3, 1, 4, 2].map((seq) => event('INC-1', seq)));
    const page = await store.listTimeline('INC-1', { afterSeq: 2, limit: 2 });
    expect(page.map((e) => e.seq)).toEqual([3, 4]);
  });
});

describe('outbox', () => {
  it('enqueues a message once and lists newest first', async () => {
    const store = await migrated();
    expect(await store.enqueueOutbox(message('INC-1:page:0', 'INC-1', 1))).toBe(true);
    expect(await store.enqueueOutbox(message('INC-1:page:0', 'INC-1', 1))).toBe(false);
    await store.enqueueOutbox({ ...message('INC-1:page:1', 'INC-1', 3), to: 'oncall@example.com', drill: false });
    await store.enqueueOutbox(message('INC-2:page:0', 'INC-2', 2));

    const everything = await store.listOutbox({ limit: 10 });
    expect(everything.map((m) => m.id)).toEqual(['INC-1:page:1', 'INC-2:page:0', 'INC-1:page:0']);
    expect(everything[2]).toEqual(message('INC-1:page:0', 'INC-1', 1));
    expect(everything[0]).toMatchObject({ to: 'oncall@example.com', drill: false });

    const forOne = await store.listOutbox({ incidentId: 'INC-1', limit: 1 });
    expect(forOne.map((m) => m.id)).toEqual(['INC-1:page:1']);
  });
});

describe('tokens', () => {
  it('are found by hash and counted; a hash is unique', async () => {
    const store = await migrated();
    expect(await store.countTokens()).toBe(0);
    const token = { id: 'tok_1', name: 'ci', role: 'admin' as const, hash: 'a'.repeat(64), createdAt: minutes(0) };
    await store.insertToken(token);
    expect(await store.findTokenByHash(token.hash)).toEqual(token);
    expect(await store.findTokenByHash('b'.repeat(64))).toBeUndefined();
    expect(await store.countTokens()).toBe(1);
    // Matched by shape: better-sqlite3's error class can come from another jest context in a full run.
    await expect(store.insertToken({ ...token, id: 'tok_2' })).rejects.toMatchObject({ message: expect.stringMatching(/UNIQUE/) });
  });
});

describe('audit', () => {
  it('records entries and lists them newest first, optionally per incident', async () => {
    const store = await migrated();
    await store.recordAudit(audit('a1', 'INC-1', 1));
    await store.recordAudit(audit('a2', null, 2));
    await store.recordAudit({ ...audit('a3', 'INC-1', 3), outcome: 'rejected', details: {} });

    const everything = await store.listAudit({ limit: 10 });
    expect(everything.map((e) => e.id)).toEqual(['a3', 'a2', 'a1']);
    expect(everything[1]).toEqual(audit('a2', null, 2));

    const forOne = await store.listAudit({ incidentId: 'INC-1', limit: 10 });
    expect(forOne.map((e) => e.id)).toEqual(['a3', 'a1']);
    expect(forOne[0]).toMatchObject({ outcome: 'rejected', details: {} });
  });
});
