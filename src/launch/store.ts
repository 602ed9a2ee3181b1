import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { openPostgresStore } from '../store/postgres';
import { openSqliteStore } from '../store/sqlite';
import type { Store } from '../store/store';

/** Where the embedded read model lives: one SQLite file in the data dir. */
export function sqliteFile(config: Config): string {
  return path.join(config.dataDir, 'fireline.db');
}

/** The read model as the logs and the CLI may show it: the engine and where, never a password. */
export function describeStore(config: Config): string {
  if (!config.DATABASE_URL) return `SQLite ${sqliteFile(config)}`;
  return `PostgreSQL ${redactUrl(config.DATABASE_URL)}`;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * The read model for this process: PostgreSQL when DATABASE_URL is set (every replica of the scaled shape), else
 * SQLite in the data dir. Migrations run here unless told not to: safe from several processes at once (an
 * advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), and `fireline migrate` runs them ahead of a deploy.
 */
export async function openStore(config: Config, options: { migrate?: boolean } = {}): Promise<Store> {
  let store: Store;
  if (config.DATABASE_URL) {
    store = openPostgresStore(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, applicationName: 'fireline' });
  } else {
    fs.mkdirSync(config.dataDir, { recursive: true });
    store = openSqliteStore(sqliteFile(config));
  }
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }
  return store;
}
