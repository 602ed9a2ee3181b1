import type { Role } from '../../domain/roles';

/**
 * The audit log of human actions, as one hash chain per store: every entry carries the hash of the one before
 * (src/audit/chain.ts), appended under the store's write lock so that several replicas writing at once still make
 * one unbroken chain. `audit_chain` keeps the head (last seq and hash), so a removed last entry shows too.
 */
export interface AuditStore {
  /** Appends the entry to the chain and answers it with its link. */
  recordAudit(entry: AuditEntry): Promise<AuditRecord>;
  /** Newest first (`order: 'desc'`, the default) or in chain order; filters combine with AND. */
  listAudit(filter: AuditFilter): Promise<AuditRecord[]>;
  /** The last link of the chain: seq 0 and the genesis hash while it is empty. */
  auditChainHead(): Promise<{ seq: number; hash: string }>;
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

/** An entry as the chain holds it. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  incidentId?: string;
  actorId?: string;
  action?: string;
  /** ISO times, inclusive `since`, exclusive `until`. */
  since?: string;
  until?: string;
  /** Keyset bounds on seq, exclusive. */
  afterSeq?: number;
  beforeSeq?: number;
  order?: 'asc' | 'desc';
  limit: number;
}
