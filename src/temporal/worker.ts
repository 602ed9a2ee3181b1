import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities';
import type { KeyRing } from '../crypto/key-ring';
import { firelineDataConverter } from './codec';
import type { TemporalConnectionOptions } from './connection-options';

/** Running from dist/ (`npm run build`) rather than from the TypeScript sources through tsx or jest. */
const COMPILED = path.extname(__filename) === '.js';

/** The workflow sources, bundled with webpack when a worker starts without a prebuilt bundle. */
export const WORKFLOWS_PATH = path.join(__dirname, '..', '..', 'workflows', COMPILED ? 'index.js' : 'index.ts');

/**
 * The bundle `npm run build` writes beside the compiled code. Loading it spares every production start the
 * webpack run, which costs seconds and memory that the process never gives back.
 */
const PREBUILT_WORKFLOW_BUNDLE = path.join(__dirname, '..', '..', 'workflow-bundle.js');

export interface IncidentWorkerOptions extends ActivityDeps {
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
  /** Required, so no worker ever runs without the payload codec its clients use. */
  keys: KeyRing;
  /** A bundle from bundleWorkflowCode, to skip bundling at start (tests build it once); else the prebuilt one when compiled. */
  workflowBundlePath?: string;
  extra?: Partial<WorkerOptions>;
}

export async function createIncidentWorker(options: IncidentWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const bundlePath =
    options.workflowBundlePath ?? (COMPILED && fs.existsSync(PREBUILT_WORKFLOW_BUNDLE) ? PREBUILT_WORKFLOW_BUNDLE : undefined);
  const connection = await NativeConnection.connect(options.connection);
  try {
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
      activities: createActivities(options),
      dataConverter: firelineDataConverter(options.keys),
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
