// A Fireline incident on the production Temporal server with PostgreSQL persistence rather than the dev server:
// the workflow, its update (a decision) and its query run against what a production install talks to.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { DeclareIncidentSchema } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import { createLogger } from '../../src/logger';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { createIncidentService } from '../../src/services/incidents';
import type { ActionContext } from '../../src/services/incidents';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import { createIncidentWorker } from '../../src/temporal/worker';
import type { incidentWorkflow } from '../../workflows/incident';
import { TEST_KEY_RING, testDataConverter } from '../support/keys';
import { databaseUrl, postgresAvailability, psql, startPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { waitUntil } from '../support/processes';
import { tempDir, testTemporal } from '../support/temporal';
import { startTemporalServer, temporalServerAvailability } from '../support/temporal-server';
import type { TestTemporalServer } from '../support/temporal-server';

jest.setTimeout(180_000);

const availability = postgresAvailability().run ? temporalServerAvailability() : postgresAvailability();
const maybe = availability.run ? describe : describe.skip;

const RUNBOOK_ID = 'production-engine';
const RUNBOOK = `id: ${RUNBOOK_ID}
title: Production engine
owner: team-test
phases:
  detect:
    - { id: detected, kind: notify, message: "Detected \${incident.title}", timeout: 10s }
  decide:
    - { id: strategy, kind: decide, prompt: "Fail over or restore?", options: [failover, restore], default: failover, timeout: 30m }
  execute:
    - { id: execute-note, kind: notify, message: "Executing \${decision.strategy}", timeout: 10s }
  recover:
    - { id: recovered, kind: notify, message: Recovered, timeout: 10s }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const ctx = (): ActionContext => ({ actor: commander, requestId: randomUUID(), source: 'cli' });

maybe(`the production Temporal server on PostgreSQL${availability.label}`, () => {
  let postgres: TestPostgres;
  let server: TestTemporalServer;
  let connection: Connection;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    postgres = await startPostgres();
    server = await startTemporalServer({ postgres });
    process.stderr.write(
      `[temporal-server] schema ${server.startupMs.schema} ms, ready ${server.startupMs.ready} ms after the first sql tool call\n`,
    );
    dir = tempDir('fireline-tserver-');
    fs.mkdirSync(path.join(dir, 'runbooks'));
    fs.writeFileSync(path.join(dir, 'runbooks', `${RUNBOOK_ID}.yaml`), RUNBOOK);
    store = openSqliteStore(path.join(dir, 'fireline.db'));
    await store.migrate();
    connection = await Connection.connect({ address: server.address });
    ({ worker, connection: workerConnection } = await createIncidentWorker({
      connection: { address: server.address },
      namespace: server.namespace,
      taskQueue: 'fireline',
      store,
      workflowBundlePath: testTemporal().bundlePath,
      keys: TEST_KEY_RING,
    }));
    running = worker.run();
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await workerConnection?.close();
    await connection?.close();
    await store?.close();
    await server?.stop();
    await postgres?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an incident runs its runbook to the end, with its history in PostgreSQL', async () => {
    const client = new Client({ connection, namespace: server.namespace, dataConverter: testDataConverter() });
    const service = createIncidentService({
      client,
      store,
      runbooks: new RunbookCatalog(path.join(dir, 'runbooks')),
      taskQueue: 'fireline',
      logger: createLogger({ level: 'silent' }),
    });
    const record = await service.declare(DeclareIncidentSchema.parse({ title: 'Checkout failing', runbook: RUNBOOK_ID }), ctx());
    await waitUntil(
      async () => (await service.get(record.id)).live?.openDecisions.some((d) => d.stepId === 'strategy'),
      `the open decision of ${record.id}`,
      90_000,
      200,
    );
    await service.decide(record.id, 'strategy', 'restore', ctx());
    const result = await client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(record.id)).result();
    expect(result.status).toBe('closed');

    expect(await store.getIncident(record.id)).toMatchObject({ status: 'closed', phase: 'closed' });
    const events = await store.listTimeline(record.id, { limit: 1_000 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const ofType = (type: string) => events.filter((e) => e.type === type);
    expect(ofType('step.succeeded').map((e) => e.data.stepId)).toEqual(['detected', 'strategy', 'execute-note', 'recovered', 'review']);
    expect(ofType('decision.taken').map((e) => [e.data.stepId, e.data.option])).toEqual([['strategy', 'restore']]);
    expect(ofType('notification.sent').map((e) => e.data.stepId)).toEqual(['detected', 'execute-note', 'recovered', 'review']);
    expect(events[0]?.type).toBe('incident.declared');
    expect(events.at(-1)?.type).toBe('incident.closed');

    // The history is in the server's PostgreSQL database, not in a dev server's SQLite file.
    const executions = await psql(postgres.binDir, databaseUrl(postgres.url, 'temporal'), 'SELECT workflow_id FROM current_executions');
    expect(executions.split('\n')).toContain(incidentWorkflowId(record.id));
  });
});
