// Records the replay corpus: `npm run record-histories -- <version>` (v1, v2, …) writes `<version>-<scenario>.json`
// for each scenario no version has recorded yet. Run it when a release changes the workflow on purpose,
// and keep the old files: they are what running incidents of the old version will replay.
// The run goes through Fireline's payload codec as production does; the files are written decoded (what
// `temporal workflow show --codec-endpoint` exports) so they stay readable in review and replay with any ring.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import Database from 'better-sqlite3';
import { createActivities } from '../../activities';
import { EMPTY_TARGETS } from '../../src/domain/targets';
import { openSqliteStore } from '../../src/store/sqlite';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import { WORKFLOWS_PATH } from '../../src/temporal/worker';
import { decodeHistory } from '../support/encrypted-history';
import { TEST_KEY_RING, testDataConverter } from '../support/keys';
import { SCENARIOS, runScenario } from './scenarios';

const OUT_DIR = path.join(__dirname, 'histories');

async function main() {
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const cli = await resolveTemporalCli({ env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH }, log });
  const server = await startDevServer({ cli, port: await findFreePort(), uiPort: false, log });
  const store = openSqliteStore(':memory:');
  await store.migrate();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-record-'));
  const target = await startTarget();
  const source = path.join(dir, 'orders.db');
  new Database(source).exec('CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders DEFAULT VALUES;');
  const taskQueue = 'record-histories';
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({
      store,
      targets: { ...EMPTY_TARGETS, backups: { 'orders-db': { provider: 'sqlite', path: source } } },
      env: { TARGET_URL: target.url },
      backupDir: path.join(dir, 'backups'),
    }),
    dataConverter: testDataConverter(),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const version = process.argv[2] ?? 'v1';
  const recorded = new Set(fs.readdirSync(OUT_DIR).flatMap((f) => /^v\d+-(.+)\.json$/.exec(f)?.slice(1) ?? []));
  try {
    await worker.runUntil(async () => {
      for (const scenario of SCENARIOS) {
        // Recorded histories are the record of what shipped: never overwrite one, and a scenario recorded by an
        // earlier version stays that version's (its file is what incidents started then replay).
        if (recorded.has(scenario.name)) continue;
        const file = path.join(OUT_DIR, `${version}-${scenario.name}.json`);
        const handle = await runScenario(client, store, taskQueue, scenario);
        fs.writeFileSync(file, historyToJSON(await decodeHistory(await handle.fetchHistory(), TEST_KEY_RING)));
        log(`wrote ${path.relative(process.cwd(), file)}`);
      }
    });
  } finally {
    await connection.close();
    await nativeConnection.close();
    await store.close();
    await server.stop();
    target.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The systems the every-kind scenarios act on: healthy, with /fail refusing. */
async function startTarget(): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url?.startsWith('/fail') ? 400 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
