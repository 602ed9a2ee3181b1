import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import Database from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createApp } from '../src/api/app';
import { createLogger } from '../src/logger';
import { RunbookCatalog } from '../src/runbooks/catalog';
import { createIncidentService } from '../src/services/incidents';
import { createTokenService } from '../src/services/tokens';
import { openSqliteStore } from '../src/store/sqlite';
import { WORKFLOWS_PATH } from '../src/temporal/worker';
import { fmt, summarize } from './stats';

const INCIDENTS = 10_000;
const EVENTS_PER_INCIDENT = 50;
/** Far above the numbers the declare bench draws on the same dev server, so workflow ids never meet. */
const FIRST_NUMBER = 5_000_001;
const SERVICES = ['checkout', 'payments', 'orders-db', 'inventory', 'search', 'catalog', 'shipping', 'customer-data'];
const RUNBOOKS = ['order-db-outage', 'checkout-error-spike', 'payment-gateway-degradation', 'inventory-sync-drift', 'triage'];
const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const RUNBOOK_ACTOR = JSON.stringify({ id: 'runbook', name: 'Runbook', role: 'admin' });
const COMMANDER = JSON.stringify({ id: 'token:bench', name: 'Bench Commander', role: 'commander' });

/**
 * 10,000 incidents over two years and 500,000 timeline events, written straight into SQLite in one
 * transaction (what the workflows would have written over time, in seconds instead).
 */
function fill(file: string): { ms: number } {
  const t0 = performance.now();
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
  const start = Date.now() - 2 * 365 * 86_400_000;
  const span = 2 * 365 * 86_400_000;
  db.transaction(() => {
    for (let i = 0; i < INCIDENTS; i++) {
      const id = `INC-${FIRST_NUMBER + i}`;
      const declared = start + Math.floor((i / INCIDENTS) * span);
      const at = (ms: number) => new Date(declared + ms).toISOString();
      const open = i >= INCIDENTS - 40;
      const status = open ? (i % 2 ? 'open' : 'acknowledged') : 'closed';
      const ack = 60_000 + (i % 17) * 30_000;
      const resolved = 30 * 60_000 + (i % 23) * 5 * 60_000;
      const closed = resolved + 3_600_000;
      incident.run(
        id,
        `${['Checkout errors', 'Payment timeouts', 'Order DB replica lag', 'Inventory drift', 'Search latency'][i % 5]} ${i}`,
        SERVICES[i % SERVICES.length],
        SEVERITIES[i % 4],
        i % 25 === 0 ? 1 : 0,
        COMMANDER,
        at(0),
        RUNBOOKS[i % RUNBOOKS.length],
        `incident/${id}`,
        status,
        open ? 'decide' : 'closed',
        status === 'open' ? null : at(ack),
        open ? null : at(resolved),
        open ? null : at(closed),
        at(open ? ack : closed),
      );
      const last = open ? ack + 120_000 : closed;
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
        event.run(`${id}:${seq}`, id, seq, at(ms), type, phase, seq === 1 ? COMMANDER : RUNBOOK_ACTOR, summary, data);
      }
    }
    db.prepare("UPDATE sequences SET value = ? WHERE name = 'incident'").run(FIRST_NUMBER + INCIDENTS);
  })();
  db.pragma('optimize');
  db.close();
  return { ms: performance.now() - t0 };
}

/**
 * The read model at scale against Temporal's own answer for one incident: p95 of the list route (first page,
 * pages 2–5 by cursor, filtered pages) and of the timeline route, each divided by the p95 of
 * DescribeWorkflowExecution of a real incident workflow on the same dev server, measured interleaved.
 */
export async function benchReadModel(opts: { address: string; dataDir: string; samples: number }) {
  const file = path.join(opts.dataDir, 'read-model.db');
  const store = openSqliteStore(file);
  await store.migrate();
  const filled = fill(file);

  const logger = createLogger({ level: 'warn' });
  const native = await NativeConnection.connect({ address: opts.address });
  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection });
  const taskQueue = `bench-read-${randomUUID().slice(0, 6)}`;
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ store }),
  });
  const running = worker.run();
  const tokens = createTokenService({ store });
  const { token } = await tokens.create('bench', 'commander');
  const runbooks = new RunbookCatalog(path.join(__dirname, '..', 'runbooks'));
  const incidents = createIncidentService({ client, store, runbooks, taskQueue, logger });
  const app = createApp({ logger, store, incidents, tokens, runbooks, checkTemporal: async () => undefined });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
  const headers = { authorization: `Bearer ${token}` };

  async function get<T>(url: string): Promise<{ ms: number; body: T }> {
    const t0 = performance.now();
    const res = await fetch(base + url, { headers });
    const body = (await res.json()) as T;
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${JSON.stringify(body)}`);
    return { ms, body };
  }

  // One real incident: the triage runbook waits for a human decision, so its workflow stays open to describe.
  const declared = await fetch(`${base}/incidents`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Bench incident to describe', runbook: 'triage' }),
  });
  if (declared.status !== 201) throw new Error(`declare answered ${declared.status}: ${await declared.text()}`);
  const { incident } = (await declared.json()) as { incident: { id: string; workflowId: string } };
  for (
    let i = 0;
    i < 100 && !(await get<{ live: { openDecisions: unknown[] } | null }>(`/incidents/${incident.id}`)).body.live?.openDecisions.length;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const describe = async () => {
    const t0 = performance.now();
    await client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: incident.workflowId } });
    return performance.now() - t0;
  };

  // Cursors for pages 2–5, whole and filtered, taken once (a cursor stays valid).
  type ListPage = { items: { id: string }[]; nextCursor: string | null };
  const cursorsOf = async (query: string) => {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let p = 0; p < 4; p++) {
      const page: ListPage = (await get<ListPage>(`/incidents?limit=50${query}${cursor ? `&cursor=${cursor}` : ''}`)).body;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
      out.push(cursor);
    }
    return out;
  };
  const deep = await cursorsOf('');
  const filters = [
    '&status=closed&service=checkout',
    '&severity=SEV2',
    '&runbook=triage&status=closed',
    '&service=payments&from=2025-01-01T00:00:00Z',
  ];
  const filtered = await Promise.all(filters.map(async (f) => ({ f, cursors: await cursorsOf(f) })));
  const ids = Array.from({ length: 97 }, (_, i) => `INC-${FIRST_NUMBER + Math.floor((i / 97) * INCIDENTS)}`);

  const SUMMARY_FROM = new Date(Date.now() - 3 * 365 * 86_400_000).toISOString();
  const cold = performance.now();
  await get(`/metrics/summary?groupBy=week&from=${SUMMARY_FROM}`);
  const metricsColdMs = performance.now() - cold;

  const samples = {
    describe: [] as number[],
    first: [] as number[],
    deep: [] as number[],
    filtered: [] as number[],
    timeline: [] as number[],
    summary: [] as number[],
  };
  const round = async (n: number, record: boolean) => {
    const f = filtered[n % filtered.length]!;
    const steps: [keyof typeof samples, () => Promise<number>][] = [
      ['describe', describe],
      ['first', async () => (await get('/incidents?limit=50')).ms],
      ['deep', async () => (await get(`/incidents?limit=50&cursor=${deep[n % deep.length]}`)).ms],
      [
        'filtered',
        async () =>
          (await get(`/incidents?limit=50${f.f}${n % 2 && f.cursors.length ? `&cursor=${f.cursors[n % f.cursors.length]}` : ''}`)).ms,
      ],
      ['timeline', async () => (await get(`/incidents/${ids[n % ids.length]}/timeline`)).ms],
    ];
    // Rotate the order so no route always runs right after another.
    for (let k = 0; k < steps.length; k++) {
      const [name, run] = steps[(n + k) % steps.length]!;
      const ms = await run();
      if (record) samples[name].push(ms);
    }
  };
  for (let n = 0; n < 30; n++) await round(n, false);
  for (let n = 0; n < opts.samples; n++) await round(n, true);
  // Apart from the routes above: a summary allocates enough to put garbage-collection pauses into their tails.
  for (let n = 0; n < 30; n++) samples.summary.push((await get(`/metrics/summary?groupBy=week&from=${SUMMARY_FROM}`)).ms);

  await client.workflow
    .getHandle(incident.workflowId)
    .terminate('bench finished')
    .catch(() => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  worker.shutdown();
  await running;
  await native.close();
  await connection.close();
  await store.close();

  const d = summarize(samples.describe);
  const line = (label: string, values: number[]) => {
    const s = summarize(values);
    return `${label} (n=${s.n}): p50 ${fmt(s.p50)}, p95 ${fmt(s.p95)} → ratio p95 ${(s.p95 / d.p95).toFixed(2)} (target ≤ 1.0)`;
  };
  const m = summarize(samples.summary);
  return {
    lines: [
      `read model: ${INCIDENTS.toLocaleString('en')} incidents, ${(INCIDENTS * EVENTS_PER_INCIDENT).toLocaleString('en')} timeline events, filled in ${(filled.ms / 1000).toFixed(1)} s`,
      `DescribeWorkflowExecution of one incident (n=${d.n}): p50 ${fmt(d.p50)}, p95 ${fmt(d.p95)}`,
      line('GET /incidents?limit=50, first page', samples.first),
      line('GET /incidents?limit=50, pages 2–5 by cursor', samples.deep),
      line('GET /incidents?limit=50 with filters (half by cursor)', samples.filtered),
      line(`GET /incidents/:id/timeline (${EVENTS_PER_INCIDENT} events)`, samples.timeline),
      `GET /metrics/summary over every incident: first call (fills the milestone cache) ${fmt(metricsColdMs)}; afterwards p50 ${fmt(m.p50)}, p95 ${fmt(m.p95)} (n=${m.n})`,
    ],
  };
}
