import type { AuthThrottleStore } from '../aggregates/auth-throttle';
import type { PgDb } from './db';

export function pgAuthThrottle(db: PgDb): AuthThrottleStore {
  return {
    async addAuthFailures(key, windowStart, failures) {
      const [row] = await db.rows<{ failures: number }>(
        `INSERT INTO auth_failures (key, window_start, failures) VALUES ($1, $2, $3)
         ON CONFLICT (key, window_start) DO UPDATE SET failures = auth_failures.failures + excluded.failures
         RETURNING failures`,
        [key, windowStart, failures],
      );
      return row!.failures;
    },
    async pruneAuthFailures(before) {
      return db.run('DELETE FROM auth_failures WHERE window_start < $1', [before]);
    },
  };
}
