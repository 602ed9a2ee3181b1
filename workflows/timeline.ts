// Timeline emission: events, incident-row patches and changed alerts are collected, then written in one
// batch by a local activity. Batches are chained so the read model sees them in workflow order; event ids
// are `<incident>:<seq>`, so a retried write never records twice.
import { CancellationScope, proxyLocalActivities } from '@temporalio/workflow';
import type { FirelineActivities, RecordBatch } from '../activities';
import type { IncidentPatch } from '../src/domain/incident';
import type { Actor } from '../src/domain/roles';
import type { TimelineEvent, TimelineEventType } from '../src/domain/timeline';
import type { AlertState, IncidentState } from './state';
import { RUNBOOK_ACTOR } from './step-context';

const { recordTimeline } = proxyLocalActivities<FirelineActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s' },
});

export interface Timeline {
  emit(type: TimelineEventType, summary: string, data?: Record<string, unknown>, actor?: Actor): void;
  patch(p: IncidentPatch): void;
  alertChanged(key: string, alert: AlertState): void;
  /** Writes what was emitted so far; resolves once it (and every earlier batch) is recorded. */
  flush(): Promise<void>;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function createTimeline(incidentId: string, state: IncidentState): Timeline {
  let pendingEvents: TimelineEvent[] = [];
  let pendingPatch: IncidentPatch = {};
  let changedAlerts: Record<string, AlertState> = {};
  let recording: Promise<void> = Promise.resolve();

  return {
    emit(type, summary, data = {}, actor = RUNBOOK_ACTOR) {
      state.seq += 1;
      pendingEvents.push({
        id: `${incidentId}:${state.seq}`,
        incidentId,
        seq: state.seq,
        at: nowIso(),
        type,
        phase: state.phase,
        actor,
        summary,
        data,
      });
    },

    patch(p) {
      Object.assign(pendingPatch, p);
    },

    alertChanged(key, alert) {
      changedAlerts[key] = alert;
    },

    flush() {
      recording = recording.then(async () => {
        const alertRows = Object.values(changedAlerts);
        if (!pendingEvents.length && !Object.keys(pendingPatch).length && !alertRows.length) return;
        const events = pendingEvents;
        const p = pendingPatch;
        pendingEvents = [];
        pendingPatch = {};
        changedAlerts = {};
        const batch: RecordBatch = { incidentId, events, patch: Object.keys(p).length ? p : null, at: nowIso() };
        // Only present when there are alerts, so histories recorded before alerts existed replay unchanged.
        if (alertRows.length) batch.alerts = alertRows.map(({ count, ...a }) => ({ ...a, incidentId, received: count }));
        // Never cancelled with a step: a lost timeline write is worse than a late one.
        await CancellationScope.nonCancellable(() => recordTimeline(batch));
      });
      return recording;
    },
  };
}
