// One API replica for the ingestion bench, in its own process: the alert receiver with its own coalescer and
// its own store connection on the shared read model. Prints {"url": …} once it listens; SIGTERM stops it.
// Usage: node bin/run-ts.cjs bench/api-replica.ts '<ReplicaConfig as JSON>'
import path from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../src/api/app';
import { AlertCoalescer } from '../src/ingest/coalescer';
import { parseIntegrations } from '../src/ingest/integrations';
import { routeAlert } from '../src/ingest/routing';
import { createLogger } from '../src/logger';
import { RunbookCatalog } from '../src/runbooks/catalog';
import { createAlertService } from '../src/services/alerts';
import { createIncidentService } from '../src/services/incidents';
import { createTokenService } from '../src/services/tokens';
import { FIRELINE_BENCH_CONVERTER } from './codec';
import { openStore } from './engines';
import type { Engine } from './engines';

export interface ReplicaConfig {
  address: string;
  engine: Engine;
  taskQueue: string;
  /** The Alertmanager integration's bearer token. */
  token: string;
}

async function main() {
  const config = JSON.parse(process.argv[2] ?? '') as ReplicaConfig;
  const logger = createLogger({ level: 'silent' });
  const store = openStore(config.engine);
  const connection = await Connection.connect({ address: config.address });
  const client = new Client({ connection, dataConverter: FIRELINE_BENCH_CONVERTER });
  const runbooks = new RunbookCatalog(path.join(__dirname, '..', 'runbooks'));
  const incidents = createIncidentService({ client, store, runbooks, taskQueue: config.taskQueue, logger });
  const alerts = createAlertService({
    client,
    store,
    runbooks,
    incidents,
    taskQueue: config.taskQueue,
    logger,
    route: (a) => routeAlert([], a),
  });
  const sink = new AlertCoalescer({ store, alerts, logger, isSilenced: () => false });
  await sink.resume();
  const loaded = parseIntegrations(
    'integrations:\n  prometheus:\n    type: alertmanager\n    token: { env: AM_TOKEN }\n',
    'integrations.yaml',
    { AM_TOKEN: config.token },
  );
  if (!loaded.ok) throw new Error('bench integrations do not load');
  const app = createApp({
    logger,
    store,
    incidents,
    tokens: createTokenService({ store }),
    runbooks,
    checkTemporal: async () => undefined,
    alertSink: sink,
    integrations: loaded.integrations,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  process.once('SIGTERM', () => {
    sink.stop();
    server.close();
    server.closeAllConnections();
    void Promise.allSettled([store.close(), connection.close()]).then(() => process.exit(0));
  });
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/alerts/alertmanager` })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
