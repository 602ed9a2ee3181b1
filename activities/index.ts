import type { Store } from '../src/store/store';
import { createNotifyActivities } from './notify';
import type { NotificationChannel } from './notify';
import { createRecordActivities } from './records';

export interface ActivityDeps {
  store: Store;
  channels?: Parameters<typeof createNotifyActivities>[0]['channels'];
}

/** Every activity the incident workflow calls, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createNotifyActivities(deps),
  };
}

export type FirelineActivities = ReturnType<typeof createActivities>;
export type { NotificationChannel };
export type { RecordBatch } from './records';
export type { NotifyRequest, NotifyResult } from './notify';
