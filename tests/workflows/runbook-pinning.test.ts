import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncidentRecord } from '../../src/domain/incident';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createLogger } from '../../src/logger';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { createIncidentService } from '../../src/services/incidents';
import type { ActionContext } from '../../src/services/incidents';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { statusQuery } from '../../workflows/messages';
import { eventually, tempDir } from '../support/temporal';
import { useWorkflowHarness } from '../support/workflow-harness';

const logger = createLogger({ level: 'silent' });
const ctx: ActionContext = { actor: { id: 'u-commander', name: 'Grace', role: 'commander' }, requestId: 'req-pinning', source: 'api' };

const wf = useWorkflowHarness('pinning');
let runbooksDir: string;

beforeEach(() => {
  runbooksDir = tempDir('fireline-runbooks-');
});
afterEach(() => {
  fs.rmSync(runbooksDir, { recursive: true, force: true });
});

const V1 = `id: pinned
title: Pinned runbook
owner: team-test
phases:
  detect:
    - id: opened
      kind: notify
      message: "v1: opened \${incident.id}"
  decide:
    - id: strategy
      kind: decide
      prompt: Fail over or restore?
      options: [failover, restore]
      default: failover
      timeout: 10m
  execute:
    - id: act
      kind: notify
      message: "v1: executing \${decision.strategy}"
  recover:
    - id: recovered
      kind: notify
      message: "v1: recovered"
  retrospective:
    - id: review
      kind: notify
      message: "v1: review \${incident.id}"
`;

/** The same file edited: later messages reworded and one more step in recover. */
const V2 = V1.replace('"v1: executing ${decision.strategy}"', '"v2: executing ${decision.strategy} with care"').replace(
  '      message: "v1: recovered"\n',
  `      message: "v2: recovered"
    - id: double-check
      kind: notify
      message: "v2: double-checked \${incident.id}"
`,
);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function handleOf(id: string) {
  return wf.client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(id));
}

async function waitForOpenDecision(id: string) {
  await eventually(async () => {
    const view = await handleOf(id)
      .query(statusQuery)
      .catch(() => null);
    return view?.openDecisions.some((d) => d.stepId === 'strategy') ? true : undefined;
  }, `open decision of ${id}`);
}

async function timelineOf(id: string): Promise<TimelineEvent[]> {
  return wf.store.listTimeline(id, { limit: 1000 });
}

async function outboxOf(id: string): Promise<Record<string, string>> {
  const messages = await wf.store.listOutbox({ incidentId: id, limit: 100 });
  return Object.fromEntries(messages.map((m) => [m.id.slice(id.length + 1), m.body]));
}

test('an incident keeps the runbook version it was declared with while the file is edited; new incidents get the edit', async () => {
  const file = path.join(runbooksDir, 'pinned.yaml');
  fs.writeFileSync(file, V1);
  const catalog = new RunbookCatalog(runbooksDir);
  const incidents = createIncidentService({ client: wf.client, store: wf.store, runbooks: catalog, taskQueue: wf.taskQueue, logger });

  const first: IncidentRecord = await incidents.declare({ title: 'Checkout failing', runbook: 'pinned', severity: 'SEV2' }, ctx);
  expect(first.runbookVersion).toBe(sha256(V1));
  await waitForOpenDecision(first.id);

  // Edited while the first incident waits for its decision.
  fs.writeFileSync(file, V2);
  expect(sha256(V2)).not.toBe(sha256(V1));
  expect((await catalog.get('pinned'))?.version).toBe(sha256(V2));

  const second = await incidents.declare({ title: 'Checkout failing again', runbook: 'pinned', severity: 'SEV2' }, ctx);
  expect(second.runbookVersion).toBe(sha256(V2));
  await waitForOpenDecision(second.id);
  await incidents.decide(second.id, 'strategy', 'restore', ctx);
  const secondFinal = await handleOf(second.id).result();
  expect(secondFinal).toMatchObject({ status: 'closed', runbook: { id: 'pinned', version: sha256(V2) } });

  // The first incident still runs what it was declared with.
  expect((await incidents.get(first.id)).live?.runbook).toEqual({ id: 'pinned', version: sha256(V1) });
  await incidents.decide(first.id, 'strategy', 'restore', ctx);
  const firstFinal = await handleOf(first.id).result();
  expect(firstFinal).toMatchObject({ status: 'closed', runbook: { id: 'pinned', version: sha256(V1) } });

  const firstEvents = await timelineOf(first.id);
  expect(firstEvents.find((e) => e.type === 'incident.declared')?.data).toMatchObject({ runbook: 'pinned', version: sha256(V1) });
  expect(firstEvents.filter((e) => e.type === 'step.started').map((e) => e.data.stepId)).toEqual([
    'opened',
    'strategy',
    'act',
    'recovered',
    'review',
  ]);
  expect(await outboxOf(first.id)).toEqual({
    opened: `v1: opened ${first.id}`,
    act: 'v1: executing restore',
    recovered: 'v1: recovered',
    review: `v1: review ${first.id}`,
  });
  expect(await wf.store.getIncident(first.id)).toMatchObject({ status: 'closed', runbookId: 'pinned', runbookVersion: sha256(V1) });

  const secondEvents = await timelineOf(second.id);
  expect(secondEvents.find((e) => e.type === 'incident.declared')?.data).toMatchObject({ runbook: 'pinned', version: sha256(V2) });
  expect(secondEvents.filter((e) => e.type === 'step.started').map((e) => e.data.stepId)).toEqual([
    'opened',
    'strategy',
    'act',
    'recovered',
    'double-check',
    'review',
  ]);
  expect(await outboxOf(second.id)).toEqual({
    opened: `v1: opened ${second.id}`,
    act: 'v2: executing restore with care',
    recovered: 'v2: recovered',
    'double-check': `v2: double-checked ${second.id}`,
    review: `v1: review ${second.id}`,
  });
  expect(await wf.store.getIncident(second.id)).toMatchObject({ status: 'closed', runbookId: 'pinned', runbookVersion: sha256(V2) });
});
