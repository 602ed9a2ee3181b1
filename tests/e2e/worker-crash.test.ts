// Durability of the incident workflow across worker crashes: the real `fireline worker` runs as a child
// process and is SIGKILLed at chosen points; a fresh worker process finishes the incident. The test process
// plays the API: it runs the real incident service against the same SQLite read model and Temporal server.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { DeclareIncidentSchema } from '../../src/domain/incident';
import { createLogger } from '../../src/logger';
import type { Actor } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { ServiceError } from '../../src/services/errors';
import { createIncidentService } from '../../src/services/incidents';
import type { ActionContext, IncidentService } from '../../src/services/incidents';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { killAllTracked, spawnFireline, waitForExit, waitUntil, sigkill, waitForWorkerPolling } from '../support/processes';
import type { SpawnedProcess } from '../support/processes';
import { connectClient, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';

jest.setTimeout(120_000);

const PENDING_ACTIVITY_STATE_STARTED = 2;

const RUNBOOK_ID = 'crash-drill';
const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const NOTIFY_STEPS = ['detected', 'announce', 'execute-note', 'recovered', 'review'];
const ALL_STEPS = ['detected', 'announce', 'strategy', 'pause', 'execute-note', 'recovered', 'review'];

/**
 * Six phases, a notify in every phase but decide, one human decision and one wait. Notify timeouts are short
 * so that an attempt lost with a killed worker is retried within seconds, not the default minute.
 */
function runbookYaml(pause: string): string {
  return `id: ${RUNBOOK_ID}
title: Crash drill
owner: team-test
service: checkout
phases:
  detect:
    - { id: detected, kind: notify, message: "Detected \${incident.title}", timeout: 10s }
  report:
    - { id: announce, kind: notify, via: slack, to: "#incidents", message: "\${incident.id} is \${incident.severity}", timeout: 10s }
  decide:
    - { id: strategy, kind: decide, prompt: "Fail over or restore?", options: [failover, restore], default: failover, timeout: 30m }
  execute:
    - { id: pause, kind: wait, duration: ${pause} }
    - { id: execute-note, kind: notify, message: "Executing \${decision.strategy}", timeout: 10s }
  recover:
    - { id: recovered, kind: notify, message: Recovered, timeout: 10s }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;
}

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const ctx = (): ActionContext => ({ actor: commander, requestId: randomUUID(), source: 'cli' });

let client: Client;
let connection: Connection;
let dataDir: string;
let runbooksDir: string;
let dbFile: string;
let store: Store;
let service: IncidentService;
let taskQueue: string;
let lock: Database.Database | undefined;
let started: string[];

beforeAll(async () => {
  ({ client, connection } = await connectClient());
});

afterAll(async () => {
  await killAllTracked();
  await connection.close();
});

async function setUp(pause: string): Promise<void> {
  dataDir = tempDir('fireline-crash-data-');
  runbooksDir = tempDir('fireline-crash-runbooks-');
  fs.writeFileSync(path.join(runbooksDir, `${RUNBOOK_ID}.yaml`), runbookYaml(pause));
  dbFile = path.join(dataDir, 'fireline.db');
  store = openSqliteStore(dbFile);
  await store.migrate();
  taskQueue = uniqueTaskQueue('crash');
  started = [];
  service = createIncidentService({
    client,
    store,
    runbooks: new RunbookCatalog(runbooksDir),
    taskQueue,
    logger: createLogger({ level: 'silent' }),
  });
}

afterEach(async () => {
  await killAllTracked();
  releaseLock();
  // A failed test must not leave its incident running on the shared server (its worker is gone).
  for (const id of started) {
    await client.workflow
      .getHandle(incidentWorkflowId(id))
      .terminate('test cleanup')
      .catch(() => undefined);
  }
  await store?.close();
  for (const dir of [dataDir, runbooksDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Takes the read model's write lock from another connection, as a long transaction elsewhere would. */
function holdWriteLock(): void {
  lock = new Database(dbFile);
  lock.exec('BEGIN IMMEDIATE');
}

function releaseLock(): void {
  if (!lock) return;
  if (lock.inTransaction) lock.exec('ROLLBACK');
  lock.close();
  lock = undefined;
}

/** `fireline worker` as its own process; resolves once it polls both the workflow and the activity queue. */
async function startWorkerProcess(name: string): Promise<SpawnedProcess> {
  const worker = spawnFireline(name, ['worker'], {
    TEMPORAL_ADDRESS: testTemporal().address,
    FIRELINE_TASK_QUEUE: taskQueue,
    FIRELINE_DATA_DIR: dataDir,
    FIRELINE_RUNBOOKS_DIR: runbooksDir,
    FIRELINE_LOG_LEVEL: 'warn',
  });
  await waitForWorkerPolling(worker, { name, connection, namespace: 'default', taskQueue, timeoutMs: 60_000, intervalMs: 200 });
  return worker;
}

async function declare(): Promise<string> {
  // Through the API's own schema, so the input has the shape the service expects after parsing.
  const input = DeclareIncidentSchema.parse({ title: 'Checkout failing', runbook: RUNBOOK_ID });
  // Every test has a fresh read model (ids from INC-1) but all share one Temporal namespace, where an id is
  // never reused: the service refuses such an id and, as its message says, the next declaration draws a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      const record = await service.declare(input, ctx());
      started.push(record.id);
      return record.id;
    } catch (err) {
      if (!(err instanceof ServiceError && err.code === 'conflict') || attempt >= 50) throw err;
    }
  }
}

function handleOf(id: string): WorkflowHandle<typeof incidentWorkflow> {
  return client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(id));
}

async function waitForOpenDecision(id: string, stepId: string): Promise<void> {
  await waitUntil(
    async () => (await service.get(id)).live?.openDecisions.some((d) => d.stepId === stepId),
    `open decision ${stepId} of ${id}`,
    90_000,
    200,
  );
}

async function timelineOf(id: string): Promise<TimelineEvent[]> {
  return store.listTimeline(id, { limit: 10_000 });
}

async function waitForTimeline(id: string, what: string, match: (e: TimelineEvent) => boolean): Promise<void> {
  await waitUntil(async () => (await timelineOf(id)).some(match), `${what} on the timeline of ${id}`, 60_000, 50);
}

/** Resolves when the workflow returns; the read model row is written before that (the last flush is awaited). */
async function waitForClosed(id: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    handleOf(id).result(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${id} did not close within 90 s`)), 90_000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(result.status).toBe('closed');
}

/** The durability promise: everything happened, and nothing happened twice. */
async function expectCompletedExactlyOnce(id: string, expected: { decision: 'restore' | 'failover' }): Promise<void> {
  const row = await store.getIncident(id);
  expect(row).toMatchObject({ status: 'closed', phase: 'closed' });
  expect(row?.closedAt).not.toBeNull();

  const events = await timelineOf(id);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.id)).toEqual(events.map((e) => `${id}:${e.seq}`));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

  const ofType = (type: TimelineEvent['type']) => events.filter((e) => e.type === type);
  expect(ofType('phase.entered').map((e) => e.data.phase)).toEqual(PHASES);
  expect(ofType('phase.completed').map((e) => e.data.phase)).toEqual(PHASES);
  expect(ofType('step.started').map((e) => e.data.stepId)).toEqual(ALL_STEPS);
  expect(ofType('step.succeeded').map((e) => e.data.stepId)).toEqual(ALL_STEPS);
  expect(ofType('step.failed')).toEqual([]);
  expect(ofType('notification.sent').map((e) => e.data.stepId)).toEqual(NOTIFY_STEPS);
  expect(ofType('decision.requested').map((e) => e.data.stepId)).toEqual(['strategy']);
  expect(ofType('decision.taken').map((e) => [e.data.stepId, e.data.option, e.actor.id])).toEqual([
    ['strategy', expected.decision, commander.id],
  ]);
  expect(ofType('decision.timed_out')).toEqual([]);
  expect(ofType('incident.declared')).toHaveLength(1);
  expect(ofType('incident.resolved')).toHaveLength(1);
  expect(ofType('incident.closed')).toHaveLength(1);
  expect(events[0]?.type).toBe('incident.declared');
  expect(events.at(-1)?.type).toBe('incident.closed');

  const outbox = await store.listOutbox({ incidentId: id, limit: 100 });
  expect(outbox.map((m) => m.id).sort()).toEqual(NOTIFY_STEPS.map((s) => `${id}:${s}`).sort());
  expect(outbox.find((m) => m.id === `${id}:execute-note`)?.body).toBe(`Executing ${expected.decision}`);
}

async function historyOf(id: string) {
  return (await handleOf(id).fetchHistory()).events ?? [];
}

test('a worker killed while the incident waits on a decision: a new worker takes the decision and closes it', async () => {
  await setUp('200ms');
  const first = await startWorkerProcess('worker-1');
  const id = await declare();
  await waitForOpenDecision(id, 'strategy');

  await sigkill(first);
  const second = await startWorkerProcess('worker-2');
  // The workflow's sticky queue still names the dead worker; Temporal hands the task on after a timeout.
  const view = await service.decide(id, 'strategy', 'restore', ctx());
  expect(view.decisions.strategy).toMatchObject({ option: 'restore', timedOut: false });

  await waitForClosed(id);
  await expectCompletedExactlyOnce(id, { decision: 'restore' });

  // And a worker stops cleanly on SIGTERM.
  second.kill('SIGTERM');
  expect(await waitForExit(second, 30_000)).toEqual({ code: 0, signal: null });
});

test('a worker killed inside a notify activity blocked on the read model: the message is sent exactly once', async () => {
  await setUp('200ms');
  // Declared before any worker runs, so the very first step starts under the lock.
  const id = await declare();
  holdWriteLock();
  const first = await startWorkerProcess('worker-1');

  // The step's timeline write (a local activity) and then its sendNotification activity block on the lock.
  // Temporal reporting the activity as started by this worker process proves the worker is inside it.
  const pending = await waitUntil(
    async () => {
      const { raw } = await handleOf(id).describe();
      return raw.pendingActivities?.find(
        (a) =>
          a.activityType?.name === 'sendNotification' &&
          a.state === PENDING_ACTIVITY_STATE_STARTED &&
          a.lastWorkerIdentity?.startsWith(`${first.pid}@`),
      );
    },
    `sendNotification to be running in worker-1 (pid ${first.pid})`,
    60_000,
    100,
  );
  expect(pending.activityId).toBeTruthy();
  expect(await store.listOutbox({ incidentId: id, limit: 10 })).toEqual([]);
  expect(await timelineOf(id)).toEqual([]);

  await sigkill(first);
  releaseLock();
  const second = await startWorkerProcess('worker-2');
  await waitForOpenDecision(id, 'strategy');
  await service.decide(id, 'strategy', 'failover', ctx());
  await waitForClosed(id);
  await expectCompletedExactlyOnce(id, { decision: 'failover' });
  expect(second.exit()).toBeUndefined();
});

test('a worker killed while a decision is being recorded: the decision lands once and the caller gets its answer', async () => {
  await setUp('200ms');
  const first = await startWorkerProcess('worker-1');
  const id = await declare();
  await waitForOpenDecision(id, 'strategy');

  holdWriteLock();
  // The update handler records decision.taken through a local activity, which blocks on the lock.
  const deciding = service.decide(id, 'strategy', 'restore', ctx());
  deciding.catch(() => undefined);
  // Accepted in history: the handler is running (its first await is that write) and the server knows the update.
  await waitUntil(
    async () => (await historyOf(id)).some((e) => e.workflowExecutionUpdateAcceptedEventAttributes),
    `the decide update of ${id} to be accepted`,
    60_000,
    200,
  );
  expect((await timelineOf(id)).some((e) => e.type === 'decision.taken')).toBe(false);

  await sigkill(first);
  releaseLock();
  await startWorkerProcess('worker-2');
  const view = await deciding;
  expect(view.decisions.strategy).toMatchObject({ option: 'restore', by: { id: commander.id } });

  await waitForClosed(id);
  await expectCompletedExactlyOnce(id, { decision: 'restore' });
});

test('a worker killed in the middle of a wait step: the timer still fires once and the incident closes', async () => {
  await setUp('6s');
  const first = await startWorkerProcess('worker-1');
  const id = await declare();
  await waitForOpenDecision(id, 'strategy');
  await service.decide(id, 'strategy', 'failover', ctx());

  await waitForTimeline(id, 'step.started of pause', (e) => e.type === 'step.started' && e.data.stepId === 'pause');
  // The decision's timeout was a timer too; the pause's is the 6 s one.
  const pauseTimers = (events: Awaited<ReturnType<typeof historyOf>>) =>
    events.filter((e) => String(e.timerStartedEventAttributes?.startToFireTimeout?.seconds) === '6');
  const firedTimers = (events: Awaited<ReturnType<typeof historyOf>>, timerId: string) =>
    events.filter((e) => e.timerFiredEventAttributes?.timerId === timerId);
  const before = await historyOf(id);
  expect(pauseTimers(before)).toHaveLength(1);
  const timerId = pauseTimers(before)[0]!.timerStartedEventAttributes!.timerId!;
  expect(firedTimers(before, timerId)).toHaveLength(0);
  await sigkill(first);

  await startWorkerProcess('worker-2');
  await waitForClosed(id);
  await expectCompletedExactlyOnce(id, { decision: 'failover' });
  const after = await historyOf(id);
  // The sleep was neither restarted nor doubled by the new worker.
  expect(pauseTimers(after)).toHaveLength(1);
  expect(firedTimers(after, timerId)).toHaveLength(1);
});
