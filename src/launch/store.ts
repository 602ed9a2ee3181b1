import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { openSqliteStore } from '../store/sqlite';
import type { Store } from '../store/store';

/** The read model for this process: SQLite in the data dir (PostgreSQL arrives with DATABASE_URL support). */
export async function openStore(config: Config): Promise<Store> {
  if (config.DATABASE_URL) {
    throw new Error('DATABASE_URL: the PostgreSQL read model is not available in this version; unset it to use SQLite');
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  const store = openSqliteStore(path.join(config.dataDir, 'fireline.db'));
  await store.migrate();
  return store;
}
