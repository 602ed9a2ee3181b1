import type { IdempotencyStore } from '../aggregates/idempotency';
import type { PgDb } from './db';

export function pgIdempotency(db: PgDb): IdempotencyStore {
  return {
    async claimIdempotencyKey(scope, key, value, at) {
      // A racing insert waits for the other transaction and then does nothing, so exactly one caller inserts.
      // The loser reads the winner's value; if the winner released the key in between, the loser claims afresh.
      for (;;) {
        const claimed = await db.run(
          `INSERT INTO idempotency_keys (scope, key, value, created_at) VALUES ($1, $2, $3, $4::timestamptz)
           ON CONFLICT (scope, key) DO NOTHING`,
          [scope, key, value, at],
        );
        if (claimed === 1) return undefined;
        const [row] = await db.rows<{ value: string }>('SELECT value FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
        if (row) return row.value;
      }
    },

    async releaseIdempotencyKey(scope, key) {
      await db.run('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
    },
  };
}
