import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { TimelineEvent } from '../../src/domain/timeline';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { incidentInfo, recordOf } from './runbooks';
import { connectClient, openTestStore, startTestWorker, tempDir, uniqueTaskQueue } from './temporal';
import type { TestWorker } from './temporal';

export type IncidentHandle = WorkflowHandle<typeof incidentWorkflow>;
type WorkerOptions = Omit<Parameters<typeof startTestWorker>[0], 'taskQueue' | 'store'>;

/**
 * The scaffolding every workflow test file shares, as jest hooks: one client for the file; per test a fresh
 * read model in its own directory, a task queue of its own and, unless `worker: false`, a worker running the
 * real activities. Tests that need a worker with other activities or deps call `startWorker` themselves.
 */
export interface WorkflowHarness {
  readonly client: Client;
  readonly connection: Connection;
  readonly store: Store;
  readonly taskQueue: string;
  /** The test's directory (the store's file lives in it). */
  readonly dir: string;
  readonly worker: TestWorker | undefined;
  startWorker(opts?: WorkerOptions): Promise<TestWorker>;
  /** Records the incident in the read model and starts its workflow, as the incident service would. */
  start(snapshot: RunbookSnapshot, overrides?: Parameters<typeof incidentInfo>[0]): Promise<IncidentHandle>;
  timeline(handle: IncidentHandle | string): Promise<TimelineEvent[]>;
}

export function idOf(handle: IncidentHandle): string {
  return handle.workflowId.replace('incident/', '');
}

export function useWorkflowHarness(name: string, opts: { worker?: boolean | (() => WorkerOptions) } = {}): WorkflowHarness {
  let client: Client | undefined;
  let connection: Connection | undefined;
  let store: Store | undefined;
  let taskQueue = '';
  let dir = '';
  let worker: TestWorker | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the workflow harness has no ${what} outside a test`);
    return value;
  };

  const harness: WorkflowHarness = {
    get client() {
      return need(client, 'client');
    },
    get connection() {
      return need(connection, 'connection');
    },
    get store() {
      return need(store, 'store');
    },
    get taskQueue() {
      return taskQueue;
    },
    get dir() {
      return dir;
    },
    get worker() {
      return worker;
    },
    async startWorker(workerOpts = {}) {
      if (worker) throw new Error('this test already has a worker');
      worker = await startTestWorker({ ...workerOpts, taskQueue, store: harness.store });
      return worker;
    },
    async start(snapshot, overrides = {}) {
      const incident = incidentInfo(overrides);
      await harness.store.insertIncident(recordOf(incident, snapshot));
      return harness.client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
        workflowId: incidentWorkflowId(incident.id),
        taskQueue,
        args: [{ incident, snapshot }],
      });
    },
    timeline(handle) {
      return harness.store.listTimeline(typeof handle === 'string' ? handle : idOf(handle), { limit: 10_000 });
    },
  };

  beforeAll(async () => {
    ({ client, connection } = await connectClient());
  });
  afterAll(async () => {
    await connection?.close();
  });
  beforeEach(async () => {
    dir = tempDir();
    store = await openTestStore(dir);
    taskQueue = uniqueTaskQueue(name);
    if (opts.worker !== false) await harness.startWorker(typeof opts.worker === 'function' ? opts.worker() : {});
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await store?.close();
  });
  return harness;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * Activities the history scheduled and has no outcome for. Empty on a closed workflow means nothing it asked
 * for is still under way: what the activities did so far is all they will ever do.
 */
export function unsettledActivities(events: HistoryEvent[]): string[] {
  const settled = new Set(
    events.flatMap((e) => {
      const outcome =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes ??
        e.activityTaskCanceledEventAttributes;
      return outcome ? [String(outcome.scheduledEventId)] : [];
    }),
  );
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes && !settled.has(String(e.eventId)))
    .map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name ?? '?');
}

/** Timers the history started that neither fired nor were cancelled. */
export function runningTimers(events: HistoryEvent[]): string[] {
  const over = new Set(
    events
      .flatMap((e) => [e.timerFiredEventAttributes?.timerId, e.timerCanceledEventAttributes?.timerId])
      .filter((id): id is string => !!id),
  );
  return events.flatMap((e) => {
    const id = e.timerStartedEventAttributes?.timerId;
    return id && !over.has(id) ? [id] : [];
  });
}
