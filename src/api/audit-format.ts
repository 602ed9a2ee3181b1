import type { AuditRecord } from '../store/aggregates/audit';
import { csvCell } from './timeline-format';

/** An entry as exported: its chain link included, so an export can be checked against the chain. */
export function auditToJson(e: AuditRecord) {
  return {
    seq: e.seq,
    id: e.id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    outcome: e.outcome,
    incidentId: e.incidentId,
    method: e.method,
    path: e.path,
    requestId: e.requestId,
    details: e.details,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

export const AUDIT_CSV_HEADER =
  [
    'seq',
    'id',
    'at',
    'actor_id',
    'actor_name',
    'actor_role',
    'action',
    'outcome',
    'incident_id',
    'method',
    'path',
    'request_id',
    'details',
    'prev_hash',
    'hash',
  ].join(',') + '\r\n';

export function auditToCsvRow(e: AuditRecord): string {
  const cells = [
    String(e.seq),
    e.id,
    e.at,
    e.actor.id,
    e.actor.name,
    e.actor.role,
    e.action,
    e.outcome,
    e.incidentId ?? '',
    e.method,
    e.path,
    e.requestId,
    JSON.stringify(e.details),
    e.prevHash,
    e.hash,
  ];
  return cells.map(csvCell).join(',') + '\r\n';
}

export function auditToJsonLine(e: AuditRecord): string {
  return JSON.stringify(auditToJson(e)) + '\n';
}
