import type pg from 'pg';
import { chainExistingAuditPg } from './audit';
import type { PgDb } from './db';

/**
 * Schema of the PostgreSQL read model, as ordered, append-only migrations: never edit one that has shipped, add
 * a new one. It holds the same tables as the SQLite schema (src/store/sqlite/migrations.ts) with native types:
 * timestamptz, boolean, jsonb, a sequence for incident numbers. No foreign keys to incidents, for the same reason
 * as there: rows come from independent, retried activities in any order. Ids that break ties in a list order are
 * COLLATE "C" (byte order, as SQLite compares text) whatever the database's locale, and so is every incident_id:
 * joined to incidents.id in another collation, the (incident_id, …) indexes would not apply. incident_metrics keeps SQLite's
 * clustered key (declared_at, incident_id) as a unique index: it is the upsert's conflict target on both engines.
 */
export interface PgMigration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
  /** A step in TypeScript after the SQL, in the same transaction (for what SQL cannot compute, such as a hash). */
  readonly after?: (db: PgDb, client: pg.PoolClient) => Promise<void>;
}

const INITIAL = `
CREATE SEQUENCE incident_number AS bigint MINVALUE 1;

CREATE TABLE incidents (
  id text COLLATE "C" PRIMARY KEY,
  title text NOT NULL,
  service text,
  severity text NOT NULL,
  summary text,
  drill boolean NOT NULL,
  trigger_kind text NOT NULL,
  trigger_actor text NOT NULL,
  declared_at timestamptz NOT NULL,
  runbook_id text NOT NULL,
  runbook_version text NOT NULL,
  workflow_id text NOT NULL,
  status text NOT NULL,
  phase text NOT NULL,
  acknowledged_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  updated_at timestamptz NOT NULL
);
CREATE INDEX incidents_declared_at ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_status ON incidents (status, declared_at DESC, id DESC);
CREATE INDEX incidents_severity ON incidents (severity, declared_at DESC, id DESC);
CREATE INDEX incidents_service ON incidents (service, declared_at DESC, id DESC);
CREATE INDEX incidents_runbook ON incidents (runbook_id, declared_at DESC, id DESC);
CREATE INDEX incidents_updated_at ON incidents (updated_at);

CREATE TABLE timeline_events (
  id text PRIMARY KEY,
  incident_id text COLLATE "C" NOT NULL,
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  type text NOT NULL,
  phase text NOT NULL,
  actor text NOT NULL,
  summary text NOT NULL,
  data jsonb NOT NULL,
  UNIQUE (incident_id, seq)
);

CREATE TABLE outbox (
  id text COLLATE "C" PRIMARY KEY,
  incident_id text COLLATE "C" NOT NULL,
  channel text NOT NULL,
  recipient text,
  subject text NOT NULL,
  body text NOT NULL,
  drill boolean NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX outbox_created_at ON outbox (created_at, id);
CREATE INDEX outbox_incident ON outbox (incident_id, created_at, id);

CREATE TABLE tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);

CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  token_id text NOT NULL,
  csrf text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE audit_log (
  id text COLLATE "C" PRIMARY KEY,
  at timestamptz NOT NULL,
  actor jsonb NOT NULL,
  action text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  request_id text NOT NULL,
  incident_id text COLLATE "C",
  details jsonb NOT NULL,
  outcome text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_incident ON audit_log (incident_id, at, id);

CREATE TABLE postmortems (
  incident_id text COLLATE "C" PRIMARY KEY,
  template text NOT NULL,
  status text NOT NULL,
  due_at timestamptz NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version integer NOT NULL DEFAULT 1
);
CREATE INDEX postmortems_due ON postmortems (status, due_at);

CREATE TABLE action_items (
  id text COLLATE "C" PRIMARY KEY,
  incident_id text COLLATE "C" NOT NULL,
  position integer NOT NULL,
  title text NOT NULL,
  owner text,
  due date,
  status text NOT NULL CHECK (status IN ('open', 'done')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX action_items_incident ON action_items (incident_id, position);
CREATE INDEX action_items_status ON action_items (status, coalesce(due, '9999-12-31'::date), id);

CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);

CREATE TABLE alert_groups (
  integration text NOT NULL,
  group_key text NOT NULL,
  incident_id text COLLATE "C" NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (integration, group_key)
);

CREATE TABLE alerts (
  incident_id text COLLATE "C" NOT NULL,
  fingerprint text COLLATE "C" NOT NULL,
  starts_at timestamptz NOT NULL,
  status text NOT NULL,
  ends_at timestamptz,
  summary text NOT NULL,
  labels jsonb NOT NULL,
  source text NOT NULL,
  received integer NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (incident_id, fingerprint, starts_at)
);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, starts_at);

CREATE TABLE alert_inbox (
  id bigserial PRIMARY KEY,
  incident_id text COLLATE "C" NOT NULL,
  alert jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  forwarded_at timestamptz,
  -- The batch (its first row's id) a forwarder took this row into; kept until forwarded, so a batch whose
  -- forwarder died goes again unchanged and the workflow recognises the repeat.
  batch bigint
);
CREATE INDEX alert_inbox_pending ON alert_inbox (incident_id, id) WHERE forwarded_at IS NULL;

CREATE TABLE incident_starts (
  incident_id text COLLATE "C" PRIMARY KEY,
  args jsonb NOT NULL,
  started_at timestamptz
);

CREATE TABLE leases (
  name text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE TABLE oncall_overrides (
  id text COLLATE "C" PRIMARY KEY,
  schedule_id text NOT NULL,
  person_id text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  reason text,
  created_at timestamptz NOT NULL,
  created_by jsonb NOT NULL
);
CREATE INDEX oncall_overrides_schedule ON oncall_overrides (schedule_id, ends_at);
CREATE INDEX oncall_overrides_ends ON oncall_overrides (ends_at);

CREATE TABLE pages (
  key text COLLATE "C" PRIMARY KEY,
  incident_id text COLLATE "C" NOT NULL,
  step_id text NOT NULL,
  round integer NOT NULL,
  level integer NOT NULL,
  person_id text NOT NULL,
  channel text NOT NULL,
  recipient text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  error text,
  provider_id text,
  updated_at timestamptz NOT NULL
);
CREATE INDEX pages_incident ON pages (incident_id, updated_at);
CREATE INDEX pages_recipient ON pages (channel, recipient, status, updated_at);

CREATE TABLE silences (
  id text COLLATE "C" PRIMARY KEY,
  matchers jsonb NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  comment text NOT NULL,
  created_by jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX silences_ends_at ON silences (ends_at, starts_at);

CREATE TABLE incident_metrics (
  incident_id text COLLATE "C" PRIMARY KEY,
  declared_at timestamptz NOT NULL,
  severity text NOT NULL,
  service text,
  runbook_id text NOT NULL,
  drill boolean NOT NULL,
  impact_started_at timestamptz NOT NULL,
  detected_at timestamptz NOT NULL,
  reported_at timestamptz,
  acknowledged_at timestamptz,
  mitigated_at timestamptz,
  resolved_at timestamptz,
  time_to_detect_ms bigint NOT NULL,
  time_to_acknowledge_ms bigint,
  time_to_mitigate_ms bigint,
  time_to_resolve_ms bigint,
  final boolean NOT NULL,
  source_updated_at timestamptz NOT NULL,
  source_seq integer NOT NULL,
  computed_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX incident_metrics_declared ON incident_metrics (declared_at, incident_id);

CREATE TABLE slack_incidents (
  incident_id text COLLATE "C" PRIMARY KEY,
  channel_id text,
  channel_name text NOT NULL,
  card_ts text,
  pinned boolean NOT NULL,
  invited jsonb NOT NULL,
  card_hash text,
  synced_updated_at timestamptz,
  synced_seq integer NOT NULL,
  posted_seq integer NOT NULL,
  final boolean NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX slack_incidents_channel ON slack_incidents (channel_id);
CREATE INDEX slack_incidents_final ON slack_incidents (final, incident_id);

CREATE TABLE slack_sync_lease (
  name text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);
`;

/** Failed authentication per door and client address, per window (src/services/auth-throttle.ts). */
/** Tokens may expire and be revoked (kept, so the audit log's token ids still resolve), and tell when last used. */
const TOKEN_LIFECYCLE = `
ALTER TABLE tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE tokens ADD COLUMN last_used_at timestamptz;
ALTER TABLE tokens ADD COLUMN revoked_at timestamptz;
CREATE INDEX sessions_token ON sessions (token_id);
`;

const AUTH_FAILURES = `
CREATE TABLE auth_failures (
  key text COLLATE "C" NOT NULL,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX auth_failures_window ON auth_failures (window_start);
`;

/**
 * The audit log becomes a hash chain (src/audit/chain.ts): seq, prev_hash and hash on every entry and the chain's
 * head in audit_chain, whose row appends lock. The step chains the entries already there, then makes the columns
 * NOT NULL and seq unique.
 */
const AUDIT_CHAIN = `
ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash text, ADD COLUMN hash text;
CREATE TABLE audit_chain (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_chain (id, seq, hash) VALUES (1, 0, repeat('0', 64));
`;

/** Single sign-on: pending logins and the sessions of people signed in through the OpenID provider. */
const OIDC = `
CREATE TABLE oidc_logins (
  state_hash text PRIMARY KEY,
  browser_hash text NOT NULL,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  return_to text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX oidc_logins_expires_at ON oidc_logins (expires_at);
CREATE TABLE oidc_sessions (
  id_hash text PRIMARY KEY,
  csrf text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  issuer text NOT NULL,
  subject text NOT NULL,
  name text NOT NULL,
  email text,
  role text NOT NULL
);
CREATE INDEX oidc_sessions_expires_at ON oidc_sessions (expires_at);
`;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  { id: 1, name: 'initial', sql: INITIAL },
  { id: 2, name: 'audit-chain', sql: AUDIT_CHAIN, after: chainExistingAuditPg },
  { id: 3, name: 'token-lifecycle', sql: TOKEN_LIFECYCLE },
  { id: 4, name: 'auth-failures', sql: AUTH_FAILURES },
  { id: 5, name: 'oidc', sql: OIDC },
];

/** Any constant: all Fireline processes on one database agree on it, nothing else there takes it. */
const MIGRATION_LOCK = 0x66697265; // 'fire'

/**
 * Applies the migrations not applied yet. Two replicas starting at once serialize on a session advisory lock
 * held for the whole run; the second finds everything applied. Each migration commits with its row in
 * `schema_migrations`, so a run killed halfway resumes at the first migration that did not commit.
 */
export async function migratePostgres(db: PgDb, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number[]> {
  const client = await db.pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)',
      );
      const done = new Set((await client.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
      for (const migration of migrations) {
        if (done.has(migration.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await migration.after?.(db, client);
          await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, now())', [migration.id, migration.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`PostgreSQL migration ${migration.id} (${migration.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(migration.id);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
  return applied;
}
