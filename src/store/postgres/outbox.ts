import type { OutboxMessage, OutboxStore } from '../aggregates/outbox';
import type { PgDb } from './db';
import { checkLimit } from '../shared-rows';

interface OutboxRow {
  id: string;
  incident_id: string;
  channel: OutboxMessage['channel'];
  recipient: string | null;
  subject: string;
  body: string;
  drill: boolean;
  created_at: string;
}

export function pgOutbox(db: PgDb): OutboxStore {
  return {
    async enqueueOutbox(m) {
      const inserted = await db.run(
        `INSERT INTO outbox (id, incident_id, channel, recipient, subject, body, drill, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) ON CONFLICT (id) DO NOTHING`,
        [m.id, m.incidentId, m.channel, m.to, m.subject, m.body, m.drill, m.createdAt],
      );
      return inserted === 1;
    },

    async listOutbox(filter) {
      const limit = checkLimit(filter.limit);
      const rows =
        filter.incidentId === undefined
          ? await db.rows<OutboxRow>('SELECT * FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1', [limit])
          : await db.rows<OutboxRow>('SELECT * FROM outbox WHERE incident_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [
              filter.incidentId,
              limit,
            ]);
      return rows.map(outboxFromRow);
    },
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
    drill: row.drill,
    createdAt: row.created_at,
  };
}
