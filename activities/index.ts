import path from 'node:path';
import { EMPTY_TARGETS } from '../src/domain/targets';
import type { Targets } from '../src/domain/targets';
import type { Store } from '../src/store/store';
import { createActionActivities } from './actions';
import { createBackupActivities } from './backups';
import { createCheckActivities } from './checks';
import { createNotifyActivities } from './notify';
import { createPagingActivities } from './paging';
import type { PagingDeps } from './paging';
import { createPostmortemActivities } from './postmortem';
import { createRecordActivities } from './records';

export interface ActivityDeps {
  store: Store;
  /** Databases, backup targets, commands and secrets from config/targets.yaml. */
  targets?: Targets;
  /** Where `${ENV_VAR}` references in targets are looked up. */
  env?: Record<string, string | undefined>;
  /** Where file backups are written (embedded mode: `<data dir>/backups`). */
  backupDir?: string;
  /** config/oncall.yaml (reloaded when it changes), for page steps. */
  oncall?: PagingDeps['oncall'];
  /** Configured paging channels (email, Slack DM, SMS/voice webhook); absent ones page into the outbox. */
  pageChannels?: PagingDeps['channels'];
  throttle?: PagingDeps['throttle'];
  publicUrl?: string;
}

/** Every activity the incident workflow calls, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const targets = deps.targets ?? EMPTY_TARGETS;
  const env = deps.env ?? {};
  return {
    ...createRecordActivities(deps),
    ...createNotifyActivities({ store: deps.store, channels: deps.pageChannels, publicUrl: deps.publicUrl }),
    ...createCheckActivities({ targets, env }),
    ...createActionActivities({ targets, env }),
    ...createBackupActivities({ targets, env, backupDir: deps.backupDir ?? path.resolve('data', 'backups') }),
    ...createPostmortemActivities(deps),
    ...createPagingActivities({
      store: deps.store,
      oncall: deps.oncall,
      channels: deps.pageChannels,
      throttle: deps.throttle,
      publicUrl: deps.publicUrl,
    }),
  };
}

export type FirelineActivities = ReturnType<typeof createActivities>;
export type { RecordBatch } from './records';
export type { NotifyRequest, NotifyResult } from './notify';
export type { PageRequest, PageResult } from './paging';
