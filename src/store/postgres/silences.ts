import type { SilenceRecord, SilenceStore } from '../aggregates/silences';
import type { PgDb } from './db';
import { checkLimit } from '../shared-rows';

interface SilenceRow {
  id: string;
  matchers: SilenceRecord['matchers'];
  starts_at: string;
  ends_at: string;
  comment: string;
  created_by: SilenceRecord['createdBy'];
  created_at: string;
  updated_at: string;
}

export function pgSilences(db: PgDb): SilenceStore {
  return {
    async insertSilence(s) {
      await db.run(
        `INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [s.id, JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.comment, JSON.stringify(s.createdBy), s.createdAt, s.updatedAt],
      );
    },

    async getSilence(id) {
      const [row] = await db.rows<SilenceRow>('SELECT * FROM silences WHERE id = $1', [id]);
      return row && silenceFromRow(row);
    },

    async listSilences(filter) {
      const limit = checkLimit(filter.limit ?? 1000);
      const rows =
        filter.activeAt === undefined
          ? await db.rows<SilenceRow>('SELECT * FROM silences ORDER BY ends_at DESC, id LIMIT $1', [limit])
          : await db.rows<SilenceRow>('SELECT * FROM silences WHERE ends_at > $1 AND starts_at <= $1 ORDER BY ends_at DESC, id LIMIT $2', [
              filter.activeAt,
              limit,
            ]);
      return rows.map(silenceFromRow);
    },

    async expireSilence(id, at) {
      // One statement: the updated row, or (already expired: nothing to change) the row as it is.
      const [row] = await db.rows<SilenceRow>(
        `WITH expired AS (
           UPDATE silences SET starts_at = LEAST(starts_at, $2::timestamptz), ends_at = $2, updated_at = $2
           WHERE id = $1 AND ends_at > $2
           RETURNING *
         )
         SELECT * FROM expired
         UNION ALL
         SELECT * FROM silences WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM expired)`,
        [id, at],
      );
      return row && silenceFromRow(row);
    },
  };
}

function silenceFromRow(row: SilenceRow): SilenceRecord {
  return {
    id: row.id,
    matchers: row.matchers,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    comment: row.comment,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
