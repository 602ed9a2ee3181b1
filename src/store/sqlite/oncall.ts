import type Database from 'better-sqlite3';
import type { OnCallOverrideRecord, OnCallStore } from '../aggregates/oncall';
import { insertSql, parseJson, preparedOnFirstUse } from './db';
import { checkLimit } from '../shared-rows';

interface OnCallOverrideRow {
  id: string;
  schedule_id: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  reason: string | null;
  created_at: string;
  created_by: string;
}

function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<OnCallOverrideRow>(
      insertSql('oncall_overrides', ['id', 'schedule_id', 'person_id', 'starts_at', 'ends_at', 'reason', 'created_at', 'created_by'], ''),
    ),
    list: db.prepare<{ scheduleId: string | null; endsAfter: string | null; limit: number }, OnCallOverrideRow>(
      `SELECT * FROM oncall_overrides
       WHERE (@scheduleId IS NULL OR schedule_id = @scheduleId) AND (@endsAfter IS NULL OR ends_at > @endsAfter)
       ORDER BY created_at, id LIMIT @limit`,
    ),
    delete: db.prepare<[string, string], OnCallOverrideRow>('DELETE FROM oncall_overrides WHERE id = ? AND schedule_id = ? RETURNING *'),
  };
}

export function sqliteOnCall(db: Database.Database): OnCallStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async insertOnCallOverride(o: OnCallOverrideRecord): Promise<void> {
      statements().insert.run(onCallOverrideToRow(o));
    },

    async listOnCallOverrides(filter: { scheduleId?: string; endsAfter?: string; limit: number }): Promise<OnCallOverrideRecord[]> {
      const rows = statements().list.all({
        scheduleId: filter.scheduleId ?? null,
        endsAfter: filter.endsAfter ?? null,
        limit: checkLimit(filter.limit),
      });
      return rows.map(onCallOverrideFromRow);
    },

    async deleteOnCallOverride(scheduleId: string, id: string): Promise<OnCallOverrideRecord | undefined> {
      const row = statements().delete.get(id, scheduleId);
      return row && onCallOverrideFromRow(row);
    },
  };
}

function onCallOverrideToRow(o: OnCallOverrideRecord): OnCallOverrideRow {
  return {
    id: o.id,
    schedule_id: o.scheduleId,
    person_id: o.personId,
    starts_at: o.from,
    ends_at: o.to,
    reason: o.reason,
    created_at: o.createdAt,
    created_by: JSON.stringify(o.createdBy),
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
    createdBy: parseJson<OnCallOverrideRecord['createdBy']>(row.created_by),
  };
}
