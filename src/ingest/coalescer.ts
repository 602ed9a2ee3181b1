import { randomUUID } from 'node:crypto';
import type { AlertEvent, GroupAction } from '../domain/alert';
import { foldAlertUpdates } from '../domain/alert-episode';
import type { AlertUpdate } from '../domain/alert-episode';
import type { Logger } from '../logger';
import { ServiceError, unavailable } from '../services/errors';
import type { AlertStore, LeaseStore } from '../store/store';
import type { AcceptResult, AlertSink } from './sink';

/** The alert use cases the coalescer paces alerts into (src/services/alerts.ts); it never talks to Temporal itself. */
export interface AlertIncidents {
  /** The incident a group's alerts (one integration, one group key) go to, opened for them if needed. */
  incidentFor(alerts: readonly AlertEvent[]): Promise<string>;
  /** One folded batch into the incident's workflow; rejects with ServiceError('unavailable') while Temporal is down. */
  forward(incidentId: string, updates: AlertUpdate[], batch: number): Promise<void>;
  /** Alerts a maintenance window silences: recorded, reaching no incident. */
  recordSilenced(updates: AlertUpdate[]): Promise<void>;
  applyGroupAction(action: GroupAction, meta: { requestId: string }): Promise<{ incidentId: string | null }>;
}

export interface CoalescerOptions {
  /** The inbox: accepted alerts wait here until forwarded. */
  store: AlertStore & LeaseStore;
  alerts: AlertIncidents;
  logger: Logger;
  isSilenced: (alert: AlertEvent, at: Date) => boolean;
  /** This process, as the owner of forwarding leases; unique per replica and run. */
  replicaId?: string;
  /**
   * At most one signal per incident per this interval: Temporal's guidance is about 5 signals a second per
   * workflow, so a storm of any size reaches each incident as a few batches a second.
   */
  minSignalIntervalMs?: number;
  /** How long to wait before trying Temporal again after it could not be reached. */
  retryDelayMs?: number;
  /**
   * How often to look for inbox rows nobody is forwarding: accepted by a replica that died, or left behind a
   * lease another replica held.
   */
  sweepIntervalMs?: number;
  /** How long a forwarding lease lasts; a replica that dies mid-forward holds its incidents this long at most. */
  leaseMs?: number;
  now?: () => Date;
}

/** A batch folds at most this many inbox rows; a longer backlog goes in the next one. */
const MAX_BATCH_ROWS = 5000;
/** A storm of new groups must not become thousands of simultaneous starts: Temporal would time them all out. */
const MAX_CONCURRENT_FORWARDS = 16;
/** Well above a forward's 5 s signal deadline, so a live forwarder never loses its lease mid-batch. */
const DEFAULT_LEASE_MS = 30_000;

/**
 * The alert sink. An alert is accepted — and the receiver answers 202 — once it is in the read model's inbox,
 * assigned to its incident (opened there and then for a new group). A forwarder moves the inbox into each
 * incident's workflow as paced batches, so a storm of any size is a few signals a second per incident. While
 * Temporal cannot be reached, accept() refuses with `unavailable` (the receiver's 503): nothing piles up
 * unforwarded behind an outage the sender does not know about.
 *
 * Several replicas may share the inbox. Each incident's inbox is forwarded by one lease holder at a time, in
 * order; a batch keeps its id until it is marked forwarded, so one a dead replica had sent goes again unchanged
 * and the workflow drops the repeat. A periodic sweep picks up rows whose replica died.
 */
export class AlertCoalescer implements AlertSink {
  private readonly minInterval: number;
  private readonly retryDelay: number;
  private readonly now: () => Date;
  /** When each incident was last signalled; a new batch waits out the interval. */
  private readonly lastSignal = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<string>();
  /** Incidents ready to forward while MAX_CONCURRENT_FORWARDS are already in flight. */
  private readonly ready = new Set<string>();
  /** Set by a forward that found Temporal unreachable, cleared by the next that gets through. */
  private unreachable = false;
  private stopped = false;
  private readonly replicaId: string;
  private readonly leaseMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly o: CoalescerOptions) {
    this.minInterval = o.minSignalIntervalMs ?? 250;
    this.retryDelay = o.retryDelayMs ?? 1000;
    this.now = o.now ?? (() => new Date());
    this.replicaId = o.replicaId ?? randomUUID();
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Picks up what an earlier process accepted but had not forwarded yet, then keeps sweeping for such rows. */
  async resume(): Promise<void> {
    await this.sweep();
    const interval = this.o.sweepIntervalMs ?? 5000;
    this.sweeper ??= setInterval(() => {
      this.sweep().catch((err: unknown) => this.o.logger.warn({ err: (err as Error).message }, 'alert inbox sweep failed'));
    }, interval);
    this.sweeper.unref();
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    for (const id of await this.o.store.incidentsWithPendingAlerts()) this.pump(id);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  async accept(alerts: AlertEvent[], meta: { requestId: string }): Promise<AcceptResult> {
    if (this.unreachable) throw unavailable('Temporal is unreachable; alerts are not accepted until it is back');
    const at = this.now();
    const receivedAt = at.toISOString();
    const silenced = alerts.filter((a) => this.o.isSilenced(a, at));
    const live = alerts.filter((a) => !silenced.includes(a));
    if (silenced.length) {
      await this.o.alerts.recordSilenced(silenced.map((a) => updateOf(a, receivedAt)));
      this.o.logger.info({ requestId: meta.requestId, silenced: silenced.length }, 'alerts silenced by a maintenance window');
    }
    const byGroup = new Map<string, AlertEvent[]>();
    for (const a of live) {
      const key = `${a.integration}\u0000${a.groupKey}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), a]);
    }
    const rows: { incidentId: string; alert: AlertUpdate; receivedAt: string }[] = [];
    for (const group of byGroup.values()) {
      const incidentId = await this.o.alerts.incidentFor(group);
      for (const a of group) rows.push({ incidentId, alert: updateOf(a, receivedAt), receivedAt });
    }
    await this.o.store.enqueueAlerts(rows);
    const incidents = [...new Set(rows.map((r) => r.incidentId))];
    for (const id of incidents) this.pump(id);
    return { incidents, silenced: silenced.length };
  }

  /** Acknowledge and resolve are one update each: nothing to pace. */
  applyGroupAction(action: GroupAction, meta: { requestId: string }): Promise<{ incidentId: string | null }> {
    return this.o.alerts.applyGroupAction(action, meta);
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
      retryIn = await this.forwardUnderLease(incidentId);
    } catch (err) {
      const outage = err instanceof ServiceError && err.code === 'unavailable';
      if (outage) this.unreachable = true;
      this.o.logger.warn(
        { incidentId, err: (err as Error).message },
        outage ? 'Temporal unreachable; alerts wait in the inbox' : 'alert batch not forwarded',
      );
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

  /** Forwards one batch if this replica gets the incident's lease; answers when to look again, if at all. */
  private async forwardUnderLease(incidentId: string): Promise<number | undefined> {
    const at = this.now();
    const until = new Date(at.getTime() + this.leaseMs).toISOString();
    // Another replica is forwarding this incident: look again soon, in case it finished before our rows landed.
    const lease = `alert-forwarding:${incidentId}`;
    if (!(await this.o.store.claimLease(lease, this.replicaId, at.toISOString(), until))) return this.retryDelay;
    try {
      const taken = await this.o.store.takeAlertBatch(incidentId, MAX_BATCH_ROWS);
      if (!taken) return undefined;
      const { batch, rows } = taken;
      await this.o.alerts.forward(incidentId, foldAlertUpdates(rows.map((r) => r.alert as AlertUpdate)), batch);
      await this.o.store.markAlertsForwarded(
        rows.map((r) => r.id),
        this.now().toISOString(),
      );
      this.lastSignal.set(incidentId, Date.now());
      this.unreachable = false;
      const more = rows.length === MAX_BATCH_ROWS || (await this.o.store.pendingAlerts(incidentId, 1)).length > 0;
      return more ? this.minInterval : undefined;
    } finally {
      await this.o.store
        .releaseLease(lease, this.replicaId)
        .catch((err: unknown) => this.o.logger.warn({ incidentId, err: (err as Error).message }, 'forwarding lease not released'));
    }
  }
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
