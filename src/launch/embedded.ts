import path from 'node:path';
import type { Config } from '../config';
import type { KeyRing } from '../crypto/key-ring';
import type { Logger } from '../logger';
import { resolveTemporalCli } from '../temporal/cli-binary';
import { startDevServer } from '../temporal/dev-server';
import type { DevServer } from '../temporal/dev-server';
import { startApi } from './api';
import type { RunningApi } from './api';
import { openStore } from './store';
import { startWorker } from './worker';
import type { RunningWorker } from './worker';

export interface RunningFireline {
  api: RunningApi;
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** Resolves when the worker stops on its own (a fatal error). */
  workerDone: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Everything on one machine: the Temporal dev server (unless TEMPORAL_ADDRESS points elsewhere) with its
 * SQLite file in the data dir, one worker, and the HTTP server. Stops in reverse order.
 */
export async function startEmbedded(opts: {
  config: Config;
  logger: Logger;
  /** From resolveKeyRing: in embedded mode the key file in the data dir, made on first start. */
  keys: KeyRing;
  env: Record<string, string | undefined>;
}): Promise<RunningFireline> {
  const { config, logger, keys } = opts;
  const stack: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of stack.reverse()) {
      try {
        await part.stop();
      } catch (err) {
        logger.warn({ err: (err as Error).message, part: part.name }, 'stop failed');
      }
    }
  };
  try {
    const store = await openStore(config);
    stack.push({ name: 'store', stop: () => store.close() });

    let devServer: DevServer | undefined;
    if (!config.TEMPORAL_ADDRESS) {
      const cli = await resolveTemporalCli({ env: { cliPath: config.TEMPORAL_CLI_PATH, path: opts.env.PATH }, log: (m) => logger.info(m) });
      devServer = await startDevServer({
        cli,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_DEV_PORT + 1000,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        namespace: config.TEMPORAL_NAMESPACE,
        uiCodecEndpoint: `${config.publicUrl}/codec`,
        log: (m) => logger.info({ component: 'temporal-dev-server' }, m),
      });
      stack.push({ name: 'temporal dev server', stop: () => devServer!.stop() });
    }
    const temporalAddress = config.TEMPORAL_ADDRESS ?? devServer!.address;

    const worker: RunningWorker = await startWorker({ config, logger, store, temporalAddress, keys, env: opts.env });
    stack.push({ name: 'worker', stop: () => worker.stop() });
    // The dev server's UI decodes through our /codec from the browser, so its origin needs CORS by default.
    const uiOrigins = config.FIRELINE_TEMPORAL_UI_ORIGIN ?? (devServer?.uiUrl ? devUiOrigins(devServer.uiUrl) : undefined);
    const api = await startApi({
      config: { ...config, FIRELINE_TEMPORAL_UI_ORIGIN: uiOrigins },
      logger,
      store,
      temporalAddress,
      keys,
      env: opts.env,
    });
    stack.push({ name: 'api', stop: () => api.stop() });

    return {
      api,
      temporalAddress,
      temporalUiUrl: devServer?.uiUrl ?? null,
      workerDone: worker.done,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The UI as the dev server reports it (its --ip) and as people type it: the same server under localhost. */
export function devUiOrigins(uiUrl: string): string[] {
  const url = new URL(uiUrl);
  const origins = [url.origin];
  if (url.hostname === '127.0.0.1') origins.push(`${url.protocol}//localhost:${url.port}`);
  return origins;
}
