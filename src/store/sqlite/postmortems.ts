import type Database from 'better-sqlite3';
import type { IncidentStatus } from '../../domain/incident';
import type { Severity } from '../../domain/severity';
import type { Page } from '../aggregates/incidents';
import type {
  ActionItemListing,
  ActionItemStatus,
  EditablePostmortem,
  PostmortemChange,
  PostmortemRecord,
  PostmortemStore,
} from '../aggregates/postmortems';
import { actionItemFromRow, actionItemToRow, checkLimit, decodeActionItemCursor, encodeActionItemCursor, NO_DUE } from '../shared-rows';
import type { ActionItemRow } from '../shared-rows';
import { insertSql, preparedOnFirstUse } from './db';

interface PostmortemRow {
  incident_id: string;
  template: string;
  status: string;
  due_at: string;
  body: string;
  created_at: string;
  updated_at: string;
}

interface ActionItemListingRow extends ActionItemRow {
  incident_title: string;
  incident_severity: Severity;
  incident_status: IncidentStatus;
}

/** Undated action items sort after every dated one. */

function prepareStatements(db: Database.Database) {
  return {
    insertPostmortem: db.prepare<PostmortemRow>(
      insertSql(
        'postmortems',
        ['incident_id', 'template', 'status', 'due_at', 'body', 'created_at', 'updated_at'],
        'ON CONFLICT (incident_id) DO NOTHING',
      ),
    ),
    getPostmortem: db.prepare<[string], PostmortemRow>('SELECT * FROM postmortems WHERE incident_id = ?'),
    getEditablePostmortem: db.prepare<[string], PostmortemRow & { version: number }>('SELECT * FROM postmortems WHERE incident_id = ?'),
    postmortemVersion: db.prepare<[string], { version: number }>('SELECT version FROM postmortems WHERE incident_id = ?'),
    updatePostmortem: db.prepare<
      { incidentId: string; expectedVersion: number; body: string; status: string; updatedAt: string },
      { version: number }
    >(
      `UPDATE postmortems SET body = @body, status = @status, updated_at = @updatedAt, version = version + 1
       WHERE incident_id = @incidentId AND version = @expectedVersion
       RETURNING version`,
    ),
    actionItemsOf: db.prepare<[string], ActionItemRow>('SELECT * FROM action_items WHERE incident_id = ? ORDER BY position, id'),
    deleteActionItems: db.prepare<[string]>('DELETE FROM action_items WHERE incident_id = ?'),
    insertActionItem: db.prepare<ActionItemRow>(
      insertSql(
        'action_items',
        ['id', 'incident_id', 'position', 'title', 'owner', 'due', 'status', 'created_at', 'updated_at', 'completed_at'],
        '',
      ),
    ),
    // Same expression as the action_items_status index, so a status page is one index range.
    listActionItems: db.prepare<
      { status: string | null; afterDue: string | null; afterId: string | null; limit: number },
      ActionItemListingRow
    >(
      `SELECT a.*, i.title AS incident_title, i.severity AS incident_severity, i.status AS incident_status
       FROM action_items a JOIN incidents i ON i.id = a.incident_id
       WHERE (@status IS NULL OR a.status = @status)
         AND (@afterDue IS NULL OR (coalesce(a.due, '${NO_DUE}'), a.id) > (@afterDue, @afterId))
       ORDER BY coalesce(a.due, '${NO_DUE}'), a.id
       LIMIT @limit`,
    ),
  };
}

export function sqlitePostmortems(db: Database.Database): PostmortemStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async insertPostmortem(pm: PostmortemRecord): Promise<boolean> {
      const row: PostmortemRow = {
        incident_id: pm.incidentId,
        template: pm.template,
        status: pm.status,
        due_at: pm.dueAt,
        body: pm.body,
        created_at: pm.createdAt,
        updated_at: pm.updatedAt,
      };
      return statements().insertPostmortem.run(row).changes === 1;
    },

    async getPostmortem(incidentId: string): Promise<PostmortemRecord | undefined> {
      const row = statements().getPostmortem.get(incidentId);
      if (!row) return undefined;
      return {
        incidentId: row.incident_id,
        template: row.template,
        status: row.status as PostmortemRecord['status'],
        dueAt: row.due_at,
        body: row.body,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    },

    async getEditablePostmortem(incidentId: string): Promise<EditablePostmortem | undefined> {
      const row = statements().getEditablePostmortem.get(incidentId);
      if (!row) return undefined;
      const postmortem: PostmortemRecord = {
        incidentId: row.incident_id,
        template: row.template,
        status: row.status as PostmortemRecord['status'],
        dueAt: row.due_at,
        body: row.body,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
      const actionItems = statements().actionItemsOf.all(incidentId).map(actionItemFromRow);
      return { postmortem, version: row.version, actionItems };
    },

    async savePostmortem(
      change: PostmortemChange,
    ): Promise<{ saved: true; version: number } | { saved: false; currentVersion: number | null }> {
      const w = statements();
      return db
        .transaction(() => {
          const updated = w.updatePostmortem.get({
            incidentId: change.incidentId,
            expectedVersion: change.expectedVersion,
            body: change.body,
            status: change.status,
            updatedAt: change.updatedAt,
          });
          if (!updated) {
            const current = w.postmortemVersion.get(change.incidentId);
            return { saved: false as const, currentVersion: current?.version ?? null };
          }
          w.deleteActionItems.run(change.incidentId);
          for (const item of change.actionItems) w.insertActionItem.run(actionItemToRow(item));
          return { saved: true as const, version: updated.version };
        })
        .immediate();
    },

    async listActionItems(filter: { status?: ActionItemStatus; cursor?: string; limit: number }): Promise<Page<ActionItemListing>> {
      const limit = checkLimit(filter.limit);
      const after = filter.cursor === undefined ? undefined : decodeActionItemCursor(filter.cursor);
      const rows = statements().listActionItems.all({
        status: filter.status ?? null,
        afterDue: after?.due ?? null,
        afterId: after?.id ?? null,
        limit: limit + 1,
      });
      const items = rows.slice(0, limit).map((row) => ({
        ...actionItemFromRow(row),
        incident: { title: row.incident_title, severity: row.incident_severity, status: row.incident_status },
      }));
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeActionItemCursor(last) : null };
    },
  };
}
