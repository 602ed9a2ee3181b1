import { WebClient } from '@slack/web-api';
import type { WebAPIPlatformError, WebAPIRateLimitedError } from '@slack/web-api';
import { FakeSlack, slackSignature } from '../support/fake-slack';

/** The fake Slack Web API is shared with the Slack-app work: these pin down the behaviour it promises. */

let slack: FakeSlack;
let client: WebClient;

async function rejection<T extends Error>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error('expected a rejection');
}

async function post(
  method: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${slack.apiUrl}${method}`, { method: 'POST', body, headers });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

beforeEach(async () => {
  slack = await FakeSlack.start({
    tokens: ['xoxb-a', 'xoxb-b'],
    users: [
      { id: 'U1', name: 'ada', email: 'Ada@Example.com' },
      { id: 'U2', name: 'bob' },
    ],
  });
  client = new WebClient('xoxb-a', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
});

afterEach(async () => {
  await slack.close();
});

describe('fake Slack: wire', () => {
  test('auth.test answers as the bot; tokens come from Bearer or the form', async () => {
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0FIRELINE' });
    const form = await post('auth.test', 'token=xoxb-b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.json).toMatchObject({ ok: true });
    const none = await post('auth.test', '', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(none.json).toEqual({ ok: false, error: 'not_authed' });
    const wrong = await rejection<WebAPIPlatformError>(
      new WebClient('xoxb-nope', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }).auth.test(),
    );
    expect(wrong.data.error).toBe('invalid_auth');
  });

  test('JSON bodies work like forms; JSON-encoded blocks and metadata in forms are parsed', async () => {
    const viaJson = await post('chat.postMessage', JSON.stringify({ channel: 'U1', text: 'hi', blocks: [{ type: 'divider' }] }), {
      'content-type': 'application/json; charset=utf-8',
      authorization: 'Bearer xoxb-a',
    });
    expect(viaJson.json).toMatchObject({ ok: true });
    await client.chat.postMessage({
      channel: 'U1',
      text: 'hello',
      blocks: [{ type: 'divider' }],
      metadata: { event_type: 'x', event_payload: { a: 1 } },
    });
    const [first, second] = slack.messages;
    expect(first?.blocks).toEqual([{ type: 'divider' }]);
    expect(second?.blocks).toEqual([{ type: 'divider' }]);
    expect(second?.metadata).toEqual({ event_type: 'x', event_payload: { a: 1 } });
    expect(slack.callsTo('chat.postMessage')[1]?.args.blocks).toEqual([{ type: 'divider' }]);
  });

  test('unknown methods and malformed JSON fields are Slack errors', async () => {
    expect((await post('nope.nope', 'token=xoxb-a', { 'content-type': 'application/x-www-form-urlencoded' })).json).toEqual({
      ok: false,
      error: 'unknown_method',
    });
    expect(
      (await post('chat.postMessage', 'token=xoxb-a&channel=U1&blocks=%5Bbroken', { 'content-type': 'application/x-www-form-urlencoded' }))
        .json,
    ).toEqual({
      ok: false,
      error: 'invalid_blocks_format',
    });
  });

  test('ts values are unique and increasing, also within one millisecond', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.chat.postMessage({ channel: 'U1', text: `m${i}` })));
    const ts = results.map((r) => r.ts ?? '');
    expect(new Set(ts).size).toBe(20);
    for (const value of ts) expect(value).toMatch(/^\d{10}\.\d{6}$/);
    const sorted = [...ts].sort((a, b) => Number(a) - Number(b));
    expect(slack.messages.map((m) => m.ts)).toEqual(sorted);
  });
});

describe('fake Slack: knobs', () => {
  test('rateLimit: 429 + Retry-After for a number of calls, logged', async () => {
    slack.rateLimit('chat.postMessage', { retryAfter: 12, times: 2 });
    for (let i = 0; i < 2; i++) {
      const error = await rejection<WebAPIRateLimitedError>(client.chat.postMessage({ channel: 'U1', text: 'x' }));
      expect(error.code).toBe('slack_webapi_rate_limited_error');
      expect(error.retryAfter).toBe(12);
    }
    await expect(client.chat.postMessage({ channel: 'U1', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(slack.callsTo('chat.postMessage').map((c) => [c.status, c.retryAfter, c.applied])).toEqual([
      [429, 12, false],
      [429, 12, false],
      [200, undefined, true],
    ]);
    expect(slack.messages).toHaveLength(1);
  });

  test('rateLimit for a period: Retry-After counts down to its end', async () => {
    let now = 1_700_000_000_000;
    await slack.close();
    slack = await FakeSlack.start({ users: [{ id: 'U1', name: 'ada' }], now: () => now });
    client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    slack.rateLimit('*', { forMs: 120_000 });
    expect((await rejection<WebAPIRateLimitedError>(client.chat.postMessage({ channel: 'U1', text: 'x' }))).retryAfter).toBe(120);
    now += 90_500;
    expect((await rejection<WebAPIRateLimitedError>(client.conversations.open({ users: 'U1' }))).retryAfter).toBe(30);
    now += 29_500;
    await expect(client.chat.postMessage({ channel: 'U1', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  test('"429 but posted": the message is stored, the caller sees 429', async () => {
    slack.rateLimit('chat.postMessage', { retryAfter: 3, postAnyway: true });
    await rejection(client.chat.postMessage({ channel: 'U1', text: 'x' }));
    expect(slack.messages).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')[0]).toMatchObject({ status: 429, applied: true, retryAfter: 3 });
  });

  test('failWith, httpError and delay', async () => {
    slack.failWith('*', 'fatal_error');
    expect((await rejection<WebAPIPlatformError>(client.auth.test())).data.error).toBe('fatal_error');
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });

    slack.httpError('auth.test', 503);
    expect(await rejection<Error & { statusCode: number }>(client.auth.test())).toMatchObject({
      code: 'slack_webapi_http_error',
      statusCode: 503,
    });

    slack.delay('auth.test', 150, { times: 1 });
    const started = Date.now();
    await client.auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('fake Slack: methods', () => {
  test('channels: create, invite, info, history, update, pins, ephemeral, permalink', async () => {
    expect((await rejection<WebAPIPlatformError>(client.conversations.create({ name: 'Bad Name' }))).data.error).toBe(
      'invalid_name_specials',
    );
    const created = await client.conversations.create({ name: 'inc-42-checkout' });
    const id = created.channel?.id ?? '';
    expect((await rejection<WebAPIPlatformError>(client.conversations.create({ name: 'inc-42-checkout' }))).data.error).toBe('name_taken');
    await client.conversations.invite({ channel: id, users: 'U1,U2' });
    expect((await rejection<WebAPIPlatformError>(client.conversations.invite({ channel: id, users: 'U1' }))).data.error).toBe(
      'already_in_channel',
    );
    expect((await rejection<WebAPIPlatformError>(client.conversations.invite({ channel: id, users: 'U9' }))).data.error).toBe(
      'user_not_found',
    );
    expect((await client.conversations.info({ channel: id })).channel).toMatchObject({
      name: 'inc-42-checkout',
      is_member: true,
      num_members: 3,
    });

    const card = await client.chat.postMessage({ channel: id, text: 'card v1', metadata: { event_type: 'card', event_payload: { v: 1 } } });
    await client.chat.update({ channel: id, ts: card.ts ?? '', text: 'card v2' });
    await client.pins.add({ channel: id, timestamp: card.ts ?? '' });
    expect((await rejection<WebAPIPlatformError>(client.pins.add({ channel: id, timestamp: card.ts ?? '' }))).data.error).toBe(
      'already_pinned',
    );
    expect((await rejection<WebAPIPlatformError>(client.chat.update({ channel: id, ts: '1.000001', text: 'x' }))).data.error).toBe(
      'message_not_found',
    );

    const plain = await client.conversations.history({ channel: id });
    expect(plain.messages?.[0]).toMatchObject({ text: 'card v2', edited: { user: 'UBOT' } });
    expect(plain.messages?.[0]?.metadata).toBeUndefined();
    const withMetadata = await client.conversations.history({ channel: id, include_all_metadata: true });
    expect(withMetadata.messages?.[0]?.metadata).toEqual({ event_type: 'card', event_payload: { v: 1 } });

    await client.chat.postEphemeral({ channel: id, user: 'U1', text: 'only you' });
    expect(slack.ephemerals).toMatchObject([{ channel: id, user: 'U1', text: 'only you' }]);
    expect((await client.chat.getPermalink({ channel: id, message_ts: card.ts ?? '' })).permalink).toContain(id);
  });

  test('history pages newest first with cursors', async () => {
    for (let i = 0; i < 5; i++) await client.chat.postMessage({ channel: 'U1', text: `m${i}` });
    const dm = slack.imWith('U1').id;
    const first = await client.conversations.history({ channel: dm, limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['m4', 'm3']);
    expect(first.has_more).toBe(true);
    const second = await client.conversations.history({ channel: dm, limit: 2, cursor: first.response_metadata?.next_cursor ?? '' });
    expect(second.messages?.map((m) => m.text)).toEqual(['m2', 'm1']);
  });

  test('users, DMs and views', async () => {
    expect((await client.users.lookupByEmail({ email: 'ada@example.com' })).user?.id).toBe('U1');
    expect((await rejection<WebAPIPlatformError>(client.users.lookupByEmail({ email: 'x@example.com' }))).data.error).toBe(
      'users_not_found',
    );
    expect((await client.users.info({ user: 'U2' })).user?.name).toBe('bob');
    const dm = await client.conversations.open({ users: 'U1' });
    const again = await client.conversations.open({ users: 'U1' });
    expect(again.channel?.id).toBe(dm.channel?.id);
    expect(dm.channel?.id).toMatch(/^D/);

    const opened = await client.views.open({
      trigger_id: '1.2.abc',
      view: { type: 'modal', callback_id: 'declare', title: { type: 'plain_text', text: 'Declare' }, blocks: [] },
    });
    expect(opened.view).toMatchObject({ callback_id: 'declare', app_id: 'AFIRELINE' });
    expect(slack.views.get(opened.view?.id ?? '')?.triggerId).toBe('1.2.abc');
    slack.failWith('views.open', 'expired_trigger_id');
    expect(
      (
        await rejection<WebAPIPlatformError>(
          client.views.open({ trigger_id: 'old', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } }),
        )
      ).data.error,
    ).toBe('expired_trigger_id');
  });

  test('response_url posts are captured', async () => {
    const url = slack.responseUrl('cmd-1');
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'Declared inc-1' }),
    });
    expect(slack.responses).toMatchObject([{ id: 'cmd-1', body: { response_type: 'ephemeral', text: 'Declared inc-1' } }]);
  });

  test('custom methods can be added', async () => {
    slack.method('bookmarks.add', (args) => ({ bookmark: { id: 'Bk1', title: args.title } }));
    await expect(client.apiCall('bookmarks.add', { channel_id: 'C1', title: 'Runbook', type: 'link' })).resolves.toMatchObject({
      bookmark: { title: 'Runbook' },
    });
  });
});

test('slackSignature matches the reference vector (docs/reference/integrations.md §4.1)', () => {
  const body =
    'command=%2Fincident&text=db+down&user_id=U1&channel_id=C1&team_id=T1&trigger_id=1.2.abc&response_url=http%3A%2F%2F127.0.0.1%3A9999%2Fresp';
  expect(slackSignature('test-signing-secret', 1700000000, body)).toBe(
    'v0=0cd228fe3b31a9af94c019261ae1016920e33aeabe5be5bd281e73223e82eb94',
  );
});
