import type { AuditEntry, AuditStore } from '../aggregates/audit';
import type { PgDb } from './db';
import { checkLimit } from '../shared-rows';

interface AuditRow {
  id: string;
  at: string;
  actor: AuditEntry['actor'];
  action: string;
  method: string;
  path: string;
  request_id: string;
  incident_id: string | null;
  details: AuditEntry['details'];
  outcome: AuditEntry['outcome'];
}

export function pgAudit(db: PgDb): AuditStore {
  return {
    async recordAudit(e) {
      await db.run(
        `INSERT INTO audit_log (id, at, actor, action, method, path, request_id, incident_id, details, outcome)
         VALUES ($1, $2::timestamptz, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb, $10)`,
        [e.id, e.at, JSON.stringify(e.actor), e.action, e.method, e.path, e.requestId, e.incidentId, JSON.stringify(e.details), e.outcome],
      );
    },

    async listAudit(filter) {
      const limit = checkLimit(filter.limit);
      const rows =
        filter.incidentId === undefined
          ? await db.rows<AuditRow>('SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT $1', [limit])
          : await db.rows<AuditRow>('SELECT * FROM audit_log WHERE incident_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [
              filter.incidentId,
              limit,
            ]);
      return rows.map(auditFromRow);
    },
  };
}

function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    method: row.method,
    path: row.path,
    requestId: row.request_id,
    incidentId: row.incident_id,
    details: row.details,
    outcome: row.outcome,
  };
}
