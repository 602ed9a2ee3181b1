import type { OnCallOverrideRecord, OnCallStore } from '../aggregates/oncall';
import type { PgDb } from './db';
import { checkLimit } from '../shared-rows';

interface OnCallOverrideRow {
  id: string;
  schedule_id: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  reason: string | null;
  created_at: string;
  created_by: OnCallOverrideRecord['createdBy'];
}

export function pgOnCall(db: PgDb): OnCallStore {
  return {
    async insertOnCallOverride(o) {
      await db.run(
        `INSERT INTO oncall_overrides (id, schedule_id, person_id, starts_at, ends_at, reason, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [o.id, o.scheduleId, o.personId, o.from, o.to, o.reason, o.createdAt, JSON.stringify(o.createdBy)],
      );
    },

    async listOnCallOverrides(filter) {
      const rows = await db.rows<OnCallOverrideRow>(
        `SELECT * FROM oncall_overrides
         WHERE ($1::text IS NULL OR schedule_id = $1) AND ($2::timestamptz IS NULL OR ends_at > $2)
         ORDER BY created_at, id LIMIT $3`,
        [filter.scheduleId ?? null, filter.endsAfter ?? null, checkLimit(filter.limit)],
      );
      return rows.map(onCallOverrideFromRow);
    },

    async deleteOnCallOverride(scheduleId, id) {
      const [row] = await db.rows<OnCallOverrideRow>('DELETE FROM oncall_overrides WHERE id = $1 AND schedule_id = $2 RETURNING *', [
        id,
        scheduleId,
      ]);
      return row && onCallOverrideFromRow(row);
    },
  };
}

function onCallOverrideFromRow(row: OnCallOverrideRow): OnCallOverrideRecord {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    personId: row.person_id,
    from: row.starts_at,
    to: row.ends_at,
    reason: row.reason,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}
