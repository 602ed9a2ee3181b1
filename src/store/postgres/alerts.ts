import type { AlertRecord, AlertStore, InboxRow } from '../aggregates/alerts';
import type { PgDb } from './db';
import { checkLimit } from '../shared-rows';

interface AlertRow {
  incident_id: string;
  fingerprint: string;
  starts_at: string;
  status: AlertRecord['status'];
  ends_at: string | null;
  summary: string;
  labels: Record<string, string>;
  source: string;
  received: number;
  first_seen: string;
  last_seen: string;
}

// An older write never overwrites a newer one: status and end follow the latest last_seen (ties: this write),
// counters and last_seen only grow; first_seen, labels and source stay as first written.
const UPSERT_ALERT = `INSERT INTO alerts (incident_id, fingerprint, starts_at, status, ends_at, summary, labels, source, received, first_seen, last_seen)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET
    status = CASE WHEN excluded.last_seen >= alerts.last_seen THEN excluded.status ELSE alerts.status END,
    ends_at = CASE WHEN excluded.last_seen >= alerts.last_seen THEN excluded.ends_at ELSE alerts.ends_at END,
    summary = excluded.summary,
    received = GREATEST(alerts.received, excluded.received),
    last_seen = GREATEST(alerts.last_seen, excluded.last_seen)`;

interface InboxDbRow {
  id: number;
  alert: unknown;
  received_at: string;
}

function inboxRow(r: InboxDbRow): InboxRow {
  return { id: r.id, alert: r.alert, receivedAt: r.received_at };
}

export function pgAlerts(db: PgDb): AlertStore {
  return {
    async getAlertGroup(integration, groupKey) {
      const [row] = await db.rows<{ incident_id: string; updated_at: string }>(
        'SELECT incident_id, updated_at FROM alert_groups WHERE integration = $1 AND group_key = $2',
        [integration, groupKey],
      );
      return row && { incidentId: row.incident_id, updatedAt: row.updated_at };
    },

    async swapAlertGroup(integration, groupKey, expected, incidentId, at) {
      const changed =
        expected === undefined
          ? await db.run(
              `INSERT INTO alert_groups (integration, group_key, incident_id, updated_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (integration, group_key) DO NOTHING`,
              [integration, groupKey, incidentId, at],
            )
          : await db.run(
              'UPDATE alert_groups SET incident_id = $3, updated_at = $4 WHERE integration = $1 AND group_key = $2 AND incident_id = $5',
              [integration, groupKey, incidentId, at, expected],
            );
      return changed === 1;
    },

    async deleteAlertGroup(integration, groupKey, incidentId) {
      await db.run('DELETE FROM alert_groups WHERE integration = $1 AND group_key = $2 AND incident_id = $3', [
        integration,
        groupKey,
        incidentId,
      ]);
    },

    async enqueueAlerts(rows) {
      if (rows.length === 0) return;
      // One statement; ORDER BY the input position so that ids (the inbox order) follow the order given.
      await db.run(
        `INSERT INTO alert_inbox (incident_id, alert, received_at)
         SELECT r->>'incidentId', r->'alert', (r->>'receivedAt')::timestamptz
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(r, n) ORDER BY n`,
        [JSON.stringify(rows.map((r) => ({ incidentId: r.incidentId, alert: r.alert, receivedAt: r.receivedAt })))],
      );
    },

    async takeAlertBatch(incidentId, limit) {
      checkLimit(limit);
      return db.tx(async (client) => {
        const [unfinished] = await db.rows<{ batch: number }>(
          'SELECT batch FROM alert_inbox WHERE incident_id = $1 AND forwarded_at IS NULL AND batch IS NOT NULL ORDER BY id LIMIT 1',
          [incidentId],
          client,
        );
        if (unfinished) {
          const rows = await db.rows<InboxDbRow>(
            'SELECT id, alert, received_at FROM alert_inbox WHERE incident_id = $1 AND batch = $2 AND forwarded_at IS NULL ORDER BY id',
            [incidentId, unfinished.batch],
            client,
          );
          return { batch: unfinished.batch, rows: rows.map(inboxRow) };
        }
        // SKIP LOCKED: rows another transaction is taking right now (a forwarder whose lease just lapsed) stay theirs.
        const rows = await db.rows<InboxDbRow>(
          `SELECT id, alert, received_at FROM alert_inbox WHERE incident_id = $1 AND forwarded_at IS NULL AND batch IS NULL
           ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [incidentId, limit],
          client,
        );
        if (!rows.length) return undefined;
        const batch = rows[0]!.id;
        await db.run('UPDATE alert_inbox SET batch = $1 WHERE id = ANY($2::bigint[])', [batch, rows.map((r) => r.id)], client);
        return { batch, rows: rows.map(inboxRow) };
      });
    },

    async pendingAlerts(incidentId, limit) {
      const rows = await db.rows<{ id: number; alert: unknown; received_at: string }>(
        'SELECT id, alert, received_at FROM alert_inbox WHERE incident_id = $1 AND forwarded_at IS NULL ORDER BY id LIMIT $2',
        [incidentId, checkLimit(limit)],
      );
      return rows.map(inboxRow);
    },

    async incidentsWithPendingAlerts() {
      const rows = await db.rows<{ incident_id: string }>('SELECT DISTINCT incident_id FROM alert_inbox WHERE forwarded_at IS NULL');
      return rows.map((r) => r.incident_id);
    },

    async markAlertsForwarded(ids, at) {
      if (ids.length === 0) return;
      await db.run('UPDATE alert_inbox SET forwarded_at = $1 WHERE id = ANY($2::bigint[])', [at, ids]);
    },

    async saveIncidentStart(incidentId, args) {
      await db.run('INSERT INTO incident_starts (incident_id, args) VALUES ($1, $2) ON CONFLICT (incident_id) DO NOTHING', [
        incidentId,
        JSON.stringify(args),
      ]);
    },

    async getIncidentStart(incidentId) {
      const [row] = await db.rows<{ args: unknown; started_at: string | null }>(
        'SELECT args, started_at FROM incident_starts WHERE incident_id = $1',
        [incidentId],
      );
      return row && { args: row.args, startedAt: row.started_at };
    },

    async markIncidentStarted(incidentId, at) {
      await db.run('UPDATE incident_starts SET started_at = $1 WHERE incident_id = $2', [at, incidentId]);
    },

    async upsertAlerts(alerts) {
      if (alerts.length === 0) return;
      // One statement per row, in input order, as on SQLite: a batch may carry one episode twice, which a single
      // INSERT … ON CONFLICT cannot update twice. Rows are taken in key order (a stable sort keeps repeats in their
      // order), so two replicas upserting overlapping batches lock rows in the same order and never deadlock.
      const ordered = [...alerts].sort(compareAlertKeys);
      await db.tx(async (client) => {
        for (const a of ordered) {
          await db.run(
            UPSERT_ALERT,
            [
              a.incidentId,
              a.fingerprint,
              a.startsAt,
              a.status,
              a.endsAt,
              a.summary,
              JSON.stringify(a.labels),
              a.source,
              a.received,
              a.firstSeen,
              a.lastSeen,
            ],
            client,
          );
        }
      });
    },

    async listAlerts(incidentId) {
      const rows = await db.rows<AlertRow>('SELECT * FROM alerts WHERE incident_id = $1 ORDER BY first_seen, fingerprint', [incidentId]);
      return rows.map((r) => ({
        incidentId: r.incident_id,
        fingerprint: r.fingerprint,
        startsAt: r.starts_at,
        status: r.status,
        endsAt: r.ends_at,
        summary: r.summary,
        labels: r.labels,
        source: r.source,
        received: r.received,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
      }));
    },
  };
}

function compareAlertKeys(a: AlertRecord, b: AlertRecord): number {
  return compare(a.incidentId, b.incidentId) || compare(a.fingerprint, b.fingerprint) || compare(a.startsAt, b.startsAt);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
