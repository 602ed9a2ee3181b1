import { ApplicationFailure } from '@temporalio/common';
import type { BackupProviderConfig, Targets } from '../src/domain/targets';
import { httpBackup } from './backup-providers/http';
import { postgresBackup } from './backup-providers/postgres';
import { sqliteBackup } from './backup-providers/sqlite';
import type { BackupRequest, BackupResult, ProviderContext, ProviderOutcome } from './backup-providers/types';
import { activityRuntime, nonRetryable, resolveOrFail } from './shared/activity';
import { FAILURE } from '../src/domain/failure-types';

export type { BackupRequest, BackupResult } from './backup-providers/types';

export interface BackupDeps {
  targets: Targets;
  env: Record<string, string | undefined>;
  /** Where file backups go: `<dir>/<incidentId>/<stepId>.<ext>`. */
  backupDir: string;
  /** Directory of pg_dump, pg_restore and psql; default: PATH, then the newest /usr/lib/postgresql/<v>/bin. */
  postgresBinDir?: string;
  /** How often long-running tools heartbeat; default 5 s (the workflow's heartbeat timeout is 30 s). */
  heartbeatIntervalMs?: number;
}

export type { HttpBackupProgress } from './backup-providers/http';

/** Backups with heartbeats: sqlite (online backup API), postgres (pg_dump), http (start, poll, cancel). */
export function createBackupActivities(deps: BackupDeps) {
  return {
    async takeBackup(req: BackupRequest): Promise<BackupResult> {
      const started = Date.now();
      const config = chooseConfig(deps.targets, req);
      const rt = activityRuntime();
      const ctx: ProviderContext = {
        req,
        rt,
        env: deps.env,
        backupDir: deps.backupDir,
        postgresBinDir: deps.postgresBinDir,
        heartbeatIntervalMs: deps.heartbeatIntervalMs ?? 5_000,
        resolve: (text) =>
          resolveOrFail(text, deps.env, (variable) =>
            nonRetryable(
              `backup target "${req.target}" needs ${variable}, which is not set in Fireline's environment`,
              FAILURE.missingEnvVariable,
              { variable },
            ),
          ),
      };
      rt.log.info('backup started', { target: req.target, provider: config.provider, drill: req.drill });
      let outcome: ProviderOutcome;
      switch (config.provider) {
        case 'sqlite':
          outcome = await sqliteBackup(config, ctx);
          break;
        case 'postgres':
          outcome = await postgresBackup(config, ctx);
          break;
        case 'http':
          outcome = await httpBackup(config, ctx);
          break;
        default: {
          const unknown: never = config;
          throw nonRetryable(`unknown backup provider ${(unknown as { provider: string }).provider}`, FAILURE.invalidBackupTarget);
        }
      }
      const result: BackupResult = { provider: config.provider, ...outcome, durationMs: Date.now() - started };
      rt.log.info('backup finished', {
        target: req.target,
        provider: result.provider,
        sizeBytes: result.sizeBytes,
        durationMs: result.durationMs,
        restoreCheck: result.restoreCheck?.ok ?? null,
      });
      return result;
    },
  };
}

/** The target's drill variant for drills that have one; otherwise the target itself (a backup only reads its source). */
function chooseConfig(targets: Targets, req: BackupRequest): BackupProviderConfig {
  const target = Object.hasOwn(targets.backups, req.target) ? targets.backups[req.target] : undefined;
  if (!target) {
    const known = Object.keys(targets.backups);
    throw ApplicationFailure.create({
      message: `unknown backup target "${req.target}"${known.length ? ` (configured: ${known.join(', ')})` : ' (config/targets.yaml has no backups)'}`,
      type: FAILURE.unknownBackupTarget,
      nonRetryable: true,
    });
  }
  return req.drill && target.drill ? target.drill : target;
}
