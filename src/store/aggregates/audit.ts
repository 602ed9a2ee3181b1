import type { Role } from '../../domain/roles';

/** The audit log of human actions. */
export interface AuditStore {
  recordAudit(entry: AuditEntry): Promise<void>;
  listAudit(filter: { incidentId?: string; limit: number }): Promise<AuditEntry[]>;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { id: string; name: string; role: Role };
  action: string;
  method: string;
  path: string;
  requestId: string;
  incidentId: string | null;
  details: Record<string, unknown>;
  outcome: 'ok' | 'rejected';
}
