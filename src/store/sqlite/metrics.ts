import type Database from 'better-sqlite3';
import type { IncidentRecord } from '../../domain/incident';
import type { Severity } from '../../domain/severity';
import type { IncidentMetricsPoint, IncidentMetricsRecord, MetricsStore } from '../aggregates/metrics';
import { insertSql, preparedOnFirstUse, toBit } from './db';
import { checkLimit, METRICS_COLUMNS } from '../shared-rows';
import type { Bit } from './db';
import { incidentFromRow } from './incidents';
import type { IncidentRow } from './incidents';
import { LAST_SEQ } from './timeline';

interface MetricsRow {
  incident_id: string;
  declared_at: string;
  severity: Severity;
  service: string | null;
  runbook_id: string;
  drill: Bit;
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
  final: Bit;
  source_updated_at: string;
  source_seq: number;
  computed_at: string;
}

type MetricsPointRow = [
  string,
  string,
  Severity,
  string | null,
  string,
  Bit,
  string | null,
  number,
  number | null,
  number | null,
  number | null,
];

METRICS_COLUMNS satisfies readonly (keyof MetricsRow)[];

function prepareStatements(db: Database.Database) {
  const metricsUpdates = METRICS_COLUMNS.filter((c) => c !== 'incident_id' && c !== 'declared_at').map((c) => `${c} = excluded.${c}`);
  return {
    staleMetrics: db.prepare<[number], IncidentRow & { max_seq: number }>(
      `SELECT i.*, ${LAST_SEQ} AS max_seq
       FROM incidents i LEFT JOIN incident_metrics m ON m.incident_id = i.id
       WHERE m.incident_id IS NULL
          OR (m.final = 0 AND (m.source_updated_at <> i.updated_at OR m.source_seq <> ${LAST_SEQ}))
       LIMIT ?`,
    ),
    upsertMetrics: db.prepare<MetricsRow>(
      // declared_at never changes, so the clustered key (declared_at, incident_id) is the conflict target.
      insertSql('incident_metrics', METRICS_COLUMNS, `ON CONFLICT (declared_at, incident_id) DO UPDATE SET ${metricsUpdates.join(', ')}`),
    ),
    getMetrics: db.prepare<[string], MetricsRow>('SELECT * FROM incident_metrics WHERE incident_id = ?'),
    listMetrics: db
      .prepare<{ from: string; to: string }, MetricsPointRow>(
        `SELECT incident_id, declared_at, severity, service, runbook_id, drill, resolved_at,
                time_to_detect_ms, time_to_acknowledge_ms, time_to_mitigate_ms, time_to_resolve_ms
         FROM incident_metrics WHERE declared_at >= @from AND declared_at < @to
         ORDER BY declared_at, incident_id`,
      )
      .raw(true),
  };
}

export function sqliteMetrics(db: Database.Database): MetricsStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async listStaleIncidentMetrics(limit: number): Promise<{ incident: IncidentRecord; maxSeq: number }[]> {
      const rows = statements().staleMetrics.all(checkLimit(limit));
      return rows.map(({ max_seq, ...row }) => ({ incident: incidentFromRow(row), maxSeq: max_seq }));
    },

    async upsertIncidentMetrics(rows: IncidentMetricsRecord[]): Promise<void> {
      const upsert = statements().upsertMetrics;
      db.transaction(() => {
        for (const r of rows) upsert.run(metricsToRow(r));
      })();
    },

    async getIncidentMetrics(incidentId: string): Promise<IncidentMetricsRecord | undefined> {
      const row = statements().getMetrics.get(incidentId);
      return row && metricsFromRow(row);
    },

    async listIncidentMetrics(range: { from: string; to: string }): Promise<IncidentMetricsPoint[]> {
      // Arrays rather than objects per row: this is the one read that returns every incident of a range.
      return statements()
        .listMetrics.all(range)
        .map(([incidentId, declaredAt, severity, service, runbookId, drill, resolvedAt, ttd, tta, ttm, ttr]) => ({
          incidentId,
          declaredAt,
          severity,
          service,
          runbookId,
          drill: drill === 1,
          resolvedAt,
          timeToDetectMs: ttd,
          timeToAcknowledgeMs: tta,
          timeToMitigateMs: ttm,
          timeToResolveMs: ttr,
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
    drill: toBit(r.drill),
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
    final: toBit(r.final),
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
    drill: row.drill === 1,
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
    final: row.final === 1,
    sourceUpdatedAt: row.source_updated_at,
    sourceSeq: row.source_seq,
    computedAt: row.computed_at,
  };
}
