import type { LeaseStore } from '../aggregates/leases';
import type { PgDb } from './db';

export function pgLeases(db: PgDb): LeaseStore {
  return {
    async claimLease(name, owner, now, until) {
      const changed = await db.run(
        `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $4)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leases.owner = excluded.owner OR leases.expires_at <= $3`,
        [name, owner, now, until],
      );
      return changed === 1;
    },
    async releaseLease(name, owner) {
      await db.run('DELETE FROM leases WHERE name = $1 AND owner = $2', [name, owner]);
    },
  };
}
