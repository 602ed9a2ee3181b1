import type Database from 'better-sqlite3';
import type { SilenceRecord, SilenceStore } from '../aggregates/silences';
import { insertSql, parseJson, preparedOnFirstUse } from './db';
import { checkLimit } from '../shared-rows';

interface SilenceRow {
  id: string;
  matchers: string;
  starts_at: string;
  ends_at: string;
  comment: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

function prepareStatements(db: Database.Database) {
  return {
    insertSilence: db.prepare<SilenceRow>(
      insertSql('silences', ['id', 'matchers', 'starts_at', 'ends_at', 'comment', 'created_by', 'created_at', 'updated_at'], ''),
    ),
    getSilence: db.prepare<[string], SilenceRow>('SELECT * FROM silences WHERE id = ?'),
    listSilences: db.prepare<[number], SilenceRow>('SELECT * FROM silences ORDER BY ends_at DESC, id LIMIT ?'),
    listActiveSilences: db.prepare<{ at: string; limit: number }, SilenceRow>(
      'SELECT * FROM silences WHERE ends_at > @at AND starts_at <= @at ORDER BY ends_at DESC, id LIMIT @limit',
    ),
    expireSilence: db.prepare<{ id: string; at: string }>(
      `UPDATE silences SET
         starts_at = CASE WHEN starts_at > @at THEN @at ELSE starts_at END,
         ends_at = @at,
         updated_at = @at
       WHERE id = @id AND ends_at > @at`,
    ),
  };
}

export function sqliteSilences(db: Database.Database): SilenceStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));

  async function getSilence(id: string): Promise<SilenceRecord | undefined> {
    const row = statements().getSilence.get(id);
    return row && silenceFromRow(row);
  }

  return {
    async insertSilence(silence: SilenceRecord): Promise<void> {
      statements().insertSilence.run(silenceToRow(silence));
    },

    getSilence,

    async listSilences(filter: { activeAt?: string; limit?: number }): Promise<SilenceRecord[]> {
      const limit = checkLimit(filter.limit ?? 1000);
      const rows =
        filter.activeAt === undefined
          ? statements().listSilences.all(limit)
          : statements().listActiveSilences.all({ at: filter.activeAt, limit });
      return rows.map(silenceFromRow);
    },

    async expireSilence(id: string, at: string): Promise<SilenceRecord | undefined> {
      statements().expireSilence.run({ id, at });
      return getSilence(id);
    },
  };
}

function silenceToRow(silence: SilenceRecord): SilenceRow {
  return {
    id: silence.id,
    matchers: JSON.stringify(silence.matchers),
    starts_at: silence.startsAt,
    ends_at: silence.endsAt,
    comment: silence.comment,
    created_by: JSON.stringify(silence.createdBy),
    created_at: silence.createdAt,
    updated_at: silence.updatedAt,
  };
}

function silenceFromRow(row: SilenceRow): SilenceRecord {
  return {
    id: row.id,
    matchers: parseJson<SilenceRecord['matchers']>(row.matchers),
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    comment: row.comment,
    createdBy: parseJson<SilenceRecord['createdBy']>(row.created_by),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
