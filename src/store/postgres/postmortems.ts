import type { IncidentStatus } from '../../domain/incident';
import type { Severity } from '../../domain/severity';
import type { PostmortemRecord, PostmortemStore } from '../aggregates/postmortems';
import { actionItemFromRow, actionItemToRow, checkLimit, decodeActionItemCursor, encodeActionItemCursor, NO_DUE } from '../shared-rows';
import type { ActionItemRow } from '../shared-rows';
import type { PgDb } from './db';

interface PostmortemRow {
  incident_id: string;
  template: string;
  status: PostmortemRecord['status'];
  due_at: string;
  body: string;
  created_at: string;
  updated_at: string;
  version: number;
}

interface ActionItemListingRow extends ActionItemRow {
  incident_title: string;
  incident_severity: Severity;
  incident_status: IncidentStatus;
}

/** Undated action items sort after every dated one (as on SQLite, and in the action_items_status index). */
// `due` is a date: read it as the calendar day's text, never through a JS Date (which would shift it by the zone).
const ACTION_ITEM_COLUMNS = `a.id, a.incident_id, a.position, a.title, a.owner, to_char(a.due, 'YYYY-MM-DD') AS due, a.status,
  a.created_at, a.updated_at, a.completed_at`;

export function pgPostmortems(db: PgDb): PostmortemStore {
  return {
    async insertPostmortem(pm) {
      const inserted = await db.run(
        `INSERT INTO postmortems (incident_id, template, status, due_at, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (incident_id) DO NOTHING`,
        [pm.incidentId, pm.template, pm.status, pm.dueAt, pm.body, pm.createdAt, pm.updatedAt],
      );
      return inserted === 1;
    },

    async getPostmortem(incidentId) {
      const [row] = await db.rows<PostmortemRow>('SELECT * FROM postmortems WHERE incident_id = $1', [incidentId]);
      return row && postmortemFromRow(row);
    },

    async getEditablePostmortem(incidentId) {
      // One snapshot for the post-mortem and its items, so a save in between cannot pair one version with other items.
      return db.tx(async (client) => {
        await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const [row] = await db.rows<PostmortemRow>('SELECT * FROM postmortems WHERE incident_id = $1', [incidentId], client);
        if (!row) return undefined;
        const items = await db.rows<ActionItemRow>(
          `SELECT ${ACTION_ITEM_COLUMNS} FROM action_items a WHERE a.incident_id = $1 ORDER BY a.position, a.id`,
          [incidentId],
          client,
        );
        return { postmortem: postmortemFromRow(row), version: row.version, actionItems: items.map(actionItemFromRow) };
      });
    },

    async savePostmortem(change) {
      return db.tx(async (client) => {
        // The row lock taken here serializes concurrent saves: the second one re-checks the version after the
        // first commits, finds it moved, and answers the current one.
        const [updated] = await db.rows<{ version: number }>(
          `UPDATE postmortems SET body = $3, status = $4, updated_at = $5, version = version + 1
           WHERE incident_id = $1 AND version = $2
           RETURNING version`,
          [change.incidentId, change.expectedVersion, change.body, change.status, change.updatedAt],
          client,
        );
        if (!updated) {
          const [current] = await db.rows<{ version: number }>(
            'SELECT version FROM postmortems WHERE incident_id = $1',
            [change.incidentId],
            client,
          );
          return { saved: false as const, currentVersion: current?.version ?? null };
        }
        await db.run('DELETE FROM action_items WHERE incident_id = $1', [change.incidentId], client);
        if (change.actionItems.length > 0) {
          await db.run(
            `INSERT INTO action_items (id, incident_id, position, title, owner, due, status, created_at, updated_at, completed_at)
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(id text, incident_id text, position integer, title text, owner text,
               due date, status text, created_at timestamptz, updated_at timestamptz, completed_at timestamptz)`,
            [JSON.stringify(change.actionItems.map(actionItemToRow))],
            client,
          );
        }
        return { saved: true as const, version: updated.version };
      });
    },

    async listActionItems(filter) {
      const limit = checkLimit(filter.limit);
      const after = filter.cursor === undefined ? undefined : decodeActionItemCursor(filter.cursor);
      // Same expression as the action_items_status index, so a status page is one index range.
      const rows = await db.rows<ActionItemListingRow>(
        `SELECT ${ACTION_ITEM_COLUMNS}, i.title AS incident_title, i.severity AS incident_severity, i.status AS incident_status
         FROM action_items a JOIN incidents i ON i.id = a.incident_id
         WHERE ($1::text IS NULL OR a.status = $1)
           AND ($2::date IS NULL OR (coalesce(a.due, '${NO_DUE}'::date), a.id) > ($2::date, $3::text))
         ORDER BY coalesce(a.due, '${NO_DUE}'::date), a.id
         LIMIT $4`,
        [filter.status ?? null, after?.due ?? null, after?.id ?? null, limit + 1],
      );
      const items = rows.slice(0, limit).map((row) => ({
        ...actionItemFromRow(row),
        incident: { title: row.incident_title, severity: row.incident_severity, status: row.incident_status },
      }));
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeActionItemCursor(last) : null };
    },
  };
}

function postmortemFromRow(row: PostmortemRow): PostmortemRecord {
  return {
    incidentId: row.incident_id,
    template: row.template,
    status: row.status,
    dueAt: row.due_at,
    body: row.body,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
