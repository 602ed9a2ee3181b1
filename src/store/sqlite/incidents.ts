import type Database from 'better-sqlite3';
import type { IncidentPatch, IncidentPhase, IncidentRecord, IncidentStatus } from '../../domain/incident';
import type { Actor } from '../../domain/roles';
import type { Severity } from '../../domain/severity';
import type { IncidentFilter, IncidentStore, Page } from '../aggregates/incidents';
import { checkLimit, decodeIncidentCursor, encodeIncidentCursor, INCIDENT_COLUMNS } from '../shared-rows';
import type { IncidentCursor } from '../shared-rows';
import { IncidentNotFoundError } from '../store-errors';
import { insertSql, parseJson, preparedOnFirstUse, toBit } from './db';
import type { Bit, NamedParams } from './db';

export interface IncidentRow {
  id: string;
  title: string;
  service: string | null;
  severity: Severity;
  summary: string | null;
  drill: Bit;
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

/** Patchable fields and their columns; `satisfies` keeps it in step with `IncidentPatch`. */
const PATCH_COLUMNS = {
  status: 'status',
  phase: 'phase',
  severity: 'severity',
  acknowledgedAt: 'acknowledged_at',
  resolvedAt: 'resolved_at',
  closedAt: 'closed_at',
} as const satisfies Record<keyof IncidentPatch, string>;
const PATCH_KEYS = Object.keys(PATCH_COLUMNS) as (keyof IncidentPatch)[];

/** Optional list filters and their conditions; each present one narrows the query. */
const LIST_CONDITIONS = {
  status: 'status = @status',
  severity: 'severity = @severity',
  service: 'service = @service',
  runbook: 'runbook_id = @runbook',
  from: 'declared_at >= @from',
  to: 'declared_at < @to',
} as const satisfies Partial<Record<keyof IncidentFilter, string>>;
const LIST_KEYS = Object.keys(LIST_CONDITIONS) as (keyof typeof LIST_CONDITIONS)[];

INCIDENT_COLUMNS satisfies readonly (keyof IncidentRow)[];

/**
 * One statement for every patch shape: `@set_<field>` says whether the field is present, so an explicit
 * null clears a column while an absent field keeps it. The `updated_at` guard (ISO text, so text order is
 * time order) drops late retries in the same atomic statement.
 */
function updateIncidentSql(): string {
  const sets = PATCH_KEYS.map((key) => {
    const column = PATCH_COLUMNS[key];
    return `${column} = CASE WHEN @set_${key} = 1 THEN @${key} ELSE ${column} END`;
  });
  return `UPDATE incidents SET ${sets.join(', ')}, updated_at = @at WHERE id = @id AND updated_at <= @at`;
}

function prepareStatements(db: Database.Database) {
  return {
    nextIncidentNumber: db.prepare<[], { value: number }>("UPDATE sequences SET value = value + 1 WHERE name = 'incident' RETURNING value"),
    // Idempotent: the record activity may be retried after its insert committed.
    insertIncident: db.prepare<IncidentRow>(insertSql('incidents', INCIDENT_COLUMNS, 'ON CONFLICT (id) DO NOTHING')),
    updateIncident: db.prepare<NamedParams>(updateIncidentSql()),
    getIncident: db.prepare<[string], IncidentRow>('SELECT * FROM incidents WHERE id = ?'),
    deleteIncident: db.prepare<[string]>('DELETE FROM incidents WHERE id = ?'),
    incidentExists: db.prepare<[string], { found: number }>('SELECT 1 AS found FROM incidents WHERE id = ?'),
    incidentsHead: db.prepare<[], { at: string | null }>('SELECT max(updated_at) AS at FROM incidents'),
  };
}

export function sqliteIncidents(db: Database.Database): IncidentStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  /** Incident list statements keyed by SQL; one per combination of filters, so at most 2^7. */
  const listStatements = new Map<string, Database.Statement<[NamedParams], IncidentRow>>();

  function listStatement(sql: string): Database.Statement<[NamedParams], IncidentRow> {
    let statement = listStatements.get(sql);
    if (!statement) {
      statement = db.prepare<NamedParams, IncidentRow>(sql);
      listStatements.set(sql, statement);
    }
    return statement;
  }

  return {
    async allocateIncidentNumber(): Promise<number> {
      const row = statements().nextIncidentNumber.get();
      if (!row) throw new Error('incident sequence missing: run migrate() first');
      return row.value;
    },

    async insertIncident(incident: IncidentRecord): Promise<void> {
      statements().insertIncident.run(incidentToRow(incident));
    },

    async updateIncident(id: string, patch: IncidentPatch, at: string): Promise<void> {
      const { changes } = statements().updateIncident.run({ ...patchParams(patch), id, at });
      if (changes === 0 && !statements().incidentExists.get(id)) throw new IncidentNotFoundError(id);
    },

    async getIncident(id: string): Promise<IncidentRecord | undefined> {
      const row = statements().getIncident.get(id);
      return row && incidentFromRow(row);
    },

    /** Leaves the number allocated: a gap in INC-<n> is harmless, reusing a number is not. */
    async deleteIncident(id: string): Promise<void> {
      statements().deleteIncident.run(id);
    },

    async listIncidents(filter: IncidentFilter): Promise<Page<IncidentRecord>> {
      const limit = checkLimit(filter.limit);
      const after = filter.cursor === undefined ? undefined : decodeIncidentCursor(filter.cursor);
      const { sql, params } = listIncidentsQuery(filter, after, limit + 1);
      const rows = listStatement(sql).all(params);
      const items = rows.slice(0, limit).map(incidentFromRow);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeIncidentCursor(last) : null };
    },

    async incidentsHead(): Promise<string | null> {
      return statements().incidentsHead.get()?.at ?? null;
    },

    async searchIncidents(filter: IncidentFilter & { titleContains?: string }): Promise<Page<IncidentRecord>> {
      const limit = checkLimit(filter.limit);
      const after = filter.cursor === undefined ? undefined : decodeIncidentCursor(filter.cursor);
      const { sql, params } = listIncidentsQuery(filter, after, limit + 1);
      let query = sql;
      if (filter.titleContains) {
        // The title test rides on the same index walk as the list: rows come in list order and stop at the limit.
        const condition = "title LIKE @titleLike ESCAPE '\\'";
        query = sql.includes(' WHERE ')
          ? sql.replace(' WHERE ', ` WHERE ${condition} AND `)
          : sql.replace(' ORDER BY ', ` WHERE ${condition} ORDER BY `);
        params.titleLike = `%${filter.titleContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      }
      const rows = listStatement(query).all(params);
      const items = rows.slice(0, limit).map(incidentFromRow);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeIncidentCursor(last) : null };
    },
  };
}

/**
 * Keyset paging: the cursor is the last row's (declared_at, id), and the next page starts strictly after it
 * in the same order, so the cost is one index range scan however deep the page is.
 */
function listIncidentsQuery(
  filter: IncidentFilter,
  after: IncidentCursor | undefined,
  limit: number,
): { sql: string; params: NamedParams } {
  const conditions: string[] = [];
  const params: NamedParams = { limit };
  for (const key of LIST_KEYS) {
    const value = filter[key];
    if (value === undefined) continue;
    conditions.push(LIST_CONDITIONS[key]);
    params[key] = value;
  }
  if (after) {
    conditions.push('(declared_at, id) < (@afterDeclaredAt, @afterId)');
    params.afterDeclaredAt = after.declaredAt;
    params.afterId = after.id;
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  return { sql: `SELECT * FROM incidents ${where} ORDER BY declared_at DESC, id DESC LIMIT @limit`, params };
}

function patchParams(patch: IncidentPatch): NamedParams {
  const params: NamedParams = {};
  for (const key of PATCH_KEYS) {
    const value = patch[key];
    params[`set_${key}`] = value === undefined ? 0 : 1;
    params[key] = value ?? null;
  }
  return params;
}

function incidentToRow(incident: IncidentRecord): IncidentRow {
  return {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    severity: incident.severity,
    summary: incident.summary,
    drill: toBit(incident.drill),
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
}

export function incidentFromRow(row: IncidentRow): IncidentRecord {
  return {
    id: row.id,
    title: row.title,
    service: row.service,
    severity: row.severity,
    summary: row.summary,
    drill: row.drill === 1,
    trigger: { kind: row.trigger_kind, by: parseJson<Actor>(row.trigger_actor) },
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
