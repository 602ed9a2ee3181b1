import type { Severity } from './severity';

export const ALERT_SOURCES = ['alertmanager', 'grafana', 'pagerduty', 'generic'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/**
 * One alert as every receiver normalises it. Identity: `fingerprint` (+ `startsAt` = one firing episode);
 * the incident it belongs to is named by `groupKey` within its integration.
 */
export interface AlertEvent {
  source: AlertSource;
  /** The configured integration it came through (its credential); scopes group keys. */
  integration: string;
  /** sha256 hex of the sender's group identity (Alertmanager groupKey, PagerDuty dedup_key, …). */
  groupKey: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** ISO; for PagerDuty-style events the event time. */
  startsAt: string;
  endsAt: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** One line: annotation summary, PagerDuty payload.summary, or the alert name. */
  summary: string;
  /** The sender's own severity when it has one (PagerDuty critical/error/warning/info, label `severity`). */
  senderSeverity: string | null;
  generatorUrl: string | null;
}

/** A PagerDuty-style follow-up on a whole group: acknowledge or resolve the incident it opened. */
export interface GroupAction {
  source: AlertSource;
  integration: string;
  groupKey: string;
  action: 'acknowledge' | 'resolve';
  at: string;
}

/** Where routing sends a group: which runbook, and the incident's service and severity. */
export interface AlertRoute {
  rule: string;
  runbook: string;
  service: string | null;
  severity: Severity;
}
