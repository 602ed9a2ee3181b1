import { combineAggregates } from '../combine';
import type { Store, StoreLifecycle } from '../store';
import { openPgDb } from './db';
import type { PgDb, PgOptions } from './db';
import { migratePostgres } from './migrations';

function pgLifecycle(db: PgDb): StoreLifecycle {
  return {
    async migrate() {
      await migratePostgres(db);
    },
    async ping() {
      await db.run('SELECT 1');
    },
    async close() {
      await db.pool.end();
    },
  };
}

/** The read model on PostgreSQL (`DATABASE_URL=postgres://…`): the shape for several API and worker replicas. */
export function openPostgresStore(url: string, options: PgOptions = {}): Store {
  const db = openPgDb(url, options);
  return combineAggregates(pgLifecycle(db));
}
