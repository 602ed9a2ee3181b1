import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Actor } from '../../src/domain/roles';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow, IncidentWorkflowInput } from '../../workflows/incident';
import type { AlertBatch, AlertUpdate, IncidentView } from '../../workflows/messages';
import { completeTaskUpdate, postEventUpdate } from '../../workflows/messages';
import {
  acknowledgeUpdate,
  addNoteUpdate,
  alertsSignal,
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

/** Opened by alerts: waits in recover until they resolve, and monitoring's resolve closes it with no human. */
export function alertOpenedRunbook(): RunbookSnapshot {
  return snapshotOf({
    id: 'alert-opened',
    title: 'Opened by alerts',
    owner: 'team-test',
    autoResolve: false,
    onAlertsResolved: 'resolve',
    phases: {
      detect: [{ id: 'opened', kind: 'notify', message: 'Opened by ${incident.title}' }],
      recover: [{ id: 'clear', kind: 'wait', for: 'alerts-resolved', timeout: '10m' }],
      retrospective: [{ id: 'review', kind: 'notify', message: 'Please review ${incident.id}' }],
    },
  });
}

function alertUpdate(fingerprint: string, status: AlertUpdate['status']): AlertUpdate {
  return {
    fingerprint,
    startsAt: '2026-11-25T10:00:00.000Z',
    status,
    endsAt: status === 'resolved' ? '2026-11-25T10:05:00.000Z' : null,
    summary: `Order DB down (${fingerprint})`,
    labels: { alertname: 'OrderDBDown', instance: fingerprint },
    source: 'alertmanager',
    count: 1,
    receivedAt: status === 'resolved' ? '2026-11-25T10:05:01.000Z' : '2026-11-25T10:00:01.000Z',
  };
}

const firstBatch: AlertBatch = { alerts: [alertUpdate('db-1', 'firing')], batch: 101 };

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const responder: Actor = { id: 'u-responder', name: 'Linus', role: 'responder' };

type Handle = WorkflowHandle<typeof incidentWorkflow>;

/** Incidents that exercise every message and step kind; their histories are the replay corpus. */
export const SCENARIOS: {
  name: string;
  snapshot: () => RunbookSnapshot;
  drill?: boolean;
  /** Opened by alerts: started with this batch by signalWithStart, as the alert service's forward does. */
  openedBy?: AlertBatch;
  drive: (h: Handle) => Promise<void>;
}[] = [
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
  {
    name: 'opened-by-alerts-repeat-batch',
    snapshot: alertOpenedRunbook,
    openedBy: firstBatch,
    drive: async (h) => {
      await until(h, (v) => v.alerts.received === 1 && v.currentStep?.id === 'clear');
      await h.signal(alertsSignal, { alerts: [alertUpdate('db-2', 'firing')], batch: 102 });
      await until(h, (v) => v.alerts.received === 2);
      // A forwarder replica that died after signalling sends its batch again: the workflow drops the repeat.
      await h.signal(alertsSignal, firstBatch);
      await h.signal(alertsSignal, { alerts: [alertUpdate('db-1', 'resolved'), alertUpdate('db-2', 'resolved')], batch: 103 });
      await until(h, (v) => v.alerts.firing === 0);
      const { alerts } = await h.query(statusQuery);
      if (alerts.received !== 4) throw new Error(`the repeated batch was applied: ${alerts.received} alerts received, not 4`);
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
  const trigger = scenario.openedBy
    ? { kind: 'alert' as const, by: { id: 'monitoring:am-test', name: 'alertmanager (am-test)', role: 'responder' as const } }
    : undefined;
  const incident = incidentInfo({ drill: scenario.drill ?? false, ...(trigger && { trigger }) });
  await store.insertIncident(recordOf(incident, snapshot));
  const options = { workflowId: incidentWorkflowId(incident.id), taskQueue, args: [{ incident, snapshot }] as [IncidentWorkflowInput] };
  const handle = scenario.openedBy
    ? await client.workflow.signalWithStart<typeof incidentWorkflow, [AlertBatch]>('incidentWorkflow', {
        ...options,
        signal: alertsSignal,
        signalArgs: [scenario.openedBy],
        workflowIdConflictPolicy: 'USE_EXISTING',
      })
    : await client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', options);
  await scenario.drive(handle);
  await handle.result();
  return handle;
}
