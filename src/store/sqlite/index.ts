import type Database from 'better-sqlite3';
import { combineAggregates } from '../combine';
import type { Store, StoreLifecycle } from '../store';
import { sqliteAlerts } from './alerts';
import { sqliteAudit } from './audit';
import { sqliteAuth } from './auth';
import { sqliteAuthThrottle } from './auth-throttle';
import { openDatabase } from './db';
import { sqliteIdempotency } from './idempotency';
import { sqliteIncidents } from './incidents';
import { sqliteMetrics } from './metrics';
import { migrate } from './migrations';
import { sqliteOidc } from './oidc';
import { sqliteOnCall } from './oncall';
import { sqliteOutbox } from './outbox';
import { sqlitePaging } from './paging';
import { sqlitePostmortems } from './postmortems';
import { sqliteSilences } from './silences';
import { sqliteSlack } from './slack';
import { sqliteLeases } from './leases';
import { sqliteTimeline } from './timeline';

/** The embedded read model: one SQLite file (or `:memory:`), shared safely by several processes through WAL. */
export function openSqliteStore(file: string): Store {
  const db = openDatabase(file);
  return combineAggregates(
    sqliteLifecycle(db),
    sqliteIncidents(db),
    sqliteTimeline(db),
    sqliteOutbox(db),
    sqliteIdempotency(db),
    sqliteAlerts(db),
    sqlitePaging(db),
    sqliteAuth(db),
    sqliteOidc(db),
    sqlitePostmortems(db),
    sqliteAudit(db),
    sqliteOnCall(db),
    sqliteSilences(db),
    sqliteMetrics(db),
    sqliteSlack(db),
    sqliteLeases(db),
    sqliteAuthThrottle(db),
  );
}

function sqliteLifecycle(db: Database.Database): StoreLifecycle {
  /** Prepared up front: it touches no table, so health checks work before `migrate()`. */
  const pingStatement = db.prepare<[], unknown>('SELECT 1');
  return {
    async migrate(): Promise<void> {
      migrate(db);
    },

    async ping(): Promise<void> {
      pingStatement.get();
    },

    async close(): Promise<void> {
      if (!db.open) return;
      try {
        // Lets SQLite refresh the planner statistics this long-lived connection found worth updating.
        db.pragma('optimize');
      } finally {
        db.close();
      }
    },
  };
}
