import type { ActivityRuntime } from '../shared/activity';

/** What the backup activity and its providers share (kept apart from both, so neither imports the other). */

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

/** Everything a provider gets: the request, the activity around it and the resolved settings. */
export interface ProviderContext {
  req: BackupRequest;
  rt: ActivityRuntime;
  /** The worker's environment: `${VAR}` references resolve from it and child processes inherit it. */
  env: Record<string, string | undefined>;
  backupDir: string;
  postgresBinDir?: string;
  heartbeatIntervalMs: number;
  /** Resolves `${ENV_VAR}` references; a missing variable is a non-retryable failure naming it. */
  resolve(text: string): string;
}

export type ProviderOutcome = Pick<BackupResult, 'location' | 'sizeBytes' | 'sha256' | 'restoreCheck'>;
