/** Messages to people, kept before they are sent (and as the record when no channel is configured). */
export interface OutboxStore {
  /** Inserts a message unless one with the same id exists; returns whether it was new. */
  enqueueOutbox(message: OutboxMessage): Promise<boolean>;
  listOutbox(filter: { incidentId?: string; limit: number }): Promise<OutboxMessage[]>;
}

export interface OutboxMessage {
  /** Deterministic: `<incidentId>:<stepId>:<attempt-group>`; a retried send finds it already there. */
  id: string;
  incidentId: string;
  channel: 'outbox' | 'slack' | 'email' | 'webhook';
  to: string | null;
  subject: string;
  body: string;
  drill: boolean;
  createdAt: string;
}
