import type { IncidentPatch } from '../src/domain/incident';
import type { TimelineEvent } from '../src/domain/timeline';
import type { AlertRecord, AlertStore, IncidentStore, TimelineStore } from '../src/store/store';

export interface RecordBatch {
  incidentId: string;
  events: TimelineEvent[];
  patch: IncidentPatch | null;
  /** Workflow time of the batch; the store ignores a patch older than what it holds. */
  at: string;
  /** Latest state of alert episodes changed since the last batch. */
  alerts?: AlertRecord[];
}

/** Writes the workflow's timeline and incident state to the read model; safe to repeat. */
export function createRecordActivities(deps: { store: AlertStore & IncidentStore & TimelineStore }) {
  return {
    async recordTimeline(batch: RecordBatch): Promise<number> {
      const inserted = batch.events.length ? await deps.store.appendTimeline(batch.events) : 0;
      if (batch.alerts?.length) await deps.store.upsertAlerts(batch.alerts);
      // The closing batch carries the last event: anything numbered after it is a leftover of a rejected task.
      if (batch.patch?.status === 'closed' && batch.events.length) {
        await deps.store.trimTimeline(batch.incidentId, Math.max(...batch.events.map((e) => e.seq)));
      }
      if (batch.patch && Object.keys(batch.patch).length) {
        await deps.store.updateIncident(batch.incidentId, batch.patch, batch.at);
      }
      return inserted;
    },
  };
}
