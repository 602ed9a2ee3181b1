import type { IncidentPhase } from '../../domain/incident';
import type { Actor } from '../../domain/roles';
import type { TimelineEvent, TimelineEventType } from '../../domain/timeline';
import type { TimelineStore } from '../aggregates/timeline';
import type { PgDb } from './db';
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
  data: Record<string, unknown>;
}

/**
 * The latest write of an id wins: a workflow task the server rejected (a signal arrived meanwhile) may already
 * have written its events, and its retry numbers them differently. Identical repeats change nothing, so they do
 * not count as rows changed; `data` compares as jsonb (key order and spacing do not make a change).
 */
const UPSERT_EVENT = `INSERT INTO timeline_events (id, incident_id, seq, at, type, phase, actor, summary, data)
  VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, $9::jsonb)
  ON CONFLICT (id) DO UPDATE SET at = excluded.at, type = excluded.type, phase = excluded.phase, actor = excluded.actor,
    summary = excluded.summary, data = excluded.data
  WHERE timeline_events.type IS DISTINCT FROM excluded.type OR timeline_events.summary IS DISTINCT FROM excluded.summary
    OR timeline_events.data IS DISTINCT FROM excluded.data OR timeline_events.actor IS DISTINCT FROM excluded.actor
    OR timeline_events.phase IS DISTINCT FROM excluded.phase OR timeline_events.at IS DISTINCT FROM excluded.at`;

/** The last timeline seq of the incident aliased `i` in the enclosing query, 0 before its first event. */
export const LAST_SEQ = 'coalesce((SELECT max(seq) FROM timeline_events t WHERE t.incident_id = i.id), 0)';

export function pgTimeline(db: PgDb): TimelineStore {
  return {
    async appendTimeline(events) {
      if (events.length === 0) return 0;
      // One statement per event in one transaction, in the given order, so an id twice in a batch counts and
      // ends as on SQLite (one multi-row upsert may not touch a row twice). Sorted by id (stably, so repeats keep
      // their order) so that two replicas writing overlapping batches lock rows in the same order.
      const ordered = events
        .map((event, index) => ({ event, index }))
        .sort((a, b) => compareIds(a.event.id, b.event.id) || a.index - b.index);
      return db.tx(async (client) => {
        let changed = 0;
        for (const { event } of ordered) changed += await db.run(UPSERT_EVENT, eventParams(event), client);
        return changed;
      });
    },

    async trimTimeline(incidentId, lastSeq) {
      await db.run('DELETE FROM timeline_events WHERE incident_id = $1 AND seq > $2', [incidentId, lastSeq]);
    },

    async listTimeline(incidentId, page) {
      const limit = checkLimit(page.limit);
      const rows = await db.rows<TimelineRow>(
        `SELECT * FROM timeline_events
         WHERE incident_id = $1 AND ($2::integer IS NULL OR seq > $2::integer)
         ORDER BY seq LIMIT $3`,
        [incidentId, page.afterSeq ?? null, limit],
      );
      return rows.map(timelineFromRow);
    },

    async timelineHead(incidentId) {
      const [row] = await db.rows<{ updated_at: string; max_seq: number }>(
        `SELECT i.updated_at, ${LAST_SEQ} AS max_seq FROM incidents i WHERE i.id = $1`,
        [incidentId],
      );
      return row && { updatedAt: row.updated_at, maxSeq: row.max_seq };
    },

    async listTimelineByType(incidentId, types) {
      if (types.length === 0) return [];
      const rows = await db.rows<TimelineRow>(
        'SELECT * FROM timeline_events WHERE incident_id = $1 AND type = ANY($2::text[]) ORDER BY seq',
        [incidentId, [...types]],
      );
      return rows.map(timelineFromRow);
    },
  };
}

function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function eventParams(event: TimelineEvent): unknown[] {
  return [
    event.id,
    event.incidentId,
    event.seq,
    event.at,
    event.type,
    event.phase,
    JSON.stringify(event.actor),
    event.summary,
    JSON.stringify(event.data),
  ];
}

function timelineFromRow(row: TimelineRow): TimelineEvent {
  return {
    id: row.id,
    incidentId: row.incident_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    phase: row.phase,
    actor: JSON.parse(row.actor) as Actor,
    summary: row.summary,
    data: row.data,
  };
}
