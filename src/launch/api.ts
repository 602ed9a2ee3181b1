import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { ConfigError } from '../config';
import type { Config } from '../config';
import type { KeyRing } from '../crypto/key-ring';
import type { Logger } from '../logger';
import { RunbookCatalog } from '../runbooks/catalog';
import { createIncidentService } from '../services/incidents';
import { createOidcService } from '../services/oidc';
import { createPayloadCodecService } from '../services/payload-codec';
import { startSlackApi } from '../slack';
import { firelineDataConverter } from '../temporal/codec';
import { temporalConnectionOptions } from '../temporal/connection-options';
import { createTokenService } from '../services/tokens';
import type { Store } from '../store/store';
import { startIngestion } from './ingest';
import { loadOnCallSource } from './oncall';
import { auditOnCallReload } from '../audit/config-change';
import { loadTargetsOrFail } from './targets';

export interface RunningApi {
  url: string;
  port: number;
  adminTokenShownOnce: string | undefined;
  stop(): Promise<void>;
}

const HEALTH_DEADLINE_MS = 2000;

/** The HTTP server (API, Slack receiver and the web page) on one port. */
export async function startApi(opts: {
  config: Config;
  logger: Logger;
  store: Store;
  temporalAddress: string;
  /** From resolveKeyRing: seals what this API puts into Temporal and opens what it reads back. */
  keys: KeyRing;
  env: Record<string, string | undefined>;
}): Promise<RunningApi> {
  const { config, logger, store } = opts;
  const connection = await Connection.connect(temporalConnectionOptions(config, opts.temporalAddress));
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: firelineDataConverter(opts.keys) });
  const tokens = createTokenService({ store });
  const oncall = loadOnCallSource(config, logger, auditOnCallReload({ store, logger }));
  const parseOptions = {
    targets: loadTargetsOrFail(config, opts.env),
    escalationPolicies: oncall.current().escalationPolicies.map((p) => p.id),
  };
  const runbooks = new RunbookCatalog(config.runbooksDir, parseOptions);
  const incidents = createIncidentService({ client, store, runbooks, taskQueue: config.FIRELINE_TASK_QUEUE, logger });
  const slack = await startSlackApi({
    config,
    logger,
    store,
    incidents,
    runbooks,
    oncall: () => oncall.current(),
    appToken: config.SLACK_APP_TOKEN,
  }).catch(async (err: unknown) => {
    await connection.close();
    throw err;
  });
  const ingestion = await startIngestion({ config, env: opts.env, logger, client, store, runbooks, incidents });
  const app = createApp({
    ...(slack?.router ? { slack: { router: slack.router } } : {}),
    logger,
    store,
    incidents,
    tokens,
    runbooks,
    parseOptions,
    oncall: () => oncall.current(),
    publicUrl: config.publicUrl,
    ...(config.oidc ? { oidc: createOidcService({ settings: config.oidc, publicUrl: config.publicUrl, store }) } : {}),
    trustProxy: config.FIRELINE_TRUST_PROXY,
    codec: { codec: createPayloadCodecService({ keys: opts.keys }), uiOrigins: config.FIRELINE_TEMPORAL_UI_ORIGIN },
    alertSink: ingestion.sink,
    integrations: ingestion.integrations,
    silenceCache: ingestion.silences,
    checkTemporal: async () => {
      await connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () => connection.workflowService.getSystemInfo({}));
    },
  });
  let server: Server;
  try {
    server = await new Promise((resolve, reject) => {
      const s = app.listen(config.FIRELINE_PORT, config.FIRELINE_HOST, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    ingestion.stop();
    await slack?.stop();
    await connection.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new ConfigError([`FIRELINE_PORT: port ${config.FIRELINE_PORT} on ${config.FIRELINE_HOST} is already in use`]);
    throw err;
  }
  // Made only once the server listens, so a failed first start never stores a token nobody saw.
  const adminTokenShownOnce = await tokens.ensureAdmin(config.FIRELINE_ADMIN_TOKEN);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.FIRELINE_PORT;
  return {
    url: `http://${config.FIRELINE_HOST}:${port}`,
    port,
    adminTokenShownOnce,
    async stop() {
      ingestion.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await slack?.stop();
      await connection.close();
    },
  };
}
