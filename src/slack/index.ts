import type { Config } from '../config';
import { ConfigError } from '../config';
import type { OnCallConfig } from '../domain/oncall';
import type { Logger } from '../logger';
import type { IncidentService } from '../services/incidents';
import type { Store } from '../store/store';
import { createSlackApp, SLACK_EVENTS_PATH } from './app';
import type { SlackApp, SlackAppOptions } from './app';
import { createSlackWebClient, SlackGateway } from './gateway';
import { SlackDirectory } from './identity';
import { SlackSync } from './sync';

export { createSlackApp, SLACK_EVENTS_PATH, SlackSync };
export type { SlackApp };

export const SLACK_OFF_MESSAGE = 'Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on';

/**
 * The API process's half of Slack: the Bolt app (HTTP receiver to mount on the Express server, or Socket Mode when
 * `appToken` — SLACK_APP_TOKEN — is given). Undefined, with "Slack is off" in the log, when Slack is not configured.
 */
export async function startSlackApi(opts: {
  config: Config;
  logger: Logger;
  store: Store;
  incidents: IncidentService;
  runbooks: SlackAppOptions['runbooks'];
  oncall: () => OnCallConfig;
  /** SLACK_APP_TOKEN (`xapp-…`): Socket Mode instead of HTTP. */
  appToken?: string;
}): Promise<SlackApp | undefined> {
  const { config, logger } = opts;
  if (!config.SLACK_BOT_TOKEN || !config.SLACK_SIGNING_SECRET) {
    logger.info(SLACK_OFF_MESSAGE);
    return undefined;
  }
  const appToken = opts.appToken?.trim() || undefined;
  if (appToken && !appToken.startsWith('xapp-'))
    throw new ConfigError(['SLACK_APP_TOKEN: expected an app-level token starting with xapp- (scope connections:write)']);
  const slack = await createSlackApp({
    token: config.SLACK_BOT_TOKEN,
    signingSecret: config.SLACK_SIGNING_SECRET,
    ...(appToken ? { appToken } : {}),
    ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
    incidents: opts.incidents,
    store: opts.store,
    runbooks: opts.runbooks,
    oncall: opts.oncall,
    logger,
  });
  await slack.start();
  logger.info(
    { mode: slack.mode, ...(slack.mode === 'http' ? { path: SLACK_EVENTS_PATH } : {}) },
    slack.mode === 'http' ? `Slack is on: requests at ${SLACK_EVENTS_PATH}` : 'Slack is on: Socket Mode',
  );
  return slack;
}

/** The worker process's half: the loop that keeps incident channels and cards in sync. */
export function startSlackWorker(opts: {
  config: Config;
  logger: Logger;
  store: Store;
  oncall: () => OnCallConfig;
}): SlackSync | undefined {
  const { config, logger } = opts;
  if (!config.SLACK_BOT_TOKEN) {
    logger.info(SLACK_OFF_MESSAGE);
    return undefined;
  }
  const slackLogger = logger.child({ component: 'slack' });
  const gateway = new SlackGateway({ client: createSlackWebClient(config.SLACK_BOT_TOKEN, config.SLACK_API_URL), logger: slackLogger });
  const directory = new SlackDirectory({ oncall: opts.oncall, gateway, logger: slackLogger });
  const sync = new SlackSync({ store: opts.store, gateway, directory, logger: slackLogger, publicUrl: config.publicUrl });
  sync.start();
  return sync;
}
