import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AlertEvent, AlertRoute, GroupAction } from '../domain/alert';
import type { Actor } from '../domain/roles';
import type { Logger } from '../logger';
import { ServiceError } from '../services/errors';
import { prepareIncident } from '../services/incidents';
import type { IncidentService, RunbookSource } from '../services/incidents';
import { translateTemporalError } from '../services/temporal-errors';
import type { AlertRecord, Store } from '../store/store';
import { incidentWorkflowId } from '../temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { alertsSignal } from '../../workflows/messages';
import type { AlertBatch, AlertUpdate } from '../../workflows/messages';
import type { AcceptResult, AlertSink } from './sink';

export interface CoalescerOptions {
  client: Client;
  store: Store;
  runbooks: RunbookSource;
  incidents: IncidentService;
  taskQueue: string;
  logger: Logger;
  route: (alert: AlertEvent) => AlertRoute;
  isSilenced: (alert: AlertEvent, at: Date) => boolean;
  /**
   * At most one signal per incident per this interval: Temporal's guidance is about 5 signals a second per
   * workflow, so a storm of any size reaches each incident as a few batches a second.
   */
  minSignalIntervalMs?: number;
  /** A firing alert for an incident resolved less than this ago joins it (flapping) instead of opening a new one. */
  flappingWindowMs?: number;
  now?: () => Date;
}

interface Waiter {
  resolve(incidentId: string): void;
  reject(err: unknown): void;
}

interface GroupQueue {
  integration: string;
  groupKey: string;
  /** The first alert seen for the group names a new incident. */
  first: AlertEvent;
  pending: Map<string, AlertUpdate>;
  waiters: Waiter[];
  timer: NodeJS.Timeout | null;
  flushing: boolean;
}

const SILENCED_INCIDENT = 'silenced';
const SIGNAL_DEADLINE_MS = 5000;

/**
 * The alert sink: folds alerts per incident into batches and signals each incident workflow at most a few times
 * a second. A request's promise resolves when the batch holding its alerts is in Temporal (so the receiver's
 * 202 means "durable"); it rejects with `unavailable` when Temporal cannot be reached (the receiver's 503).
 */
export class AlertCoalescer implements AlertSink {
  private readonly queues = new Map<string, GroupQueue>();
  /** When each group was last signalled; outlives its queue so a quiet moment does not reset the pace. */
  private readonly lastSignal = new Map<string, number>();
  private readonly minInterval: number;
  private readonly flappingWindow: number;
  private readonly now: () => Date;
  /** Signals sent per incident, for the storm test's per-workflow rate figure. */
  readonly signalLog: { incidentId: string; at: number; alerts: number }[] = [];

  constructor(private readonly o: CoalescerOptions) {
    this.minInterval = o.minSignalIntervalMs ?? 250;
    this.flappingWindow = o.flappingWindowMs ?? 30 * 60_000;
    this.now = o.now ?? (() => new Date());
  }

  async accept(alerts: AlertEvent[], meta: { requestId: string }): Promise<AcceptResult> {
    const at = this.now();
    const silenced = alerts.filter((a) => this.o.isSilenced(a, at));
    const live = alerts.filter((a) => !silenced.includes(a));
    if (silenced.length) {
      await this.o.store.upsertAlerts(silenced.map((a) => recordOfUpdate(updateOf(a, at.toISOString()), SILENCED_INCIDENT)));
      this.o.logger.info({ requestId: meta.requestId, silenced: silenced.length }, 'alerts silenced by a maintenance window');
    }
    const byGroup = new Map<string, AlertEvent[]>();
    for (const a of live) {
      const key = `${a.integration}\u0000${a.groupKey}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), a]);
    }
    const incidents = await Promise.all([...byGroup.entries()].map(([key, group]) => this.enqueue(key, group, at)));
    return { incidents: [...new Set(incidents)], silenced: silenced.length };
  }

  async applyGroupAction(action: GroupAction, meta: { requestId: string }): Promise<{ incidentId: string | null }> {
    const group = await this.o.store.getAlertGroup(action.integration, action.groupKey);
    if (!group) return { incidentId: null };
    const actor: Actor = { id: `monitoring:${action.integration}`, name: `${action.source} (${action.integration})`, role: 'commander' };
    const ctx = { actor, requestId: meta.requestId, source: 'api' as const, method: 'POST', path: `alerts/${action.source}` };
    try {
      if (action.action === 'acknowledge') await this.o.incidents.acknowledge(group.incidentId, ctx);
      else await this.o.incidents.resolve(group.incidentId, `resolved by ${action.source}`, ctx);
    } catch (err) {
      // Like PagerDuty: a follow-up for an incident already in that state (or closed) is accepted and dropped.
      if (!(err instanceof ServiceError && (err.code === 'conflict' || err.code === 'not_found'))) throw err;
    }
    return { incidentId: group.incidentId };
  }

  private enqueue(key: string, alerts: AlertEvent[], at: Date): Promise<string> {
    let q = this.queues.get(key);
    if (!q) {
      q = { integration: alerts[0]!.integration, groupKey: alerts[0]!.groupKey, first: alerts[0]!, pending: new Map(), waiters: [], timer: null, flushing: false };
      this.queues.set(key, q);
    }
    for (const a of alerts) fold(q.pending, a, at.toISOString());
    const queue = q;
    return new Promise<string>((resolve, reject) => {
      queue.waiters.push({ resolve, reject });
      this.schedule(key, queue);
    });
  }

  private schedule(key: string, q: GroupQueue) {
    if (q.timer || q.flushing) return;
    const wait = Math.max(0, (this.lastSignal.get(key) ?? 0) + this.minInterval - Date.now());
    q.timer = setTimeout(() => void this.flush(key, q), wait);
  }

  private async flush(key: string, q: GroupQueue): Promise<void> {
    q.timer = null;
    q.flushing = true;
    const updates = [...q.pending.values()];
    const waiters = q.waiters;
    q.pending = new Map();
    q.waiters = [];
    try {
      const incidentId = await this.deliver(q, updates);
      for (const w of waiters) w.resolve(incidentId);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, integration: q.integration }, 'alert batch not delivered');
      for (const w of waiters) w.reject(err);
    } finally {
      this.lastSignal.set(key, Date.now());
      q.flushing = false;
      if (q.waiters.length) this.schedule(key, q);
      else if (!q.timer) this.queues.delete(key);
      this.forgetQuietGroups();
    }
  }

  /** Pacing only matters within one interval; older entries would just grow the map. */
  private forgetQuietGroups() {
    if (this.lastSignal.size < 1000) return;
    const cutoff = Date.now() - this.minInterval;
    for (const [key, at] of this.lastSignal) if (at < cutoff && !this.queues.has(key)) this.lastSignal.delete(key);
  }

  /** Sends one batch to the group's incident, opening a new incident when the group has none open. */
  private async deliver(q: GroupQueue, updates: AlertUpdate[]): Promise<string> {
    const firing = updates.some((u) => u.status === 'firing');
    const group = await this.o.store.getAlertGroup(q.integration, q.groupKey);
    if (group) {
      const incident = await this.o.store.getIncident(group.incidentId);
      const open = incident && incident.status !== 'closed';
      const flappingOver = incident?.status === 'resolved' && incident.resolvedAt !== null && Date.parse(incident.resolvedAt) + this.flappingWindow < this.now().getTime();
      if (open && !(firing && flappingOver)) {
        try {
          await this.signal(group.incidentId, updates);
          return group.incidentId;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) translateTemporalError(err, group.incidentId);
          // Closed meanwhile: fall through and treat it like any closed incident.
        }
      }
      if (!firing) {
        // Resolves for an incident already closed are recorded there and start nothing.
        await this.o.store.upsertAlerts(updates.map((u) => recordOfUpdate(u, group.incidentId)));
        return group.incidentId;
      }
    }
    return this.openIncident(q, updates, group?.incidentId);
  }

  private async openIncident(q: GroupQueue, updates: AlertUpdate[], previous: string | undefined): Promise<string> {
    const route = this.o.route(q.first);
    const snapshot = await this.o.runbooks.get(route.runbook);
    if (!snapshot) throw new ServiceError('unavailable', `routing names runbook "${route.runbook}", which cannot be loaded`);
    const trigger = { kind: 'alert' as const, by: { id: `monitoring:${q.integration}`, name: `${q.first.source} (${q.integration})`, role: 'responder' as const } };
    const { incident, record } = await prepareIncident(this.o, snapshot, {
      title: q.first.summary.slice(0, 200) || `Alert from ${q.integration}`,
      service: route.service ?? q.first.labels.service ?? snapshot.runbook.service ?? null,
      severity: route.severity,
      summary: null,
      drill: false,
      trigger,
      params: {},
    });
    const id = incident.id;
    if (!(await this.o.store.swapAlertGroup(q.integration, q.groupKey, previous, id, incident.declaredAt))) {
      // Another process opened the group's incident first: use theirs.
      await this.o.store.deleteIncident(id);
      const winner = await this.o.store.getAlertGroup(q.integration, q.groupKey);
      if (!winner) throw new ServiceError('unavailable', 'alert group changed concurrently; retry');
      await this.signal(winner.incidentId, updates);
      return winner.incidentId;
    }
    try {
      await this.withDeadline(() => this.o.client.workflow.signalWithStart<typeof incidentWorkflow, [AlertBatch]>('incidentWorkflow', {
        workflowId: incidentWorkflowId(id),
        taskQueue: this.o.taskQueue,
        args: [{ incident, snapshot }],
        signal: alertsSignal,
        signalArgs: [{ alerts: updates }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }));
    } catch (err) {
      // Nothing was started: take the incident back so the sender's retry opens it again.
      await this.o.store.deleteAlertGroup(q.integration, q.groupKey, id);
      await this.o.store.deleteIncident(id);
      translateTemporalError(err, id);
    }
    this.signalLog.push({ incidentId: id, at: Date.now(), alerts: updates.length });
    this.o.logger.info({ incidentId: id, runbook: route.runbook, rule: route.rule, alerts: updates.length, record: record?.id }, 'incident opened by alerts');
    return id;
  }

  /** Senders time out too: answer 503 in time for them to retry rather than hang on a Temporal outage. */
  private withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.client.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, fn);
  }

  private async signal(incidentId: string, updates: AlertUpdate[]): Promise<void> {
    const handle = this.o.client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(incidentId));
    await this.withDeadline(() => handle.signal(alertsSignal, { alerts: updates }));
    this.signalLog.push({ incidentId, at: Date.now(), alerts: updates.length });
  }
}

/** Keeps one update per alert episode: the latest state (resolved wins), with deliveries counted. */
function fold(pending: Map<string, AlertUpdate>, a: AlertEvent, receivedAt: string) {
  const key = `${a.fingerprint}@${a.startsAt}`;
  const known = pending.get(key);
  if (known) {
    known.count += 1;
    if (a.status === 'resolved') {
      known.status = 'resolved';
      known.endsAt = a.endsAt;
    }
    return;
  }
  pending.set(key, updateOf(a, receivedAt));
}

function updateOf(a: AlertEvent, receivedAt: string): AlertUpdate {
  return {
    fingerprint: a.fingerprint,
    startsAt: a.startsAt,
    status: a.status,
    endsAt: a.endsAt,
    summary: a.summary.slice(0, 500),
    labels: a.labels,
    source: a.source,
    count: 1,
    receivedAt,
  };
}

/** The read-model row for alerts that reach no workflow (silenced, or for a closed incident). */
function recordOfUpdate(u: AlertUpdate, incidentId: string): AlertRecord {
  const { count, receivedAt, ...rest } = u;
  return { ...rest, incidentId, received: count, firstSeen: receivedAt, lastSeen: receivedAt };
}
