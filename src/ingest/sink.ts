import type { AlertEvent, GroupAction } from '../domain/alert';

/**
 * What receivers hand normalised alerts to. It resolves once the alerts are durably accepted (in the read
 * model's inbox, assigned to an incident), so a receiver answers 202 only then; it rejects with a
 * ServiceError('unavailable') when Temporal is unreachable, which receivers turn into 503 with Retry-After.
 */
export interface AlertSink {
  accept(alerts: AlertEvent[], meta: { requestId: string }): Promise<AcceptResult>;
  applyGroupAction(action: GroupAction, meta: { requestId: string }): Promise<{ incidentId: string | null }>;
}

export interface AcceptResult {
  /** Incident ids the alerts went to (new or existing). */
  incidents: string[];
  /** Alerts recorded but starting nothing because a maintenance window silences them. */
  silenced: number;
}
