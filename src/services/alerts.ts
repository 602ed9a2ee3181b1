import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AlertEvent, AlertRoute, GroupAction } from '../domain/alert';
import type { AlertUpdate } from '../domain/alert-episode';
import type { Actor } from '../domain/roles';
import type { Logger } from '../logger';
import type { AlertRecord, AlertStore, AuditStore, IdempotencyStore, IncidentStore, TimelineStore } from '../store/store';
import { incidentWorkflowId } from '../temporal/ids';
import type { incidentWorkflow, IncidentWorkflowInput } from '../../workflows/incident';
import { alertsSignal } from '../../workflows/messages';
import type { AlertBatch } from '../../workflows/messages';
import { ServiceError, unavailable } from './errors';
import { prepareIncident } from './incidents';
import type { IncidentService, RunbookSource } from './incidents';
import { translateTemporalError } from './temporal-errors';

export interface AlertServiceDeps {
  client: Client;
  store: AlertStore & AuditStore & IdempotencyStore & IncidentStore & TimelineStore;
  runbooks: RunbookSource;
  incidents: IncidentService;
  taskQueue: string;
  logger: Logger;
  /** Which runbook (and service, severity) a new alert group's incident runs. */
  route: (alert: AlertEvent) => AlertRoute;
  /** A firing alert for an incident resolved less than this ago joins it (flapping) instead of opening a new one. */
  flappingWindowMs?: number;
  now?: () => Date;
}

/** The read model's incident id for alerts a maintenance window silenced. */
const SILENCED_INCIDENT = 'silenced';
/** Senders time out too: answer 503 in time for them to retry rather than hang on a Temporal outage. */
const SIGNAL_DEADLINE_MS = 5000;

/**
 * The alert use cases: which incident an alert group feeds (opening one when needed), one batch of alerts into
 * that incident's workflow, and PagerDuty-style acknowledge/resolve of a group. Ingest paces and groups alerts
 * and calls these; only this module and the incident service talk to Temporal.
 */
export function createAlertService(deps: AlertServiceDeps) {
  const flappingWindow = deps.flappingWindowMs ?? 30 * 60_000;
  const now = deps.now ?? (() => new Date());

  async function openIncident(first: AlertEvent, previous: string | undefined): Promise<string> {
    const route = deps.route(first);
    const snapshot = await deps.runbooks.get(route.runbook);
    if (!snapshot) throw unavailable(`routing names runbook "${route.runbook}", which cannot be loaded`);
    const trigger = {
      kind: 'alert' as const,
      by: { id: `monitoring:${first.integration}`, name: `${first.source} (${first.integration})`, role: 'responder' as const },
    };
    const { incident } = await prepareIncident({ store: deps.store, now }, snapshot, {
      title: first.summary.slice(0, 200) || `Alert from ${first.integration}`,
      service: route.service ?? first.labels.service ?? snapshot.runbook.service ?? null,
      severity: route.severity,
      summary: null,
      drill: false,
      trigger,
      params: {},
    });
    if (!(await deps.store.swapAlertGroup(first.integration, first.groupKey, previous, incident.id, incident.declaredAt))) {
      // Another request opened the group's incident first: use theirs.
      await deps.store.deleteIncident(incident.id);
      const winner = await deps.store.getAlertGroup(first.integration, first.groupKey);
      if (!winner) throw unavailable('alert group changed concurrently; retry');
      return winner.incidentId;
    }
    // The first forward starts the workflow (signalWithStart): accepting stays a read-model write, and the start
    // and the first batch are one call.
    const args: IncidentWorkflowInput = { incident, snapshot };
    await deps.store.saveIncidentStart(incident.id, args);
    deps.logger.info({ incidentId: incident.id, runbook: route.runbook, rule: route.rule }, 'incident opened by alerts');
    return incident.id;
  }

  function withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return deps.client.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, fn);
  }

  return {
    /**
     * The incident a group's alerts go to: the open one, or the resolved one within the flapping window; a new one
     * when the group has none (or its last closed, or resolved longer ago than the window and it fires again).
     * `alerts` share one integration and group key.
     */
    async incidentFor(alerts: readonly AlertEvent[]): Promise<string> {
      const first = alerts[0]!;
      const firing = alerts.some((a) => a.status === 'firing');
      const group = await deps.store.getAlertGroup(first.integration, first.groupKey);
      if (group) {
        const incident = await deps.store.getIncident(group.incidentId);
        const closed = !incident || incident.status === 'closed';
        const flappingOver =
          incident?.status === 'resolved' &&
          incident.resolvedAt !== null &&
          Date.parse(incident.resolvedAt) + flappingWindow < now().getTime();
        // Resolves for a closed incident are still recorded there; only a new firing opens a new incident.
        if (!firing || !(closed || flappingOver)) return group.incidentId;
      }
      return openIncident(first, group?.incidentId);
    },

    /**
     * One batch into the incident's workflow, starting it if the incident was opened by these alerts. Rejects with
     * ServiceError('unavailable') when Temporal cannot be reached in time.
     */
    async forward(incidentId: string, updates: AlertUpdate[], batch: number): Promise<void> {
      const start = await deps.store.getIncidentStart(incidentId);
      try {
        if (start && !start.startedAt) {
          await withDeadline(() =>
            deps.client.workflow.signalWithStart<typeof incidentWorkflow, [AlertBatch]>('incidentWorkflow', {
              workflowId: incidentWorkflowId(incidentId),
              taskQueue: deps.taskQueue,
              args: [start.args as IncidentWorkflowInput],
              signal: alertsSignal,
              signalArgs: [{ alerts: updates, batch }],
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            }),
          );
          await deps.store.markIncidentStarted(incidentId, now().toISOString());
          return;
        }
        const handle = deps.client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(incidentId));
        await withDeadline(() => handle.signal(alertsSignal, { alerts: updates, batch }));
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) translateTemporalError(err, incidentId);
        // The incident closed before these arrived: keep them on its record; they start nothing.
        await deps.store.upsertAlerts(updates.map((u) => recordOfUpdate(u, incidentId)));
      }
    },

    /** Alerts a maintenance window silences are recorded, and reach no incident. */
    async recordSilenced(updates: AlertUpdate[]): Promise<void> {
      await deps.store.upsertAlerts(updates.map((u) => recordOfUpdate(u, SILENCED_INCIDENT)));
    },

    /** PagerDuty's acknowledge and resolve events, for the incident of their group (none: dropped). */
    async applyGroupAction(action: GroupAction, meta: { requestId: string }): Promise<{ incidentId: string | null }> {
      const group = await deps.store.getAlertGroup(action.integration, action.groupKey);
      if (!group) return { incidentId: null };
      const actor: Actor = { id: `monitoring:${action.integration}`, name: `${action.source} (${action.integration})`, role: 'commander' };
      const ctx = { actor, requestId: meta.requestId, source: 'api' as const, method: 'POST', path: `alerts/${action.source}` };
      try {
        if (action.action === 'acknowledge') await deps.incidents.acknowledge(group.incidentId, ctx);
        else await deps.incidents.resolve(group.incidentId, `resolved by ${action.source}`, ctx);
      } catch (err) {
        // Like PagerDuty: a follow-up for an incident already in that state (or closed) is accepted and dropped.
        if (!(err instanceof ServiceError && (err.code === 'conflict' || err.code === 'not_found'))) throw err;
      }
      return { incidentId: group.incidentId };
    },
  };
}

export type AlertService = ReturnType<typeof createAlertService>;

/** The read-model row for alerts that reach no workflow (silenced, or for a closed incident). */
function recordOfUpdate(u: AlertUpdate, incidentId: string): AlertRecord {
  const { count, receivedAt, ...rest } = u;
  return { ...rest, incidentId, received: count, firstSeen: receivedAt, lastSeen: receivedAt };
}
