import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { ChannelFailureType, channelFailureDetails } from '../../activities/channels/errors';
import { createSlackChannel, SLACK_OPEN_INCIDENT_ACTION, SLACK_PAGE_EVENT_TYPE } from '../../activities/channels/slack';
import type { PageChannel, PageMessage } from '../../activities/channels/types';
import { FakeSlack } from '../support/fake-slack';
import { eventually } from '../support/wait';

const PUBLIC_URL = 'https://fireline.example.com';

let slack: FakeSlack;
let channel: PageChannel;
let keyCounter = 0;

function page(overrides: Partial<PageMessage> = {}): PageMessage {
  keyCounter++;
  return {
    idempotencyKey: `inc-9:page:1:ada:slack:${keyCounter}`,
    to: 'U1ADA',
    subject: '[SEV1] inc-9: Payments failing',
    text: 'Card payments fail with 502. <!channel> & <@U2> should not be pinged.',
    incidentUrl: '/incidents/inc-9',
    drill: false,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

beforeAll(async () => {
  slack = await FakeSlack.start({
    users: [
      { id: 'U1ADA', name: 'ada', email: 'ada@example.com' },
      { id: 'U2BOB', name: 'bob', email: 'bob@example.com' },
      { id: 'U3GONE', name: 'gone', deleted: true },
    ],
    channels: [
      { id: 'C1INCIDENTS', name: 'incidents' },
      { id: 'C2OLD', name: 'old-incidents', isArchived: true },
      { id: 'C3OTHER', name: 'other-team', members: ['U2BOB'] },
    ],
  });
  channel = createSlackChannel({ token: slack.token, apiUrl: slack.apiUrl, publicUrl: PUBLIC_URL });
});

afterEach(() => {
  slack.clearKnobs();
  slack.clearCalls();
});

afterAll(async () => {
  await channel.close();
  await slack.close();
});

describe('Slack channel: DMs', () => {
  test('opens the DM and posts the page with blocks, a link button and the key in metadata', async () => {
    const message = page();
    const result = await channel.send(message);

    const dm = slack.imWith('U1ADA').id;
    const posted = slack.messagesIn(dm);
    expect(posted).toHaveLength(1);
    const [post] = posted;
    expect(result.providerId).toBe(`${dm}:${post?.ts}`);
    expect(result.detail).toContain('posted to U1ADA');
    expect(post?.metadata).toEqual({ event_type: SLACK_PAGE_EVENT_TYPE, event_payload: { key: message.idempotencyKey } });
    expect(post?.text).toContain('[SEV1] inc-9: Payments failing');
    expect(post?.extra).toMatchObject({ unfurl_links: 'false', unfurl_media: 'false' });

    const blocks = post?.blocks as { type: string; text?: { text: string }; elements?: { url?: string; action_id?: string }[] }[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions']);
    expect(blocks[0]?.text?.text).toBe('[SEV1] inc-9: Payments failing');
    // Escaped for mrkdwn: no @channel ping, no user mention.
    expect(blocks[1]?.text?.text).toBe('Card payments fail with 502. &lt;!channel&gt; &amp; &lt;@U2&gt; should not be pinged.');
    expect(blocks[2]?.elements?.[0]).toMatchObject({
      url: 'https://fireline.example.com/incidents/inc-9',
      action_id: SLACK_OPEN_INCIDENT_ACTION,
    });

    expect(slack.calls.map((c) => c.method)).toEqual(['conversations.open', 'conversations.history', 'chat.postMessage']);
    const history = slack.callsTo('conversations.history')[0];
    expect(history?.args).toMatchObject({ channel: dm, limit: '20', include_all_metadata: 'true' });
    for (const call of slack.calls) {
      expect(call.token).toBe(slack.token);
      expect(call.contentType).toBe('application/x-www-form-urlencoded');
    }
  });

  test('a drill is marked in the header and a context block', async () => {
    await channel.send(page({ drill: true, to: 'U2BOB', subject: 'Payments failing' }));
    const [post] = slack.messagesIn(slack.imWith('U2BOB').id).slice(-1);
    const blocks = post?.blocks as { type: string; text?: { text: string } }[];
    expect(blocks[0]?.text?.text).toBe('[DRILL] Payments failing');
    expect(blocks.map((b) => b.type)).toContain('context');
    expect(post?.text).toMatch(/^\[DRILL\] Payments failing: /);
  });

  test('sending the same key again finds the earlier message and posts nothing', async () => {
    const message = page();
    const first = await channel.send(message);
    const second = await channel.send(message);
    expect(second.providerId).toBe(first.providerId);
    expect(second.detail).toContain('already posted');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.messages.filter((m) => m.metadata?.event_payload.key === message.idempotencyKey)).toHaveLength(1);
  });

  test('an email address is looked up and paged by DM', async () => {
    await channel.send(page({ to: 'bob@example.com' }));
    expect(slack.callsTo('users.lookupByEmail')[0]?.args).toMatchObject({ email: 'bob@example.com' });
    expect(slack.callsTo('conversations.open')[0]?.args).toMatchObject({ users: 'U2BOB' });
  });

  test('a channel id or #name is posted to directly, with the same reconciliation', async () => {
    const byName = page({ to: '#incidents' });
    await channel.send(byName);
    await channel.send(byName);
    await channel.send(page({ to: 'C1INCIDENTS' }));
    expect(slack.messagesIn('C1INCIDENTS')).toHaveLength(2);
    expect(slack.callsTo('conversations.open')).toHaveLength(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
  });
});

describe('Slack channel: rate limits', () => {
  test('429 with Retry-After → ChannelRateLimited with nextRetryDelay, and no message', async () => {
    slack.rateLimit('chat.postMessage', { retryAfter: 30 });
    const before = slack.messages.length;
    const failure = await failureOf(channel.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.rateLimited, nonRetryable: false, nextRetryDelay: '30s' });
    expect(channelFailureDetails(failure)).toEqual({ channel: 'slack', code: 429, retryAfterMs: 30_000 });
    expect(slack.messages.length).toBe(before);
    // The client did not retry on its own.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  test('"429 but posted", then the retry: exactly one message', async () => {
    slack.rateLimit('chat.postMessage', { retryAfter: 2, postAnyway: true });
    const message = page({ to: 'U2BOB' });
    const failure = await failureOf(channel.send(message));
    expect(failure).toMatchObject({ type: ChannelFailureType.rateLimited, nextRetryDelay: '2s' });

    const retried = await channel.send(message);
    expect(retried.detail).toContain('already posted');
    const copies = slack.messages.filter((m) => m.metadata?.event_payload.key === message.idempotencyKey);
    expect(copies).toHaveLength(1);
    expect(retried.providerId).toBe(`${copies[0]?.channel}:${copies[0]?.ts}`);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  test('a rate-limited history lookup is rate-limited too (nothing posted blind)', async () => {
    slack.rateLimit('conversations.history', { retryAfter: 7 });
    const failure = await failureOf(channel.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.rateLimited, nextRetryDelay: '7s' });
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  test('an HTTP 503 is retryable with the policy backoff', async () => {
    slack.httpError('chat.postMessage', 503);
    const failure = await failureOf(channel.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(channelFailureDetails(failure)?.code).toBe(503);
  });
});

describe('Slack channel: errors', () => {
  test.each([
    ['an unknown user', { to: 'U9NOBODY' }, 'user_not_found'],
    ['a deactivated user', { to: 'U3GONE' }, 'user_disabled'],
    ['an unknown channel', { to: 'C9NOWHERE' }, 'channel_not_found'],
    ['an archived channel', { to: 'C2OLD' }, 'is_archived'],
    ['a channel the bot is not in', { to: 'C3OTHER' }, 'not_in_channel'],
    ['an unknown email', { to: 'nobody@example.com' }, 'users_not_found'],
    ['an unknown #name', { to: '#nowhere' }, 'channel_not_found'],
    ['something that is no recipient', { to: 'ada' }, 'invalid_recipient'],
  ])('%s is permanent', async (_label, overrides, code) => {
    const failure = await failureOf(channel.send(page(overrides)));
    expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(channelFailureDetails(failure)?.code).toBe(code);
  });

  test.each(['account_inactive', 'invalid_auth', 'not_in_channel', 'missing_scope'])(
    'forced %s on the post is permanent',
    async (error) => {
      slack.failWith('chat.postMessage', error);
      const failure = await failureOf(channel.send(page()));
      expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
      expect(channelFailureDetails(failure)?.code).toBe(error);
    },
  );

  test('a wrong token is invalid_auth, permanent', async () => {
    const wrong = createSlackChannel({ token: 'xoxb-wrong', apiUrl: slack.apiUrl, publicUrl: PUBLIC_URL });
    const failure = await failureOf(wrong.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(channelFailureDetails(failure)?.code).toBe('invalid_auth');
  });

  test.each(['internal_error', 'fatal_error', 'service_unavailable', 'something_new'])('%s is retryable', async (error) => {
    slack.failWith('chat.postMessage', error);
    const message = page();
    const failure = await failureOf(channel.send(message));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    // …and the retry posts once.
    await channel.send(message);
    expect(slack.messages.filter((m) => m.metadata?.event_payload.key === message.idempotencyKey)).toHaveLength(1);
  });

  test('a timeout is retryable and the retry reconciles', async () => {
    const impatient = createSlackChannel({ token: slack.token, apiUrl: slack.apiUrl, publicUrl: PUBLIC_URL, timeoutMs: 200 });
    slack.delay('chat.postMessage', 600, { times: 1 });
    const message = page();
    const failure = await failureOf(impatient.send(message));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    // The slow post did land: the retry must find it instead of posting again.
    await eventually(
      () => (slack.messages.some((m) => m.metadata?.event_payload.key === message.idempotencyKey) ? true : undefined),
      'the slow post landing',
    );
    const retried = await impatient.send(message);
    expect(retried.detail).toContain('already posted');
    expect(slack.messages.filter((m) => m.metadata?.event_payload.key === message.idempotencyKey)).toHaveLength(1);
  });

  test('Slack unreachable is retryable', async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const offline = createSlackChannel({ token: slack.token, apiUrl: `http://127.0.0.1:${port}/api/`, publicUrl: PUBLIC_URL });
    const failure = await failureOf(offline.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
  });

  test('a bad idempotency key or incident URL is permanent and calls nothing', async () => {
    expect(await failureOf(channel.send(page({ idempotencyKey: 'has spaces' })))).toMatchObject({ type: ChannelFailureType.permanent });
    expect(await failureOf(channel.send(page({ incidentUrl: 'javascript:alert(1)' })))).toMatchObject({
      type: ChannelFailureType.permanent,
    });
    expect(slack.calls).toHaveLength(0);
  });
});
