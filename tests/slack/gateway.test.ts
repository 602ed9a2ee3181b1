// The gateway against the fake Web API: rate limits, no double posts, per-channel queues (on a virtual clock).
import { SlackCallError } from '../../src/slack/gateway';
import { useGatewayOnFakeSlack } from './harness';

describe('gateway', () => {
  const env = useGatewayOnFakeSlack();

  test('a 429 blocks that method for that channel until Retry-After has passed; the client itself never retries', async () => {
    const posted = await env.gateway.postOnce('C1', { text: 'card' }, { eventType: 'x', key: 'k0' });
    env.slack.rateLimit('chat.update', { retryAfter: 30, times: 2 });
    const started = env.clock.now();
    await env.gateway.call('chat.update', { channel: 'C1', ts: posted.ts, text: 'v2' }, { channel: 'C1' });
    const updates = env.slack.callsTo('chat.update');
    expect(updates.map((c) => c.status)).toEqual([429, 429, 200]);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(30_000);
    expect(updates[2]!.at - updates[1]!.at).toBeGreaterThanOrEqual(30_000);
    expect(env.clock.now() - started).toBeGreaterThanOrEqual(60_000);
    expect(env.slack.message('C1', posted.ts)?.text).toBe('v2');
  });

  test('interactive calls do not wait: they fail at once and do not call Slack again before Retry-After', async () => {
    env.slack.rateLimit('views.open', { retryAfter: 20 });
    const open = () =>
      env.gateway.call(
        'views.open',
        { trigger_id: 't', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } },
        { channel: 'views', maxWaitMs: 0 },
      );
    await expect(open()).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 20_000 });
    await expect(open()).rejects.toBeInstanceOf(SlackCallError);
    expect(env.slack.callsTo('views.open')).toHaveLength(1);
    await env.clock.sleep(20_000);
    await expect(open()).resolves.toMatchObject({ ok: true });
  });

  test('"429 but posted": the retry finds the message by its metadata key and does not post again', async () => {
    env.slack.rateLimit('chat.postMessage', { retryAfter: 5, postAnyway: true });
    const result = await env.gateway.postOnce('C1', { text: 'hello' }, { eventType: 'fireline_test', key: 'once' });
    expect(result.reused).toBe(true);
    expect(env.slack.messagesIn('C1').filter((m) => m.metadata?.event_payload.key === 'once')).toHaveLength(1);
    expect(env.slack.callsTo('chat.postMessage')).toHaveLength(1);
    const history = env.slack.callsTo('conversations.history');
    expect(history).toHaveLength(1);
    expect(history[0]!.args.include_all_metadata).toBe('true');
    expect(history[0]!.at - env.slack.callsTo('chat.postMessage')[0]!.at).toBeGreaterThanOrEqual(5_000);
  });

  test('a timeout-like failure (HTTP 500) is ambiguous: the next post looks first, and posts when nothing is there', async () => {
    env.slack.httpError('chat.postMessage', 500);
    await expect(env.gateway.postOnce('C2', { text: 'x' }, { eventType: 'fireline_test', key: 'k' })).rejects.toMatchObject({
      kind: 'uncertain',
      status: 500,
    });
    const again = await env.gateway.postOnce('C2', { text: 'x' }, { eventType: 'fireline_test', key: 'k' });
    expect(again.reused).toBe(false);
    expect(env.slack.callsTo('conversations.history')).toHaveLength(1);
    expect(env.slack.messagesIn('C2')).toHaveLength(1);
    // A definite refusal is not ambiguous: nothing to look for next time.
    env.slack.failWith('chat.postMessage', 'msg_too_long');
    await expect(env.gateway.postOnce('C2', { text: 'y' }, { eventType: 'fireline_test', key: 'k2' })).rejects.toMatchObject({
      kind: 'permanent',
      slackError: 'msg_too_long',
    });
  });

  test('channels queue separately: one waiting out a rate limit does not hold up another', async () => {
    env.slack.rateLimit('chat.postMessage', { retryAfter: 60 });
    const order: string[] = [];
    const slow = env.gateway.postOnce('C1', { text: 'slow' }, { eventType: 't', key: 'a' }).then(() => order.push('C1'));
    const fast = env.gateway.postOnce('C2', { text: 'fast' }, { eventType: 't', key: 'b' }).then(() => order.push('C2'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['C2', 'C1']);
  });
});
