import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { FirelineActivities } from '../../activities';
import type { Actor } from '../../src/domain/roles';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { TimelineEvent } from '../../src/domain/timeline';
import type { Store } from '../../src/store/store';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import type { DevServer } from '../../src/temporal/dev-server';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { alertsSignal, decideUpdate, postEventUpdate, statusQuery } from '../../workflows/messages';
import type { AlertUpdate } from '../../workflows/messages';
import { incidentInfo, recordOf, snapshotOf } from '../support/runbooks';
import { testDataConverter } from '../support/keys';
import { eventually, openTestStore, uniqueTaskQueue } from '../support/temporal';

// A dev server of its own: Temporal suggests continue-as-new after 40 history events instead of thousands, so an
// ordinary runbook crosses several runs. The shared server keeps the default for every other test file.
const SUGGEST_CONTINUE_AS_NEW_AFTER = 40;

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const log = (m: string) => void process.stderr.write(`[continue-as-new] ${m}\n`);

let server: DevServer;
let client: Client;
let connection: Connection;
let workerConnection: NativeConnection;
let store: Store;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  const bundlePath = process.env.FIRELINE_TEST_BUNDLE;
  if (!bundlePath) throw new Error('the jest globalSetup did not bundle the workflows');
  const cli = await resolveTemporalCli({
    env: { cliPath: process.env.FIRELINE_TEST_TEMPORAL_CLI || process.env.TEMPORAL_CLI_PATH, path: process.env.PATH },
    log,
    allowDownload: false,
  });
  server = await startDevServer({
    cli,
    port: await findFreePort(),
    uiPort: false,
    log,
    extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AFTER}`],
  });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, dataConverter: testDataConverter() });
  store = await openTestStore();
  taskQueue = uniqueTaskQueue('continue-as-new');
  workerConnection = await NativeConnection.connect({ address: server.address });
  worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { codePath: bundlePath },
    activities: createActivities({ store }),
    dataConverter: testDataConverter(),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await workerConnection?.close();
  await connection?.close();
  await store?.close();
  await server?.stop();
});

const NOTIFY_COUNT = 30;
const notifyIds = Array.from({ length: NOTIFY_COUNT }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
const notify = (id: string, message = `${id} for \${incident.id}`) => ({ id, kind: 'notify', message });

/**
 * 30 notify steps spread over the phases, a decide step in the middle, a timed wait, and two waits for events
 * that hold the incident at known points (before the first continue-as-new, and late in recover).
 */
function longRunbook(): RunbookSnapshot {
  const n = notifyIds;
  return snapshotOf({
    id: 'test-long-runbook',
    title: 'Long runbook',
    owner: 'team-test',
    phases: {
      detect: [{ id: 'hold-early', kind: 'wait', for: { event: 'early-go' }, timeout: '10m' }, ...n.slice(0, 8).map((id) => notify(id))],
      report: n.slice(8, 14).map((id) => notify(id)),
      decide: [
        ...n.slice(14, 17).map((id) => notify(id)),
        {
          id: 'strategy',
          kind: 'decide',
          prompt: 'Fail over or restore?',
          options: ['failover', 'restore'],
          default: 'failover',
          timeout: '10m',
        },
        notify(n[17]!, `${n[17]} chose \${decision.strategy}`),
      ],
      execute: [
        { id: 'pause', kind: 'wait', duration: '200ms' },
        ...n.slice(18, 24).map((id) => notify(id, `${id} executing \${decision.strategy}`)),
      ],
      recover: [{ id: 'hold-late', kind: 'wait', for: { event: 'late-go' }, timeout: '10m' }, ...n.slice(24, 28).map((id) => notify(id))],
      retrospective: n.slice(28).map((id) => notify(id, `${id} after \${decision.strategy}`)),
    },
  });
}

/** Every step id in runbook order. */
function stepIdsOf(snapshot: RunbookSnapshot): string[] {
  return Object.values(snapshot.runbook.phases).flatMap((steps) => steps.map((s) => s.id));
}

function alertUpdate(fingerprint: string, status: 'firing' | 'resolved', count = 1): AlertUpdate {
  return {
    fingerprint,
    startsAt: '2026-11-25T10:00:00.000Z',
    status,
    endsAt: status === 'resolved' ? '2026-11-25T10:30:00.000Z' : null,
    summary: `Checkout errors (${fingerprint})`,
    labels: { alertname: 'CheckoutErrors', fingerprint },
    source: 'alertmanager',
    count,
    receivedAt: new Date().toISOString(),
  };
}

/** The runs of one workflow id, first to last, following each run's continued-as-new event. */
async function runsOf(workflowId: string, firstRunId: string): Promise<{ runId: string; continuedAsNew: boolean }[]> {
  const runs: { runId: string; continuedAsNew: boolean }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const next: string | undefined = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    runs.push({ runId, continuedAsNew: next !== undefined });
    runId = next;
  }
  return runs;
}

async function currentRunId(handle: WorkflowHandle<typeof incidentWorkflow>): Promise<string> {
  return (await handle.describe()).runId;
}

async function waitForStep(handle: WorkflowHandle<typeof incidentWorkflow>, stepId: string) {
  await eventually(async () => ((await handle.query(statusQuery)).currentStep?.id === stepId ? true : undefined), `step ${stepId}`);
}

async function waitForReceived(handle: WorkflowHandle<typeof incidentWorkflow>, received: number) {
  await eventually(
    async () => ((await handle.query(statusQuery)).alerts.received === received ? true : undefined),
    `${received} alert deliveries`,
  );
}

test('a long runbook continues as new several times and nothing is lost, repeated or reordered', async () => {
  const snapshot = longRunbook();
  const incident = incidentInfo({ title: 'Checkout failing for a long time' });
  const id = incident.id;
  await store.insertIncident(recordOf(incident, snapshot));
  const handle = await client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
    workflowId: incidentWorkflowId(id),
    taskQueue,
    args: [{ incident, snapshot }],
  });
  const firstRunId = handle.firstExecutionRunId;

  // Held in the first step, before any continue-as-new: two alerts fire, one is delivered again.
  await waitForStep(handle, 'hold-early');
  await handle.signal(alertsSignal, { alerts: [alertUpdate('f1', 'firing'), alertUpdate('f2', 'firing')] });
  await handle.signal(alertsSignal, { alerts: [alertUpdate('f1', 'firing', 2)] });
  await waitForReceived(handle, 4);
  const earlyRun = await currentRunId(handle);
  expect(earlyRun).toBe(firstRunId);
  await handle.executeUpdate(postEventUpdate, { args: [{ actor: commander, name: 'early-go', data: {} }] });

  // The decision opens after 17 notify steps, several runs later; a new alert and a repeat arrive in that run.
  await eventually(
    async () => ((await handle.query(statusQuery)).openDecisions.some((d) => d.stepId === 'strategy') ? true : undefined),
    'open decision',
  );
  const decideRun = await currentRunId(handle);
  expect(decideRun).not.toBe(firstRunId);
  const atDecision = await handle.query(statusQuery);
  // Carried across the runs: what happened before continuing as new.
  expect(atDecision.alerts).toEqual({ firing: 2, resolved: 0, received: 4 });
  expect(atDecision.phase).toBe('decide');
  await handle.signal(alertsSignal, { alerts: [alertUpdate('f3', 'firing'), alertUpdate('f2', 'firing')] });
  await waitForReceived(handle, 6);

  const decided = await handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] });
  expect(decided.decisions.strategy).toMatchObject({ option: 'restore', by: { id: commander.id }, timedOut: false });

  // Held again in recover, after more runs: every alert resolves.
  await waitForStep(handle, 'hold-late');
  const lateRun = await currentRunId(handle);
  expect(lateRun).not.toBe(decideRun);
  expect((await handle.query(statusQuery)).decisions.strategy).toMatchObject({ option: 'restore', timedOut: false });
  await handle.signal(alertsSignal, { alerts: ['f1', 'f2', 'f3'].map((f) => alertUpdate(f, 'resolved')) });
  await waitForReceived(handle, 9);
  await handle.executeUpdate(postEventUpdate, { args: [{ actor: commander, name: 'late-go', data: {} }] });

  // result() follows the chain of runs to the one that closed.
  const final = await handle.result();
  expect(final.status).toBe('closed');
  expect(final.decisions.strategy).toMatchObject({ option: 'restore', by: { id: commander.id }, timedOut: false });
  expect(final.alerts).toEqual({ firing: 0, resolved: 3, received: 9 });
  expect(final.runbook).toEqual({ id: snapshot.runbook.id, version: snapshot.version });

  const runs = await runsOf(handle.workflowId, firstRunId);
  expect(runs.length).toBeGreaterThan(2);
  expect(runs.slice(0, -1).every((r) => r.continuedAsNew)).toBe(true);
  expect(runs.at(-1)!.continuedAsNew).toBe(false);
  expect(runs.map((r) => r.runId)).toEqual(expect.arrayContaining([firstRunId, decideRun, lateRun]));
  expect((await handle.describe()).runId).toBe(runs.at(-1)!.runId);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  // Visibility agrees (it is updated asynchronously).
  await eventually(async () => {
    let count = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` })) count += 1;
    return count === runs.length ? count : undefined;
  }, 'every run listed');

  // The timeline: one sequence over all runs, each event once.
  const events: TimelineEvent[] = await store.listTimeline(id, { limit: 10_000 });
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const ofType = (type: TimelineEvent['type']) => events.filter((e) => e.type === type);
  expect(ofType('incident.declared')).toHaveLength(1);
  expect(events[0]?.type).toBe('incident.declared');
  expect(ofType('incident.resolved')).toHaveLength(1);
  expect(ofType('incident.closed')).toHaveLength(1);
  expect(events.at(-1)?.type).toBe('incident.closed');
  const phases = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
  expect(ofType('phase.entered').map((e) => e.data.phase)).toEqual(phases);
  expect(ofType('phase.completed').map((e) => [e.data.phase, e.data.interrupted])).toEqual(phases.map((p) => [p, false]));
  // Every step started and succeeded exactly once, in runbook order.
  const stepIds = stepIdsOf(snapshot);
  expect(ofType('step.started').map((e) => e.data.stepId)).toEqual(stepIds);
  expect(ofType('step.succeeded').map((e) => e.data.stepId)).toEqual(stepIds);
  expect(ofType('step.failed')).toHaveLength(0);
  expect(ofType('notification.sent').map((e) => e.data.stepId)).toEqual(notifyIds);
  expect(ofType('decision.requested')).toHaveLength(1);
  expect(ofType('decision.taken')).toHaveLength(1);
  expect(ofType('decision.taken')[0]).toMatchObject({ actor: { id: commander.id }, data: { stepId: 'strategy', option: 'restore' } });
  expect(ofType('event.received').map((e) => e.data.name)).toEqual(['early-go', 'late-go']);
  expect(ofType('alert.fired').map((e) => e.data.fingerprint)).toEqual(['f1', 'f2', 'f3']);
  expect(ofType('alert.resolved').map((e) => e.data.fingerprint)).toEqual(['f1', 'f2', 'f3']);
  expect(ofType('alerts.all_resolved')).toHaveLength(1);

  // Each notification once, rendered with what earlier runs decided.
  const outbox = await store.listOutbox({ incidentId: id, limit: 1000 });
  expect(outbox.map((m) => m.id).sort()).toEqual(notifyIds.map((s) => `${id}:${s}`).sort());
  const body = (stepId: string) => outbox.find((m) => m.id === `${id}:${stepId}`)?.body;
  expect(body('n01')).toBe(`n01 for ${id}`);
  expect(body('n18')).toBe('n18 chose restore');
  expect(body('n24')).toBe('n24 executing restore');
  expect(body('n30')).toBe('n30 after restore');

  // The read model: alert rows with every delivery counted, and the incident closed.
  const alertRows = await store.listAlerts(id);
  expect(alertRows.map((a) => [a.fingerprint, a.status, a.received]).sort()).toEqual([
    ['f1', 'resolved', 4],
    ['f2', 'resolved', 3],
    ['f3', 'resolved', 2],
  ]);
  expect(await store.getIncident(id)).toMatchObject({ status: 'closed', phase: 'closed', runbookVersion: snapshot.version });
});

// recordTimeline is a local activity, so it writes while the workflow task runs. When a signal arrives during the
// task that continues as new (or completes), the server rejects that completion (UnhandledCommand) and the task is
// retried with the signal applied first: the same seqs then belong to different events. The store lets the later
// write of an id win, so the retry — the one history keeps — is what the timeline shows.
test('an alert signalled while a run continues as new is recorded once, and no step event is recorded twice', async () => {
  // Deterministic form of an alert arriving during the last workflow task of a run: the worker's recordTimeline
  // signals a new alert (once per step) before it returns, so that task's continue-as-new is rejected by the
  // server (new events arrived) and retried with the alert applied first.
  const queue = uniqueTaskQueue('continue-as-new-race');
  const activities = createActivities({ store });
  const signalledFor = new Set<string>();
  const signalled: string[] = [];
  const connection2 = await NativeConnection.connect({ address: server.address });
  const signalling: FirelineActivities = {
    ...activities,
    async recordTimeline(batch) {
      const written = await activities.recordTimeline(batch);
      const succeeded = batch.events.find((e) => e.type === 'step.succeeded');
      const stepId = succeeded ? String(succeeded.data.stepId) : undefined;
      if (stepId && !signalledFor.has(stepId)) {
        signalledFor.add(stepId);
        signalled.push(`after-${stepId}`);
        await client.workflow
          .getHandle(incidentWorkflowId(batch.incidentId))
          .signal(alertsSignal, { alerts: [alertUpdate(`after-${stepId}`, 'firing')] });
      }
      return written;
    },
  };
  const raceWorker = await Worker.create({
    connection: connection2,
    taskQueue: queue,
    workflowBundle: { codePath: process.env.FIRELINE_TEST_BUNDLE! },
    activities: signalling,
    dataConverter: testDataConverter(),
  });
  const raceRunning = raceWorker.run();
  try {
    const ids = notifyIds.slice(0, 12);
    const snapshot = snapshotOf({
      id: 'test-signal-race',
      title: 'Signal race',
      owner: 'team-test',
      phases: { detect: ids.map((id) => notify(id)) },
    });
    const incident = incidentInfo({ title: 'Alerts while continuing as new' });
    await store.insertIncident(recordOf(incident, snapshot));
    const handle = await client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
      workflowId: incidentWorkflowId(incident.id),
      taskQueue: queue,
      args: [{ incident, snapshot }],
    });
    const final = await handle.result();
    expect((await runsOf(handle.workflowId, handle.firstExecutionRunId)).length).toBeGreaterThan(1);
    // The last signal may come after the incident closed (then it fails): count what was delivered.
    expect(final.alerts.received).toBeGreaterThanOrEqual(ids.length - 1);

    const events: TimelineEvent[] = await store.listTimeline(incident.id, { limit: 10_000 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'notification.sent').map((e) => e.data.stepId)).toEqual(ids);
    expect(events.filter((e) => e.type === 'step.succeeded').map((e) => e.data.stepId)).toEqual(ids);
    expect(events.filter((e) => e.type === 'incident.closed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'alert.fired')).toHaveLength(final.alerts.received);
    expect(new Set(events.filter((e) => e.type === 'alert.fired').map((e) => e.data.fingerprint))).toEqual(
      new Set(signalled.slice(0, final.alerts.received)),
    );
  } finally {
    raceWorker.shutdown();
    await raceRunning;
    await connection2.close();
  }
});
