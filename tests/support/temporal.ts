import { randomInt, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { ActivityDeps, FirelineActivities } from '../../activities';
import type { KeyRing } from '../../src/crypto/key-ring';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { TEST_KEY_RING, testDataConverter } from './keys';

export { eventually } from './wait';

/** The dev server and bundle that globalSetup prepared. */
export function testTemporal(): { address: string; bundlePath: string; cliPath: string } {
  const address = process.env.FIRELINE_TEST_TEMPORAL_ADDRESS;
  const bundlePath = process.env.FIRELINE_TEST_BUNDLE;
  if (!address || !bundlePath) throw new Error('the jest globalSetup did not start Temporal');
  return { address, bundlePath, cliPath: process.env.FIRELINE_TEST_TEMPORAL_CLI ?? '' };
}

export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

export function tempDir(prefix = 'fireline-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A fresh read model whose incident numbers start at a random offset: every test file shares one Temporal
 * server, where incident ids (workflow ids) are never reused.
 */
export async function openTestStore(dir = tempDir()): Promise<Store> {
  const file = path.join(dir, 'fireline.db');
  const store = openSqliteStore(file);
  await store.migrate();
  const db = new Database(file);
  db.prepare("UPDATE sequences SET value = ? WHERE name = 'incident' AND value = 0").run(randomInt(1, 2 ** 39));
  db.close();
  return store;
}

/** A client with Fireline's payload codec over `keys` (the shared test ring unless a test rotates keys). */
export async function connectClient(keys: KeyRing = TEST_KEY_RING): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: testTemporal().address });
  return { client: new Client({ connection, dataConverter: testDataConverter(keys) }), connection };
}

export interface TestWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** A worker on its own task queue running the real activities (optionally wrapped) against `store`. */
export async function startTestWorker(opts: {
  taskQueue: string;
  store: Store;
  wrap?: (activities: FirelineActivities) => FirelineActivities;
  extra?: Partial<WorkerOptions>;
  /** Targets, env and backup dir for the side-effect activities. */
  deps?: Omit<ActivityDeps, 'store'>;
  /** The payload key ring; the shared test ring unless a test rotates keys. */
  keys?: KeyRing;
}): Promise<TestWorker> {
  const connection = await NativeConnection.connect({ address: testTemporal().address });
  const activities = createActivities({ ...opts.deps, store: opts.store });
  const worker = await Worker.create({
    connection,
    taskQueue: opts.taskQueue,
    workflowBundle: { codePath: testTemporal().bundlePath },
    activities: opts.wrap ? opts.wrap(activities) : activities,
    dataConverter: testDataConverter(opts.keys),
    ...opts.extra,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
