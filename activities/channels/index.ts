import { createEmailChannel } from './email';
import type { EmailTimeouts } from './email';
import { createSlackChannel } from './slack';
import { createWebhookChannel } from './webhook';
import type { ChannelKind, PageChannel } from './types';

export { createEmailChannel, emailMessageId, DEFAULT_EMAIL_TIMEOUTS } from './email';
export type { EmailChannel, EmailChannelOptions, EmailTimeouts } from './email';
export { createSlackChannel, SLACK_OPEN_INCIDENT_ACTION, SLACK_PAGE_EVENT_TYPE } from './slack';
export type { SlackChannelOptions } from './slack';
export { createWebhookChannel } from './webhook';
export type { WebhookChannelOptions, WebhookPageBody } from './webhook';
export {
  ChannelFailureType,
  channelFailureDetails,
  isFinalChannelFailure,
  permanentFailure,
  rateLimitedFailure,
  temporaryFailure,
  throttledFailure,
  uncertainFailure,
} from './errors';
export type { ChannelFailureDetails } from './errors';
export { DEFAULT_THROTTLE_RULES, nextAllowedAt, pruneHistory, throttleDelayMs, throttleRulesFor } from './throttle';
export type { ThrottleKind, ThrottleRule, ThrottleRules } from './throttle';
export type { ChannelKind, PageChannel, PageDelivery, PageMessage } from './types';

/** The settings the channels need (src/launch/worker.ts maps them from src/config.ts). Unset = that channel is off. */
export interface PageChannelSettings {
  publicUrl: string;
  /** SMTP_URL + FIRELINE_MAIL_FROM: both or neither. */
  smtpUrl?: string;
  mailFrom?: string;
  emailTimeouts?: EmailTimeouts;
  /** SLACK_BOT_TOKEN (+ SLACK_API_URL in tests). */
  slackBotToken?: string;
  slackApiUrl?: string;
  /** PAGING_WEBHOOK_URL (+ PAGING_WEBHOOK_SECRET). */
  webhookUrl?: string;
  webhookSecret?: string;
}

export type PageChannels = Partial<Record<ChannelKind, PageChannel>> & { close(): Promise<void> };

/** The configured channels; absent ones are left out (pages for them go to the outbox). Throws on bad settings. */
export function createPageChannels(settings: PageChannelSettings): PageChannels {
  if ((settings.smtpUrl === undefined) !== (settings.mailFrom === undefined)) {
    throw new Error('email paging needs both SMTP_URL and FIRELINE_MAIL_FROM');
  }
  const channels: Partial<Record<ChannelKind, PageChannel>> = {};
  if (settings.smtpUrl !== undefined && settings.mailFrom !== undefined) {
    channels.email = createEmailChannel({
      smtpUrl: settings.smtpUrl,
      from: settings.mailFrom,
      publicUrl: settings.publicUrl,
      ...(settings.emailTimeouts ? { timeouts: settings.emailTimeouts } : {}),
    });
  }
  if (settings.slackBotToken !== undefined) {
    channels.slack = createSlackChannel({
      token: settings.slackBotToken,
      publicUrl: settings.publicUrl,
      ...(settings.slackApiUrl ? { apiUrl: settings.slackApiUrl } : {}),
    });
  }
  if (settings.webhookUrl !== undefined) {
    channels.webhook = createWebhookChannel({
      url: settings.webhookUrl,
      publicUrl: settings.publicUrl,
      ...(settings.webhookSecret ? { secret: settings.webhookSecret } : {}),
    });
  }
  return {
    ...channels,
    async close() {
      await Promise.all(Object.values(channels).map((channel) => channel.close()));
    },
  };
}
