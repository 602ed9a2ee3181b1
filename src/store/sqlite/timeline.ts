import type Database from 'better-sqlite3';
import type { IncidentPhase } from '../../domain/incident';
import type { Actor } from '../../domain/roles';
import type { TimelineEvent, TimelineEventType } from '../../domain/timeline';
import type { TimelineStore } from '../aggregates/timeline';
import { insertSql, parseJson, preparedOnFirstUse } from './db';
import { checkLimit } from '../shared-rows';

interface TimelineRow {
  id: string;
  incident_id: string;
  seq: number;
  at: string;
  type: TimelineEventType;
  phase: IncidentPhase;
  actor: string;
  summary: string;
  data: string;
}

/** The last timeline seq of the incident aliased `i` in the enclosing query, 0 before its first event. */
export const LAST_SEQ = 'coalesce((SELECT max(seq) FROM timeline_events t WHERE t.incident_id = i.id), 0)';

function prepareStatements(db: Database.Database) {
  const insertTimeline = db.prepare<TimelineRow>(
    insertSql(
      'timeline_events',
      ['id', 'incident_id', 'seq', 'at', 'type', 'phase', 'actor', 'summary', 'data'],
      // The latest write of an id wins: a workflow task the server rejected (a signal arrived meanwhile) may
      // already have written its events, and its retry numbers them differently. Identical repeats change nothing.
      `ON CONFLICT (id) DO UPDATE SET at = excluded.at, type = excluded.type, phase = excluded.phase, actor = excluded.actor,
         summary = excluded.summary, data = excluded.data
       WHERE timeline_events.type IS NOT excluded.type OR timeline_events.summary IS NOT excluded.summary
         OR timeline_events.data IS NOT excluded.data OR timeline_events.actor IS NOT excluded.actor
         OR timeline_events.phase IS NOT excluded.phase OR timeline_events.at IS NOT excluded.at`,
    ),
  );
  return {
    appendTimeline: db.transaction((rows: TimelineRow[]) => rows.reduce((inserted, row) => inserted + insertTimeline.run(row).changes, 0)),
    listTimeline: db.prepare<{ incidentId: string; afterSeq: number | null; limit: number }, TimelineRow>(
      `SELECT * FROM timeline_events
       WHERE incident_id = @incidentId AND (@afterSeq IS NULL OR seq > @afterSeq)
       ORDER BY seq LIMIT @limit`,
    ),
    timelineHead: db.prepare<[string], { updated_at: string; max_seq: number }>(
      `SELECT i.updated_at, ${LAST_SEQ} AS max_seq FROM incidents i WHERE i.id = ?`,
    ),
    timelineByType: db.prepare<{ incidentId: string; types: string }, TimelineRow>(
      `SELECT * FROM timeline_events
       WHERE incident_id = @incidentId AND type IN (SELECT value FROM json_each(@types))
       ORDER BY seq`,
    ),
  };
}

export function sqliteTimeline(db: Database.Database): TimelineStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async appendTimeline(events: TimelineEvent[]): Promise<number> {
      return statements().appendTimeline(events.map(timelineToRow));
    },

    async trimTimeline(incidentId: string, lastSeq: number): Promise<void> {
      db.prepare<[string, number]>('DELETE FROM timeline_events WHERE incident_id = ? AND seq > ?').run(incidentId, lastSeq);
    },

    async listTimeline(incidentId: string, page: { afterSeq?: number; limit: number }): Promise<TimelineEvent[]> {
      const limit = checkLimit(page.limit);
      const rows = statements().listTimeline.all({ incidentId, afterSeq: page.afterSeq ?? null, limit });
      return rows.map(timelineFromRow);
    },

    async timelineHead(incidentId: string): Promise<{ updatedAt: string; maxSeq: number } | undefined> {
      const row = statements().timelineHead.get(incidentId);
      return row && { updatedAt: row.updated_at, maxSeq: row.max_seq };
    },

    async listTimelineByType(incidentId: string, types: readonly TimelineEventType[]): Promise<TimelineEvent[]> {
      if (types.length === 0) return [];
      const rows = statements().timelineByType.all({ incidentId, types: JSON.stringify(types) });
      return rows.map(timelineFromRow);
    },
  };
}

function timelineToRow(event: TimelineEvent): TimelineRow {
  return {
    id: event.id,
    incident_id: event.incidentId,
    seq: event.seq,
    at: event.at,
    type: event.type,
    phase: event.phase,
    actor: JSON.stringify(event.actor),
    summary: event.summary,
    data: JSON.stringify(event.data),
  };
}

function timelineFromRow(row: TimelineRow): TimelineEvent {
  return {
    id: row.id,
    incidentId: row.incident_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    phase: row.phase,
    actor: parseJson<Actor>(row.actor),
    summary: row.summary,
    data: parseJson<Record<string, unknown>>(row.data),
  };
}
