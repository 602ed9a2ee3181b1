import type Database from 'better-sqlite3';
import type { SlackIncidentRecord, SlackStore, SlackSyncCandidate } from '../aggregates/slack';
import { insertSql, parseJson, preparedOnFirstUse } from './db';
import { checkLimit } from '../shared-rows';
import type { Bit } from './db';
import { incidentFromRow } from './incidents';
import type { IncidentRow } from './incidents';
import { LAST_SEQ } from './timeline';

interface SlackIncidentRow {
  incident_id: string;
  channel_id: string | null;
  channel_name: string;
  card_ts: string | null;
  pinned: Bit;
  invited: string;
  card_hash: string | null;
  synced_updated_at: string | null;
  synced_seq: number;
  posted_seq: number;
  final: Bit;
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
] as const;

type SlackCandidateRow = IncidentRow & { max_seq: number; slack_incident_id: string | null } & Record<`slack_${string}`, unknown>;

function prepareStatements(db: Database.Database) {
  const slackSelect = SLACK_COLUMNS.map((c) => `s.${c} AS slack_${c}`).join(', ');
  const updates = SLACK_COLUMNS.filter((c) => c !== 'incident_id').map((c) => `${c} = excluded.${c}`);
  // Two index-driven halves instead of one OR: open incidents by status, and closed ones whose card is not final.
  const candidates = `
    SELECT * FROM (
      SELECT i.*, ${LAST_SEQ} AS max_seq, ${slackSelect}
      FROM incidents i LEFT JOIN slack_incidents s ON s.incident_id = i.id
      WHERE i.status IN ('open', 'acknowledged', 'resolved') AND (s.final IS NULL OR s.final = 0)
      UNION ALL
      SELECT i.*, ${LAST_SEQ} AS max_seq, ${slackSelect}
      FROM slack_incidents s JOIN incidents i ON i.id = s.incident_id
      WHERE s.final = 0 AND i.status = 'closed'
    )
    WHERE slack_incident_id IS NULL OR slack_card_ts IS NULL OR slack_channel_id IS NULL
       OR slack_synced_updated_at IS NOT updated_at OR slack_synced_seq <> max_seq OR status = 'closed'
    ORDER BY declared_at, id
    LIMIT ?`;
  return {
    get: db.prepare<[string], SlackIncidentRow>('SELECT * FROM slack_incidents WHERE incident_id = ?'),
    byChannel: db.prepare<[string], SlackIncidentRow>('SELECT * FROM slack_incidents WHERE channel_id = ? LIMIT 1'),
    save: db.prepare<SlackIncidentRow>(
      insertSql('slack_incidents', SLACK_COLUMNS, `ON CONFLICT (incident_id) DO UPDATE SET ${updates.join(', ')}`),
    ),
    candidates: db.prepare<[number], SlackCandidateRow>(candidates),
    claimLease: db.prepare<{ owner: string; now: string; until: string }>(
      `INSERT INTO slack_sync_lease (name, owner, expires_at) VALUES ('sync', @owner, @until)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE slack_sync_lease.owner = excluded.owner OR slack_sync_lease.expires_at <= @now`,
    ),
    releaseLease: db.prepare<[string]>("DELETE FROM slack_sync_lease WHERE name = 'sync' AND owner = ?"),
  };
}

export function sqliteSlack(db: Database.Database): SlackStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async getSlackIncident(incidentId: string): Promise<SlackIncidentRecord | undefined> {
      const row = statements().get.get(incidentId);
      return row && slackIncidentFromRow(row);
    },

    async findSlackIncidentByChannel(channelId: string): Promise<SlackIncidentRecord | undefined> {
      const row = statements().byChannel.get(channelId);
      return row && slackIncidentFromRow(row);
    },

    async saveSlackIncident(record: SlackIncidentRecord): Promise<void> {
      statements().save.run(slackIncidentToRow(record));
    },

    async listSlackSyncCandidates(limit: number): Promise<SlackSyncCandidate[]> {
      return statements()
        .candidates.all(checkLimit(limit))
        .map((row) => {
          const { max_seq, slack_incident_id, ...rest } = row;
          const incidentRow = Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('slack_'))) as unknown as IncidentRow;
          const slack: SlackIncidentRow | null =
            slack_incident_id === null
              ? null
              : (Object.fromEntries(
                  Object.entries(row)
                    .filter(([k]) => k.startsWith('slack_'))
                    .map(([k, v]) => [k.slice('slack_'.length), v]),
                ) as unknown as SlackIncidentRow);
          return { incident: incidentFromRow(incidentRow), maxSeq: max_seq, slack: slack && slackIncidentFromRow(slack) };
        });
    },

    async claimSlackSyncLease(owner: string, now: string, until: string): Promise<boolean> {
      return statements().claimLease.run({ owner, now, until }).changes === 1;
    },

    async releaseSlackSyncLease(owner: string): Promise<void> {
      statements().releaseLease.run(owner);
    },
  };
}

function slackIncidentToRow(r: SlackIncidentRecord): SlackIncidentRow {
  return {
    incident_id: r.incidentId,
    channel_id: r.channelId,
    channel_name: r.channelName,
    card_ts: r.cardTs,
    pinned: r.pinned ? 1 : 0,
    invited: JSON.stringify(r.invited),
    card_hash: r.cardHash,
    synced_updated_at: r.syncedUpdatedAt,
    synced_seq: r.syncedSeq,
    posted_seq: r.postedSeq,
    final: r.final ? 1 : 0,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function slackIncidentFromRow(row: SlackIncidentRow): SlackIncidentRecord {
  return {
    incidentId: row.incident_id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    cardTs: row.card_ts,
    pinned: row.pinned === 1,
    invited: parseJson<string[]>(row.invited),
    cardHash: row.card_hash,
    syncedUpdatedAt: row.synced_updated_at,
    syncedSeq: row.synced_seq,
    postedSeq: row.posted_seq,
    final: row.final === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
