import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store/store';
import { installTemporalRuntime } from '../temporal/runtime';
import { createIncidentWorker } from '../temporal/worker';

export interface RunningWorker {
  /** Resolves when the worker has stopped (after stop(), or on a fatal error). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Polls the task queue and runs incident workflows and their activities until stopped. */
export async function startWorker(opts: { config: Config; logger: Logger; store: Store; temporalAddress: string; workflowBundlePath?: string }): Promise<RunningWorker> {
  installTemporalRuntime(opts.logger);
  const { worker, connection } = await createIncidentWorker({
    address: opts.temporalAddress,
    namespace: opts.config.TEMPORAL_NAMESPACE,
    taskQueue: opts.config.FIRELINE_TASK_QUEUE,
    store: opts.store,
    workflowBundlePath: opts.workflowBundlePath,
  });
  const done = worker.run().finally(() => connection.close());
  return {
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
