import type { Actor } from './roles';
import type { IncidentPhase } from './incident';

export const TIMELINE_EVENT_TYPES = [
  'incident.declared',
  'phase.entered',
  'phase.completed',
  'step.started',
  'step.succeeded',
  'step.failed',
  'step.skipped',
  'step.simulated',
  'step.compensated',
  'check.unhealthy',
  'backup.taken',
  'task.created',
  'task.completed',
  'event.received',
  'postmortem.drafted',
  'postmortem.reminder',
  'postmortem.reviewed',
  'alert.fired',
  'alert.resolved',
  'alert.refired',
  'alerts.all_resolved',
  'notification.sent',
  'page.started',
  'page.sent',
  'page.failed',
  'page.exhausted',
  'decision.requested',
  'decision.taken',
  'decision.timed_out',
  'incident.acknowledged',
  'incident.escalated',
  'incident.resolved',
  'note.added',
  'severity.changed',
  'incident.closed',
] as const;
export type TimelineEventType = (typeof TIMELINE_EVENT_TYPES)[number];

/**
 * One line of an incident's history. `id` is `<incidentId>:<seq>` with `seq` counted by the workflow,
 * so a retried write of the same event is recognised and dropped.
 */
export interface TimelineEvent {
  id: string;
  incidentId: string;
  seq: number;
  at: string;
  type: TimelineEventType;
  phase: IncidentPhase;
  actor: Actor;
  summary: string;
  data: Record<string, unknown>;
}
