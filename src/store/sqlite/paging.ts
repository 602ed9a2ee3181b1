import type Database from 'better-sqlite3';
import type { PageRecord, PagingStore } from '../aggregates/paging';
import { preparedOnFirstUse } from './db';

interface PageRow {
  key: string;
  incident_id: string;
  step_id: string;
  round: number;
  level: number;
  person_id: string;
  channel: string;
  recipient: string;
  status: string;
  attempts: number;
  error: string | null;
  provider_id: string | null;
  updated_at: string;
}

function prepareStatements(db: Database.Database) {
  return {
    recordPage: db.prepare<PageRow>(
      `INSERT INTO pages (key, incident_id, step_id, round, level, person_id, channel, recipient, status, attempts, error, provider_id, updated_at)
       VALUES (@key, @incident_id, @step_id, @round, @level, @person_id, @channel, @recipient, @status, @attempts, @error, @provider_id, @updated_at)
       ON CONFLICT (key) DO UPDATE SET status = excluded.status, attempts = max(pages.attempts, excluded.attempts),
         error = excluded.error, provider_id = excluded.provider_id, updated_at = excluded.updated_at`,
    ),
    listPages: db.prepare<[string], PageRow>('SELECT * FROM pages WHERE incident_id = ? ORDER BY updated_at, key'),
    recentPages: db.prepare<[string, string, string, string], { updated_at: string }>(
      `SELECT updated_at FROM pages WHERE channel = ? AND recipient = ? AND status IN ('sent', 'sending') AND updated_at >= ? AND key <> ?
       ORDER BY updated_at`,
    ),
  };
}

export function sqlitePaging(db: Database.Database): PagingStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async recordPage(page: PageRecord): Promise<void> {
      statements().recordPage.run({
        key: page.key,
        incident_id: page.incidentId,
        step_id: page.stepId,
        round: page.round,
        level: page.level,
        person_id: page.personId,
        channel: page.channel,
        recipient: page.recipient,
        status: page.status,
        attempts: page.attempts,
        error: page.error,
        provider_id: page.providerId,
        updated_at: page.updatedAt,
      });
    },

    async listPages(incidentId: string): Promise<PageRecord[]> {
      return statements()
        .listPages.all(incidentId)
        .map((r) => ({
          key: r.key,
          incidentId: r.incident_id,
          stepId: r.step_id,
          round: r.round,
          level: r.level,
          personId: r.person_id,
          channel: r.channel as PageRecord['channel'],
          recipient: r.recipient,
          status: r.status as PageRecord['status'],
          attempts: r.attempts,
          error: r.error,
          providerId: r.provider_id,
          updatedAt: r.updated_at,
        }));
    },

    async recentPages(channel: string, recipient: string, since: string, exceptKey = ''): Promise<string[]> {
      return statements()
        .recentPages.all(channel, recipient, since, exceptKey)
        .map((r) => r.updated_at);
    },
  };
}
