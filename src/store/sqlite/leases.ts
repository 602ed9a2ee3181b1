import type Database from 'better-sqlite3';
import type { LeaseStore } from '../aggregates/leases';
import { preparedOnFirstUse } from './db';

export function sqliteLeases(db: Database.Database): LeaseStore {
  const statements = preparedOnFirstUse(() => ({
    claim: db.prepare<{ name: string; owner: string; now: string; until: string }>(
      `INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @until)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= @now`,
    ),
    release: db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND owner = ?'),
  }));
  return {
    async claimLease(name, owner, now, until) {
      return statements().claim.run({ name, owner, now, until }).changes === 1;
    },
    async releaseLease(name, owner) {
      statements().release.run(name, owner);
    },
  };
}
