import type Database from 'better-sqlite3';
import type { AuditEntry, AuditStore } from '../aggregates/audit';
import { insertSql, parseJson, preparedOnFirstUse } from './db';
import { checkLimit } from '../shared-rows';

interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  method: string;
  path: string;
  request_id: string;
  incident_id: string | null;
  details: string;
  outcome: AuditEntry['outcome'];
}

function prepareStatements(db: Database.Database) {
  return {
    insertAudit: db.prepare<AuditRow>(
      insertSql('audit_log', ['id', 'at', 'actor', 'action', 'method', 'path', 'request_id', 'incident_id', 'details', 'outcome'], ''),
    ),
    listAudit: db.prepare<[number], AuditRow>('SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT ?'),
    listAuditByIncident: db.prepare<[string, number], AuditRow>(
      'SELECT * FROM audit_log WHERE incident_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    ),
  };
}

export function sqliteAudit(db: Database.Database): AuditStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async recordAudit(entry: AuditEntry): Promise<void> {
      statements().insertAudit.run(auditToRow(entry));
    },

    async listAudit(filter: { incidentId?: string; limit: number }): Promise<AuditEntry[]> {
      const limit = checkLimit(filter.limit);
      const rows =
        filter.incidentId === undefined
          ? statements().listAudit.all(limit)
          : statements().listAuditByIncident.all(filter.incidentId, limit);
      return rows.map(auditFromRow);
    },
  };
}

function auditToRow(entry: AuditEntry): AuditRow {
  return {
    id: entry.id,
    at: entry.at,
    actor: JSON.stringify(entry.actor),
    action: entry.action,
    method: entry.method,
    path: entry.path,
    request_id: entry.requestId,
    incident_id: entry.incidentId,
    details: JSON.stringify(entry.details),
    outcome: entry.outcome,
  };
}

function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: parseJson<AuditEntry['actor']>(row.actor),
    action: row.action,
    method: row.method,
    path: row.path,
    requestId: row.request_id,
    incidentId: row.incident_id,
    details: parseJson<Record<string, unknown>>(row.details),
    outcome: row.outcome,
  };
}
