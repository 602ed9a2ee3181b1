import Database from 'better-sqlite3';
import { openPgDb } from './postgres/db';
import type { PgDb } from './postgres/db';

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
  'audit_log',
  'idempotency_keys',
  'oncall_overrides',
  'silences',
  'slack_incidents',
] as const;

const CHUNK = 1000;

export interface CopyProgress {
  table: string;
  /** Rows read from SQLite so far, and of those the ones PostgreSQL did not have yet. */
  copied: number;
  inserted: number;
  /** Rows of the table in SQLite and, after the copy, in PostgreSQL. */
  source: number;
  target: number;
}

export interface CopyOptions {
  /** Called after each chunk and at the end of each table. */
  onProgress?: (progress: CopyProgress) => void;
}

type Row = Record<string, string | number | null>;

export async function copySqliteToPostgres(sqliteFile: string, target: PgDb, options: CopyOptions = {}): Promise<CopyProgress[]> {
  const source = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  try {
    await target.run(
      `CREATE TABLE IF NOT EXISTS store_copy_progress (
         table_name text PRIMARY KEY, last_key jsonb NOT NULL, copied bigint NOT NULL, updated_at timestamptz NOT NULL)`,
    );
    const results: CopyProgress[] = [];
    for (const table of COPIED_TABLES) results.push(await copyTable(source, target, table, options));
    await alignSequences(source, target);
    return results;
  } finally {
    source.close();
  }
}

async function copyTable(source: Database.Database, target: PgDb, table: string, options: CopyOptions): Promise<CopyProgress> {
  const info = source.pragma(`table_info(${table})`) as { name: string; pk: number }[];
  if (!info.length) throw new Error(`store copy: the SQLite file has no table ${table}; is it a Fireline read model?`);
  const targetColumns = new Set(
    (await target.rows<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_name = $1', [table])).map(
      (r) => r.column_name,
    ),
  );
  const columns = info.map((c) => c.name).filter((c) => targetColumns.has(c));
  const missing = info.map((c) => c.name).filter((c) => !targetColumns.has(c));
  if (missing.length)
    throw new Error(`store copy: PostgreSQL table ${table} lacks ${missing.join(', ')}; run \`fireline migrate\` there first`);
  const keys = info
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  const total = (source.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const saved = await target.rows<{ last_key: (string | number)[]; copied: number }>(
    'SELECT last_key, copied FROM store_copy_progress WHERE table_name = $1',
    [table],
  );
  let lastKey = saved[0]?.last_key ?? null;
  let copied = saved[0]?.copied ?? 0;
  let inserted = 0;
  const after = `(${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})`;
  const select = (withKey: boolean) =>
    source.prepare(
      `SELECT ${columns.join(', ')} FROM ${table} ${withKey ? `WHERE ${after}` : ''} ORDER BY ${keys.join(', ')} LIMIT ${CHUNK}`,
    );
  const first = select(false);
  const next = select(true);
  const insertPrefix = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
  for (;;) {
    const rows = (lastKey ? next.all(...lastKey) : first.all()) as Row[];
    if (!rows.length) break;
    const params: unknown[] = [];
    const tuples = rows.map((row) => `(${columns.map((c) => `$${params.push(row[c])}`).join(', ')})`);
    const last = rows[rows.length - 1]!;
    lastKey = keys.map((k) => last[k] as string | number);
    inserted += await target.tx(async (client) => {
      const n = await target.run(`${insertPrefix}${tuples.join(', ')} ON CONFLICT DO NOTHING`, params, client);
      await target.run(
        `INSERT INTO store_copy_progress (table_name, last_key, copied, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (table_name) DO UPDATE SET last_key = excluded.last_key, copied = excluded.copied, updated_at = now()`,
        [table, JSON.stringify(lastKey), copied + rows.length],
        client,
      );
      return n;
    });
    copied += rows.length;
    options.onProgress?.({ table, copied, inserted, source: total, target: -1 });
  }
  const inTarget = (await target.rows<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${table}`))[0]!.n;
  const progress = { table, copied, inserted, source: total, target: inTarget };
  options.onProgress?.(progress);
  return progress;
}

/** Incident numbers and inbox ids go on after the highest copied one, never reusing one. */
async function alignSequences(source: Database.Database, target: PgDb): Promise<void> {
  const incident =
    (source.prepare("SELECT value FROM sequences WHERE name = 'incident'").get() as { value: number } | undefined)?.value ?? 0;
  if (incident > 0) {
    await target.run(
      "SELECT setval('incident_number', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM incident_number)))",
      [incident],
    );
  }
  await target.run(
    "SELECT setval(pg_get_serial_sequence('alert_inbox', 'id'), greatest((SELECT coalesce(max(id), 0) FROM alert_inbox), 1), (SELECT count(*) > 0 FROM alert_inbox))",
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
