import { combineAggregates } from '../combine';
import type { Store, StoreLifecycle } from '../store';
import { pgAlerts } from './alerts';
import { pgAudit } from './audit';
import { pgAuth } from './auth';
import { openPgDb } from './db';
import type { PgDb, PgOptions } from './db';
import { pgIdempotency } from './idempotency';
import { pgIncidents } from './incidents';
import { pgMetrics } from './metrics';
import { migratePostgres } from './migrations';
import { pgOidc } from './oidc';
import { pgOnCall } from './oncall';
import { pgOutbox } from './outbox';
import { pgPaging } from './paging';
import { pgPostmortems } from './postmortems';
import { pgSilences } from './silences';
import { pgSlack } from './slack';
import { pgLeases } from './leases';
import { pgAuthThrottle } from './auth-throttle';
import { pgTimeline } from './timeline';

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
  return combineAggregates(
    pgLifecycle(db),
    pgIncidents(db),
    pgTimeline(db),
    pgOutbox(db),
    pgIdempotency(db),
    pgAudit(db),
    pgAuth(db),
    pgOidc(db),
    pgMetrics(db),
    pgAlerts(db),
    pgPaging(db),
    pgPostmortems(db),
    pgOnCall(db),
    pgSilences(db),
    pgSlack(db),
    pgLeases(db),
    pgAuthThrottle(db),
  );
}
