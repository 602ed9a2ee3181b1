import type { IncidentRecord } from '../../domain/incident';
import type { Severity } from '../../domain/severity';

/** Cached per-incident milestones and durations, recomputed when an incident moves. */
export interface MetricsStore {
  /**
   * Incidents whose metrics row is missing or out of date: not final, and the incident row or its timeline
   * moved on since it was computed. `maxSeq` is the timeline's last seq now.
   */
  listStaleIncidentMetrics(limit: number): Promise<{ incident: IncidentRecord; maxSeq: number }[]>;
  upsertIncidentMetrics(rows: IncidentMetricsRecord[]): Promise<void>;
  getIncidentMetrics(incidentId: string): Promise<IncidentMetricsRecord | undefined>;
  /** Metrics of the incidents declared in [from, to), oldest first. */
  listIncidentMetrics(range: { from: string; to: string }): Promise<IncidentMetricsPoint[]>;
}

/** When an incident's milestones were reached (ISO); see src/services/metrics.ts for how each is found. */
export interface IncidentMilestones {
  impactStartedAt: string;
  detectedAt: string;
  reportedAt: string | null;
  acknowledgedAt: string | null;
  mitigatedAt: string | null;
  resolvedAt: string | null;
}

/** One incident's cached milestones and the durations between them (milliseconds; null until reached). */
export interface IncidentMetricsRecord extends IncidentMilestones {
  incidentId: string;
  /** Copied from the incident when computed, for grouping; a change to the incident recomputes the row. */
  declaredAt: string;
  severity: Severity;
  service: string | null;
  runbookId: string;
  drill: boolean;
  timeToDetectMs: number;
  timeToAcknowledgeMs: number | null;
  timeToMitigateMs: number | null;
  timeToResolveMs: number | null;
  /** Computed from a closed incident: never recomputed. */
  final: boolean;
  /** The incident's `updatedAt` and last timeline seq it was computed from. */
  sourceUpdatedAt: string;
  sourceSeq: number;
  computedAt: string;
}

/** What a summary aggregates: one incident's dimensions and durations. */
export type IncidentMetricsPoint = Pick<
  IncidentMetricsRecord,
  | 'incidentId'
  | 'declaredAt'
  | 'severity'
  | 'service'
  | 'runbookId'
  | 'drill'
  | 'resolvedAt'
  | 'timeToDetectMs'
  | 'timeToAcknowledgeMs'
  | 'timeToMitigateMs'
  | 'timeToResolveMs'
>;
