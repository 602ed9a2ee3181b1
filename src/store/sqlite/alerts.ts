import type Database from 'better-sqlite3';
import type { AlertRecord, AlertStore, InboxRow } from '../aggregates/alerts';
import { parseJson, preparedOnFirstUse } from './db';
import { checkLimit } from '../shared-rows';

interface AlertRow {
  incident_id: string;
  fingerprint: string;
  starts_at: string;
  status: string;
  ends_at: string | null;
  summary: string;
  labels: string;
  source: string;
  received: number;
  first_seen: string;
  last_seen: string;
}

function prepareStatements(db: Database.Database) {
  return {
    getAlertGroup: db.prepare<[string, string], { incident_id: string; updated_at: string }>(
      'SELECT incident_id, updated_at FROM alert_groups WHERE integration = ? AND group_key = ?',
    ),
    insertAlertGroup: db.prepare<[string, string, string, string]>(
      'INSERT INTO alert_groups (integration, group_key, incident_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (integration, group_key) DO NOTHING',
    ),
    swapAlertGroup: db.prepare<[string, string, string, string, string]>(
      'UPDATE alert_groups SET incident_id = ?, updated_at = ? WHERE integration = ? AND group_key = ? AND incident_id = ?',
    ),
    enqueueAlert: db.prepare<[string, string, string]>('INSERT INTO alert_inbox (incident_id, alert, received_at) VALUES (?, ?, ?)'),
    pendingAlerts: db.prepare<[string, number], { id: number; alert: string; received_at: string }>(
      'SELECT id, alert, received_at FROM alert_inbox WHERE incident_id = ? AND forwarded_at IS NULL ORDER BY id LIMIT ?',
    ),
    incidentsWithPendingAlerts: db.prepare<[], { incident_id: string }>(
      'SELECT DISTINCT incident_id FROM alert_inbox WHERE forwarded_at IS NULL',
    ),
    markAlertForwarded: db.prepare<[string, number]>('UPDATE alert_inbox SET forwarded_at = ? WHERE id = ?'),
    unfinishedBatch: db.prepare<[string], { batch: number }>(
      'SELECT batch FROM alert_inbox WHERE incident_id = ? AND forwarded_at IS NULL AND batch IS NOT NULL ORDER BY id LIMIT 1',
    ),
    batchRows: db.prepare<[string, number], { id: number; alert: string; received_at: string }>(
      'SELECT id, alert, received_at FROM alert_inbox WHERE incident_id = ? AND batch = ? AND forwarded_at IS NULL ORDER BY id',
    ),
    unbatchedRows: db.prepare<[string, number], { id: number; alert: string; received_at: string }>(
      'SELECT id, alert, received_at FROM alert_inbox WHERE incident_id = ? AND forwarded_at IS NULL AND batch IS NULL ORDER BY id LIMIT ?',
    ),
    assignBatch: db.prepare<[number, string]>(
      'UPDATE alert_inbox SET batch = ? WHERE id IN (SELECT value FROM json_each(?)) AND batch IS NULL',
    ),
    saveIncidentStart: db.prepare<[string, string]>(
      'INSERT INTO incident_starts (incident_id, args) VALUES (?, ?) ON CONFLICT (incident_id) DO NOTHING',
    ),
    getIncidentStart: db.prepare<[string], { args: string; started_at: string | null }>(
      'SELECT args, started_at FROM incident_starts WHERE incident_id = ?',
    ),
    markIncidentStarted: db.prepare<[string, string]>('UPDATE incident_starts SET started_at = ? WHERE incident_id = ?'),
    deleteAlertGroup: db.prepare<[string, string, string]>(
      'DELETE FROM alert_groups WHERE integration = ? AND group_key = ? AND incident_id = ?',
    ),
    upsertAlert: db.prepare<AlertRow>(
      `INSERT INTO alerts (incident_id, fingerprint, starts_at, status, ends_at, summary, labels, source, received, first_seen, last_seen)
       VALUES (@incident_id, @fingerprint, @starts_at, @status, @ends_at, @summary, @labels, @source, @received, @first_seen, @last_seen)
       ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET
         status = CASE WHEN excluded.last_seen >= alerts.last_seen THEN excluded.status ELSE alerts.status END,
         ends_at = CASE WHEN excluded.last_seen >= alerts.last_seen THEN excluded.ends_at ELSE alerts.ends_at END,
         summary = excluded.summary,
         received = max(alerts.received, excluded.received),
         last_seen = max(alerts.last_seen, excluded.last_seen)`,
    ),
    listAlerts: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE incident_id = ? ORDER BY first_seen, fingerprint'),
  };
}

function inboxRow(r: { id: number; alert: string; received_at: string }): InboxRow {
  return { id: r.id, alert: parseJson<unknown>(r.alert), receivedAt: r.received_at };
}

export function sqliteAlerts(db: Database.Database): AlertStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async getAlertGroup(integration: string, groupKey: string): Promise<{ incidentId: string; updatedAt: string } | undefined> {
      const row = statements().getAlertGroup.get(integration, groupKey);
      return row ? { incidentId: row.incident_id, updatedAt: row.updated_at } : undefined;
    },

    async swapAlertGroup(
      integration: string,
      groupKey: string,
      expected: string | undefined,
      incidentId: string,
      at: string,
    ): Promise<boolean> {
      const s = statements();
      const result =
        expected === undefined
          ? s.insertAlertGroup.run(integration, groupKey, incidentId, at)
          : s.swapAlertGroup.run(incidentId, at, integration, groupKey, expected);
      return result.changes === 1;
    },

    async enqueueAlerts(rows: { incidentId: string; alert: unknown; receivedAt: string }[]): Promise<void> {
      const insert = statements().enqueueAlert;
      db.transaction(() => {
        for (const r of rows) insert.run(r.incidentId, JSON.stringify(r.alert), r.receivedAt);
      })();
    },

    async pendingAlerts(incidentId: string, limit: number): Promise<InboxRow[]> {
      return statements().pendingAlerts.all(incidentId, checkLimit(limit)).map(inboxRow);
    },

    async takeAlertBatch(incidentId: string, limit: number): Promise<{ batch: number; rows: InboxRow[] } | undefined> {
      const s = statements();
      checkLimit(limit);
      return db
        .transaction(() => {
          const unfinished = s.unfinishedBatch.get(incidentId);
          if (unfinished) return { batch: unfinished.batch, rows: s.batchRows.all(incidentId, unfinished.batch).map(inboxRow) };
          const rows = s.unbatchedRows.all(incidentId, limit).map(inboxRow);
          if (!rows.length) return undefined;
          const batch = rows[0]!.id;
          s.assignBatch.run(batch, JSON.stringify(rows.map((r) => r.id)));
          return { batch, rows };
        })
        .immediate();
    },

    async incidentsWithPendingAlerts(): Promise<string[]> {
      return statements()
        .incidentsWithPendingAlerts.all()
        .map((r) => r.incident_id);
    },

    async markAlertsForwarded(ids: number[], at: string): Promise<void> {
      const mark = statements().markAlertForwarded;
      db.transaction(() => {
        for (const id of ids) mark.run(at, id);
      })();
    },

    async saveIncidentStart(incidentId: string, args: unknown): Promise<void> {
      statements().saveIncidentStart.run(incidentId, JSON.stringify(args));
    },

    async getIncidentStart(incidentId: string): Promise<{ args: unknown; startedAt: string | null } | undefined> {
      const row = statements().getIncidentStart.get(incidentId);
      return row ? { args: parseJson<unknown>(row.args), startedAt: row.started_at } : undefined;
    },

    async markIncidentStarted(incidentId: string, at: string): Promise<void> {
      statements().markIncidentStarted.run(at, incidentId);
    },

    async deleteAlertGroup(integration: string, groupKey: string, incidentId: string): Promise<void> {
      statements().deleteAlertGroup.run(integration, groupKey, incidentId);
    },

    async upsertAlerts(alerts: AlertRecord[]): Promise<void> {
      const upsert = statements().upsertAlert;
      db.transaction(() => {
        for (const a of alerts) {
          upsert.run({
            incident_id: a.incidentId,
            fingerprint: a.fingerprint,
            starts_at: a.startsAt,
            status: a.status,
            ends_at: a.endsAt,
            summary: a.summary,
            labels: JSON.stringify(a.labels),
            source: a.source,
            received: a.received,
            first_seen: a.firstSeen,
            last_seen: a.lastSeen,
          });
        }
      })();
    },

    async listAlerts(incidentId: string): Promise<AlertRecord[]> {
      return statements()
        .listAlerts.all(incidentId)
        .map((r) => ({
          incidentId: r.incident_id,
          fingerprint: r.fingerprint,
          startsAt: r.starts_at,
          status: r.status as AlertRecord['status'],
          endsAt: r.ends_at,
          summary: r.summary,
          labels: parseJson<Record<string, string>>(r.labels),
          source: r.source,
          received: r.received,
          firstSeen: r.first_seen,
          lastSeen: r.last_seen,
        }));
    },
  };
}
