import type { AuditFilter, AuditRecord, AuditStore } from '../store/aggregates/audit';

/** What the audit log is searched by: who, what, which incident, when. */
export type AuditQuery = Pick<AuditFilter, 'actorId' | 'action' | 'incidentId' | 'since' | 'until'>;

const EXPORT_PAGE = 500;

/** Reading the audit log (admins): pages newest first, and whole exports in chain order. */
export function createAuditService(deps: { store: Pick<AuditStore, 'listAudit'> }) {
  return {
    /** One page, newest first; `before` is the `next` of the page before. */
    async list(query: AuditQuery & { before?: number; limit: number }): Promise<{ entries: AuditRecord[]; next: number | null }> {
      const { before, limit, ...filter } = query;
      const entries = await deps.store.listAudit({ ...filter, beforeSeq: before, limit, order: 'desc' });
      return { entries, next: entries.length === limit ? entries[entries.length - 1]!.seq : null };
    },

    /**
     * Every matching entry, oldest first, read a page at a time so an export of any size holds one page in memory.
     * In chain order with seq and hashes, an unfiltered export can be verified again outside Fireline.
     */
    async *export(query: AuditQuery): AsyncGenerator<AuditRecord[]> {
      let after = 0;
      for (;;) {
        const page = await deps.store.listAudit({ ...query, afterSeq: after, limit: EXPORT_PAGE, order: 'asc' });
        if (page.length) yield page;
        if (page.length < EXPORT_PAGE) return;
        after = page[page.length - 1]!.seq;
      }
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
