import { App, ExpressReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';
import { Router } from 'express';
import type { OnCallConfig } from '../domain/oncall';
import type { Logger } from '../logger';
import type { RunbookSummary } from '../runbooks/catalog';
import type { IncidentService } from '../services/incidents';
import type { Store } from '../store/store';
import { createSlackWebClient, SlackGateway, slackClientOptions, toSlackCallError } from './gateway';
import { registerSlackHandlers } from './handlers';
import type { SlackHandlerDeps } from './handlers';
import { SlackDirectory } from './identity';
import { slackRawBody, slackTimestampGuard } from './verify';

/** Where Slack sends commands, interactions and events (the Slack app's Request URL for all three). */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackAppOptions {
  token: string;
  /** HTTP mode: verifies every request. Not needed in Socket Mode. */
  signingSecret?: string;
  /** Socket Mode: an app-level token (`xapp-…`, scope connections:write); no public URL needed. */
  appToken?: string;
  /** Only for tests: the fake Web API (SLACK_API_URL). */
  apiUrl?: string;
  /** Skip `auth.test` when both are known. */
  botId?: string;
  botUserId?: string;
  incidents: IncidentService;
  store: Store;
  runbooks: SlackHandlerDeps['runbooks'] & { list(): Promise<RunbookSummary[]> };
  oncall: () => OnCallConfig;
  logger: Logger;
  /** Clock of the request-timestamp check (tests). */
  now?: () => number;
  noteReaction?: string;
  quickRunbook?: string;
  command?: string;
  /** The gateway to use (tests); made from the token otherwise. */
  gateway?: SlackGateway;
}

export interface SlackApp {
  /** HTTP mode: mount on the host app before any body parser. Undefined in Socket Mode. */
  router: Router | undefined;
  bolt: App;
  gateway: SlackGateway;
  directory: SlackDirectory;
  mode: 'http' | 'socket';
  /** Socket Mode connects here; HTTP mode has nothing to start (Bolt's own server is never used). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Bolt's logger interface over pino. */
export function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack-bolt' });
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) =>
    msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => child.debug(text(msg)),
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/**
 * The Slack app: Bolt in HTTP mode on Fireline's own Express server (`/slack/events`, signatures verified, no body
 * parser in front, `app.start()` never called), or in Socket Mode when an app token is given.
 */
export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const logger = options.logger.child({ component: 'slack' });
  const gateway = options.gateway ?? new SlackGateway({ client: createSlackWebClient(options.token, options.apiUrl), logger });
  let { botId, botUserId } = options;
  if (!botId || !botUserId) {
    // Done here rather than inside Bolt's constructor, whose auth.test failure would surface as an unhandled rejection.
    try {
      const auth = await gateway.call<{ bot_id?: string; user_id?: string; team?: string }>('auth.test', {}, { maxWaitMs: 30_000 });
      botId = auth.bot_id;
      botUserId = auth.user_id;
      logger.info({ team: auth.team, botUserId }, 'slack: signed in');
    } catch (error) {
      logger.error(
        { err: toSlackCallError(error, 'auth.test').message },
        'slack: auth.test failed; check SLACK_BOT_TOKEN (Slack requests are still received)',
      );
    }
  }
  const directory = new SlackDirectory({ oncall: options.oncall, gateway, logger });
  const log = boltLogger(logger);
  const clientOptions = slackClientOptions(options.apiUrl);
  const identity = botId && botUserId ? { botId, botUserId } : { tokenVerificationEnabled: false };

  let router: Router | undefined;
  let bolt: App;
  let mode: SlackApp['mode'];
  if (options.appToken) {
    mode = 'socket';
    const receiver = new SocketModeReceiver({ appToken: options.appToken, logger: log });
    bolt = new App({ token: options.token, receiver, logger: log, clientOptions, ...identity });
  } else {
    if (!options.signingSecret) throw new Error('Slack in HTTP mode needs SLACK_SIGNING_SECRET');
    mode = 'http';
    const receiver = new ExpressReceiver({ signingSecret: options.signingSecret, endpoints: SLACK_EVENTS_PATH, logger: log });
    bolt = new App({ token: options.token, receiver, logger: log, clientOptions, ...identity });
    router = Router();
    router.post(SLACK_EVENTS_PATH, slackTimestampGuard(options.now), ...slackRawBody());
    router.use(receiver.router);
  }
  bolt.error(async (error) => {
    logger.error({ err: error.message, code: (error as { code?: string }).code }, 'slack: listener failed');
  });

  registerSlackHandlers(bolt, {
    incidents: options.incidents,
    store: options.store,
    runbooks: options.runbooks,
    directory,
    gateway,
    logger,
    noteReaction: options.noteReaction ?? 'memo',
    quickRunbook: options.quickRunbook ?? 'triage',
    command: options.command ?? '/incident',
  });

  return {
    router,
    bolt,
    gateway,
    directory,
    mode,
    async start() {
      if (mode === 'socket') await bolt.start();
    },
    async stop() {
      gateway.stop();
      if (mode === 'socket') await bolt.stop();
    },
  };
}
