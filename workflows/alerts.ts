// Alert folding: batches from the receivers update the incident's alert episodes.
import { patched } from '@temporalio/workflow';
import { alertEpisodeKey } from '../src/domain/alert-episode';
import type { Actor } from '../src/domain/roles';
import type { AlertBatch } from './messages';
import type { IncidentRun } from './run';
import { alertCounts } from './state';

/** Monitoring acts under this actor; it may resolve (onAlertsResolved: resolve) but never decide. */
const MONITORING_ACTOR: Actor = { id: 'monitoring', name: 'Monitoring', role: 'responder' };

/** How many applied batch ids the state keeps: a repeat comes right after the batch it repeats. */
const RECENT_BATCHES = 16;

/**
 * Folds a batch into the alert episodes. Only changes reach the timeline: a new episode, a resolve, a re-fire
 * after resolution (flapping); repeated deliveries only count.
 */
export function applyAlerts(run: IncidentRun, batch: AlertBatch): void {
  const { state, timeline } = run;
  // Behind a patch: a worker of the previous version applied every batch, repeats included, and its histories must
  // replay the same way.
  if (batch.batch !== undefined && patched('drop-repeated-alert-batches')) {
    const recent = (state.alertBatches ??= []);
    if (recent.includes(batch.batch)) return;
    recent.push(batch.batch);
    if (recent.length > RECENT_BATCHES) recent.splice(0, recent.length - RECENT_BATCHES);
  }
  const alerts = state.alerts;
  const firingBefore = alertCounts(alerts).firing;
  for (const u of batch.alerts) {
    const key = alertEpisodeKey(u);
    const known = alerts[key];
    const data = { fingerprint: u.fingerprint, startsAt: u.startsAt, labels: u.labels, source: u.source };
    if (!known) {
      alerts[key] = {
        fingerprint: u.fingerprint,
        startsAt: u.startsAt,
        status: u.status,
        endsAt: u.endsAt,
        summary: u.summary,
        labels: u.labels,
        source: u.source,
        count: u.count,
        firstSeen: u.receivedAt,
        lastSeen: u.receivedAt,
      };
      if (u.status === 'firing') {
        const refire = state.resolved !== null;
        timeline.emit(
          refire ? 'alert.refired' : 'alert.fired',
          `${refire ? 'Fired again after resolution' : 'Alert firing'}: ${u.summary}`,
          data,
          MONITORING_ACTOR,
        );
      } else {
        timeline.emit('alert.resolved', `Alert resolved: ${u.summary}`, data, MONITORING_ACTOR);
      }
    } else {
      known.count += u.count;
      if (u.receivedAt > known.lastSeen) known.lastSeen = u.receivedAt;
      // A resolved episode stays resolved: a late or duplicated "firing" delivery must not undo it.
      if (known.status === 'firing' && u.status === 'resolved') {
        known.status = 'resolved';
        known.endsAt = u.endsAt;
        timeline.emit('alert.resolved', `Alert resolved: ${u.summary}`, data, MONITORING_ACTOR);
      }
    }
    timeline.alertChanged(key, alerts[key]!);
  }
  const firingNow = alertCounts(alerts).firing;
  if (firingBefore > 0 && firingNow === 0) {
    timeline.emit(
      'alerts.all_resolved',
      'Every alert of this incident has resolved',
      { alerts: Object.keys(alerts).length },
      MONITORING_ACTOR,
    );
    if (run.runbook.onAlertsResolved === 'resolve' && !state.resolved) run.resolveNow(MONITORING_ACTOR, 'all alerts resolved');
  }
}
