import type { SlackIncidentRecord, SlackStore } from '../aggregates/slack';
import type { PgDb } from './db';
import { incidentFromRow } from './incidents';
import type { IncidentRow } from './incidents';
import { checkLimit } from '../shared-rows';
import { LAST_SEQ } from './timeline';

interface SlackIncidentRow {
  incident_id: string;
  channel_id: string | null;
  channel_name: string;
  card_ts: string | null;
  pinned: boolean;
  invited: string[];
  card_hash: string | null;
  synced_updated_at: string | null;
  synced_seq: number;
  posted_seq: number;
  final: boolean;
  created_at: string;
  updated_at: string;
}

const SLACK_COLUMNS = [
  'incident_id',
  'channel_id',
  'channel_name',
  'card_ts',
  'pinned',
  'invited',
  'card_hash',
  'synced_updated_at',
  'synced_seq',
  'posted_seq',
  'final',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof SlackIncidentRow)[];

const SAVE = `INSERT INTO slack_incidents (${SLACK_COLUMNS.join(', ')})
  VALUES (${SLACK_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (incident_id) DO UPDATE SET ${SLACK_COLUMNS.filter((c) => c !== 'incident_id')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

type CandidateRow = IncidentRow & { max_seq: number } & { [K in keyof SlackIncidentRow as `slack_${K}`]: SlackIncidentRow[K] | null };

const SLACK_SELECT = SLACK_COLUMNS.map((c) => `s.${c} AS slack_${c}`).join(', ');

// As on SQLite: two index-driven halves instead of one OR, open incidents by status and closed ones whose card
// is not final; then only those whose channel or card is behind.
const CANDIDATES = `
  SELECT * FROM (
    SELECT i.*, ${LAST_SEQ} AS max_seq, ${SLACK_SELECT}
    FROM incidents i LEFT JOIN slack_incidents s ON s.incident_id = i.id
    WHERE i.status IN ('open', 'acknowledged', 'resolved') AND s.final IS NOT TRUE
    UNION ALL
    SELECT i.*, ${LAST_SEQ} AS max_seq, ${SLACK_SELECT}
    FROM slack_incidents s JOIN incidents i ON i.id = s.incident_id
    WHERE NOT s.final AND i.status = 'closed'
  ) c
  WHERE slack_incident_id IS NULL OR slack_card_ts IS NULL OR slack_channel_id IS NULL
     OR slack_synced_updated_at IS DISTINCT FROM updated_at OR slack_synced_seq <> max_seq OR status = 'closed'
  ORDER BY declared_at, id
  LIMIT $1`;

export function pgSlack(db: PgDb): SlackStore {
  return {
    async getSlackIncident(incidentId) {
      const [row] = await db.rows<SlackIncidentRow>('SELECT * FROM slack_incidents WHERE incident_id = $1', [incidentId]);
      return row && slackIncidentFromRow(row);
    },

    async findSlackIncidentByChannel(channelId) {
      const [row] = await db.rows<SlackIncidentRow>('SELECT * FROM slack_incidents WHERE channel_id = $1 LIMIT 1', [channelId]);
      return row && slackIncidentFromRow(row);
    },

    async saveSlackIncident(record) {
      const row: SlackIncidentRow = {
        incident_id: record.incidentId,
        channel_id: record.channelId,
        channel_name: record.channelName,
        card_ts: record.cardTs,
        pinned: record.pinned,
        invited: record.invited,
        card_hash: record.cardHash,
        synced_updated_at: record.syncedUpdatedAt,
        synced_seq: record.syncedSeq,
        posted_seq: record.postedSeq,
        final: record.final,
        created_at: record.createdAt,
        updated_at: record.updatedAt,
      };
      // jsonb as text: pg would send a JS array as a PostgreSQL array.
      await db.run(
        SAVE,
        SLACK_COLUMNS.map((c) => (c === 'invited' ? JSON.stringify(row.invited) : row[c])),
      );
    },

    async listSlackSyncCandidates(limit) {
      const rows = await db.rows<CandidateRow>(CANDIDATES, [checkLimit(limit)]);
      return rows.map((row) => ({
        incident: incidentFromRow(row),
        maxSeq: row.max_seq,
        slack: row.slack_incident_id === null ? null : slackIncidentFromRow(slackPart(row)),
      }));
    },

    async claimSlackSyncLease(owner, now, until) {
      // Taken when free or expired, extended by its owner; the conflicting row's lock makes two claimants take turns.
      const changed = await db.run(
        `INSERT INTO slack_sync_lease (name, owner, expires_at) VALUES ('sync', $1, $3)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE slack_sync_lease.owner = excluded.owner OR slack_sync_lease.expires_at <= $2`,
        [owner, now, until],
      );
      return changed === 1;
    },

    async releaseSlackSyncLease(owner) {
      await db.run("DELETE FROM slack_sync_lease WHERE name = 'sync' AND owner = $1", [owner]);
    },
  };
}

function slackPart(row: CandidateRow): SlackIncidentRow {
  return Object.fromEntries(SLACK_COLUMNS.map((c) => [c, row[`slack_${c}`]])) as unknown as SlackIncidentRow;
}

function slackIncidentFromRow(row: SlackIncidentRow): SlackIncidentRecord {
  return {
    incidentId: row.incident_id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    cardTs: row.card_ts,
    pinned: row.pinned,
    invited: row.invited,
    cardHash: row.card_hash,
    syncedUpdatedAt: row.synced_updated_at,
    syncedSeq: row.synced_seq,
    postedSeq: row.posted_seq,
    final: row.final,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
