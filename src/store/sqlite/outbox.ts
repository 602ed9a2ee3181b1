import type Database from 'better-sqlite3';
import type { OutboxMessage, OutboxStore } from '../aggregates/outbox';
import { insertSql, preparedOnFirstUse, toBit } from './db';
import { checkLimit } from '../shared-rows';
import type { Bit } from './db';

interface OutboxRow {
  id: string;
  incident_id: string;
  channel: OutboxMessage['channel'];
  recipient: string | null;
  subject: string;
  body: string;
  drill: Bit;
  created_at: string;
}

function prepareStatements(db: Database.Database) {
  return {
    insertOutbox: db.prepare<OutboxRow>(
      insertSql(
        'outbox',
        ['id', 'incident_id', 'channel', 'recipient', 'subject', 'body', 'drill', 'created_at'],
        'ON CONFLICT (id) DO NOTHING',
      ),
    ),
    listOutbox: db.prepare<[number], OutboxRow>('SELECT * FROM outbox ORDER BY created_at DESC, id DESC LIMIT ?'),
    listOutboxByIncident: db.prepare<[string, number], OutboxRow>(
      'SELECT * FROM outbox WHERE incident_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
    ),
  };
}

export function sqliteOutbox(db: Database.Database): OutboxStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async enqueueOutbox(message: OutboxMessage): Promise<boolean> {
      return statements().insertOutbox.run(outboxToRow(message)).changes === 1;
    },

    async listOutbox(filter: { incidentId?: string; limit: number }): Promise<OutboxMessage[]> {
      const limit = checkLimit(filter.limit);
      const rows =
        filter.incidentId === undefined
          ? statements().listOutbox.all(limit)
          : statements().listOutboxByIncident.all(filter.incidentId, limit);
      return rows.map(outboxFromRow);
    },
  };
}

function outboxToRow(message: OutboxMessage): OutboxRow {
  return {
    id: message.id,
    incident_id: message.incidentId,
    channel: message.channel,
    recipient: message.to,
    subject: message.subject,
    body: message.body,
    drill: toBit(message.drill),
    created_at: message.createdAt,
  };
}

function outboxFromRow(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    incidentId: row.incident_id,
    channel: row.channel,
    to: row.recipient,
    subject: row.subject,
    body: row.body,
    drill: row.drill === 1,
    createdAt: row.created_at,
  };
}
