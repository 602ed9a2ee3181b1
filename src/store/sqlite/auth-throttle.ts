import type Database from 'better-sqlite3';
import type { AuthThrottleStore } from '../aggregates/auth-throttle';
import { preparedOnFirstUse } from './db';

export function sqliteAuthThrottle(db: Database.Database): AuthThrottleStore {
  const statements = preparedOnFirstUse(() => ({
    add: db.prepare<[string, string, number], { failures: number }>(
      `INSERT INTO auth_failures (key, window_start, failures) VALUES (?, ?, ?)
       ON CONFLICT (key, window_start) DO UPDATE SET failures = auth_failures.failures + excluded.failures
       RETURNING failures`,
    ),
    prune: db.prepare<[string]>('DELETE FROM auth_failures WHERE window_start < ?'),
  }));
  return {
    async addAuthFailures(key, windowStart, failures) {
      return statements().add.get(key, windowStart, failures)!.failures;
    },
    async pruneAuthFailures(before) {
      return statements().prune.run(before).changes;
    },
  };
}
