import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { IncidentPatch, IncidentPhase, IncidentRecord, IncidentStatus } from '../domain/incident';
import type { Actor, Role } from '../domain/roles';
import type { Severity } from '../domain/severity';
import type { TimelineEvent, TimelineEventType } from '../domain/timeline';
import { MIGRATIONS, SCHEMA_MIGRATIONS_SQL } from './migrations';
import type { Migration } from './migrations';
import type {
  ActionItemListing,
  ActionItemRecord,
  ActionItemStatus,
  AlertRecord,
  AuditEntry,
  EditablePostmortem,
  IncidentFilter,
  IncidentMetricsPoint,
  IncidentMetricsRecord,
  OnCallOverrideRecord,
  OutboxMessage,
  Page,
  PageRecord,
  PostmortemChange,
  PostmortemRecord,
  SessionRecord,
  SilenceRecord,
  Store,
  TokenRecord,
} from './store';
import { IncidentNotFoundError, InvalidCursorError } from './store-errors';
import type { SlackIncidentRecord, SlackSyncCandidate } from './store';

/** SQLite has no boolean type; better-sqlite3 refuses to bind JS booleans. */
type Bit = 0 | 1;

interface IncidentRow {
  id: string;
  title: string;
  service: string | null;
  severity: Severity;
  summary: string | null;
  drill: Bit;
  trigger_kind: IncidentRecord['trigger']['kind'];
  trigger_actor: string;
  declared_at: string;
  runbook_id: string;
  runbook_version: string;
  workflow_id: string;
  status: IncidentStatus;
  phase: IncidentPhase;
  acknowledged_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  updated_at: string;
}

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

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  hash: string;
  created_at: string;
}

interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  method: string;
  path: string;
  request_id: string;
  incident_id: string | null;
  details: string;
  outcome: AuditEntry['outcome'];
}

type SqlValue = string | number | null;
type NamedParams = Record<string, SqlValue>;

interface PageRow {
  key: string;
  incident_id: string;
  step_id: string;
  round: number;
  level: number;
  person_id: string;
  channel: string;
  recipient: string;
  status: string;
  attempts: number;
  error: string | null;
  provider_id: string | null;
  updated_at: string;
}

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

interface SilenceRow {
  id: string;
  matchers: string;
  starts_at: string;
  ends_at: string;
  comment: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

interface PostmortemRow {
  incident_id: string;
  template: string;
  status: string;
  due_at: string;
  body: string;
  created_at: string;
  updated_at: string;
}

interface Cursor {
  declaredAt: string;
  id: string;
}

const CursorSchema = z.object({ declaredAt: z.string().min(1), id: z.string().min(1) });

/** Patchable fields and their columns; `satisfies` keeps it in step with `IncidentPatch`. */
const PATCH_COLUMNS = {
  status: 'status',
  phase: 'phase',
  severity: 'severity',
  acknowledgedAt: 'acknowledged_at',
  resolvedAt: 'resolved_at',
  closedAt: 'closed_at',
} as const satisfies Record<keyof IncidentPatch, string>;
const PATCH_KEYS = Object.keys(PATCH_COLUMNS) as (keyof IncidentPatch)[];

/** Optional list filters and their conditions; each present one narrows the query. */
const LIST_CONDITIONS = {
  status: 'status = @status',
  severity: 'severity = @severity',
  service: 'service = @service',
  runbook: 'runbook_id = @runbook',
  from: 'declared_at >= @from',
  to: 'declared_at < @to',
} as const satisfies Partial<Record<keyof IncidentFilter, string>>;
const LIST_KEYS = Object.keys(LIST_CONDITIONS) as (keyof typeof LIST_CONDITIONS)[];

const INCIDENT_COLUMNS = [
  'id',
  'title',
  'service',
  'severity',
  'summary',
  'drill',
  'trigger_kind',
  'trigger_actor',
  'declared_at',
  'runbook_id',
  'runbook_version',
  'workflow_id',
  'status',
  'phase',
  'acknowledged_at',
  'resolved_at',
  'closed_at',
  'updated_at',
] as const satisfies readonly (keyof IncidentRow)[];

function insertSql(table: string, columns: readonly string[], onConflict: string): string {
  const names = columns.join(', ');
  const values = columns.map((c) => `@${c}`).join(', ');
  return `INSERT INTO ${table} (${names}) VALUES (${values}) ${onConflict}`;
}

/**
 * One statement for every patch shape: `@set_<field>` says whether the field is present, so an explicit
 * null clears a column while an absent field keeps it. The `updated_at` guard (ISO text, so text order is
 * time order) drops late retries in the same atomic statement.
 */
function updateIncidentSql(): string {
  const sets = PATCH_KEYS.map((key) => {
    const column = PATCH_COLUMNS[key];
    return `${column} = CASE WHEN @set_${key} = 1 THEN @${key} ELSE ${column} END`;
  });
  return `UPDATE incidents SET ${sets.join(', ')}, updated_at = @at WHERE id = @id AND updated_at <= @at`;
}

function prepareStatements(db: Database.Database) {
  // ON CONFLICT DO NOTHING rather than OR IGNORE: only duplicates are skipped, NOT NULL violations still fail.
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
    nextIncidentNumber: db.prepare<[], { value: number }>("UPDATE sequences SET value = value + 1 WHERE name = 'incident' RETURNING value"),
    // Idempotent: the record activity may be retried after its insert committed.
    insertIncident: db.prepare<IncidentRow>(insertSql('incidents', INCIDENT_COLUMNS, 'ON CONFLICT (id) DO NOTHING')),
    updateIncident: db.prepare<NamedParams>(updateIncidentSql()),
    getIncident: db.prepare<[string], IncidentRow>('SELECT * FROM incidents WHERE id = ?'),
    deleteIncident: db.prepare<[string]>('DELETE FROM incidents WHERE id = ?'),
    incidentExists: db.prepare<[string], { found: number }>('SELECT 1 AS found FROM incidents WHERE id = ?'),
    appendTimeline: db.transaction((rows: TimelineRow[]) => rows.reduce((inserted, row) => inserted + insertTimeline.run(row).changes, 0)),
    listTimeline: db.prepare<{ incidentId: string; afterSeq: number | null; limit: number }, TimelineRow>(
      `SELECT * FROM timeline_events
       WHERE incident_id = @incidentId AND (@afterSeq IS NULL OR seq > @afterSeq)
       ORDER BY seq LIMIT @limit`,
    ),
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
    insertToken: db.prepare<TokenRow>(insertSql('tokens', ['id', 'name', 'role', 'hash', 'created_at'], '')),
    findTokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE hash = ?'),
    countTokens: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens'),
    insertPostmortem: db.prepare<PostmortemRow>(
      insertSql(
        'postmortems',
        ['incident_id', 'template', 'status', 'due_at', 'body', 'created_at', 'updated_at'],
        'ON CONFLICT (incident_id) DO NOTHING',
      ),
    ),
    getPostmortem: db.prepare<[string], PostmortemRow>('SELECT * FROM postmortems WHERE incident_id = ?'),
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
    recordPage: db.prepare<PageRow>(
      `INSERT INTO pages (key, incident_id, step_id, round, level, person_id, channel, recipient, status, attempts, error, provider_id, updated_at)
       VALUES (@key, @incident_id, @step_id, @round, @level, @person_id, @channel, @recipient, @status, @attempts, @error, @provider_id, @updated_at)
       ON CONFLICT (key) DO UPDATE SET status = excluded.status, attempts = max(pages.attempts, excluded.attempts),
         error = excluded.error, provider_id = excluded.provider_id, updated_at = excluded.updated_at`,
    ),
    listPages: db.prepare<[string], PageRow>('SELECT * FROM pages WHERE incident_id = ? ORDER BY updated_at, key'),
    recentPages: db.prepare<[string, string, string], { updated_at: string }>(
      "SELECT updated_at FROM pages WHERE channel = ? AND recipient = ? AND status = 'sent' AND updated_at >= ? ORDER BY updated_at",
    ),
    claimKey: db.prepare<[string, string, string, string]>(
      'INSERT INTO idempotency_keys (scope, key, value, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING',
    ),
    releaseKey: db.prepare<[string, string]>('DELETE FROM idempotency_keys WHERE scope = ? AND key = ?'),
    getKey: db.prepare<[string, string], { value: string }>('SELECT value FROM idempotency_keys WHERE scope = ? AND key = ?'),
    insertAudit: db.prepare<AuditRow>(
      insertSql('audit_log', ['id', 'at', 'actor', 'action', 'method', 'path', 'request_id', 'incident_id', 'details', 'outcome'], ''),
    ),
    listAudit: db.prepare<[number], AuditRow>('SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT ?'),
    listAuditByIncident: db.prepare<[string, number], AuditRow>(
      'SELECT * FROM audit_log WHERE incident_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    ),
    insertSilence: db.prepare<SilenceRow>(
      insertSql('silences', ['id', 'matchers', 'starts_at', 'ends_at', 'comment', 'created_by', 'created_at', 'updated_at'], ''),
    ),
    getSilence: db.prepare<[string], SilenceRow>('SELECT * FROM silences WHERE id = ?'),
    listSilences: db.prepare<[number], SilenceRow>('SELECT * FROM silences ORDER BY ends_at DESC, id LIMIT ?'),
    listActiveSilences: db.prepare<{ at: string; limit: number }, SilenceRow>(
      'SELECT * FROM silences WHERE ends_at > @at AND starts_at <= @at ORDER BY ends_at DESC, id LIMIT @limit',
    ),
    expireSilence: db.prepare<{ id: string; at: string }>(
      `UPDATE silences SET
         starts_at = CASE WHEN starts_at > @at THEN @at ELSE starts_at END,
         ends_at = @at,
         updated_at = @at
       WHERE id = @id AND ends_at > @at`,
    ),
  };
}
type Statements = ReturnType<typeof prepareStatements>;

export class SqliteStore implements Store {
  /** Prepared on first use, because the tables exist only after `migrate()`. */
  private prepared: Statements | undefined;
  /** Incident list statements keyed by SQL; one per combination of filters, so at most 2^7. */
  private readonly listStatements = new Map<string, Database.Statement<[NamedParams], IncidentRow>>();

  /** Prepared up front: it touches no table, so health checks work before `migrate()`. */
  private readonly pingStatement: Database.Statement<[], unknown>;

  private constructor(private readonly db: Database.Database) {
    this.pingStatement = db.prepare<[], unknown>('SELECT 1');
  }

  static open(file: string): SqliteStore {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file);
    // Set first, so that switching to WAL below waits for another process instead of failing.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // Safe with WAL: a power loss may drop the last commits but never corrupts the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return new SqliteStore(db);
  }

  async migrate(): Promise<void> {
    this.db.exec(SCHEMA_MIGRATIONS_SQL);
    for (const migration of MIGRATIONS) this.applyMigration(migration);
  }

  async ping(): Promise<void> {
    this.pingStatement.get();
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      // Lets SQLite refresh the planner statistics this long-lived connection found worth updating.
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }

  async allocateIncidentNumber(): Promise<number> {
    const row = this.statements.nextIncidentNumber.get();
    if (!row) throw new Error('incident sequence missing: run migrate() first');
    return row.value;
  }

  async insertIncident(incident: IncidentRecord): Promise<void> {
    this.statements.insertIncident.run(incidentToRow(incident));
  }

  async updateIncident(id: string, patch: IncidentPatch, at: string): Promise<void> {
    const { changes } = this.statements.updateIncident.run({ ...patchParams(patch), id, at });
    if (changes === 0 && !this.statements.incidentExists.get(id)) throw new IncidentNotFoundError(id);
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    const row = this.statements.getIncident.get(id);
    return row && incidentFromRow(row);
  }

  /** Leaves the number allocated: a gap in INC-<n> is harmless, reusing a number is not. */
  async deleteIncident(id: string): Promise<void> {
    this.statements.deleteIncident.run(id);
  }

  async listIncidents(filter: IncidentFilter): Promise<Page<IncidentRecord>> {
    const limit = checkLimit(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const { sql, params } = listIncidentsQuery(filter, after, limit + 1);
    const rows = this.listStatement(sql).all(params);
    const items = rows.slice(0, limit).map(incidentFromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async appendTimeline(events: TimelineEvent[]): Promise<number> {
    return this.statements.appendTimeline(events.map(timelineToRow));
  }

  async trimTimeline(incidentId: string, lastSeq: number): Promise<void> {
    this.db.prepare<[string, number]>('DELETE FROM timeline_events WHERE incident_id = ? AND seq > ?').run(incidentId, lastSeq);
  }

  async listTimeline(incidentId: string, page: { afterSeq?: number; limit: number }): Promise<TimelineEvent[]> {
    const limit = checkLimit(page.limit);
    const rows = this.statements.listTimeline.all({ incidentId, afterSeq: page.afterSeq ?? null, limit });
    return rows.map(timelineFromRow);
  }

  async enqueueOutbox(message: OutboxMessage): Promise<boolean> {
    return this.statements.insertOutbox.run(outboxToRow(message)).changes === 1;
  }

  async listOutbox(filter: { incidentId?: string; limit: number }): Promise<OutboxMessage[]> {
    const limit = checkLimit(filter.limit);
    const rows =
      filter.incidentId === undefined
        ? this.statements.listOutbox.all(limit)
        : this.statements.listOutboxByIncident.all(filter.incidentId, limit);
    return rows.map(outboxFromRow);
  }

  async insertToken(token: TokenRecord): Promise<void> {
    this.statements.insertToken.run({
      id: token.id,
      name: token.name,
      role: token.role,
      hash: token.hash,
      created_at: token.createdAt,
    });
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = this.statements.findTokenByHash.get(hash);
    return row && { id: row.id, name: row.name, role: row.role, hash: row.hash, createdAt: row.created_at };
  }

  async countTokens(): Promise<number> {
    return this.statements.countTokens.get()?.n ?? 0;
  }

  async getAlertGroup(integration: string, groupKey: string): Promise<{ incidentId: string; updatedAt: string } | undefined> {
    const row = this.statements.getAlertGroup.get(integration, groupKey);
    return row ? { incidentId: row.incident_id, updatedAt: row.updated_at } : undefined;
  }

  async swapAlertGroup(
    integration: string,
    groupKey: string,
    expected: string | undefined,
    incidentId: string,
    at: string,
  ): Promise<boolean> {
    const s = this.statements;
    const result =
      expected === undefined
        ? s.insertAlertGroup.run(integration, groupKey, incidentId, at)
        : s.swapAlertGroup.run(incidentId, at, integration, groupKey, expected);
    return result.changes === 1;
  }

  async enqueueAlerts(rows: { incidentId: string; alert: unknown; receivedAt: string }[]): Promise<void> {
    const insert = this.statements.enqueueAlert;
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.incidentId, JSON.stringify(r.alert), r.receivedAt);
    })();
  }

  async pendingAlerts(incidentId: string, limit: number): Promise<{ id: number; alert: unknown; receivedAt: string }[]> {
    return this.statements.pendingAlerts
      .all(incidentId, checkLimit(limit))
      .map((r) => ({ id: r.id, alert: parseJson<unknown>(r.alert), receivedAt: r.received_at }));
  }

  async incidentsWithPendingAlerts(): Promise<string[]> {
    return this.statements.incidentsWithPendingAlerts.all().map((r) => r.incident_id);
  }

  async markAlertsForwarded(ids: number[], at: string): Promise<void> {
    const mark = this.statements.markAlertForwarded;
    this.db.transaction(() => {
      for (const id of ids) mark.run(at, id);
    })();
  }

  async saveIncidentStart(incidentId: string, args: unknown): Promise<void> {
    this.statements.saveIncidentStart.run(incidentId, JSON.stringify(args));
  }

  async getIncidentStart(incidentId: string): Promise<{ args: unknown; startedAt: string | null } | undefined> {
    const row = this.statements.getIncidentStart.get(incidentId);
    return row ? { args: parseJson<unknown>(row.args), startedAt: row.started_at } : undefined;
  }

  async markIncidentStarted(incidentId: string, at: string): Promise<void> {
    this.statements.markIncidentStarted.run(at, incidentId);
  }

  async deleteAlertGroup(integration: string, groupKey: string, incidentId: string): Promise<void> {
    this.statements.deleteAlertGroup.run(integration, groupKey, incidentId);
  }

  async upsertAlerts(alerts: AlertRecord[]): Promise<void> {
    const upsert = this.statements.upsertAlert;
    this.db.transaction(() => {
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
  }

  async listAlerts(incidentId: string): Promise<AlertRecord[]> {
    return this.statements.listAlerts.all(incidentId).map((r) => ({
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
  }

  async recordPage(page: PageRecord): Promise<void> {
    this.statements.recordPage.run({
      key: page.key,
      incident_id: page.incidentId,
      step_id: page.stepId,
      round: page.round,
      level: page.level,
      person_id: page.personId,
      channel: page.channel,
      recipient: page.recipient,
      status: page.status,
      attempts: page.attempts,
      error: page.error,
      provider_id: page.providerId,
      updated_at: page.updatedAt,
    });
  }

  async listPages(incidentId: string): Promise<PageRecord[]> {
    return this.statements.listPages.all(incidentId).map((r) => ({
      key: r.key,
      incidentId: r.incident_id,
      stepId: r.step_id,
      round: r.round,
      level: r.level,
      personId: r.person_id,
      channel: r.channel as PageRecord['channel'],
      recipient: r.recipient,
      status: r.status as PageRecord['status'],
      attempts: r.attempts,
      error: r.error,
      providerId: r.provider_id,
      updatedAt: r.updated_at,
    }));
  }

  async recentPages(channel: string, recipient: string, since: string): Promise<string[]> {
    return this.statements.recentPages.all(channel, recipient, since).map((r) => r.updated_at);
  }

  async claimIdempotencyKey(scope: string, key: string, value: string, at: string): Promise<string | undefined> {
    if (this.statements.claimKey.run(scope, key, value, at).changes === 1) return undefined;
    return this.statements.getKey.get(scope, key)?.value;
  }

  async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
    this.statements.releaseKey.run(scope, key);
  }

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
    return this.statements.insertPostmortem.run(row).changes === 1;
  }

  async getPostmortem(incidentId: string): Promise<PostmortemRecord | undefined> {
    const row = this.statements.getPostmortem.get(incidentId);
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
  }

  async recordAudit(entry: AuditEntry): Promise<void> {
    this.statements.insertAudit.run(auditToRow(entry));
  }

  async listAudit(filter: { incidentId?: string; limit: number }): Promise<AuditEntry[]> {
    const limit = checkLimit(filter.limit);
    const rows =
      filter.incidentId === undefined
        ? this.statements.listAudit.all(limit)
        : this.statements.listAuditByIncident.all(filter.incidentId, limit);
    return rows.map(auditFromRow);
  }

  async insertSilence(silence: SilenceRecord): Promise<void> {
    this.statements.insertSilence.run(silenceToRow(silence));
  }

  async getSilence(id: string): Promise<SilenceRecord | undefined> {
    const row = this.statements.getSilence.get(id);
    return row && silenceFromRow(row);
  }

  async listSilences(filter: { activeAt?: string; limit?: number }): Promise<SilenceRecord[]> {
    const limit = checkLimit(filter.limit ?? 1000);
    const rows =
      filter.activeAt === undefined
        ? this.statements.listSilences.all(limit)
        : this.statements.listActiveSilences.all({ at: filter.activeAt, limit });
    return rows.map(silenceFromRow);
  }

  async expireSilence(id: string, at: string): Promise<SilenceRecord | undefined> {
    this.statements.expireSilence.run({ id, at });
    return this.getSilence(id);
  }

  private get statements(): Statements {
    return (this.prepared ??= prepareStatements(this.db));
  }

  private listStatement(sql: string): Database.Statement<[NamedParams], IncidentRow> {
    let statement = this.listStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare<NamedParams, IncidentRow>(sql);
      this.listStatements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Checks without a lock first so that up-to-date processes never take the write lock, then re-checks under
   * BEGIN IMMEDIATE, because another process may have applied the migration in between.
   */
  private applyMigration(migration: Migration): void {
    if (this.isApplied(migration.id)) return;
    const apply = this.db.transaction(() => {
      if (this.isApplied(migration.id)) return;
      this.db.exec(migration.sql);
      this.db
        .prepare<[number, string, string]>('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.id, migration.name, new Date().toISOString());
    });
    apply.immediate();
  }

  private isApplied(id: number): boolean {
    return this.db.prepare<[number], { id: number }>('SELECT id FROM schema_migrations WHERE id = ?').get(id) !== undefined;
  }

  async insertOnCallOverride(o: OnCallOverrideRecord): Promise<void> {
    this.onCallStatements.insert.run(onCallOverrideToRow(o));
  }

  async listOnCallOverrides(filter: { scheduleId?: string; endsAfter?: string; limit: number }): Promise<OnCallOverrideRecord[]> {
    const rows = this.onCallStatements.list.all({
      scheduleId: filter.scheduleId ?? null,
      endsAfter: filter.endsAfter ?? null,
      limit: checkLimit(filter.limit),
    });
    return rows.map(onCallOverrideFromRow);
  }

  async deleteOnCallOverride(scheduleId: string, id: string): Promise<OnCallOverrideRecord | undefined> {
    const row = this.onCallStatements.delete.get(id, scheduleId);
    return row && onCallOverrideFromRow(row);
  }

  /** A group of its own, like the table: on-call overrides add statements without touching the others. */
  private get onCallStatements(): OnCallStatements {
    return (this.onCallPrepared ??= prepareOnCallStatements(this.db));
  }

  private onCallPrepared: OnCallStatements | undefined;

  async timelineHead(incidentId: string): Promise<{ updatedAt: string; maxSeq: number } | undefined> {
    const row = this.webStatements.timelineHead.get(incidentId);
    return row && { updatedAt: row.updated_at, maxSeq: row.max_seq };
  }

  async incidentsHead(): Promise<string | null> {
    return this.webStatements.incidentsHead.get()?.at ?? null;
  }

  async searchIncidents(filter: IncidentFilter & { titleContains?: string }): Promise<Page<IncidentRecord>> {
    const limit = checkLimit(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const { sql, params } = listIncidentsQuery(filter, after, limit + 1);
    let query = sql;
    if (filter.titleContains) {
      // The title test rides on the same index walk as the list: rows come in list order and stop at the limit.
      const condition = "title LIKE @titleLike ESCAPE '\\'";
      query = sql.includes(' WHERE ')
        ? sql.replace(' WHERE ', ` WHERE ${condition} AND `)
        : sql.replace(' ORDER BY ', ` WHERE ${condition} ORDER BY `);
      params.titleLike = `%${filter.titleContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    const rows = this.listStatement(query).all(params);
    const items = rows.slice(0, limit).map(incidentFromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async listTimelineByType(incidentId: string, types: readonly TimelineEventType[]): Promise<TimelineEvent[]> {
    if (types.length === 0) return [];
    const rows = this.webStatements.timelineByType.all({ incidentId, types: JSON.stringify(types) });
    return rows.map(timelineFromRow);
  }

  async listStaleIncidentMetrics(limit: number): Promise<{ incident: IncidentRecord; maxSeq: number }[]> {
    const rows = this.webStatements.staleMetrics.all(checkLimit(limit));
    return rows.map(({ max_seq, ...row }) => ({ incident: incidentFromRow(row), maxSeq: max_seq }));
  }

  async upsertIncidentMetrics(rows: IncidentMetricsRecord[]): Promise<void> {
    const upsert = this.webStatements.upsertMetrics;
    this.db.transaction(() => {
      for (const r of rows) upsert.run(metricsToRow(r));
    })();
  }

  async getIncidentMetrics(incidentId: string): Promise<IncidentMetricsRecord | undefined> {
    const row = this.webStatements.getMetrics.get(incidentId);
    return row && metricsFromRow(row);
  }

  async listIncidentMetrics(range: { from: string; to: string }): Promise<IncidentMetricsPoint[]> {
    // Arrays rather than objects per row: this is the one read that returns every incident of a range.
    return this.webStatements.listMetrics
      .all(range)
      .map(([incidentId, declaredAt, severity, service, runbookId, drill, resolvedAt, ttd, tta, ttm, ttr]) => ({
        incidentId,
        declaredAt,
        severity,
        service,
        runbookId,
        drill: drill === 1,
        resolvedAt,
        timeToDetectMs: ttd,
        timeToAcknowledgeMs: tta,
        timeToMitigateMs: ttm,
        timeToResolveMs: ttr,
      }));
  }

  async getEditablePostmortem(incidentId: string): Promise<EditablePostmortem | undefined> {
    const row = this.webStatements.getEditablePostmortem.get(incidentId);
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
    const actionItems = this.webStatements.actionItemsOf.all(incidentId).map(actionItemFromRow);
    return { postmortem, version: row.version, actionItems };
  }

  async savePostmortem(
    change: PostmortemChange,
  ): Promise<{ saved: true; version: number } | { saved: false; currentVersion: number | null }> {
    const w = this.webStatements;
    return this.db
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
  }

  async listActionItems(filter: { status?: ActionItemStatus; cursor?: string; limit: number }): Promise<Page<ActionItemListing>> {
    const limit = checkLimit(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeActionItemCursor(filter.cursor);
    const rows = this.webStatements.listActionItems.all({
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
  }

  async insertSession(session: SessionRecord): Promise<void> {
    this.webStatements.insertSession.run({
      id_hash: session.idHash,
      token_id: session.tokenId,
      csrf: session.csrf,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
    });
  }

  async findSession(idHash: string, now: string): Promise<{ session: SessionRecord; token: TokenRecord } | undefined> {
    const row = this.webStatements.findSession.get(idHash, now);
    if (!row) return undefined;
    return {
      session: { idHash: row.id_hash, tokenId: row.token_id, csrf: row.csrf, createdAt: row.created_at, expiresAt: row.expires_at },
      token: { id: row.token_id, name: row.token_name, role: row.token_role, hash: row.token_hash, createdAt: row.token_created_at },
    };
  }

  async deleteSession(idHash: string): Promise<void> {
    this.webStatements.deleteSession.run(idHash);
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.webStatements.deleteExpiredSessions.run(now).changes;
  }

  /** Prepared on first use, like the others: the page's statements need migration 7's tables. */
  private get webStatements(): WebStatements {
    return (this.webPrepared ??= prepareWebStatements(this.db));
  }

  private webPrepared: WebStatements | undefined;

  async getSlackIncident(incidentId: string): Promise<SlackIncidentRecord | undefined> {
    const row = this.slackStatements.get.get(incidentId);
    return row && slackIncidentFromRow(row);
  }

  async findSlackIncidentByChannel(channelId: string): Promise<SlackIncidentRecord | undefined> {
    const row = this.slackStatements.byChannel.get(channelId);
    return row && slackIncidentFromRow(row);
  }

  async saveSlackIncident(record: SlackIncidentRecord): Promise<void> {
    this.slackStatements.save.run(slackIncidentToRow(record));
  }

  async listSlackSyncCandidates(limit: number): Promise<SlackSyncCandidate[]> {
    return this.slackStatements.candidates.all(checkLimit(limit)).map((row) => {
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
  }

  async claimSlackSyncLease(owner: string, now: string, until: string): Promise<boolean> {
    return this.slackStatements.claimLease.run({ owner, now, until }).changes === 1;
  }

  async releaseSlackSyncLease(owner: string): Promise<void> {
    this.slackStatements.releaseLease.run(owner);
  }

  /** Prepared on first use, like the others: the statements need migration 9's tables. */
  private get slackStatements(): SlackStatements {
    return (this.slackPrepared ??= prepareSlackStatements(this.db));
  }

  private slackPrepared: SlackStatements | undefined;
}

function checkLimit(limit: number): number {
  // SQLite reads a negative LIMIT as "no limit"; refuse rather than return everything.
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/**
 * Keyset paging: the cursor is the last row's (declared_at, id), and the next page starts strictly after it
 * in the same order, so the cost is one index range scan however deep the page is.
 */
function listIncidentsQuery(filter: IncidentFilter, after: Cursor | undefined, limit: number): { sql: string; params: NamedParams } {
  const conditions: string[] = [];
  const params: NamedParams = { limit };
  for (const key of LIST_KEYS) {
    const value = filter[key];
    if (value === undefined) continue;
    conditions.push(LIST_CONDITIONS[key]);
    params[key] = value;
  }
  if (after) {
    conditions.push('(declared_at, id) < (@afterDeclaredAt, @afterId)');
    params.afterDeclaredAt = after.declaredAt;
    params.afterId = after.id;
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  return { sql: `SELECT * FROM incidents ${where} ORDER BY declared_at DESC, id DESC LIMIT @limit`, params };
}

function encodeCursor(incident: IncidentRecord): string {
  const cursor: Cursor = { declaredAt: incident.declaredAt, id: incident.id };
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  // Buffer skips characters outside the alphabet, so check it to reject damaged cursors.
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  const parsed = CursorSchema.safeParse(tryParseJson(Buffer.from(cursor, 'base64url').toString('utf8')));
  if (!parsed.success) throw new InvalidCursorError();
  return parsed.data;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** For columns only this store writes, from values that were typed on the way in. */
function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

function toBit(value: boolean): Bit {
  return value ? 1 : 0;
}

function patchParams(patch: IncidentPatch): NamedParams {
  const params: NamedParams = {};
  for (const key of PATCH_KEYS) {
    const value = patch[key];
    params[`set_${key}`] = value === undefined ? 0 : 1;
    params[key] = value ?? null;
  }
  return params;
}

function incidentToRow(incident: IncidentRecord): IncidentRow {
  return {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    severity: incident.severity,
    summary: incident.summary,
    drill: toBit(incident.drill),
    trigger_kind: incident.trigger.kind,
    trigger_actor: JSON.stringify(incident.trigger.by),
    declared_at: incident.declaredAt,
    runbook_id: incident.runbookId,
    runbook_version: incident.runbookVersion,
    workflow_id: incident.workflowId,
    status: incident.status,
    phase: incident.phase,
    acknowledged_at: incident.acknowledgedAt,
    resolved_at: incident.resolvedAt,
    closed_at: incident.closedAt,
    updated_at: incident.updatedAt,
  };
}

function incidentFromRow(row: IncidentRow): IncidentRecord {
  return {
    id: row.id,
    title: row.title,
    service: row.service,
    severity: row.severity,
    summary: row.summary,
    drill: row.drill === 1,
    trigger: { kind: row.trigger_kind, by: parseJson<Actor>(row.trigger_actor) },
    declaredAt: row.declared_at,
    runbookId: row.runbook_id,
    runbookVersion: row.runbook_version,
    workflowId: row.workflow_id,
    status: row.status,
    phase: row.phase,
    acknowledgedAt: row.acknowledged_at,
    resolvedAt: row.resolved_at,
    closedAt: row.closed_at,
    updatedAt: row.updated_at,
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

function auditToRow(entry: AuditEntry): AuditRow {
  return {
    id: entry.id,
    at: entry.at,
    actor: JSON.stringify(entry.actor),
    action: entry.action,
    method: entry.method,
    path: entry.path,
    request_id: entry.requestId,
    incident_id: entry.incidentId,
    details: JSON.stringify(entry.details),
    outcome: entry.outcome,
  };
}

function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: parseJson<AuditEntry['actor']>(row.actor),
    action: row.action,
    method: row.method,
    path: row.path,
    requestId: row.request_id,
    incidentId: row.incident_id,
    details: parseJson<Record<string, unknown>>(row.details),
    outcome: row.outcome,
  };
}

interface OnCallOverrideRow {
  id: string;
  schedule_id: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  reason: string | null;
  created_at: string;
  created_by: string;
}

function prepareOnCallStatements(db: Database.Database) {
  return {
    insert: db.prepare<OnCallOverrideRow>(
      insertSql('oncall_overrides', ['id', 'schedule_id', 'person_id', 'starts_at', 'ends_at', 'reason', 'created_at', 'created_by'], ''),
    ),
    list: db.prepare<{ scheduleId: string | null; endsAfter: string | null; limit: number }, OnCallOverrideRow>(
      `SELECT * FROM oncall_overrides
       WHERE (@scheduleId IS NULL OR schedule_id = @scheduleId) AND (@endsAfter IS NULL OR ends_at > @endsAfter)
       ORDER BY created_at, id LIMIT @limit`,
    ),
    delete: db.prepare<[string, string], OnCallOverrideRow>('DELETE FROM oncall_overrides WHERE id = ? AND schedule_id = ? RETURNING *'),
  };
}
type OnCallStatements = ReturnType<typeof prepareOnCallStatements>;

function onCallOverrideToRow(o: OnCallOverrideRecord): OnCallOverrideRow {
  return {
    id: o.id,
    schedule_id: o.scheduleId,
    person_id: o.personId,
    starts_at: o.from,
    ends_at: o.to,
    reason: o.reason,
    created_at: o.createdAt,
    created_by: JSON.stringify(o.createdBy),
  };
}

function onCallOverrideFromRow(row: OnCallOverrideRow): OnCallOverrideRecord {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    personId: row.person_id,
    from: row.starts_at,
    to: row.ends_at,
    reason: row.reason,
    createdAt: row.created_at,
    createdBy: parseJson<OnCallOverrideRecord['createdBy']>(row.created_by),
  };
}

function silenceToRow(silence: SilenceRecord): SilenceRow {
  return {
    id: silence.id,
    matchers: JSON.stringify(silence.matchers),
    starts_at: silence.startsAt,
    ends_at: silence.endsAt,
    comment: silence.comment,
    created_by: JSON.stringify(silence.createdBy),
    created_at: silence.createdAt,
    updated_at: silence.updatedAt,
  };
}

function silenceFromRow(row: SilenceRow): SilenceRecord {
  return {
    id: row.id,
    matchers: parseJson<SilenceRecord['matchers']>(row.matchers),
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    comment: row.comment,
    createdBy: parseJson<SilenceRecord['createdBy']>(row.created_by),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// The managers' page (migration 7): heads for live updates, metrics, post-mortem editing, sessions.

interface MetricsRow {
  incident_id: string;
  declared_at: string;
  severity: Severity;
  service: string | null;
  runbook_id: string;
  drill: Bit;
  impact_started_at: string;
  detected_at: string;
  reported_at: string | null;
  acknowledged_at: string | null;
  mitigated_at: string | null;
  resolved_at: string | null;
  time_to_detect_ms: number;
  time_to_acknowledge_ms: number | null;
  time_to_mitigate_ms: number | null;
  time_to_resolve_ms: number | null;
  final: Bit;
  source_updated_at: string;
  source_seq: number;
  computed_at: string;
}

type MetricsPointRow = [
  string,
  string,
  Severity,
  string | null,
  string,
  Bit,
  string | null,
  number,
  number | null,
  number | null,
  number | null,
];

interface ActionItemRow {
  id: string;
  incident_id: string;
  position: number;
  title: string;
  owner: string | null;
  due: string | null;
  status: ActionItemStatus;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

interface ActionItemListingRow extends ActionItemRow {
  incident_title: string;
  incident_severity: Severity;
  incident_status: IncidentStatus;
}

interface SessionRow {
  id_hash: string;
  token_id: string;
  csrf: string;
  created_at: string;
  expires_at: string;
}

interface SessionWithTokenRow extends SessionRow {
  token_name: string;
  token_role: Role;
  token_hash: string;
  token_created_at: string;
}

const METRICS_COLUMNS = [
  'incident_id',
  'declared_at',
  'severity',
  'service',
  'runbook_id',
  'drill',
  'impact_started_at',
  'detected_at',
  'reported_at',
  'acknowledged_at',
  'mitigated_at',
  'resolved_at',
  'time_to_detect_ms',
  'time_to_acknowledge_ms',
  'time_to_mitigate_ms',
  'time_to_resolve_ms',
  'final',
  'source_updated_at',
  'source_seq',
  'computed_at',
] as const satisfies readonly (keyof MetricsRow)[];

/** Undated action items sort after every dated one. */
const NO_DUE = '9999-12-31';
const LAST_SEQ = 'coalesce((SELECT max(seq) FROM timeline_events t WHERE t.incident_id = i.id), 0)';

function prepareWebStatements(db: Database.Database) {
  const metricsUpdates = METRICS_COLUMNS.filter((c) => c !== 'incident_id' && c !== 'declared_at').map((c) => `${c} = excluded.${c}`);
  return {
    timelineHead: db.prepare<[string], { updated_at: string; max_seq: number }>(
      `SELECT i.updated_at, ${LAST_SEQ} AS max_seq FROM incidents i WHERE i.id = ?`,
    ),
    incidentsHead: db.prepare<[], { at: string | null }>('SELECT max(updated_at) AS at FROM incidents'),
    timelineByType: db.prepare<{ incidentId: string; types: string }, TimelineRow>(
      `SELECT * FROM timeline_events
       WHERE incident_id = @incidentId AND type IN (SELECT value FROM json_each(@types))
       ORDER BY seq`,
    ),
    staleMetrics: db.prepare<[number], IncidentRow & { max_seq: number }>(
      `SELECT i.*, ${LAST_SEQ} AS max_seq
       FROM incidents i LEFT JOIN incident_metrics m ON m.incident_id = i.id
       WHERE m.incident_id IS NULL
          OR (m.final = 0 AND (m.source_updated_at <> i.updated_at OR m.source_seq <> ${LAST_SEQ}))
       LIMIT ?`,
    ),
    upsertMetrics: db.prepare<MetricsRow>(
      // declared_at never changes, so the clustered key (declared_at, incident_id) is the conflict target.
      insertSql('incident_metrics', METRICS_COLUMNS, `ON CONFLICT (declared_at, incident_id) DO UPDATE SET ${metricsUpdates.join(', ')}`),
    ),
    getMetrics: db.prepare<[string], MetricsRow>('SELECT * FROM incident_metrics WHERE incident_id = ?'),
    listMetrics: db
      .prepare<{ from: string; to: string }, MetricsPointRow>(
        `SELECT incident_id, declared_at, severity, service, runbook_id, drill, resolved_at,
                time_to_detect_ms, time_to_acknowledge_ms, time_to_mitigate_ms, time_to_resolve_ms
         FROM incident_metrics WHERE declared_at >= @from AND declared_at < @to
         ORDER BY declared_at, incident_id`,
      )
      .raw(true),
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
    insertSession: db.prepare<SessionRow>(insertSql('sessions', ['id_hash', 'token_id', 'csrf', 'created_at', 'expires_at'], '')),
    findSession: db.prepare<[string, string], SessionWithTokenRow>(
      `SELECT s.*, t.name AS token_name, t.role AS token_role, t.hash AS token_hash, t.created_at AS token_created_at
       FROM sessions s JOIN tokens t ON t.id = s.token_id
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id_hash = ?'),
    deleteExpiredSessions: db.prepare<[string]>('DELETE FROM sessions WHERE expires_at <= ?'),
  };
}
type WebStatements = ReturnType<typeof prepareWebStatements>;

function metricsToRow(r: IncidentMetricsRecord): MetricsRow {
  return {
    incident_id: r.incidentId,
    declared_at: r.declaredAt,
    severity: r.severity,
    service: r.service,
    runbook_id: r.runbookId,
    drill: toBit(r.drill),
    impact_started_at: r.impactStartedAt,
    detected_at: r.detectedAt,
    reported_at: r.reportedAt,
    acknowledged_at: r.acknowledgedAt,
    mitigated_at: r.mitigatedAt,
    resolved_at: r.resolvedAt,
    time_to_detect_ms: r.timeToDetectMs,
    time_to_acknowledge_ms: r.timeToAcknowledgeMs,
    time_to_mitigate_ms: r.timeToMitigateMs,
    time_to_resolve_ms: r.timeToResolveMs,
    final: toBit(r.final),
    source_updated_at: r.sourceUpdatedAt,
    source_seq: r.sourceSeq,
    computed_at: r.computedAt,
  };
}

function metricsFromRow(row: MetricsRow): IncidentMetricsRecord {
  return {
    incidentId: row.incident_id,
    declaredAt: row.declared_at,
    severity: row.severity,
    service: row.service,
    runbookId: row.runbook_id,
    drill: row.drill === 1,
    impactStartedAt: row.impact_started_at,
    detectedAt: row.detected_at,
    reportedAt: row.reported_at,
    acknowledgedAt: row.acknowledged_at,
    mitigatedAt: row.mitigated_at,
    resolvedAt: row.resolved_at,
    timeToDetectMs: row.time_to_detect_ms,
    timeToAcknowledgeMs: row.time_to_acknowledge_ms,
    timeToMitigateMs: row.time_to_mitigate_ms,
    timeToResolveMs: row.time_to_resolve_ms,
    final: row.final === 1,
    sourceUpdatedAt: row.source_updated_at,
    sourceSeq: row.source_seq,
    computedAt: row.computed_at,
  };
}

function actionItemToRow(item: ActionItemRecord): ActionItemRow {
  return {
    id: item.id,
    incident_id: item.incidentId,
    position: item.position,
    title: item.title,
    owner: item.owner,
    due: item.due,
    status: item.status,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
    completed_at: item.completedAt,
  };
}

function actionItemFromRow(row: ActionItemRow): ActionItemRecord {
  return {
    id: row.id,
    incidentId: row.incident_id,
    position: row.position,
    title: row.title,
    owner: row.owner,
    due: row.due,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

const ActionItemCursorSchema = z.object({ due: z.string().min(1), id: z.string().min(1) });

function encodeActionItemCursor(item: ActionItemRecord): string {
  return Buffer.from(JSON.stringify({ due: item.due ?? NO_DUE, id: item.id }), 'utf8').toString('base64url');
}

function decodeActionItemCursor(cursor: string): { due: string; id: string } {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  const parsed = ActionItemCursorSchema.safeParse(tryParseJson(Buffer.from(cursor, 'base64url').toString('utf8')));
  if (!parsed.success) throw new InvalidCursorError();
  return parsed.data;
}

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

function prepareSlackStatements(db: Database.Database) {
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
type SlackStatements = ReturnType<typeof prepareSlackStatements>;

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
