import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AlertEvent, AlertRoute, GroupAction } from '../domain/alert';
import type { IncidentInfo } from '../domain/incident';
import type { Actor } from '../domain/roles';
import type { RunbookSnapshot } from '../domain/runbook';
import type { Logger } from '../logger';
import { ServiceError, unavailable } from '../services/errors';
import { prepareIncident } from '../services/incidents';
import type { IncidentService, RunbookSource } from '../services/incidents';
import { translateTemporalError } from '../services/temporal-errors';
import type { AlertRecord, Store } from '../store/store';
import { incidentWorkflowId } from '../temporal/ids';
import type { incidentWorkflow, IncidentWorkflowInput } from '../../workflows/incident';
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
  /** How long to wait before trying Temporal again after it could not be reached. */
  retryDelayMs?: number;
  now?: () => Date;
}

const SILENCED_INCIDENT = 'silenced';
const SIGNAL_DEADLINE_MS = 5000;
/** A batch folds at most this many inbox rows; a longer backlog goes in the next one. */
const MAX_BATCH_ROWS = 5000;
/** A storm of new groups must not become thousands of simultaneous starts: Temporal would time them all out. */
const MAX_CONCURRENT_FORWARDS = 16;

/**
 * The alert sink. An alert is accepted — and the receiver answers 202 — once it is in the read model's inbox,
 * assigned to its incident (opened there and then for a new group). A forwarder moves the inbox into each
 * incident's workflow as paced batches, so a storm of any size is a few signals a second per incident. While
 * Temporal cannot be reached, accept() refuses with `unavailable` (the receiver's 503): nothing piles up
 * unforwarded behind an outage the sender does not know about.
 */
export class AlertCoalescer implements AlertSink {
  private readonly minInterval: number;
  private readonly flappingWindow: number;
  private readonly retryDelay: number;
  private readonly now: () => Date;
  /** When each incident was last signalled; a new batch waits out the interval. */
  private readonly lastSignal = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<string>();
  /** Incidents ready to forward while MAX_CONCURRENT_FORWARDS are already in flight. */
  private readonly ready = new Set<string>();
  private unreachableSince: number | null = null;
  private stopped = false;
  /** Signals sent per incident, for the storm test's per-workflow rate figure. */
  readonly signalLog: { incidentId: string; at: number; alerts: number }[] = [];

  constructor(private readonly o: CoalescerOptions) {
    this.minInterval = o.minSignalIntervalMs ?? 250;
    this.flappingWindow = o.flappingWindowMs ?? 30 * 60_000;
    this.retryDelay = o.retryDelayMs ?? 1000;
    this.now = o.now ?? (() => new Date());
  }

  /** Picks up what an earlier process accepted but had not forwarded yet. */
  async resume(): Promise<void> {
    for (const id of await this.o.store.incidentsWithPendingAlerts()) this.pump(id);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  async accept(alerts: AlertEvent[], meta: { requestId: string }): Promise<AcceptResult> {
    if (this.unreachableSince !== null) throw unavailable('Temporal is unreachable; alerts are not accepted until it is back');
    const at = this.now();
    const receivedAt = at.toISOString();
    const silenced = alerts.filter((a) => this.o.isSilenced(a, at));
    const live = alerts.filter((a) => !silenced.includes(a));
    if (silenced.length) {
      await this.o.store.upsertAlerts(silenced.map((a) => recordOfUpdate(updateOf(a, receivedAt), SILENCED_INCIDENT)));
      this.o.logger.info({ requestId: meta.requestId, silenced: silenced.length }, 'alerts silenced by a maintenance window');
    }
    const byGroup = new Map<string, AlertEvent[]>();
    for (const a of live) {
      const key = `${a.integration}\u0000${a.groupKey}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), a]);
    }
    const rows: { incidentId: string; alert: AlertUpdate; receivedAt: string }[] = [];
    for (const group of byGroup.values()) {
      const incidentId = await this.incidentFor(group);
      for (const a of group) rows.push({ incidentId, alert: updateOf(a, receivedAt), receivedAt });
    }
    await this.o.store.enqueueAlerts(rows);
    const incidents = [...new Set(rows.map((r) => r.incidentId))];
    for (const id of incidents) this.pump(id);
    return { incidents, silenced: silenced.length };
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

  /**
   * The incident a group's alerts go to: the open one, or the resolved one within the flapping window; a new one
   * when the group has none (or its last closed, or resolved longer ago than the window and it fires again).
   */
  private async incidentFor(alerts: AlertEvent[]): Promise<string> {
    const first = alerts[0]!;
    const firing = alerts.some((a) => a.status === 'firing');
    const group = await this.o.store.getAlertGroup(first.integration, first.groupKey);
    if (group) {
      const incident = await this.o.store.getIncident(group.incidentId);
      const closed = !incident || incident.status === 'closed';
      const flappingOver = incident?.status === 'resolved' && incident.resolvedAt !== null && Date.parse(incident.resolvedAt) + this.flappingWindow < this.now().getTime();
      // Resolves for a closed incident are still recorded there; only a new firing opens a new incident.
      if (!firing || !(closed || flappingOver)) return group.incidentId;
    }
    return this.openIncident(first, group?.incidentId);
  }

  private async openIncident(first: AlertEvent, previous: string | undefined): Promise<string> {
    const route = this.o.route(first);
    const snapshot = await this.o.runbooks.get(route.runbook);
    if (!snapshot) throw unavailable(`routing names runbook "${route.runbook}", which cannot be loaded`);
    const trigger = { kind: 'alert' as const, by: { id: `monitoring:${first.integration}`, name: `${first.source} (${first.integration})`, role: 'responder' as const } };
    const { incident } = await prepareIncident(this.o, snapshot, {
      title: first.summary.slice(0, 200) || `Alert from ${first.integration}`,
      service: route.service ?? first.labels.service ?? snapshot.runbook.service ?? null,
      severity: route.severity,
      summary: null,
      drill: false,
      trigger,
      params: {},
    });
    if (!(await this.o.store.swapAlertGroup(first.integration, first.groupKey, previous, incident.id, incident.declaredAt))) {
      // Another request opened the group's incident first: use theirs.
      await this.o.store.deleteIncident(incident.id);
      const winner = await this.o.store.getAlertGroup(first.integration, first.groupKey);
      if (!winner) throw unavailable('alert group changed concurrently; retry');
      return winner.incidentId;
    }
    const args: IncidentWorkflowInput = { incident, snapshot };
    await this.o.store.saveIncidentStart(incident.id, args);
    this.o.logger.info({ incidentId: incident.id, runbook: route.runbook, rule: route.rule }, 'incident opened by alerts');
    return incident.id;
  }

  /** Forwards the incident's inbox now, or as soon as its pace (or an outage retry) allows. */
  private pump(incidentId: string, delayMs?: number): void {
    if (this.stopped || this.inFlight.has(incidentId) || this.timers.has(incidentId) || this.ready.has(incidentId)) return;
    const wait = delayMs ?? Math.max(0, (this.lastSignal.get(incidentId) ?? 0) + this.minInterval - Date.now());
    this.timers.set(
      incidentId,
      setTimeout(() => {
        this.timers.delete(incidentId);
        this.startForward(incidentId);
      }, wait),
    );
  }

  private startForward(incidentId: string): void {
    if (this.stopped || this.inFlight.has(incidentId)) return;
    if (this.inFlight.size >= MAX_CONCURRENT_FORWARDS) {
      this.ready.add(incidentId);
      return;
    }
    void this.forward(incidentId);
  }

  private async forward(incidentId: string): Promise<void> {
    this.inFlight.add(incidentId);
    let retryIn: number | undefined;
    try {
      const rows = await this.o.store.pendingAlerts(incidentId, MAX_BATCH_ROWS);
      if (!rows.length) return;
      const updates = fold(rows.map((r) => r.alert as AlertUpdate));
      await this.deliver(incidentId, updates);
      await this.o.store.markAlertsForwarded(rows.map((r) => r.id), this.now().toISOString());
      this.lastSignal.set(incidentId, Date.now());
      this.signalLog.push({ incidentId, at: Date.now(), alerts: rows.length });
      this.unreachableSince = null;
      if (rows.length === MAX_BATCH_ROWS || (await this.o.store.pendingAlerts(incidentId, 1)).length) retryIn = this.minInterval;
    } catch (err) {
      const outage = err instanceof ServiceError && err.code === 'unavailable';
      if (outage) this.unreachableSince ??= Date.now();
      this.o.logger.warn({ incidentId, err: (err as Error).message }, outage ? 'Temporal unreachable; alerts wait in the inbox' : 'alert batch not forwarded');
      retryIn = this.retryDelay;
    } finally {
      this.inFlight.delete(incidentId);
      // Sets keep insertion order: the longest-waiting incident goes next.
      const next = this.ready.values().next();
      if (!next.done) {
        this.ready.delete(next.value);
        this.startForward(next.value);
      }
    }
    if (retryIn !== undefined) this.pump(incidentId, retryIn);
  }

  /** One batch into the incident's workflow, starting it if the incident was opened by these alerts. */
  private async deliver(incidentId: string, updates: AlertUpdate[]): Promise<void> {
    const start = await this.o.store.getIncidentStart(incidentId);
    try {
      if (start && !start.startedAt) {
        await this.withDeadline(() =>
          this.o.client.workflow.signalWithStart<typeof incidentWorkflow, [AlertBatch]>('incidentWorkflow', {
            workflowId: incidentWorkflowId(incidentId),
            taskQueue: this.o.taskQueue,
            args: [start.args as { incident: IncidentInfo; snapshot: RunbookSnapshot }],
            signal: alertsSignal,
            signalArgs: [{ alerts: updates }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }),
        );
        await this.o.store.markIncidentStarted(incidentId, this.now().toISOString());
        return;
      }
      const handle = this.o.client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(incidentId));
      await this.withDeadline(() => handle.signal(alertsSignal, { alerts: updates }));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) translateTemporalError(err, incidentId);
      // The incident closed before these arrived: keep them on its record; they start nothing.
      await this.o.store.upsertAlerts(updates.map((u) => recordOfUpdate(u, incidentId)));
    }
  }

  /** Senders time out too: answer 503 in time for them to retry rather than hang on a Temporal outage. */
  private withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.client.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, fn);
  }
}

/** Keeps one update per alert episode: the latest state (resolved wins), with deliveries counted. */
function fold(updates: AlertUpdate[]): AlertUpdate[] {
  const byEpisode = new Map<string, AlertUpdate>();
  for (const u of updates) {
    const key = `${u.fingerprint}@${u.startsAt}`;
    const known = byEpisode.get(key);
    if (!known) {
      byEpisode.set(key, { ...u });
      continue;
    }
    known.count += u.count;
    if (u.receivedAt > known.receivedAt) known.receivedAt = u.receivedAt;
    if (u.status === 'resolved') {
      known.status = 'resolved';
      known.endsAt = u.endsAt;
    }
  }
  return [...byEpisode.values()];
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
