import type Database from 'better-sqlite3';
import { chainExistingAudit } from './audit';

/**
 * Schema of the SQLite read model, as ordered, append-only migrations: never edit one that has shipped,
 * add a new one. Timestamps are ISO-8601 UTC text (`Date#toISOString`), so text order is time order.
 * Booleans are 0/1 and JSON columns are text. The PostgreSQL store keeps its own list with native types.
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
  /** A step in TypeScript after the SQL, in the same transaction (for what SQL cannot compute, such as a hash). */
  readonly after?: (db: Database.Database) => void;
}

/** Created before any migration runs so that `migrate()` can tell which ones are applied. */
export const SCHEMA_MIGRATIONS_SQL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
);`;

/*
 * No foreign keys to incidents: rows are written by independent, retried activities, and a timeline or
 * outbox write must not fail because the incident row has not landed yet.
 * Each incidents filter index ends in (declared_at, id), the list order, so a filtered page is one index
 * range scan without a sort.
 */
const INITIAL = `
CREATE TABLE sequences (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('incident', 0);

CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  service TEXT,
  severity TEXT NOT NULL,
  summary TEXT,
  drill INTEGER NOT NULL CHECK (drill IN (0, 1)),
  trigger_kind TEXT NOT NULL,
  trigger_actor TEXT NOT NULL,
  declared_at TEXT NOT NULL,
  runbook_id TEXT NOT NULL,
  runbook_version TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  status TEXT NOT NULL,
  phase TEXT NOT NULL,
  acknowledged_at TEXT,
  resolved_at TEXT,
  closed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX incidents_declared_at ON incidents (declared_at, id);
CREATE INDEX incidents_status ON incidents (status, declared_at, id);
CREATE INDEX incidents_severity ON incidents (severity, declared_at, id);
CREATE INDEX incidents_service ON incidents (service, declared_at, id);
CREATE INDEX incidents_runbook ON incidents (runbook_id, declared_at, id);

CREATE TABLE timeline_events (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  phase TEXT NOT NULL,
  actor TEXT NOT NULL,
  summary TEXT NOT NULL,
  data TEXT NOT NULL,
  UNIQUE (incident_id, seq)
);

CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  drill INTEGER NOT NULL CHECK (drill IN (0, 1)),
  created_at TEXT NOT NULL
);
CREATE INDEX outbox_created_at ON outbox (created_at, id);
CREATE INDEX outbox_incident ON outbox (incident_id, created_at, id);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  request_id TEXT NOT NULL,
  incident_id TEXT,
  details TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_incident ON audit_log (incident_id, at, id);
`;

/** One post-mortem per incident; the draft is written once and then belongs to the people editing it. */
const POSTMORTEMS = `
CREATE TABLE postmortems (
  incident_id TEXT PRIMARY KEY,
  template TEXT NOT NULL,
  status TEXT NOT NULL,
  due_at TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX postmortems_due ON postmortems (status, due_at);
`;

/** Client-supplied Idempotency-Key → what the first request made, so a retried request finds it. */
const IDEMPOTENCY_KEYS = `
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (scope, key)
);
`;

/**
 * Alert groups name the incident their alerts go to (one open incident per group at a time); alerts keep the
 * last state of every fingerprint episode, written by the incident workflow.
 */
const ALERTS = `
CREATE TABLE alert_groups (
  integration TEXT NOT NULL,
  group_key TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (integration, group_key)
);
CREATE TABLE alerts (
  incident_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  status TEXT NOT NULL,
  ends_at TEXT,
  summary TEXT NOT NULL,
  labels TEXT NOT NULL,
  source TEXT NOT NULL,
  received INTEGER NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  PRIMARY KEY (incident_id, fingerprint, starts_at)
);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, starts_at);
`;

/**
 * On-call overrides made through the API (config/oncall.yaml holds the others). Read by schedule and end, so
 * the current and future ones are one index range.
 */
const ONCALL_OVERRIDES = `
CREATE TABLE oncall_overrides (
  id TEXT PRIMARY KEY,
  schedule_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  ends_at TEXT NOT NULL,
  reason TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX oncall_overrides_schedule ON oncall_overrides (schedule_id, ends_at);
CREATE INDEX oncall_overrides_ends ON oncall_overrides (ends_at);
`;

/** Every page to every contact: what the escalation did, shown on the timeline and used for throttling. */
const PAGES = `
CREATE TABLE pages (
  key TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  level INTEGER NOT NULL,
  person_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT,
  provider_id TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX pages_incident ON pages (incident_id, updated_at);
CREATE INDEX pages_recipient ON pages (channel, recipient, status, updated_at);
`;

/**
 * Silences (maintenance windows): label matchers and a time range. Expiring one moves its end to the expiry time,
 * so the history of what was silenced when stays answerable.
 */
const SILENCES = `
CREATE TABLE silences (
  id TEXT PRIMARY KEY,
  matchers TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  ends_at TEXT NOT NULL,
  comment TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX silences_ends_at ON silences (ends_at, starts_at);
`;

/**
 * What the managers' page needs. Post-mortems get a version for optimistic concurrency and action items of
 * their own (listed across incidents by status and due date). Sessions of the page are stored by the sha256 of
 * their id. `incident_metrics` caches each incident's milestones with the dimensions summaries group by,
 * recomputed from the timeline while the incident is open and kept once it is closed (`final`). It is clustered
 * by declaration time, so a summary over a range of 10,000 incidents reads one contiguous stretch of one table.
 */
const WEB_AND_METRICS = `
ALTER TABLE postmortems ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE action_items (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  title TEXT NOT NULL,
  owner TEXT,
  due TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'done')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  completed_at TEXT
);
CREATE INDEX action_items_incident ON action_items (incident_id, position);
CREATE INDEX action_items_status ON action_items (status, coalesce(due, '9999-12-31'), id);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  token_id TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE incident_metrics (
  incident_id TEXT NOT NULL,
  declared_at TEXT NOT NULL,
  severity TEXT NOT NULL,
  service TEXT,
  runbook_id TEXT NOT NULL,
  drill INTEGER NOT NULL CHECK (drill IN (0, 1)),
  impact_started_at TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  reported_at TEXT,
  acknowledged_at TEXT,
  mitigated_at TEXT,
  resolved_at TEXT,
  time_to_detect_ms INTEGER NOT NULL,
  time_to_acknowledge_ms INTEGER,
  time_to_mitigate_ms INTEGER,
  time_to_resolve_ms INTEGER,
  final INTEGER NOT NULL CHECK (final IN (0, 1)),
  source_updated_at TEXT NOT NULL,
  source_seq INTEGER NOT NULL,
  computed_at TEXT NOT NULL,
  PRIMARY KEY (declared_at, incident_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX incident_metrics_incident ON incident_metrics (incident_id);

CREATE INDEX incidents_updated_at ON incidents (updated_at);
`;

/**
 * Slack: each incident's channel and pinned live card, written by the worker's sync loop so a restart or a retry
 * never makes a second channel or card. `synced_*` are the incident row's `updated_at` and last timeline seq the
 * card shows; `posted_seq` is the last timeline event echoed into the channel. One lease row keeps a single sync
 * loop active when several workers share the read model.
 */
const SLACK = `
CREATE TABLE slack_incidents (
  incident_id TEXT PRIMARY KEY,
  channel_id TEXT,
  channel_name TEXT NOT NULL,
  card_ts TEXT,
  pinned INTEGER NOT NULL CHECK (pinned IN (0, 1)),
  invited TEXT NOT NULL,
  card_hash TEXT,
  synced_updated_at TEXT,
  synced_seq INTEGER NOT NULL,
  posted_seq INTEGER NOT NULL,
  final INTEGER NOT NULL CHECK (final IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX slack_incidents_channel ON slack_incidents (channel_id);
CREATE INDEX slack_incidents_final ON slack_incidents (final, incident_id);

CREATE TABLE slack_sync_lease (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
`;

/**
 * The alert inbox: an alert is accepted (202) once it is here; a forwarder moves it into its incident's
 * workflow in paced batches. Incident starts wait here until Temporal has them.
 */
const ALERT_INBOX = `
CREATE TABLE alert_inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id TEXT NOT NULL,
  alert TEXT NOT NULL,
  received_at TEXT NOT NULL,
  forwarded_at TEXT
);
CREATE INDEX alert_inbox_pending ON alert_inbox (incident_id, id) WHERE forwarded_at IS NULL;
CREATE TABLE incident_starts (
  incident_id TEXT PRIMARY KEY,
  args TEXT NOT NULL,
  started_at TEXT
);
`;

/**
 * Several replicas share the work: leases (one owner at a time, lapsing at expiry) guard forwarding an incident's
 * inbox and deciding a contact's page throttle. `batch` marks the rows taken into a batch (its first row's id) until they are forwarded, so a batch its
 * forwarder died with goes again unchanged.
 */
const ALERT_FORWARDING = `
ALTER TABLE alert_inbox ADD COLUMN batch INTEGER;
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
`;

/** Failed authentication per door and client address, per window (src/services/auth-throttle.ts). */
/** Tokens may expire and be revoked (kept, so the audit log's token ids still resolve), and tell when last used. */
const TOKEN_LIFECYCLE = `
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE tokens ADD COLUMN revoked_at TEXT;
CREATE INDEX sessions_token ON sessions (token_id);
`;

const AUTH_FAILURES = `
CREATE TABLE auth_failures (
  key TEXT NOT NULL,
  window_start TEXT NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX auth_failures_window ON auth_failures (window_start);
`;

/**
 * The audit log becomes a hash chain (src/audit/chain.ts): seq, prev_hash and hash on every entry and the chain's
 * head in audit_chain. The entries already there are chained by the migration's TypeScript step, oldest first.
 */
const AUDIT_CHAIN = `
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE TABLE audit_chain (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
`;

/**
 * Single sign-on: logins between the redirect to the OpenID provider and its callback (single use, ~10 minutes),
 * and the page sessions of people signed in through it. In the read model, not in memory, so any API replica can
 * take the callback.
 */
const OIDC = `
CREATE TABLE oidc_logins (
  state_hash TEXT PRIMARY KEY,
  browser_hash TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  nonce TEXT NOT NULL,
  return_to TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX oidc_logins_expires_at ON oidc_logins (expires_at);
CREATE TABLE oidc_sessions (
  id_hash TEXT PRIMARY KEY,
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  role TEXT NOT NULL
);
CREATE INDEX oidc_sessions_expires_at ON oidc_sessions (expires_at);
`;

export const MIGRATIONS: readonly Migration[] = [
  { id: 1, name: 'initial', sql: INITIAL },
  { id: 2, name: 'postmortems', sql: POSTMORTEMS },
  { id: 3, name: 'idempotency-keys', sql: IDEMPOTENCY_KEYS },
  { id: 4, name: 'alerts', sql: ALERTS },
  { id: 5, name: 'silences', sql: SILENCES },
  { id: 6, name: 'oncall-overrides', sql: ONCALL_OVERRIDES },
  { id: 7, name: 'web-and-metrics', sql: WEB_AND_METRICS },
  { id: 8, name: 'pages', sql: PAGES },
  { id: 9, name: 'slack', sql: SLACK },
  { id: 10, name: 'alert-inbox', sql: ALERT_INBOX },
  { id: 11, name: 'leases-and-alert-batches', sql: ALERT_FORWARDING },
  { id: 12, name: 'audit-chain', sql: AUDIT_CHAIN, after: chainExistingAudit },
  { id: 13, name: 'token-lifecycle', sql: TOKEN_LIFECYCLE },
  { id: 14, name: 'auth-failures', sql: AUTH_FAILURES },
  { id: 15, name: 'oidc', sql: OIDC },
];

/** Applies the migrations not applied yet; safe to run from several processes at once. */
export function migrate(db: Database.Database): void {
  db.exec(SCHEMA_MIGRATIONS_SQL);
  for (const migration of MIGRATIONS) applyMigration(db, migration);
}

/**
 * Checks without a lock first so that up-to-date processes never take the write lock, then re-checks under
 * BEGIN IMMEDIATE, because another process may have applied the migration in between.
 */
function applyMigration(db: Database.Database, migration: Migration): void {
  if (isApplied(db, migration.id)) return;
  const apply = db.transaction(() => {
    if (isApplied(db, migration.id)) return;
    db.exec(migration.sql);
    migration.after?.(db);
    db.prepare<[number, string, string]>('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
      migration.id,
      migration.name,
      new Date().toISOString(),
    );
  });
  apply.immediate();
}

function isApplied(db: Database.Database, id: number): boolean {
  return db.prepare<[number], { id: number }>('SELECT id FROM schema_migrations WHERE id = ?').get(id) !== undefined;
}
