import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities';

/** Where the worker loads workflows from: the TypeScript sources (bundled at start) or a prebuilt bundle. */
export const WORKFLOWS_PATH = path.join(__dirname, '..', '..', 'workflows', 'index.ts');

export interface IncidentWorkerOptions extends ActivityDeps {
  address: string;
  namespace: string;
  taskQueue: string;
  /** A bundle from bundleWorkflowCode, to skip bundling at start (tests build it once). */
  workflowBundlePath?: string;
  extra?: Partial<WorkerOptions>;
}

export async function createIncidentWorker(options: IncidentWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      ...(options.workflowBundlePath
        ? { workflowBundle: { codePath: options.workflowBundlePath } }
        : { workflowsPath: WORKFLOWS_PATH }),
      activities: createActivities(options),
      // Bounded: each cached workflow costs about 1 MB, and a cache OOM kills the worker.
      maxCachedWorkflows: 500,
      shutdownGraceTime: '10s',
      ...options.extra,
    });
    return { worker, connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
