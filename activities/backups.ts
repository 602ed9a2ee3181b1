import type { Targets } from '../src/domain/targets';

export interface BackupRequest {
  /** `<incidentId>:<stepId>`: a retried backup reuses the same file name and HTTP backup id. */
  idempotencyKey: string;
  incidentId: string;
  stepId: string;
  target: string;
  restoreCheck: boolean;
  drill: boolean;
}

export interface BackupResult {
  provider: 'sqlite' | 'postgres' | 'http';
  location: string;
  sizeBytes: number;
  sha256: string;
  durationMs: number;
  restoreCheck: { ok: boolean; detail: string } | null;
}

export interface BackupDeps {
  targets: Targets;
  env: Record<string, string | undefined>;
  /** Where file backups go: `<dir>/<incidentId>/<stepId>.<ext>`. */
  backupDir: string;
}

/** Backups with heartbeats: sqlite (online backup API), postgres (pg_dump), http (start, poll, cancel). */
export function createBackupActivities(_deps: BackupDeps) {
  return {
    async takeBackup(_req: BackupRequest): Promise<BackupResult> {
      throw new Error('takeBackup is being implemented');
    },
  };
}
