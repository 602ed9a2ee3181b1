import { createHash } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { AlertEvent } from '../../src/domain/alert';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import { AlertCoalescer } from '../../src/ingest/coalescer';
import { createLogger } from '../../src/logger';
import { ServiceError } from '../../src/services/errors';
import { createAlertService } from '../../src/services/alerts';
import { createIncidentService } from '../../src/services/incidents';
import { incidentWorkflowId } from '../../src/temporal/ids';
import { statusQuery } from '../../workflows/messages';
import { snapshotOf } from '../support/runbooks';
import { testDataConverter } from '../support/keys';
import { eventually } from '../support/temporal';
import { useWorkflowHarness } from '../support/workflow-harness';

const logger = createLogger({ level: 'silent' });
const wf = useWorkflowHarness('alerts');

/** `holdRetro` keeps the incident resolved (retrospective waiting on an event) instead of closing at once. */
const runbook = (onAlertsResolved: 'resolve' | 'continue', holdRetro = false): RunbookSnapshot =>
  snapshotOf({
    id: 'alerting',
    title: 'Alerting',
    owner: 'team-test',
    onAlertsResolved,
    autoResolve: false,
    phases: {
      detect: [{ id: 'opened', kind: 'notify', message: 'opened' }],
      recover: [{ id: 'clear', kind: 'wait', for: 'alerts-resolved', timeout: '10m' }],
      retrospective: holdRetro
        ? [{ id: 'review-done', kind: 'wait', for: { event: 'review-done' }, timeout: '1h' }]
        : [{ id: 'review', kind: 'notify', message: 'review' }],
    },
  });

function coalescer(
  snapshot: RunbookSnapshot,
  overrides: { client?: Client; flappingWindowMs?: number; retryDelayMs?: number; now?: () => Date } = {},
) {
  const runbooks = { get: async () => snapshot };
  const incidents = createIncidentService({ client: wf.client, store: wf.store, runbooks, taskQueue: wf.taskQueue, logger });
  const alerts = createAlertService({
    client: overrides.client ?? wf.client,
    store: wf.store,
    runbooks,
    incidents,
    taskQueue: wf.taskQueue,
    logger,
    route: () => ({ rule: 'test', runbook: snapshot.runbook.id, service: 'orders', severity: 'SEV2' }),
    flappingWindowMs: overrides.flappingWindowMs,
    now: overrides.now,
  });
  return new AlertCoalescer({
    store: wf.store,
    alerts,
    logger,
    isSilenced: (a) => a.labels.silenced === 'yes',
    minSignalIntervalMs: 100,
    retryDelayMs: overrides.retryDelayMs,
  });
}

let groupCounter = 0;
function alert(
  group: string,
  fingerprint: string,
  status: 'firing' | 'resolved' = 'firing',
  labels: Record<string, string> = {},
): AlertEvent {
  return {
    source: 'alertmanager',
    integration: 'am-test',
    groupKey: createHash('sha256').update(group).digest('hex'),
    fingerprint,
    status,
    startsAt: '2026-11-25T10:00:00.000Z',
    endsAt: status === 'resolved' ? '2026-11-25T10:05:00.000Z' : null,
    labels: { alertname: 'OrderDBDown', ...labels },
    annotations: {},
    summary: `Order DB down (${fingerprint})`,
    senderSeverity: 'critical',
    generatorUrl: null,
  };
}

beforeEach(() => {
  groupCounter += 1;
});

test('alerts of one group make one incident; duplicates count; all resolved resolves when the runbook says so', async () => {
  const sink = coalescer(runbook('resolve'));
  const g = `group-${groupCounter}-a`;
  const first = await Promise.all([
    sink.accept([alert(g, 'f1'), alert(g, 'f2')], { requestId: 'r1' }),
    sink.accept([alert(g, 'f1'), alert(g, 'f2')], { requestId: 'r2' }), // an HA peer's duplicate
    sink.accept([alert(`${g}-other`, 'f9')], { requestId: 'r3' }),
  ]);
  const [a, b, c] = first.map((r) => r.incidents[0]!) as [string, string, string];
  expect(a).toBe(b);
  expect(c).not.toBe(a);
  const handle = wf.client.workflow.getHandle(incidentWorkflowId(a));
  // Accepted means in the inbox; the forwarder starts the workflow a moment later.
  await eventually(
    async () => ((await handle.query(statusQuery).catch(() => null))?.alerts.received === 4 ? true : undefined),
    'four deliveries',
  );
  expect((await handle.query(statusQuery)).alerts).toEqual({ firing: 2, resolved: 0, received: 4 });

  await sink.accept([alert(g, 'f1', 'resolved'), alert(g, 'f2', 'resolved')], { requestId: 'r4' });
  await handle.result();
  const events = await wf.store.listTimeline(a, { limit: 1000 });
  expect(events.filter((e) => e.type === 'alert.fired')).toHaveLength(2);
  expect(events.filter((e) => e.type === 'alert.resolved')).toHaveLength(2);
  expect(events.find((e) => e.type === 'incident.resolved')?.actor.id).toBe('monitoring');
  const rows = await wf.store.listAlerts(a);
  expect(rows.map((r) => [r.fingerprint, r.status, r.received])).toEqual([
    ['f1', 'resolved', 3],
    ['f2', 'resolved', 3],
  ]);
  expect(await wf.store.getIncident(a)).toMatchObject({ status: 'closed', trigger: { kind: 'alert' }, severity: 'SEV2' });
});

test('a firing alert after resolution joins the incident inside the flapping window and opens a new one after it', async () => {
  const g = `group-${groupCounter}-b`;
  const sink = coalescer(runbook('continue', true));
  const [id] = (await sink.accept([alert(g, 'f1')], { requestId: 'r1' })).incidents as [string];
  const handle = wf.client.workflow.getHandle(incidentWorkflowId(id));
  await eventually(async () => ((await handle.query(statusQuery).catch(() => null)) ? true : undefined), 'the workflow');
  const incidents = createIncidentService({
    client: wf.client,
    store: wf.store,
    runbooks: { get: async () => runbook('continue', true) },
    taskQueue: wf.taskQueue,
    logger,
  });
  await incidents.resolve(id, 'fixed', { actor: { id: 'u1', name: 'Grace', role: 'commander' }, requestId: 'r', source: 'api' });
  // Still inside the window: recorded on the same incident as a re-fire, not reopened.
  expect((await sink.accept([{ ...alert(g, 'f1'), startsAt: '2026-11-25T11:00:00.000Z' }], { requestId: 'r2' })).incidents).toEqual([id]);
  await eventually(
    async () => ((await wf.store.listTimeline(id, { limit: 100 })).some((e) => e.type === 'alert.refired') ? true : undefined),
    're-fire',
  );
  expect((await handle.query(statusQuery)).status).not.toBe('open');

  // Past the window by the clock of the resolution itself (the workflow's, i.e. Temporal's), not this process's.
  const resolvedAt = Date.parse((await wf.store.getIncident(id))!.resolvedAt!);
  const later = coalescer(runbook('continue'), { flappingWindowMs: 60_000, now: () => new Date(resolvedAt + 120_000) });
  const [next] = (await later.accept([{ ...alert(g, 'f1'), startsAt: '2026-11-25T12:00:00.000Z' }], { requestId: 'r3' })).incidents;
  expect(next).not.toBe(id);
  await handle.terminate('test done');
});

test('silenced alerts are recorded and start nothing', async () => {
  const sink = coalescer(runbook('continue'));
  const result = await sink.accept([alert(`group-${groupCounter}-c`, 'f1', 'firing', { silenced: 'yes' })], { requestId: 'r1' });
  expect(result).toEqual({ incidents: [], silenced: 1 });
  expect((await wf.store.listAlerts('silenced')).map((r) => r.fingerprint)).toEqual(['f1']);
  expect((await wf.store.listIncidents({ limit: 10 })).items).toHaveLength(0);
});

test('while Temporal is unreachable accepted alerts wait in the inbox, new ones are refused, and nothing is lost', async () => {
  const lazy = Connection.lazy({ address: '127.0.0.1:1' });
  const down = coalescer(runbook('continue'), {
    client: new Client({ connection: lazy, dataConverter: testDataConverter() }),
    retryDelayMs: 200,
  });
  const g = `group-${groupCounter}-d`;
  // The first alert is accepted (durable in the inbox) before anyone knows Temporal is down.
  const [id] = (await down.accept([alert(g, 'f1')], { requestId: 'r1' })).incidents as [string];
  // Once the forwarder has failed, new alerts are refused as unavailable (the receivers' 503).
  const refused = await eventually(
    async () => {
      const err = await down.accept([alert(g, 'f2')], { requestId: 'r2' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      return err ?? undefined;
    },
    'a refusal',
    30_000,
  );
  expect(refused).toBeInstanceOf(ServiceError);
  expect((refused as ServiceError).code).toBe('unavailable');
  down.stop();
  await lazy.close();

  // Temporal back (a new process on the same read model): the inbox is forwarded and the incident starts.
  const up = coalescer(runbook('continue'));
  await up.resume();
  const handle = wf.client.workflow.getHandle(incidentWorkflowId(id));
  await eventually(
    async () => ((await handle.query(statusQuery).catch(() => null))?.alerts.received ? true : undefined),
    'the incident with its alert',
  );
  const received = (await handle.query(statusQuery)).alerts.received;
  expect(received).toBeGreaterThanOrEqual(1);
  up.stop();
  await handle.terminate('test done');
});
