import path from 'node:path';
import type { Config } from '../config';
import type { KeyRing } from '../crypto/key-ring';
import type { Logger } from '../logger';
import type { Store } from '../store/store';
import { startSlackWorker } from '../slack';
import { installTemporalRuntime } from '../temporal/runtime';
import { createPageChannels } from '../../activities/channels';
import { createIncidentWorker } from '../temporal/worker';
import { temporalConnectionOptions } from '../temporal/connection-options';
import { loadOnCallSource } from './oncall';
import { loadTargetsOrFail } from './targets';

export interface RunningWorker {
  /** Resolves when the worker has stopped (after stop(), or on a fatal error). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Polls the task queue and runs incident workflows and their activities until stopped. */
export async function startWorker(opts: {
  config: Config;
  logger: Logger;
  store: Store;
  temporalAddress: string;
  /** From resolveKeyRing: the same ring as every API and worker on this Temporal namespace. */
  keys: KeyRing;
  /** The process environment: `${ENV_VAR}` references in targets, and what backup tools inherit. */
  env: Record<string, string | undefined>;
  workflowBundlePath?: string;
}): Promise<RunningWorker> {
  installTemporalRuntime(opts.logger);
  // Targets may name the data dir (e.g. the read model's own backup) even when it comes from the default.
  const env = { ...opts.env, FIRELINE_DATA_DIR: opts.config.dataDir };
  const config = opts.config;
  const pageChannels = createPageChannels({
    publicUrl: config.publicUrl,
    smtpUrl: config.SMTP_URL,
    mailFrom: config.FIRELINE_MAIL_FROM,
    slackBotToken: config.SLACK_BOT_TOKEN,
    slackApiUrl: config.SLACK_API_URL,
    webhookUrl: config.PAGING_WEBHOOK_URL,
    webhookSecret: config.PAGING_WEBHOOK_SECRET,
  });
  const targets = loadTargetsOrFail(opts.config, env, opts.logger);
  const oncall = loadOnCallSource(opts.config, opts.logger);
  const { worker, connection } = await createIncidentWorker({
    connection: temporalConnectionOptions(config, opts.temporalAddress),
    namespace: opts.config.TEMPORAL_NAMESPACE,
    taskQueue: opts.config.FIRELINE_TASK_QUEUE,
    keys: opts.keys,
    store: opts.store,
    targets,
    env,
    backupDir: path.join(opts.config.dataDir, 'backups'),
    oncall,
    pageChannels,
    publicUrl: opts.config.publicUrl,
    workflowBundlePath: opts.workflowBundlePath,
  });
  // Keeps incident channels and live cards in Slack in step with the read model (or logs that Slack is off).
  const slack = startSlackWorker({ config, logger: opts.logger, store: opts.store, oncall: () => oncall.current() });
  const done = worker.run().finally(async () => {
    await slack?.stop();
    await pageChannels.close();
    await connection.close();
  });
  return {
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
