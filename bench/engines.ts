// The read-model engines the bench measures, and what it writes into them behind the store's back: a filled
// history (what the workflows would have written over two years, in seconds instead) and where incident
// numbers start, so runs on one dev server never meet on a workflow id.
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore } from '../src/store/postgres';
import { openSqliteStore } from '../src/store/sqlite';
import type { Store } from '../src/store/store';

export type Engine = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export const ENGINE_LABEL = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;

/**
 * `pool`: connections of a PostgreSQL store (default: the store's own default, as a replica has it). The test
 * cluster allows 30, shared by the replicas, the bench's worker and its inbox checks.
 */
export function openStore(engine: Engine, pool?: number): Store {
  return engine.kind === 'sqlite'
    ? openSqliteStore(engine.file)
    : openPostgresStore(engine.url, { applicationName: 'fireline-bench', ...(pool ? { max: pool } : {}) });
}

/** The next incident the store allocates is `INC-<first>`. */
export async function setNextIncidentNumber(engine: Engine, first: number): Promise<void> {
  if (engine.kind === 'sqlite') {
    const db = new Database(engine.file);
    try {
      db.prepare("UPDATE sequences SET value = ? WHERE name = 'incident'").run(first - 1);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: engine.url });
  await client.connect();
  try {
    await client.query("SELECT setval('incident_number', $1)", [first - 1]);
  } finally {
    await client.end();
  }
}

export const INCIDENTS = 10_000;
export const EVENTS_PER_INCIDENT = 50;
const SERVICES = ['checkout', 'payments', 'orders-db', 'inventory', 'search', 'catalog', 'shipping', 'customer-data'];
const RUNBOOKS = ['order-db-outage', 'checkout-error-spike', 'payment-gateway-degradation', 'inventory-sync-drift', 'triage'];
const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const RUNBOOK_ACTOR = JSON.stringify({ id: 'runbook', name: 'Runbook', role: 'admin' });
const COMMANDER = JSON.stringify({ id: 'token:bench', name: 'Bench Commander', role: 'commander' });

interface IncidentRow {
  id: string;
  title: string;
  service: string;
  severity: string;
  drill: boolean;
  declaredAt: string;
  runbookId: string;
  workflowId: string;
  status: string;
  phase: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  updatedAt: string;
}

interface EventRow {
  id: string;
  incidentId: string;
  seq: number;
  at: string;
  type: string;
  phase: string;
  actor: string;
  summary: string;
  data: string;
}

/** 10,000 incidents over the two years before `now`, 40 of them still open, with 50 timeline events each. */
function* history(first: number, now: number): Generator<{ incident: IncidentRow; events: EventRow[] }> {
  const span = 2 * 365 * 86_400_000;
  const start = now - span;
  for (let i = 0; i < INCIDENTS; i++) {
    const id = `INC-${first + i}`;
    const declared = start + Math.floor((i / INCIDENTS) * span);
    const at = (ms: number) => new Date(declared + ms).toISOString();
    const open = i >= INCIDENTS - 40;
    const status = open ? (i % 2 ? 'open' : 'acknowledged') : 'closed';
    const ack = 60_000 + (i % 17) * 30_000;
    const resolved = 30 * 60_000 + (i % 23) * 5 * 60_000;
    const closed = resolved + 3_600_000;
    const incident: IncidentRow = {
      id,
      title: `${['Checkout errors', 'Payment timeouts', 'Order DB replica lag', 'Inventory drift', 'Search latency'][i % 5]} ${i}`,
      service: SERVICES[i % SERVICES.length]!,
      severity: SEVERITIES[i % 4]!,
      drill: i % 25 === 0,
      declaredAt: at(0),
      runbookId: RUNBOOKS[i % RUNBOOKS.length]!,
      workflowId: `incident/${id}`,
      status,
      phase: open ? 'decide' : 'closed',
      acknowledgedAt: status === 'open' ? null : at(ack),
      resolvedAt: open ? null : at(resolved),
      closedAt: open ? null : at(closed),
      updatedAt: at(open ? ack : closed),
    };
    const last = open ? ack + 120_000 : closed;
    const events: EventRow[] = [];
    for (let seq = 1; seq <= EVENTS_PER_INCIDENT; seq++) {
      const ms = Math.floor(((seq - 1) / (EVENTS_PER_INCIDENT - 1)) * last);
      const phase = PHASES[Math.min(PHASES.length - 1, Math.floor(((seq - 1) / EVENTS_PER_INCIDENT) * PHASES.length))]!;
      let type = 'step.succeeded';
      let summary = `notify step-${seq} done`;
      let data = `{"stepId":"step-${seq}"}`;
      if (seq === 1) [type, summary, data] = ['incident.declared', 'Declared', '{"trigger":"manual"}'];
      else if (seq === 4)
        [type, summary, data] = ['notification.sent', 'Notified #incidents via slack', '{"stepId":"announce","via":"slack"}'];
      else if (seq % 8 === 2) [type, summary, data] = ['phase.entered', `Entered ${phase}`, `{"phase":"${phase}"}`];
      else if (seq === EVENTS_PER_INCIDENT && !open) [type, summary, data] = ['incident.closed', 'Closed after the retrospective', '{}'];
      events.push({
        id: `${id}:${seq}`,
        incidentId: id,
        seq,
        at: at(ms),
        type,
        phase,
        actor: seq === 1 ? COMMANDER : RUNBOOK_ACTOR,
        summary,
        data,
      });
    }
    yield { incident, events };
  }
}

/**
 * Writes the history into a migrated, empty read model, in one transaction, and sets the incident sequence
 * past it. Returns the milliseconds it took.
 */
export async function fill(engine: Engine, first: number): Promise<number> {
  const t0 = performance.now();
  if (engine.kind === 'sqlite') fillSqlite(engine.file, first);
  else await fillPostgres(engine.url, first);
  await setNextIncidentNumber(engine, first + INCIDENTS);
  return performance.now() - t0;
}

function fillSqlite(file: string, first: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const incident = db.prepare(
    `INSERT INTO incidents (id, title, service, severity, summary, drill, trigger_kind, trigger_actor, declared_at, runbook_id, runbook_version,
       workflow_id, status, phase, acknowledged_at, resolved_at, closed_at, updated_at)
     VALUES (?, ?, ?, ?, NULL, ?, 'manual', ?, ?, ?, 'bench00000000000', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const event = db.prepare(
    'INSERT INTO timeline_events (id, incident_id, seq, at, type, phase, actor, summary, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const { incident: r, events } of history(first, Date.now())) {
      incident.run(
        r.id,
        r.title,
        r.service,
        r.severity,
        r.drill ? 1 : 0,
        COMMANDER,
        r.declaredAt,
        r.runbookId,
        r.workflowId,
        r.status,
        r.phase,
        r.acknowledgedAt,
        r.resolvedAt,
        r.closedAt,
        r.updatedAt,
      );
      for (const e of events) event.run(e.id, e.incidentId, e.seq, e.at, e.type, e.phase, e.actor, e.summary, e.data);
    }
  })();
  db.pragma('optimize');
  db.close();
}

/** Rows per INSERT … SELECT FROM unnest(…): one array parameter per column, so no parameter limit applies. */
const PG_BATCH = 10_000;

/** Column arrays of `rows`, in the order of `keys`. */
const columns = <R>(rows: R[], keys: (keyof R)[]) => keys.map((k) => rows.map((r) => r[k]));

async function fillPostgres(url: string, first: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const incidentKeys: (keyof IncidentRow)[] = [
    'id',
    'title',
    'service',
    'severity',
    'drill',
    'declaredAt',
    'runbookId',
    'workflowId',
    'status',
    'phase',
    'acknowledgedAt',
    'resolvedAt',
    'closedAt',
    'updatedAt',
  ];
  const eventKeys: (keyof EventRow)[] = ['id', 'incidentId', 'seq', 'at', 'type', 'phase', 'actor', 'summary', 'data'];
  const insertIncidents = (rows: IncidentRow[]) =>
    client.query(
      `INSERT INTO incidents (id, title, service, severity, summary, drill, trigger_kind, trigger_actor, declared_at, runbook_id, runbook_version,
         workflow_id, status, phase, acknowledged_at, resolved_at, closed_at, updated_at)
       SELECT id, title, service, severity, NULL, drill, 'manual', $15, declared_at, runbook_id, 'bench00000000000',
         workflow_id, status, phase, acknowledged_at, resolved_at, closed_at, updated_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::timestamptz[], $7::text[], $8::text[], $9::text[],
         $10::text[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[])
         AS u(id, title, service, severity, drill, declared_at, runbook_id, workflow_id, status, phase, acknowledged_at, resolved_at, closed_at, updated_at)`,
      [...columns(rows, incidentKeys), COMMANDER],
    );
  const insertEvents = (rows: EventRow[]) =>
    client.query(
      `INSERT INTO timeline_events (id, incident_id, seq, at, type, phase, actor, summary, data)
       SELECT id, incident_id, seq, at, type, phase, actor, summary, data::jsonb
       FROM unnest($1::text[], $2::text[], $3::integer[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
         AS u(id, incident_id, seq, at, type, phase, actor, summary, data)`,
      columns(rows, eventKeys),
    );
  try {
    await client.query('BEGIN');
    let incidents: IncidentRow[] = [];
    let events: EventRow[] = [];
    for (const { incident, events: more } of history(first, Date.now())) {
      incidents.push(incident);
      events.push(...more);
      if (events.length >= PG_BATCH) {
        await insertIncidents(incidents);
        await insertEvents(events);
        [incidents, events] = [[], []];
      }
    }
    if (incidents.length) await insertIncidents(incidents);
    if (events.length) await insertEvents(events);
    await client.query('COMMIT');
    // Planner statistics for the filled tables, as a long-running server's autovacuum would have them.
    await client.query('VACUUM ANALYZE incidents, timeline_events');
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the server of `serverUrl`. */
export async function createPostgresDatabase(serverUrl: string, name: string): Promise<Engine> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { kind: 'postgres', url: url.toString() };
}
