import type {
  ChatPostMessageResponse,
  ConversationsListResponse,
  ConversationsOpenResponse,
  KnownBlock,
  UsersLookupByEmailResponse,
} from '@slack/web-api';
import { callSlack, createSlackWebClient, toSlackCallError } from '../../src/slack/web-api';
import { oneLine, truncate } from '../shared/text';
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
}

/** Message metadata event type of a page; `event_payload.key` is the idempotency key. */
export const SLACK_PAGE_EVENT_TYPE = 'fireline_page';
/** action_id of the "Open incident" link button (a link button still sends block_actions: the Slack app must ack it). */
export const SLACK_OPEN_INCIDENT_ACTION = 'fireline_page_open_incident';

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const CHANNEL_NAME = /^#[a-z0-9_-]{1,80}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const SECTION_TEXT_MAX = 2900;
const HEADER_TEXT_MAX = 150;

/**
 * Slack pages: a DM to a user (`to` = user id, or an email looked up with users.lookupByEmail), or a post to a
 * channel (`C…`/`G…`/`D…` id or `#name`).
 *
 * Calls go through src/slack/web-api, which never retries (Temporal does). Its `rate_limited` becomes
 * `ChannelRateLimited` with `nextRetryDelay` = Retry-After, `permanent` becomes `ChannelPermanentFailure`, and the rest
 * `ChannelTemporaryFailure`: even an uncertain post is safe to retry. Every post carries the idempotency key in its
 * message metadata, and every attempt first searches the conversation's recent history for it: a retry after "429 but
 * posted", a timeout or a worker crash finds the earlier message and returns it instead of posting again.
 */
export function createSlackChannel(options: SlackChannelOptions): PageChannel & { readonly kind: 'slack' } {
  const publicUrl = parsePublicUrl(options.publicUrl, 'Slack channel');
  if (!options.token) throw new Error('Slack channel: the bot token is empty');
  const historyLimit = options.historyLimit ?? 20;
  const client = createSlackWebClient(options.token, options.apiUrl, options.timeoutMs);
  // Channel names resolve to ids once (history needs the id); an unknown name looks again next time.
  const channelIds = new Map<string, string>();

  async function call<T>(method: string, args: Record<string, unknown>): Promise<T> {
    try {
      return await callSlack<T>(client, method, args);
    } catch (error) {
      throw channelFailure(error, method);
    }
  }

  async function conversationFor(to: string): Promise<string> {
    if (CHANNEL_ID.test(to)) return to;
    if (CHANNEL_NAME.test(to)) return channelByName(to.slice(1));
    let user = to;
    if (!USER_ID.test(to)) {
      if (!EMAIL.test(to))
        throw permanentFailure(
          'slack',
          `${JSON.stringify(to)} is neither a Slack user id, a channel nor an email address`,
          'invalid_recipient',
        );
      const found = await call<UsersLookupByEmailResponse>('users.lookupByEmail', { email: to });
      user = found.user?.id ?? '';
      if (!user) throw permanentFailure('slack', `no Slack user has the email ${to}`, 'users_not_found');
    }
    const opened = await call<ConversationsOpenResponse>('conversations.open', { users: user });
    const id = opened.channel?.id;
    if (!id) throw temporaryFailure('slack', 'conversations.open answered without a channel id', 'no_channel');
    return id;
  }

  async function channelByName(name: string): Promise<string> {
    const cached = channelIds.get(name);
    if (cached) return cached;
    let cursor: string | undefined;
    do {
      const page = await call<ConversationsListResponse>('conversations.list', {
        types: 'public_channel,private_channel',
        exclude_archived: true,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const channel of page.channels ?? []) if (channel.name && channel.id) channelIds.set(channel.name, channel.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && !channelIds.has(name));
    const id = channelIds.get(name);
    if (!id) throw permanentFailure('slack', `no channel #${name} the bot can see`, 'channel_not_found');
    return id;
  }

  async function findEarlierPost(channel: string, key: string): Promise<string | undefined> {
    const history = await call<{
      messages?: { ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }[];
    }>('conversations.history', {
      channel,
      limit: historyLimit,
      include_all_metadata: true,
    });
    return (history.messages ?? []).find((m) => m.metadata?.event_type === SLACK_PAGE_EVENT_TYPE && m.metadata.event_payload?.key === key)
      ?.ts;
  }

  return {
    kind: 'slack',

    async send(message: PageMessage): Promise<PageDelivery> {
      checkMessage('slack', message);
      const incidentUrl = resolveIncidentUrl('slack', message.incidentUrl, publicUrl);
      const to = message.to.trim();
      const channel = await conversationFor(to);

      const earlier = await findEarlierPost(channel, message.idempotencyKey);
      if (earlier)
        return { providerId: `${channel}:${earlier}`, detail: `already posted to ${to} (${channel}, ts ${earlier}); not posted again` };

      const subject = drillSubject(message.subject, message.drill);
      const posted = await call<ChatPostMessageResponse>('chat.postMessage', {
        channel,
        text: truncate(`${subject}: ${message.text}`, 3000),
        blocks: pageBlocks(subject, message.text, incidentUrl, message.drill),
        metadata: { event_type: SLACK_PAGE_EVENT_TYPE, event_payload: { key: message.idempotencyKey } },
        unfurl_links: false,
        unfurl_media: false,
      });
      const ts = posted.ts ?? null;
      return {
        providerId: ts ? `${posted.channel ?? channel}:${ts}` : null,
        detail: `posted to ${to} (${posted.channel ?? channel}, ts ${ts ?? 'unknown'})`,
      };
    },

    async close(): Promise<void> {
      // The Web API client holds no connections of its own.
    },
  };
}

/** Slack mrkdwn treats &, < and > as control characters. */
function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A header, the text, a drill notice and a link button to the incident. */
function pageBlocks(subject: string, text: string, incidentUrl: string, drill: boolean): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(subject, HEADER_TEXT_MAX), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(escapeSlackText(text), SECTION_TEXT_MAX) } },
  ];
  if (drill)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ':test_tube: *Drill*: an exercise, not a real incident.' }] });
  blocks.push({
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: SLACK_OPEN_INCIDENT_ACTION,
        text: { type: 'plain_text', text: 'Open incident' },
        url: incidentUrl,
        style: 'danger',
      },
    ],
  });
  return blocks;
}

/** The channel failure for a failed Web API call. */
function channelFailure(error: unknown, method: string): Error {
  const failure = toSlackCallError(error, method);
  const message = oneLine(failure.message, 300);
  switch (failure.kind) {
    case 'rate_limited':
      return rateLimitedFailure('slack', message, failure.retryAfterMs ?? 1000, failure.code);
    case 'permanent':
      return permanentFailure('slack', message, failure.code);
    case 'transient':
    case 'uncertain':
      return temporaryFailure('slack', message, failure.code);
  }
}
