import { LogLevel, WebClient } from '@slack/web-api';
import type { KnownBlock, Logger } from '@slack/web-api';
import { errorMessage, oneLine } from '../checks';
import { permanentFailure, rateLimitedFailure, temporaryFailure } from './errors';
import { checkMessage, drillSubject, parsePublicUrl, resolveIncidentUrl } from './format';
import type { PageChannel, PageDelivery, PageMessage } from './types';

export interface SlackChannelOptions {
  /** Bot token (`xoxb-…`) with chat:write, im:write, im:history (reconciliation); users:read.email to page by email. */
  token: string;
  /** Web API base, only for tests (SLACK_API_URL), e.g. `http://127.0.0.1:1234/api/`. Default Slack's. */
  apiUrl?: string;
  /** Fireline's public URL: relative incident URLs resolve against it. */
  publicUrl: string;
  /** One Web API call's timeout. Default 10 s. */
  timeoutMs?: number;
  /** How many recent DM messages are searched for an earlier post of the same page. Default 20. */
  historyLimit?: number;
  /** Default: errors only, through the Web API client's console logger. */
  logger?: Logger;
}

/** Message metadata event type of a page; `event_payload.key` is the idempotency key. */
export const SLACK_PAGE_EVENT_TYPE = 'fireline_page';
/** action_id of the "Open incident" link button (a link button still sends block_actions: the Slack app must ack it). */
export const SLACK_OPEN_INCIDENT_ACTION = 'fireline_page_open_incident';

/**
 * Errors retrying cannot fix: bad or revoked credentials, missing scopes, unknown or unreachable recipients, or a
 * message Slack refuses. Every other error (internal_error, ratelimited, timeouts, HTTP 5xx) is retried.
 */
export const PERMANENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  'channel_not_found',
  'user_not_found',
  'users_not_found',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'ekm_access_denied',
  'team_access_not_granted',
  'access_denied',
  'not_in_channel',
  'is_archived',
  'user_disabled',
  'user_not_visible',
  'cannot_dm_bot',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'invalid_arguments',
  'invalid_arg_name',
  'invalid_array_arg',
  'invalid_charset',
  'invalid_form_data',
  'invalid_post_type',
  'missing_post_type',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'metadata_too_large',
  'metadata_must_be_sent_from_app',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'users_list_not_supplied',
  'too_many_users',
  'method_deprecated',
  'deprecated_endpoint',
  'unknown_method',
  'two_factor_setup_required',
  'enterprise_is_restricted',
  'org_login_required',
  'team_not_found',
]);

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const CHANNEL_NAME = /^#[a-z0-9_-]{1,80}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const SECTION_TEXT_MAX = 2900;
const HEADER_TEXT_MAX = 150;

interface SlackHistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * Slack pages: a DM to a user (`to` = user id, or an email looked up with users.lookupByEmail), or a post to a
 * channel (`C…`/`G…`/`D…` id or `#name`).
 *
 * The Web API client never retries (Temporal does) and rejects rate-limited calls, which become
 * `ChannelRateLimited` with `nextRetryDelay` = Retry-After. Every post carries the idempotency key in its message
 * metadata, and every attempt first searches the conversation's recent history for it: a retry after "429 but
 * posted", a timeout or a worker crash finds the earlier message and returns it instead of posting again.
 */
export function createSlackChannel(options: SlackChannelOptions): PageChannel & { readonly kind: 'slack'; readonly client: WebClient } {
  const publicUrl = parsePublicUrl(options.publicUrl, 'Slack channel');
  if (!options.token) throw new Error('Slack channel: the bot token is empty');
  const historyLimit = options.historyLimit ?? 20;
  const client = new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/` } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 10_000,
    ...(options.logger ? { logger: options.logger } : { logLevel: LogLevel.ERROR }),
  });
  // Channel names resolve to ids once (history needs the id); an unknown name looks again next time.
  const channelIds = new Map<string, string>();

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw slackFailure(error, what);
    }
  }

  async function conversationFor(to: string): Promise<string> {
    if (CHANNEL_ID.test(to)) return to;
    if (CHANNEL_NAME.test(to)) return channelByName(to.slice(1));
    let user = to;
    if (!USER_ID.test(to)) {
      if (!EMAIL.test(to)) throw permanentFailure('slack', `${JSON.stringify(to)} is neither a Slack user id, a channel nor an email address`, 'invalid_recipient');
      const found = await call('users.lookupByEmail', () => client.users.lookupByEmail({ email: to }));
      user = found.user?.id ?? '';
      if (!user) throw permanentFailure('slack', `no Slack user has the email ${to}`, 'users_not_found');
    }
    const opened = await call('conversations.open', () => client.conversations.open({ users: user }));
    const id = opened.channel?.id;
    if (!id) throw temporaryFailure('slack', 'conversations.open answered without a channel id', 'no_channel');
    return id;
  }

  async function channelByName(name: string): Promise<string> {
    const cached = channelIds.get(name);
    if (cached) return cached;
    let cursor: string | undefined;
    do {
      const page = await call('conversations.list', () =>
        client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 200, ...(cursor ? { cursor } : {}) }),
      );
      for (const channel of page.channels ?? []) if (channel.name && channel.id) channelIds.set(channel.name, channel.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && !channelIds.has(name));
    const id = channelIds.get(name);
    if (!id) throw permanentFailure('slack', `no channel #${name} the bot can see`, 'channel_not_found');
    return id;
  }

  async function findEarlierPost(channel: string, key: string): Promise<string | undefined> {
    const history = await call('conversations.history', () => client.conversations.history({ channel, limit: historyLimit, include_all_metadata: true }));
    const messages = (history.messages ?? []) as SlackHistoryMessage[];
    return messages.find((m) => m.metadata?.event_type === SLACK_PAGE_EVENT_TYPE && m.metadata.event_payload?.key === key)?.ts;
  }

  return {
    kind: 'slack',
    client,

    async send(message: PageMessage): Promise<PageDelivery> {
      checkMessage('slack', message);
      const incidentUrl = resolveIncidentUrl('slack', message.incidentUrl, publicUrl);
      const to = message.to.trim();
      const channel = await conversationFor(to);

      const earlier = await findEarlierPost(channel, message.idempotencyKey);
      if (earlier) return { providerId: `${channel}:${earlier}`, detail: `already posted to ${to} (${channel}, ts ${earlier}); not posted again` };

      const subject = drillSubject(message.subject, message.drill);
      const posted = await call('chat.postMessage', () =>
        client.chat.postMessage({
          channel,
          text: truncate(`${subject}: ${message.text}`, 3000),
          blocks: pageBlocks(subject, message.text, incidentUrl, message.drill),
          metadata: { event_type: SLACK_PAGE_EVENT_TYPE, event_payload: { key: message.idempotencyKey } },
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      const ts = posted.ts ?? null;
      return { providerId: ts ? `${posted.channel ?? channel}:${ts}` : null, detail: `posted to ${to} (${posted.channel ?? channel}, ts ${ts ?? 'unknown'})` };
    },

    async close(): Promise<void> {
      // The Web API client holds no connections of its own.
    },
  };
}

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A header, the text, a drill notice and a link button to the incident. */
export function pageBlocks(subject: string, text: string, incidentUrl: string, drill: boolean): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(subject, HEADER_TEXT_MAX), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(escapeSlackText(text), SECTION_TEXT_MAX) } },
  ];
  if (drill) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ':test_tube: *Drill*: an exercise, not a real incident.' }] });
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', action_id: SLACK_OPEN_INCIDENT_ACTION, text: { type: 'plain_text', text: 'Open incident' }, url: incidentUrl, style: 'danger' }],
  });
  return blocks;
}

/** Maps what the Web API client threw to a channel failure. */
export function slackFailure(error: unknown, method: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'slack_webapi_rate_limited_error') {
    const retryAfter = Number((error as { retryAfter?: unknown }).retryAfter);
    const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1;
    return rateLimitedFailure('slack', `Slack rate-limited ${method}; retry after ${seconds}s`, seconds * 1000, 429);
  }
  if (code === 'slack_webapi_platform_error') {
    const data = (error as { data?: { error?: unknown; response_metadata?: { retryAfter?: unknown; messages?: unknown } } }).data;
    const slackError = typeof data?.error === 'string' ? data.error : 'unknown_error';
    const hints = Array.isArray(data?.response_metadata?.messages) ? ` (${data.response_metadata.messages.map(String).join('; ')})` : '';
    const message = oneLine(`Slack ${method} failed: ${slackError}${hints}`, 300);
    if (slackError === 'ratelimited' || slackError === 'rate_limited') {
      const retryAfter = Number(data?.response_metadata?.retryAfter);
      return rateLimitedFailure('slack', message, (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1) * 1000, slackError);
    }
    return PERMANENT_SLACK_ERRORS.has(slackError) ? permanentFailure('slack', message, slackError) : temporaryFailure('slack', message, slackError);
  }
  if (code === 'slack_webapi_http_error') {
    const status = Number((error as { statusCode?: unknown }).statusCode);
    return temporaryFailure('slack', `Slack ${method} answered HTTP ${status}`, Number.isFinite(status) ? status : null);
  }
  if (code === 'slack_webapi_request_error') {
    const original = (error as { original?: unknown }).original;
    return temporaryFailure('slack', oneLine(`Slack ${method} request failed: ${errorMessage(original ?? error)}`, 300), 'request_error');
  }
  return temporaryFailure('slack', oneLine(`Slack ${method} failed: ${errorMessage(error)}`, 300), null);
}
