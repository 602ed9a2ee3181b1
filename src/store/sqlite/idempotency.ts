import type Database from 'better-sqlite3';
import type { IdempotencyStore } from '../aggregates/idempotency';
import { preparedOnFirstUse } from './db';

function prepareStatements(db: Database.Database) {
  return {
    claimKey: db.prepare<[string, string, string, string]>(
      'INSERT INTO idempotency_keys (scope, key, value, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING',
    ),
    releaseKey: db.prepare<[string, string]>('DELETE FROM idempotency_keys WHERE scope = ? AND key = ?'),
    getKey: db.prepare<[string, string], { value: string }>('SELECT value FROM idempotency_keys WHERE scope = ? AND key = ?'),
  };
}

export function sqliteIdempotency(db: Database.Database): IdempotencyStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async claimIdempotencyKey(scope: string, key: string, value: string, at: string): Promise<string | undefined> {
      if (statements().claimKey.run(scope, key, value, at).changes === 1) return undefined;
      return statements().getKey.get(scope, key)?.value;
    },

    async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
      statements().releaseKey.run(scope, key);
    },
  };
}
