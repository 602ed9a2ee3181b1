// Records the replay corpus: `npm run record-histories`. Run it when a release changes the workflow on purpose,
// and keep the old files: they are what running incidents of the old version will replay.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { SqliteStore } from '../../src/store/sqlite';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import { WORKFLOWS_PATH } from '../../src/temporal/worker';
import { SCENARIOS, runScenario } from './scenarios';

const OUT_DIR = path.join(__dirname, 'histories');

async function main() {
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const cli = await resolveTemporalCli({ env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH }, log });
  const server = await startDevServer({ cli, port: await findFreePort(), uiPort: false, log });
  const store = SqliteStore.open(':memory:');
  await store.migrate();
  const taskQueue = 'record-histories';
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath: WORKFLOWS_PATH, activities: createActivities({ store }) });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const version = process.argv[2] ?? 'v1';
  try {
    await worker.runUntil(async () => {
      for (const scenario of SCENARIOS) {
        const handle = await runScenario(client, store, taskQueue, scenario);
        const file = path.join(OUT_DIR, `${version}-${scenario.name}.json`);
        fs.writeFileSync(file, historyToJSON(await handle.fetchHistory()));
        log(`wrote ${path.relative(process.cwd(), file)}`);
      }
    });
  } finally {
    await connection.close();
    await nativeConnection.close();
    await store.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
