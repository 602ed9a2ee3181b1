import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createApp } from '../src/api/app';
import { buildAlertmanagerMessage } from '../src/ingest/alertmanager';
import { AlertCoalescer } from '../src/ingest/coalescer';
import { parseIntegrations } from '../src/ingest/integrations';
import { routeAlert } from '../src/ingest/routing';
import { createLogger } from '../src/logger';
import { RunbookCatalog } from '../src/runbooks/catalog';
import { createAlertService } from '../src/services/alerts';
import { createIncidentService } from '../src/services/incidents';
import { createTokenService } from '../src/services/tokens';
import { openSqliteStore } from '../src/store/sqlite';
import { WORKFLOWS_PATH } from '../src/temporal/worker';

const TOKEN = 'bench-alertmanager-token-0123456789abcdef';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

/** Runs `count` calls of `fn` with CONCURRENCY in flight; returns calls per second. */
async function rate(count: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) await fn(i);
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

/**
 * Accepted alerts per second with 202 only after durable acceptance, against bare `signalWithStart` calls per
 * second on the same server: (a) every alert to its own incident, (b) a storm into 20 incidents.
 */
export async function benchIngest(opts: { address: string; dataDir: string; count: number }) {
  const store = openSqliteStore(path.join(opts.dataDir, 'ingest.db'));
  await store.migrate();
  const logger = createLogger({ level: 'silent' });
  const native = await NativeConnection.connect({ address: opts.address });
  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection });
  const firelineQueue = `bench-ingest-${randomUUID().slice(0, 6)}`;
  const bareQueue = `bench-bare-signal-${randomUUID().slice(0, 6)}`;
  const workers = [
    await Worker.create({
      connection: native,
      taskQueue: firelineQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({ store }),
    }),
    await Worker.create({ connection: native, taskQueue: bareQueue, workflowsPath: path.join(__dirname, 'baseline-workflow.ts') }),
  ];
  const running = workers.map((w) => w.run());

  const runbooks = new RunbookCatalog(path.join(__dirname, '..', 'runbooks'));
  const incidents = createIncidentService({ client, store, runbooks, taskQueue: firelineQueue, logger });
  const alerts = createAlertService({
    client,
    store,
    runbooks,
    incidents,
    taskQueue: firelineQueue,
    logger,
    route: (a) => routeAlert([], a),
  });
  const sink = new AlertCoalescer({ store, alerts, logger, isSilenced: () => false });
  const loaded = parseIntegrations(
    'integrations:\n  prometheus:\n    type: alertmanager\n    token: { env: AM_TOKEN }\n',
    'integrations.yaml',
    { AM_TOKEN: TOKEN },
  );
  if (!loaded.ok) throw new Error('bench integrations do not load');
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
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/alerts/alertmanager`;
  const run = randomUUID().slice(0, 6);

  async function post(group: string, alert: number) {
    const body = buildAlertmanagerMessage({
      groupLabels: { alertname: group },
      alerts: [
        {
          labels: { alertname: group, instance: `i-${alert}` },
          startsAt: '2026-11-25T10:00:00Z',
          annotations: { summary: `bench ${group}` },
        },
      ],
    });
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`receiver answered ${res.status}`);
  }
  /** Accepted alerts must also reach their workflows before a phase counts as done. */
  async function waitForInbox() {
    while ((await store.incidentsWithPendingAlerts()).length) await new Promise((r) => setTimeout(r, 100));
  }

  async function bareSignal(workflowId: string, i: number) {
    await client.workflow.signalWithStart('bareSignalWorkflow', {
      workflowId,
      taskQueue: bareQueue,
      signal: 'alerts',
      signalArgs: [{ alerts: [{ fingerprint: `f${i}` }] }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }

  /** Ends what a phase started, so running workflows of one phase do not slow the next one down. */
  async function clearPhase() {
    for (const queue of [firelineQueue, bareQueue]) {
      const ids: string[] = [];
      for await (const wf of client.workflow.list({ query: `TaskQueue = "${queue}" AND ExecutionStatus = "Running"` }))
        ids.push(wf.workflowId);
      await rate(ids.length || 1, async (i) => {
        if (ids[i])
          await client.workflow
            .getHandle(ids[i])
            .terminate('bench phase done')
            .catch(() => undefined);
      });
    }
  }

  const n = opts.count;
  const distinctBare = await rate(n, (i) => bareSignal(`bare-${run}-distinct-${i}`, i));
  await clearPhase();
  const distinctFireline = await rate(n, (i) => post(`Distinct${run}x${i}`, 0));
  await waitForInbox();
  await clearPhase();
  const stormBare = await rate(n, (i) => bareSignal(`bare-${run}-storm-${i % 20}`, i));
  await clearPhase();
  const stormFireline = await rate(n, (i) => post(`Storm${run}x${i % 20}`, i % 10));
  await waitForInbox();

  server.close();
  sink.stop();
  await clearPhase();
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await native.close();
  await connection.close();
  await store.close();

  const f = (x: number) => x.toFixed(0);
  return {
    lines: [
      `(a) distinct incidents, ${n} alerts: Fireline ${f(distinctFireline)} alerts/s, bare signalWithStart ${f(distinctBare)} calls/s, ratio ${(distinctFireline / distinctBare).toFixed(2)} (target ≥ 0.8)`,
      `(b) storm into 20 incidents, ${n} alerts: Fireline ${f(stormFireline)} alerts/s, bare signalWithStart ${f(stormBare)} calls/s, ratio ${(stormFireline / stormBare).toFixed(2)} (target ≥ 3)`,
    ],
  };
}
