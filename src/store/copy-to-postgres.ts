import Database from 'better-sqlite3';
import { openPgDb } from './postgres/db';
import type { PgDb } from './postgres/db';
import { MIGRATIONS } from './sqlite/migrations';

/**
 * Moving an embedded install up: copies the SQLite read model into PostgreSQL, table by table, in primary-key
 * order and in chunks. Idempotent (a row already there is left alone) and resumable (each table's last copied key
 * is kept in PostgreSQL, so a copy killed halfway goes on where it stopped). Both schemas have the same tables
 * and column names; PostgreSQL parses the ISO times, 0/1 booleans and JSON text into its native types.
 */

/** What is copied, in this order. Leases (Slack sync, alert forwarding) are not: they belong to running processes. */
export const COPIED_TABLES = [
  'incidents',
  'timeline_events',
  'postmortems',
  'action_items',
  'incident_metrics',
  'alert_groups',
  'alerts',
  'alert_inbox',
  'incident_starts',
  'pages',
  'outbox',
  'tokens',
  'sessions',
  'oidc_sessions',
  'audit_log',
  'idempotency_keys',
  'oncall_overrides',
  'silences',
  'slack_incidents',
] as const;

const CHUNK = 1000;

export interface CopyProgress {
  table: string;
  /** Rows read from SQLite so far in this pass, and of those the ones this run inserted (PostgreSQL did not have them). */
  copied: number;
  inserted: number;
  /** Rows of the table in SQLite and, after the copy, in PostgreSQL (-1 while the table is being copied). */
  source: number;
  target: number;
  /** Finished by an earlier, interrupted run of this pass: not read again. */
  resumed?: boolean;
}

export interface CopyOptions {
  /** Called after each chunk and at the end of each table. */
  onProgress?: (progress: CopyProgress) => void;
}

type Row = Record<string, string | number | null>;

interface SavedProgress {
  table_name: string;
  last_key: (string | number)[] | null;
  copied: number;
  finished_at: string | null;
}

/** Any constant: two copies into one database at once would interleave their progress. */
const COPY_LOCK = 0x636f7079; // 'copy'

/**
 * A pass copies every table once. A run that finds a pass unfinished (a copy killed halfway) resumes it: finished
 * tables are not read again, the interrupted one goes on after its last copied key. A run after a finished pass
 * starts a new one from the first key of every table, so rows the embedded install wrote since the last copy
 * arrive too (whatever their key), and rows already there are left alone.
 */
export async function copySqliteToPostgres(sqliteFile: string, target: PgDb, options: CopyOptions = {}): Promise<CopyProgress[]> {
  const source = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  const lock = await target.pool.connect();
  try {
    checkSourceSchema(source);
    const [{ locked } = { locked: false }] = (
      await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [COPY_LOCK])
    ).rows;
    if (!locked) throw new Error('store copy: another `fireline store copy` is writing into this database; wait for it to finish');
    await target.run(
      `CREATE TABLE IF NOT EXISTS store_copy_progress (
         table_name text PRIMARY KEY, last_key jsonb, copied bigint NOT NULL, finished_at timestamptz, updated_at timestamptz NOT NULL)`,
    );
    let saved = await target.rows<SavedProgress>('SELECT table_name, last_key, copied, finished_at FROM store_copy_progress');
    const resuming = saved.some((r) => COPIED_TABLES.includes(r.table_name as CopiedTable) && r.finished_at === null);
    if (!resuming) {
      await target.tx(async (client) => {
        await target.run('DELETE FROM store_copy_progress', [], client);
        await target.run(
          `INSERT INTO store_copy_progress (table_name, last_key, copied, finished_at, updated_at)
           SELECT t, NULL, 0, NULL, now() FROM unnest($1::text[]) AS t`,
          [[...COPIED_TABLES]],
          client,
        );
      });
      saved = [];
    }
    const byTable = new Map(saved.map((r) => [r.table_name, r]));
    const results: CopyProgress[] = [];
    for (const table of COPIED_TABLES) results.push(await copyTable(source, target, table, byTable.get(table), options));
    await alignSequences(source, target);
    return results;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [COPY_LOCK]).catch(() => undefined);
    lock.release();
    source.close();
  }
}

type CopiedTable = (typeof COPIED_TABLES)[number];

/** The copy reads the current schema's columns: an older file must be migrated by this version first. */
function checkSourceSchema(source: Database.Database): void {
  let hasMigrations: unknown;
  try {
    hasMigrations = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  } catch (err) {
    throw new Error(`store copy: cannot read the SQLite file (${(err as Error).message})`, { cause: err });
  }
  if (!hasMigrations) throw new Error('store copy: the SQLite file has no schema_migrations table; is it a Fireline read model?');
  const at = (source.prepare('SELECT coalesce(max(id), 0) AS id FROM schema_migrations').get() as { id: number }).id;
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.id;
  if (at < latest)
    throw new Error(
      `store copy: the SQLite read model is at migration ${at} of ${latest}; bring it up to date first ` +
        '(`fireline migrate` with FIRELINE_DATA_DIR set to its data dir and no DATABASE_URL)',
    );
  if (at > latest) throw new Error(`store copy: the SQLite read model is at migration ${at}, newer than this Fireline (${latest})`);
}

async function copyTable(
  source: Database.Database,
  target: PgDb,
  table: string,
  saved: SavedProgress | undefined,
  options: CopyOptions,
): Promise<CopyProgress> {
  const info = source.pragma(`table_info(${table})`) as { name: string; pk: number }[];
  if (!info.length) throw new Error(`store copy: the SQLite file has no table ${table}; is it a Fireline read model?`);
  const targetColumns = new Set(
    (
      await target.rows<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
        [table],
      )
    ).map((r) => r.column_name),
  );
  const columns = info.map((c) => c.name);
  const missing = columns.filter((c) => !targetColumns.has(c));
  if (missing.length)
    throw new Error(`store copy: PostgreSQL table ${table} lacks ${missing.join(', ')}; run \`fireline migrate\` there first`);
  const keys = info
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  const total = (source.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const countTarget = async () => (await target.rows<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${table}`))[0]!.n;
  if (saved?.finished_at) {
    const progress = { table, copied: saved.copied, inserted: 0, source: total, target: await countTarget(), resumed: true };
    options.onProgress?.(progress);
    return progress;
  }
  let lastKey = saved?.last_key ?? null;
  let copied = saved?.copied ?? 0;
  let inserted = 0;
  const after = `(${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})`;
  const select = (withKey: boolean) =>
    source.prepare(
      `SELECT ${columns.join(', ')} FROM ${table} ${withKey ? `WHERE ${after}` : ''} ORDER BY ${keys.join(', ')} LIMIT ${CHUNK}`,
    );
  const first = select(false);
  const next = select(true);
  const insertPrefix = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
  const saveProgress =
    'UPDATE store_copy_progress SET last_key = $2, copied = $3, finished_at = $4, updated_at = now() WHERE table_name = $1';
  for (;;) {
    const rows = (lastKey ? next.all(...lastKey) : first.all()) as Row[];
    if (!rows.length) break;
    const params: unknown[] = [];
    const tuples = rows.map((row) => `(${columns.map((c) => `$${params.push(row[c])}`).join(', ')})`);
    const last = rows[rows.length - 1]!;
    const chunkKey = keys.map((k) => last[k] as string | number);
    // The rows and the key after them commit together: a run killed between chunks copies none twice, skips none.
    inserted += await target.tx(async (client) => {
      const n = await target.run(`${insertPrefix}${tuples.join(', ')} ON CONFLICT DO NOTHING`, params, client);
      await target.run(saveProgress, [table, JSON.stringify(chunkKey), copied + rows.length, null], client);
      return n;
    });
    lastKey = chunkKey;
    copied += rows.length;
    options.onProgress?.({ table, copied, inserted, source: total, target: -1 });
  }
  await target.run(saveProgress, [table, lastKey ? JSON.stringify(lastKey) : null, copied, new Date().toISOString()]);
  const progress = { table, copied, inserted, source: total, target: await countTarget() };
  options.onProgress?.(progress);
  return progress;
}

/**
 * Incident numbers, inbox ids and the audit chain go on after the highest the embedded install handed out, never reusing one: an
 * inbox id names a batch the incident's workflow may have applied, and a repeat of it is dropped.
 */
async function alignSequences(source: Database.Database, target: PgDb): Promise<void> {
  const incident =
    (source.prepare("SELECT value FROM sequences WHERE name = 'incident'").get() as { value: number } | undefined)?.value ?? 0;
  if (incident > 0) {
    await target.run(
      "SELECT setval('incident_number', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM incident_number)))",
      [incident],
    );
  }
  // The audit chain's head moves to the last copied entry, so the next entry links to it.
  await target.run(
    `UPDATE audit_chain SET (seq, hash) = (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1)
      WHERE id = 1 AND (SELECT max(seq) FROM audit_log) > seq`,
  );
  const inbox =
    (source.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'alert_inbox'").get() as { seq: number } | undefined)?.seq ?? 0;
  await target.run(
    `SELECT setval(pg_get_serial_sequence('alert_inbox', 'id'), greatest(m, 1), m > 0)
        FROM (SELECT greatest($1::bigint, (SELECT coalesce(max(id), 0) FROM alert_inbox)) AS m) AS high`,
    [inbox],
  );
}

/** `fireline store copy`: the copy on a connection of its own to `url`, whose schema is already migrated. */
export async function copyStoreToPostgres(
  sqliteFile: string,
  url: string,
  onProgress?: (progress: CopyProgress) => void,
): Promise<CopyProgress[]> {
  const db = openPgDb(url, { max: 2, applicationName: 'fireline store copy' });
  try {
    return await copySqliteToPostgres(sqliteFile, db, { onProgress });
  } finally {
    await db.pool.end();
  }
}
