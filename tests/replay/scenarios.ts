import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Actor } from '../../src/domain/roles';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import type { IncidentView } from '../../workflows/messages';
import { completeTaskUpdate, postEventUpdate } from '../../workflows/messages';
import {
  acknowledgeUpdate,
  addNoteUpdate,
  changeSeverityUpdate,
  decideUpdate,
  escalateUpdate,
  resolveUpdate,
  statusQuery,
} from '../../workflows/messages';
import { incidentInfo, recordOf, sixPhaseRunbook, snapshotOf } from '../support/runbooks';

/** Uses every step kind against real targets: `${TARGET_URL}` (an HTTP server) and a SQLite backup target. */
export function everyKindRunbook(): RunbookSnapshot {
  return snapshotOf({
    id: 'every-kind',
    title: 'Every step kind',
    owner: 'team-test',
    roles: ['dpo'],
    compensations: { undo: { http: { url: '${TARGET_URL}/undo' } } },
    phases: {
      detect: [{ id: 'up', kind: 'verify', check: { http: { url: '${TARGET_URL}/health' } } }],
      report: [
        { id: 'tell', kind: 'notify', message: 'hi ${incident.id}' },
        { id: 'legal', kind: 'task', assignee: 'dpo', description: 'Check obligations', timeout: '10m' },
      ],
      decide: [{ id: 'strategy', kind: 'decide', prompt: 'Which?', options: ['failover', 'restore'], default: 'failover', timeout: '10m' }],
      execute: [
        { id: 'snapshot', kind: 'backup', target: 'orders-db', restoreCheck: true, when: { step: 'strategy', is: 'restore' } },
        {
          id: 'failover',
          kind: 'action',
          http: { url: '${TARGET_URL}/failover' },
          compensate: 'undo',
          when: { step: 'strategy', is: 'failover' },
        },
        { id: 'done-signal', kind: 'wait', for: { event: 'restore-finished' }, timeout: '10m' },
        { id: 'settle', kind: 'wait', duration: '100ms' },
        { id: 'broken', kind: 'action', http: { url: '${TARGET_URL}/fail' }, onFailure: 'continue' },
      ],
      recover: [{ id: 'healthy', kind: 'verify', check: { http: { url: '${TARGET_URL}/health' } }, until: '10s', interval: '100ms' }],
      retrospective: [{ id: 'pm', kind: 'postmortem', due: '5d' }],
    },
  });
}

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const responder: Actor = { id: 'u-responder', name: 'Linus', role: 'responder' };

type Handle = WorkflowHandle<typeof incidentWorkflow>;

/** Incidents that exercise every message and step kind; their histories are the replay corpus. */
export const SCENARIOS: { name: string; snapshot: () => RunbookSnapshot; drill?: boolean; drive: (h: Handle) => Promise<void> }[] = [
  {
    name: 'six-phases-decided-with-every-update',
    snapshot: () => sixPhaseRunbook({ autoResolve: false }),
    drive: async (h) => {
      await until(h, (v) => v.openDecisions.length > 0);
      await h.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
      await h.executeUpdate(addNoteUpdate, { args: [{ actor: responder, text: 'replica healthy' }] });
      await h.executeUpdate(escalateUpdate, { args: [{ actor: responder, reason: 'need DBA' }] });
      await h.executeUpdate(changeSeverityUpdate, { args: [{ actor: commander, severity: 'SEV1' }] });
      await h.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] });
      await until(h, (v) => v.phase === 'recover' && v.currentStep === null);
      await h.executeUpdate(resolveUpdate, { args: [{ actor: commander, summary: 'restored' }] });
    },
  },
  {
    name: 'decision-timed-out',
    snapshot: () => sixPhaseRunbook({ decideTimeout: '1s' }),
    drive: async () => undefined,
  },
  {
    name: 'every-step-kind-restore',
    snapshot: everyKindRunbook,
    drive: async (h) => {
      await until(h, (v) => v.openTasks.length > 0);
      await h.executeUpdate(completeTaskUpdate, { args: [{ actor: responder, stepId: 'legal', note: 'none' }] });
      await until(h, (v) => v.openDecisions.length > 0);
      await h.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] });
      await until(h, (v) => v.currentStep?.id === 'done-signal');
      await h.executeUpdate(postEventUpdate, { args: [{ actor: responder, name: 'restore-finished', data: {} }] });
    },
  },
  {
    name: 'every-step-kind-failover-drill',
    snapshot: everyKindRunbook,
    drill: true,
    drive: async (h) => {
      await until(h, (v) => v.openTasks.length > 0);
      await h.executeUpdate(completeTaskUpdate, { args: [{ actor: responder, stepId: 'legal' }] });
      await until(h, (v) => v.openDecisions.length > 0);
      await h.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'failover' }] });
      await until(h, (v) => v.currentStep?.id === 'done-signal');
      await h.executeUpdate(postEventUpdate, { args: [{ actor: responder, name: 'restore-finished', data: {} }] });
    },
  },
  {
    name: 'resolved-during-decision',
    snapshot: () => sixPhaseRunbook(),
    drive: async (h) => {
      await until(h, (v) => v.openDecisions.length > 0);
      await h.executeUpdate(resolveUpdate, { args: [{ actor: commander, summary: 'false alarm' }] });
    },
  },
];

async function until(h: Handle, ok: (v: IncidentView) => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ok(await h.query(statusQuery))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('scenario state not reached');
}

export async function runScenario(client: Client, store: Store, taskQueue: string, scenario: (typeof SCENARIOS)[number]): Promise<Handle> {
  const snapshot = scenario.snapshot();
  const incident = incidentInfo({ drill: scenario.drill ?? false });
  await store.insertIncident(recordOf(incident, snapshot));
  const handle = await client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
    workflowId: incidentWorkflowId(incident.id),
    taskQueue,
    args: [{ incident, snapshot }],
  });
  await scenario.drive(handle);
  await handle.result();
  return handle;
}
