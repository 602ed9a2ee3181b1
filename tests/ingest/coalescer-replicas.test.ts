// Several API replicas share one alert inbox: each incident's inbox is forwarded by one lease holder at a time, and
// a replica that dies between signalling a batch and recording it leaves the batch to another replica, which sends
// it again unchanged; the workflow drops the repeat. Real Temporal, real workflow, the read model on both engines.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { AlertEvent } from '../../src/domain/alert';
import { AlertCoalescer } from '../../src/ingest/coalescer';
import { routeAlert } from '../../src/ingest/routing';
import { createLogger } from '../../src/logger';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { createAlertService } from '../../src/services/alerts';
import { createIncidentService } from '../../src/services/incidents';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import { describeEachStore } from '../support/stores';
import { testDataConverter } from '../support/keys';
import { startTestWorker, testTemporal, uniqueTaskQueue } from '../support/temporal';
import type { TestWorker } from '../support/temporal';
import { eventually } from '../support/wait';

jest.setTimeout(120_000);

const logger = createLogger({ level: 'silent' });
const runbooks = new RunbookCatalog(path.join(__dirname, '..', '..', 'runbooks'));

function alert(group: string, n: number, status: 'firing' | 'resolved' = 'firing'): AlertEvent {
  return {
    source: 'alertmanager',
    integration: 'prometheus',
    groupKey: `group-${group}`,
    fingerprint: `fp-${group}-${n}`,
    status,
    startsAt: '2026-11-25T10:00:00.000Z',
    endsAt: status === 'resolved' ? '2026-11-25T10:30:00.000Z' : null,
    labels: { alertname: `Orders${group}`, service: 'orders', instance: `orders-${n}` },
    annotations: {},
    summary: `Orders ${group}/${n}`,
    senderSeverity: null,
    generatorUrl: null,
  };
}

const same = (x: Record<string, number>, y: Record<string, number>) =>
  JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());

/** A store whose every call fails once `dead` is set: a replica's process gone between two statements. */
function mortal(store: Store): { store: Store; die(): void } {
  let dead = false;
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (dead ? Promise.reject(new Error('replica died')) : (value as (...a: unknown[]) => unknown)(...args));
    },
  });
  return {
    store: proxy,
    die: () => {
      dead = true;
    },
  };
}

describeEachStore('alert inbox across replicas', (engine) => {
  let connection: Connection;
  let client: Client;
  let worker: TestWorker | undefined;
  const sinks: AlertCoalescer[] = [];
  // A queue per test: a workflow left waiting by one test must never reach the next test's worker and read model.
  let taskQueue = '';
  beforeEach(() => {
    taskQueue = uniqueTaskQueue('replicas');
  });

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporal().address });
    client = new Client({ connection, dataConverter: testDataConverter() });
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) s.stop();
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    await connection?.close();
  });

  function replica(store: Store, options: Partial<ConstructorParameters<typeof AlertCoalescer>[0]> = {}) {
    const incidents = createIncidentService({ client, store, runbooks, taskQueue, logger });
    const alerts = createAlertService({ client, store, runbooks, incidents, taskQueue, logger, route: (a) => routeAlert([], a) });
    const sink = new AlertCoalescer({ store, alerts, logger, isSilenced: () => false, minSignalIntervalMs: 50, ...options });
    sinks.push(sink);
    return { sink, alerts };
  }

  async function receivedOf(store: Store, incidentId: string): Promise<Record<string, number>> {
    return Object.fromEntries((await store.listAlerts(incidentId)).map((a) => [a.fingerprint, a.received]));
  }

  it('two replicas accepting one group at once open one incident and forward every alert once', async () => {
    const a = await engine.fresh({ randomIncidentNumbers: true });
    const b = await engine.another();
    worker = await startTestWorker({ taskQueue, store: a });
    const ra = replica(a);
    const rb = replica(b);
    const deliveries = Array.from({ length: 40 }, (_, i) => alert('one', i % 10));
    const accepted = await Promise.all(deliveries.map((d, i) => (i % 2 === 0 ? ra.sink : rb.sink).accept([d], { requestId: `r${i}` })));
    const incidentIds = new Set(accepted.flatMap((r) => r.incidents));
    expect(incidentIds.size).toBe(1);
    const [incidentId] = [...incidentIds];
    const want = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`fp-one-${n}`, 4]));
    await eventually(async () => (same(await receivedOf(a, incidentId!), want) ? true : undefined), 'every alert counted', 60_000);
    expect(await receivedOf(a, incidentId!)).toEqual(want);
    expect(await a.pendingAlerts(incidentId!, 10)).toEqual([]);
    // Opened by its first batch (signalWithStart), the incident is still declared before its alerts fire.
    const timeline = await a.listTimeline(incidentId!, { limit: 3 });
    expect(timeline.map((e) => e.type)).toEqual(['incident.declared', 'alert.fired', 'alert.fired']);
  });

  it('a batch whose replica died after signalling goes again from another replica and counts once', async () => {
    const a = await engine.fresh({ randomIncidentNumbers: true });
    worker = await startTestWorker({ taskQueue, store: a });
    const doomed = mortal(await engine.another());
    const survivor = await engine.another();
    // The doomed replica's forward reaches the workflow, then its process is gone before it records the batch.
    let signalled = 0;
    const doomedReplica = replica(doomed.store, { leaseMs: 400, sweepIntervalMs: 60_000 });
    const forward = doomedReplica.alerts.forward;
    doomedReplica.alerts.forward = async (...args) => {
      await forward(...args);
      signalled += 1;
      doomed.die();
      throw new Error('replica died');
    };
    const deliveries = [alert('two', 1), alert('two', 2), alert('two', 2)];
    const { incidents } = await doomedReplica.sink.accept(deliveries, { requestId: 'doomed' });
    const incidentId = incidents[0]!;
    await eventually(() => (signalled === 1 ? true : undefined), 'the doomed replica to signal');
    expect((await survivor.pendingAlerts(incidentId, 10)).length).toBe(3);

    // The survivor's sweep finds the rows once the dead lease lapses, and sends the same batch again.
    const { sink } = replica(survivor, { sweepIntervalMs: 100 });
    await sink.resume();
    await eventually(async () => ((await survivor.pendingAlerts(incidentId, 10)).length === 0 ? true : undefined), 'the inbox to drain');
    // Later alerts still flow: the dropped repeat did not block the incident.
    await sink.accept([alert('two', 3)], { requestId: 'later' });
    const want = { 'fp-two-1': 1, 'fp-two-2': 2, 'fp-two-3': 1 };
    await eventually(async () => ((await receivedOf(survivor, incidentId))['fp-two-3'] ? true : undefined), 'the later alert');
    expect(await receivedOf(survivor, incidentId)).toEqual(want);
    const status = await client.workflow.getHandle(incidentWorkflowId(incidentId)).query<{ alerts: { received: number } }>('status');
    expect(status.alerts.received).toBe(4);
  });
});
