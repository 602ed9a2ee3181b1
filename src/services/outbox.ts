import type { OutboxMessage, OutboxStore } from '../store/store';

/** Messages that had no configured channel (no Slack, no SMTP): where to look before those are set up. */
export function createOutboxService(deps: { store: Pick<OutboxStore, 'listOutbox'> }) {
  return {
    list(filter: { incidentId?: string; limit: number }): Promise<OutboxMessage[]> {
      return deps.store.listOutbox(filter);
    },
  };
}

export type OutboxService = ReturnType<typeof createOutboxService>;
