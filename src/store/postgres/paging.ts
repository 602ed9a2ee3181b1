import type { PageRecord, PagingStore } from '../aggregates/paging';
import type { PgDb } from './db';

interface PageRow {
  key: string;
  incident_id: string;
  step_id: string;
  round: number;
  level: number;
  person_id: string;
  channel: PageRecord['channel'];
  recipient: string;
  status: PageRecord['status'];
  attempts: number;
  error: string | null;
  provider_id: string | null;
  updated_at: string;
}

export function pgPaging(db: PgDb): PagingStore {
  return {
    async recordPage(page) {
      await db.run(
        `INSERT INTO pages (key, incident_id, step_id, round, level, person_id, channel, recipient, status, attempts, error, provider_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (key) DO UPDATE SET status = excluded.status, attempts = GREATEST(pages.attempts, excluded.attempts),
           error = excluded.error, provider_id = excluded.provider_id, updated_at = excluded.updated_at`,
        [
          page.key,
          page.incidentId,
          page.stepId,
          page.round,
          page.level,
          page.personId,
          page.channel,
          page.recipient,
          page.status,
          page.attempts,
          page.error,
          page.providerId,
          page.updatedAt,
        ],
      );
    },

    async listPages(incidentId) {
      const rows = await db.rows<PageRow>('SELECT * FROM pages WHERE incident_id = $1 ORDER BY updated_at, key', [incidentId]);
      return rows.map((r) => ({
        key: r.key,
        incidentId: r.incident_id,
        stepId: r.step_id,
        round: r.round,
        level: r.level,
        personId: r.person_id,
        channel: r.channel,
        recipient: r.recipient,
        status: r.status,
        attempts: r.attempts,
        error: r.error,
        providerId: r.provider_id,
        updatedAt: r.updated_at,
      }));
    },

    async recentPages(channel, recipient, since, exceptKey = '') {
      const rows = await db.rows<{ updated_at: string }>(
        `SELECT updated_at FROM pages WHERE channel = $1 AND recipient = $2 AND status IN ('sent', 'sending') AND updated_at >= $3
           AND key <> $4 ORDER BY updated_at`,
        [channel, recipient, since, exceptKey],
      );
      return rows.map((r) => r.updated_at);
    },
  };
}
