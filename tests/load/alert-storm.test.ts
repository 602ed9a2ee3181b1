// The alert storm of issue 4 on the real stack: 10,000 Alertmanager deliveries within 60 s — 200 fingerprints
// in 20 groups, 30 % duplicate deliveries, 10 % resolves — through the HTTP receiver, the coalescer, Temporal
// and the workflow. Prints its figures; asserts only counts and states, never timings.
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { buildAlertmanagerMessage } from '../../src/ingest/alertmanager';
import { AlertCoalescer } from '../../src/ingest/coalescer';
import { parseIntegrations } from '../../src/ingest/integrations';
import { routeAlert } from '../../src/ingest/routing';
import { createLogger } from '../../src/logger';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { createAlertService } from '../../src/services/alerts';
import { createIncidentService } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import path from 'node:path';
import { openTestStore, startTestWorker, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';
import type { TestWorker } from '../support/temporal';
import { prng } from '../support/prng';
import { testDataConverter } from '../support/keys';

const GROUPS = 20;
const PER_GROUP = 10;
const DELIVERIES = 10_000;
const WINDOW_MS = 60_000;
const CONCURRENCY = 40;
const TOKEN = 'storm-test-alertmanager-token-0123456789';

interface Delivery {
  group: number;
  alert: number;
  status: 'firing' | 'resolved';
}

/** 70 % fresh firing deliveries, 30 % exact repeats of an earlier delivery, 10 % of all are resolves. */
function plan(seed: number): Delivery[] {
  const random = prng(seed);
  const out: Delivery[] = [];
  for (let i = 0; i < DELIVERIES; i++) {
    const roll = random();
    if (i < GROUPS * PER_GROUP) out.push({ group: i % GROUPS, alert: Math.floor(i / GROUPS), status: 'firing' });
    else if (roll < 0.3) out.push({ ...out[Math.floor(random() * out.length)]! });
    else if (roll < 0.4) out.push({ group: Math.floor(random() * GROUPS), alert: Math.floor(random() * PER_GROUP), status: 'resolved' });
    else out.push({ group: Math.floor(random() * GROUPS), alert: Math.floor(random() * PER_GROUP), status: 'firing' });
  }
  return out;
}

const STARTS_AT = '2026-11-25T10:00:00Z';
const labelsOf = (d: Pick<Delivery, 'group' | 'alert'>) => ({
  alertname: `OrdersStorm${d.group}`,
  service: 'orders',
  instance: `orders-${d.group}-${d.alert}`,
});

function bodyOf(d: Delivery): string {
  return JSON.stringify(
    buildAlertmanagerMessage({
      groupLabels: { alertname: `OrdersStorm${d.group}` },
      routeMatchers: ['team="commerce"'],
      alerts: [
        {
          labels: labelsOf(d),
          status: d.status,
          startsAt: STARTS_AT,
          endsAt: d.status === 'resolved' ? '2026-11-25T10:30:00Z' : undefined,
          annotations: { summary: `Orders storm ${d.group}/${d.alert}` },
        },
      ],
    }),
  );
}

let store: Store;
let worker: TestWorker;
let connection: Connection;
let server: Server;
let url: string;
let sink: AlertCoalescer;
/** Every batch the coalescer forwarded, seen from outside it: for the per-workflow signal rate. */
const signals: { incidentId: string; at: number }[] = [];

beforeAll(async () => {
  const dir = tempDir();
  store = await openTestStore(dir);
  const taskQueue = uniqueTaskQueue('storm');
  worker = await startTestWorker({ taskQueue, store });
  connection = await Connection.connect({ address: testTemporal().address });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const logger = createLogger({ level: 'silent' });
  const runbooks = new RunbookCatalog(path.join(__dirname, '..', '..', 'runbooks'));
  const incidents = createIncidentService({ client, store, runbooks, taskQueue, logger });
  const alerts = createAlertService({ client, store, runbooks, incidents, taskQueue, logger, route: (alert) => routeAlert([], alert) });
  const counted = {
    ...alerts,
    forward: async (...args: Parameters<typeof alerts.forward>) => {
      const [incidentId] = args;
      await alerts.forward(...args);
      signals.push({ incidentId, at: Date.now() });
    },
  };
  sink = new AlertCoalescer({ store, alerts: counted, logger, isSilenced: () => false });
  const loaded = parseIntegrations(
    'integrations:\n  prometheus:\n    type: alertmanager\n    token: { env: AM_TOKEN }\n',
    'integrations.yaml',
    { AM_TOKEN: TOKEN },
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const app = createApp({
    logger,
    store,
    incidents,
    tokens: createTokenService({ store }),
    runbooks,
    checkTemporal: async () => undefined,
    alertSink: sink,
    integrations: loaded.integrations,
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/alerts/alertmanager`;
});

afterAll(async () => {
  server?.close();
  const { items } = await store.listIncidents({ limit: 100 });
  for (const i of items)
    await new Client({ connection, dataConverter: testDataConverter() }).workflow
      .getHandle(i.workflowId)
      .terminate('storm test done')
      .catch(() => undefined);
  await worker?.stop();
  await connection?.close();
  await store?.close();
});

test('10,000 alerts in 60 s become exactly 20 incidents with every alert accounted for', async () => {
  const seed = Number(process.env.STORM_SEED ?? 20261125);
  const deliveries = plan(seed);
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  const started = Date.now();
  let next = 0;
  async function sender() {
    for (;;) {
      const i = next++;
      if (i >= deliveries.length) return;
      // Spread sends evenly over the window, as a real storm arrives.
      const due = started + (i * WINDOW_MS * 0.9) / deliveries.length;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: bodyOf(deliveries[i]!),
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  const elapsed = Date.now() - started;

  const incidents = (await store.listIncidents({ limit: 100 })).items;
  // Expected last state per alert: resolved once any resolve of that episode was delivered.
  const expected = new Map<string, { status: string; deliveries: number }>();
  for (const d of deliveries) {
    const key = labelsOf(d).instance;
    const e = expected.get(key) ?? { status: 'firing', deliveries: 0 };
    e.deliveries += 1;
    if (d.status === 'resolved') e.status = 'resolved';
    expected.set(key, e);
  }
  const recorded = new Map<string, { status: string; received: number }>();
  for (const incident of incidents) {
    for (const a of await pollAlerts(incident.id, expected)) recorded.set(a.labels.instance!, { status: a.status, received: a.received });
  }

  // Per-workflow signal rate: the most signals any one incident got within any one second.
  const perIncident = new Map<string, number[]>();
  for (const s of signals) perIncident.set(s.incidentId, [...(perIncident.get(s.incidentId) ?? []), s.at]);
  let maxPerSecond = 0;
  for (const times of perIncident.values()) {
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; j < times.length; j++) {
      while (times[j]! - times[i]! >= 1000) i++;
      maxPerSecond = Math.max(maxPerSecond, j - i + 1);
    }
  }
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const histories = await Promise.all(
    incidents.map(async (i) => Number((await client.workflow.getHandle(i.workflowId).describe()).historyLength)),
  );
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
  process.stdout.write(
    [
      `alert storm (seed ${seed}): ${deliveries.length} deliveries in ${(elapsed / 1000).toFixed(1)} s`,
      `  statuses: ${[...statuses.entries()].map(([s, n]) => `${s}×${n}`).join(', ')}`,
      `  incidents: ${incidents.length}; alerts recorded: ${recorded.size}; deliveries counted: ${[...recorded.values()].reduce((n, r) => n + r.received, 0)}`,
      `  signals: ${signals.length} in total, at most ${maxPerSecond} to one workflow in any second`,
      `  accept latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; longest history ${Math.max(...histories)} events`,
      '',
    ].join('\n'),
  );

  expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
  expect(statuses.get(202)).toBe(DELIVERIES);
  expect(incidents).toHaveLength(GROUPS);
  expect(recorded.size).toBe(GROUPS * PER_GROUP);
  for (const [key, e] of expected) expect({ key, ...recorded.get(key) }).toEqual({ key, status: e.status, received: e.deliveries });
  expect(maxPerSecond).toBeLessThanOrEqual(5);
  expect(Math.max(...histories)).toBeLessThan(10_240);
}, 180_000);

/** The read model catches up a moment after the last signal; wait until every delivery is counted there. */
async function pollAlerts(incidentId: string, expected: Map<string, { deliveries: number }>) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await store.listAlerts(incidentId);
    const want = rows.reduce((n, r) => n + (expected.get(r.labels.instance!)?.deliveries ?? 0), 0);
    const have = rows.reduce((n, r) => n + r.received, 0);
    if ((rows.length === PER_GROUP && have === want) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
}
