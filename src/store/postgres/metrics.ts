import type { Severity } from '../../domain/severity';
import type { IncidentMetricsPoint, IncidentMetricsRecord, MetricsStore } from '../aggregates/metrics';
import type { PgDb } from './db';
import { incidentFromRow } from './incidents';
import type { IncidentRow } from './incidents';
import { checkLimit, METRICS_COLUMNS } from '../shared-rows';
import { LAST_SEQ } from './timeline';

interface MetricsRow {
  incident_id: string;
  declared_at: string;
  severity: Severity;
  service: string | null;
  runbook_id: string;
  drill: boolean;
  impact_started_at: string;
  detected_at: string;
  reported_at: string | null;
  acknowledged_at: string | null;
  mitigated_at: string | null;
  resolved_at: string | null;
  time_to_detect_ms: number;
  time_to_acknowledge_ms: number | null;
  time_to_mitigate_ms: number | null;
  time_to_resolve_ms: number | null;
  final: boolean;
  source_updated_at: string;
  source_seq: number;
  computed_at: string;
}

METRICS_COLUMNS satisfies readonly (keyof MetricsRow)[];

/**
 * A missing row is stale whatever the incident's state; a final row never is; any other row is stale once the
 * incident row or its timeline moved on. No order, as on SQLite: each pass recomputes what it gets, so the rest
 * comes next time.
 */
const STALE_METRICS = `SELECT i.*, ${LAST_SEQ} AS max_seq
  FROM incidents i LEFT JOIN incident_metrics m ON m.incident_id = i.id
  WHERE m.incident_id IS NULL
     OR (NOT m.final AND (m.source_updated_at <> i.updated_at OR m.source_seq <> ${LAST_SEQ}))
  LIMIT $1`;

/**
 * All rows in one statement. The conflict target is (declared_at, incident_id), SQLite's clustered key, so a
 * row whose declared_at changed fails on the primary key there and here alike instead of being kept silently.
 */
const UPSERT_METRICS = `INSERT INTO incident_metrics (${METRICS_COLUMNS.join(', ')})
  SELECT ${METRICS_COLUMNS.join(', ')} FROM jsonb_populate_recordset(NULL::incident_metrics, $1::jsonb)
  ON CONFLICT (declared_at, incident_id) DO UPDATE SET ${METRICS_COLUMNS.filter((c) => c !== 'incident_id' && c !== 'declared_at')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

export function pgMetrics(db: PgDb): MetricsStore {
  return {
    async listStaleIncidentMetrics(limit) {
      const rows = await db.rows<IncidentRow & { max_seq: number }>(STALE_METRICS, [checkLimit(limit)]);
      return rows.map(({ max_seq, ...row }) => ({ incident: incidentFromRow(row), maxSeq: max_seq }));
    },

    async upsertIncidentMetrics(records) {
      if (records.length === 0) return;
      // One statement may not upsert a row twice: the last record of an incident wins, as applied in order on
      // SQLite. Sorted, so that two replicas upserting overlapping sets lock rows in the same order.
      const last = new Map(records.map((r) => [r.incidentId, metricsToRow(r)]));
      const rows = [...last.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
      await db.run(UPSERT_METRICS, [JSON.stringify(rows)]);
    },

    async getIncidentMetrics(incidentId) {
      const [row] = await db.rows<MetricsRow>('SELECT * FROM incident_metrics WHERE incident_id = $1', [incidentId]);
      return row && metricsFromRow(row);
    },

    async listIncidentMetrics(range) {
      const rows = await db.rows<MetricsRow>(
        `SELECT incident_id, declared_at, severity, service, runbook_id, drill, resolved_at,
                time_to_detect_ms, time_to_acknowledge_ms, time_to_mitigate_ms, time_to_resolve_ms
         FROM incident_metrics WHERE declared_at >= $1::timestamptz AND declared_at < $2::timestamptz
         ORDER BY declared_at, incident_id`,
        [range.from, range.to],
      );
      return rows.map((row): IncidentMetricsPoint => ({
        incidentId: row.incident_id,
        declaredAt: row.declared_at,
        severity: row.severity,
        service: row.service,
        runbookId: row.runbook_id,
        drill: row.drill,
        resolvedAt: row.resolved_at,
        timeToDetectMs: row.time_to_detect_ms,
        timeToAcknowledgeMs: row.time_to_acknowledge_ms,
        timeToMitigateMs: row.time_to_mitigate_ms,
        timeToResolveMs: row.time_to_resolve_ms,
      }));
    },
  };
}

function metricsToRow(r: IncidentMetricsRecord): MetricsRow {
  return {
    incident_id: r.incidentId,
    declared_at: r.declaredAt,
    severity: r.severity,
    service: r.service,
    runbook_id: r.runbookId,
    drill: r.drill,
    impact_started_at: r.impactStartedAt,
    detected_at: r.detectedAt,
    reported_at: r.reportedAt,
    acknowledged_at: r.acknowledgedAt,
    mitigated_at: r.mitigatedAt,
    resolved_at: r.resolvedAt,
    time_to_detect_ms: r.timeToDetectMs,
    time_to_acknowledge_ms: r.timeToAcknowledgeMs,
    time_to_mitigate_ms: r.timeToMitigateMs,
    time_to_resolve_ms: r.timeToResolveMs,
    final: r.final,
    source_updated_at: r.sourceUpdatedAt,
    source_seq: r.sourceSeq,
    computed_at: r.computedAt,
  };
}

function metricsFromRow(row: MetricsRow): IncidentMetricsRecord {
  return {
    incidentId: row.incident_id,
    declaredAt: row.declared_at,
    severity: row.severity,
    service: row.service,
    runbookId: row.runbook_id,
    drill: row.drill,
    impactStartedAt: row.impact_started_at,
    detectedAt: row.detected_at,
    reportedAt: row.reported_at,
    acknowledgedAt: row.acknowledged_at,
    mitigatedAt: row.mitigated_at,
    resolvedAt: row.resolved_at,
    timeToDetectMs: row.time_to_detect_ms,
    timeToAcknowledgeMs: row.time_to_acknowledge_ms,
    timeToMitigateMs: row.time_to_mitigate_ms,
    timeToResolveMs: row.time_to_resolve_ms,
    final: row.final,
    sourceUpdatedAt: row.source_updated_at,
    sourceSeq: row.source_seq,
    computedAt: row.computed_at,
  };
}
