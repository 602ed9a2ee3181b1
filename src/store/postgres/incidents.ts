import type { IncidentPatch, IncidentPhase, IncidentRecord, IncidentStatus } from '../../domain/incident';
import type { Actor } from '../../domain/roles';
import type { Severity } from '../../domain/severity';
import type { IncidentFilter, IncidentStore, Page } from '../aggregates/incidents';
import { checkLimit, decodeIncidentCursor, encodeIncidentCursor, INCIDENT_COLUMNS } from '../shared-rows';
import { IncidentNotFoundError } from '../store-errors';
import type { PgDb } from './db';

/** A row of `incidents` as the pool returns it: times as ISO text, booleans as booleans. */
export interface IncidentRow {
  id: string;
  title: string;
  service: string | null;
  severity: Severity;
  summary: string | null;
  drill: boolean;
  trigger_kind: IncidentRecord['trigger']['kind'];
  trigger_actor: string;
  declared_at: string;
  runbook_id: string;
  runbook_version: string;
  workflow_id: string;
  status: IncidentStatus;
  phase: IncidentPhase;
  acknowledged_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  updated_at: string;
}

INCIDENT_COLUMNS satisfies readonly (keyof IncidentRow)[];

// Idempotent: the record activity may be retried after its insert committed.
const INSERT_INCIDENT = `INSERT INTO incidents (${INCIDENT_COLUMNS.join(', ')})
  VALUES (${INCIDENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`;

/** Patchable fields, their columns and the types their parameters are cast to. */
const PATCH_COLUMNS = {
  status: ['status', 'text'],
  phase: ['phase', 'text'],
  severity: ['severity', 'text'],
  acknowledgedAt: ['acknowledged_at', 'timestamptz'],
  resolvedAt: ['resolved_at', 'timestamptz'],
  closedAt: ['closed_at', 'timestamptz'],
} as const satisfies Record<keyof IncidentPatch, readonly [string, string]>;
const PATCH_KEYS = Object.keys(PATCH_COLUMNS) as (keyof IncidentPatch)[];

/**
 * One statement for every patch shape, as on SQLite: a boolean parameter per field says whether it is present,
 * so an explicit null clears a column while an absent field keeps it; the `updated_at` guard drops late retries
 * in the same atomic statement. Parameters: $1 id, $2 at, then (present, value) per patch key.
 */
const UPDATE_INCIDENT = `UPDATE incidents SET ${PATCH_KEYS.map((key, i) => {
  const [column, type] = PATCH_COLUMNS[key];
  return `${column} = CASE WHEN $${3 + 2 * i}::boolean THEN $${4 + 2 * i}::${type} ELSE ${column} END`;
}).join(', ')}, updated_at = $2::timestamptz
  WHERE id = $1 AND updated_at <= $2::timestamptz`;

/** Optional list filters and their conditions; `$` is replaced by the parameter's number. */
const LIST_CONDITIONS = {
  status: 'status = $',
  severity: 'severity = $',
  service: 'service = $',
  runbook: 'runbook_id = $',
  from: 'declared_at >= $::timestamptz',
  to: 'declared_at < $::timestamptz',
} as const satisfies Partial<Record<keyof IncidentFilter, string>>;
const LIST_KEYS = Object.keys(LIST_CONDITIONS) as (keyof typeof LIST_CONDITIONS)[];

export function pgIncidents(db: PgDb): IncidentStore {
  return {
    async allocateIncidentNumber() {
      const [row] = await db.rows<{ value: number }>("SELECT nextval('incident_number') AS value");
      if (!row) throw new Error('incident_number sequence returned no value');
      return row.value;
    },

    async insertIncident(incident) {
      await db.run(INSERT_INCIDENT, incidentParams(incident));
    },

    async updateIncident(id, patch, at) {
      const changed = await db.run(UPDATE_INCIDENT, [id, at, ...patchParams(patch)]);
      if (changed === 0 && (await db.rows('SELECT 1 FROM incidents WHERE id = $1', [id])).length === 0) {
        throw new IncidentNotFoundError(id);
      }
    },

    async getIncident(id) {
      const [row] = await db.rows<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
      return row && incidentFromRow(row);
    },

    /** Leaves the number allocated: a gap in INC-<n> is harmless, reusing a number is not. */
    async deleteIncident(id) {
      await db.run('DELETE FROM incidents WHERE id = $1', [id]);
    },

    async listIncidents(filter) {
      return listPage(db, filter, undefined);
    },

    async incidentsHead() {
      const [row] = await db.rows<{ at: string | null }>('SELECT max(updated_at) AS at FROM incidents');
      return row?.at ?? null;
    },

    async searchIncidents(filter) {
      return listPage(db, filter, filter.titleContains || undefined);
    },
  };
}

/**
 * Keyset paging, as on SQLite: the cursor is the last row's (declared_at, id), the next page starts strictly
 * after it in the same order. A title test rides on the same index walk: rows come in list order and stop at the limit.
 */
async function listPage(db: PgDb, filter: IncidentFilter, titleContains: string | undefined): Promise<Page<IncidentRecord>> {
  const limit = checkLimit(filter.limit);
  const after = filter.cursor === undefined ? undefined : decodeIncidentCursor(filter.cursor);
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (titleContains !== undefined) {
    // SQLite's LIKE folds ASCII letters only; lower() under the "C" collation does the same, whatever the
    // database's locale, where ILIKE would fold every letter the locale knows.
    conditions.push(
      `lower(title COLLATE "C") LIKE ${param(`%${asciiLower(titleContains).replace(/[\\%_]/g, (c) => `\\${c}`)}%`)} ESCAPE '\\'`,
    );
  }
  for (const key of LIST_KEYS) {
    const value = filter[key];
    if (value === undefined) continue;
    conditions.push(LIST_CONDITIONS[key].replace('$', () => param(value)));
  }
  if (after) conditions.push(`(declared_at, id) < (${param(after.declaredAt)}::timestamptz, ${param(after.id)})`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows = await db.rows<IncidentRow>(
    `SELECT * FROM incidents ${where} ORDER BY declared_at DESC, id DESC LIMIT ${param(limit + 1)}`,
    params,
  );
  const items = rows.slice(0, limit).map(incidentFromRow);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeIncidentCursor(last) : null };
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function patchParams(patch: IncidentPatch): unknown[] {
  return PATCH_KEYS.flatMap((key) => [patch[key] !== undefined, patch[key] ?? null]);
}

function incidentParams(incident: IncidentRecord): unknown[] {
  const row: IncidentRow = {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    severity: incident.severity,
    summary: incident.summary,
    drill: incident.drill,
    trigger_kind: incident.trigger.kind,
    trigger_actor: JSON.stringify(incident.trigger.by),
    declared_at: incident.declaredAt,
    runbook_id: incident.runbookId,
    runbook_version: incident.runbookVersion,
    workflow_id: incident.workflowId,
    status: incident.status,
    phase: incident.phase,
    acknowledged_at: incident.acknowledgedAt,
    resolved_at: incident.resolvedAt,
    closed_at: incident.closedAt,
    updated_at: incident.updatedAt,
  };
  return INCIDENT_COLUMNS.map((column) => row[column]);
}

export function incidentFromRow(row: IncidentRow): IncidentRecord {
  return {
    id: row.id,
    title: row.title,
    service: row.service,
    severity: row.severity,
    summary: row.summary,
    drill: row.drill,
    trigger: { kind: row.trigger_kind, by: JSON.parse(row.trigger_actor) as Actor },
    declaredAt: row.declared_at,
    runbookId: row.runbook_id,
    runbookVersion: row.runbook_version,
    workflowId: row.workflow_id,
    status: row.status,
    phase: row.phase,
    acknowledgedAt: row.acknowledged_at,
    resolvedAt: row.resolved_at,
    closedAt: row.closed_at,
    updatedAt: row.updated_at,
  };
}
