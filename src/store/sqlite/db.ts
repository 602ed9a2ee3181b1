import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** SQLite has no boolean type; better-sqlite3 refuses to bind JS booleans. */
export type Bit = 0 | 1;

export type SqlValue = string | number | null;
export type NamedParams = Record<string, SqlValue>;

export function openDatabase(file: string): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  // Set first, so that switching to WAL below waits for another process instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  // Safe with WAL: a power loss may drop the last commits but never corrupts the file.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Prepared on first use, because the tables exist only after `migrate()`. */
export function preparedOnFirstUse<T>(prepare: () => T): () => T {
  let prepared: T | undefined;
  return () => (prepared ??= prepare());
}

/** Idempotent inserts say ON CONFLICT DO NOTHING rather than OR IGNORE: only duplicates are skipped, NOT NULL violations still fail. */
export function insertSql(table: string, columns: readonly string[], onConflict: string): string {
  const names = columns.join(', ');
  const values = columns.map((c) => `@${c}`).join(', ');
  return `INSERT INTO ${table} (${names}) VALUES (${values}) ${onConflict}`;
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** For columns only this store writes, from values that were typed on the way in. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function toBit(value: boolean): Bit {
  return value ? 1 : 0;
}
