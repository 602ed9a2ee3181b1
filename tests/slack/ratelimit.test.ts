// Slack answers 429 for two minutes: the sync waits out every Retry-After (on a virtual clock shared with the fake,
// so two minutes pass in milliseconds), calls nothing early, and in the end every message is in Slack exactly once.
import type { IncidentRecord } from '../../src/domain/incident';
import type { FakeSlackCall } from '../support/fake-slack';
import { eventually } from '../support/temporal';
import { CARD_EVENT_TYPE, keyedMessages, startSlackHarness, TIMELINE_EVENT_TYPE, VirtualClock } from './harness';
import type { SlackHarness } from './harness';

const clock = new VirtualClock();
let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness({ name: 'slack-ratelimit', sync: 'manual', clock });
});
afterAll(async () => {
  await h?.stop();
});

/** The conversation a call was about (workspace-wide calls share one key). */
function target(call: FakeSlackCall): string {
  return `${call.method} ${String(call.args.channel ?? '*')}`;
}

/** No call to a (method, channel) before the Retry-After of an earlier 429 to it had passed. */
function expectRetryAfterRespected(calls: FakeSlackCall[]): void {
  const blockedUntil = new Map<string, number>();
  for (const call of calls) {
    const until = blockedUntil.get(target(call));
    if (until !== undefined) expect({ call: target(call), early: call.at < until }).toEqual({ call: target(call), early: false });
    if (call.status === 429) blockedUntil.set(target(call), call.at + (call.retryAfter ?? 0) * 1000);
  }
}

async function declare(title: string): Promise<IncidentRecord> {
  const res = await h.api<{ incident: IncidentRecord }>('POST', '/api/v1/incidents', { as: 'commander', body: { title, runbook: 'hold' } });
  expect(res.status).toBe(201);
  return res.body.incident;
}

test('429 for two minutes, then success: everything delivered once, nothing before Retry-After', async () => {
  const incident = await declare('Storefront 502s');
  await h.api('POST', `/api/v1/incidents/${incident.id}/acknowledge`, { as: 'responder', body: {} });
  await h.api('POST', `/api/v1/incidents/${incident.id}/notes`, { as: 'responder', body: { text: 'LB health checks flapping' } });
  await eventually(
    async () => ((await h.timeline(incident.id)).some((e) => e.type === 'decision.requested') ? true : undefined),
    'the decision request',
  );

  const startedReal = Date.now();
  const startedVirtual = clock.now();
  h.slack.rateLimit('*', { forMs: 120_000 });
  await h.sync.syncOnce();

  const calls = h.slack.calls;
  const limited = calls.filter((c) => c.status === 429);
  expect(limited.length).toBeGreaterThan(0);
  expect(limited[0]!.retryAfter).toBe(120);
  expectRetryAfterRespected(calls);
  // The first successful call came only once the two minutes were over.
  const firstOk = calls.find((c) => c.ok)!;
  expect(firstOk.at - limited[0]!.at).toBeGreaterThanOrEqual(120_000);
  expect(clock.now() - startedVirtual).toBeGreaterThanOrEqual(120_000);
  expect(Date.now() - startedReal).toBeLessThan(15_000);

  const row = (await h.store.getSlackIncident(incident.id))!;
  expect(row).toMatchObject({ pinned: true });
  const channel = row.channelId!;
  expect(h.slack.callsTo('conversations.create').filter((c) => c.ok)).toHaveLength(1);
  expect(keyedMessages(h.slack, channel, CARD_EVENT_TYPE).get(incident.id)).toHaveLength(1);
  const echoes = keyedMessages(h.slack, channel, TIMELINE_EVENT_TYPE);
  const expected = (await h.timeline(incident.id))
    .filter((e) => ['incident.acknowledged', 'note.added', 'decision.requested'].includes(e.type))
    .map((e) => e.id);
  expect(expected).toHaveLength(3);
  expect([...echoes.keys()].sort()).toEqual([...expected].sort());
  for (const messages of echoes.values()) expect(messages).toHaveLength(1);
  expect(h.slack.messagesIn(channel).filter((m) => m.botId)).toHaveLength(4);
});

test('"429 but posted" on a card and on an echo: looked up after Retry-After, never posted twice', async () => {
  h.slack.clearKnobs();
  h.slack.clearCalls();
  const incident = await declare('Search index corrupt');
  await eventually(
    async () => ((await h.timeline(incident.id)).some((e) => e.type === 'decision.requested') ? true : undefined),
    'the decision request',
  );
  // Slack stores each post and still answers 429, twice in a row.
  h.slack.rateLimit('chat.postMessage', { retryAfter: 30, times: 2, postAnyway: true });
  await h.sync.syncOnce();

  const channel = (await h.store.getSlackIncident(incident.id))!.channelId!;
  expect(keyedMessages(h.slack, channel, CARD_EVENT_TYPE).get(incident.id)).toHaveLength(1);
  for (const messages of keyedMessages(h.slack, channel, TIMELINE_EVENT_TYPE).values()) expect(messages).toHaveLength(1);
  expect(h.slack.messagesIn(channel).filter((m) => m.botId)).toHaveLength(2);
  const posts = h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
  expect(posts.map((c) => c.status)).toEqual([429, 429]);
  expectRetryAfterRespected(h.slack.calls);
  // Each lookup came after the Retry-After of the post it checks on.
  const lookups = h.slack.callsTo('conversations.history').filter((c) => c.args.include_all_metadata === 'true');
  for (const post of posts) expect(lookups.some((l) => l.at >= post.at + 30_000)).toBe(true);

  // A card found instead of posted is redrawn once (its content is unknown); after that, a pass with nothing new
  // calls nothing at all.
  h.slack.clearCalls();
  await clock.sleep(1000);
  await h.sync.syncOnce();
  expect(h.slack.calls.map((c) => c.method)).toEqual(['chat.update']);
  h.slack.clearCalls();
  await h.sync.syncOnce();
  expect(h.slack.calls).toEqual([]);
});

test('a sync that fails (Slack refuses the channel) backs off, then recovers without duplicates', async () => {
  h.slack.clearKnobs();
  h.slack.clearCalls();
  const incident = await declare('Ledger mismatch');
  h.slack.failWith('conversations.create', 'restricted_action');
  await h.sync.syncOnce();
  expect(h.slack.callsTo('conversations.create').map((c) => c.error)).toEqual(['restricted_action']);
  expect((await h.store.getSlackIncident(incident.id))?.channelId ?? null).toBeNull();
  // Right away: not tried again.
  await h.sync.syncOnce();
  expect(h.slack.callsTo('conversations.create')).toHaveLength(1);
  await clock.sleep(1500);
  await h.sync.syncOnce();
  const row = (await h.store.getSlackIncident(incident.id))!;
  expect(row.channelId).not.toBeNull();
  expect(keyedMessages(h.slack, row.channelId!, CARD_EVENT_TYPE).get(incident.id)).toHaveLength(1);
});

test('a channel someone archived is left alone from then on', async () => {
  h.slack.clearKnobs();
  const incident = await declare('Archived too early');
  await h.sync.syncOnce();
  const row = (await h.store.getSlackIncident(incident.id))!;
  h.slack.channels.get(row.channelId!)!.isArchived = true;
  await h.api('POST', `/api/v1/incidents/${incident.id}/notes`, { as: 'responder', body: { text: 'anyone there?' } });
  await clock.sleep(1500);
  await h.sync.syncOnce();
  expect((await h.store.getSlackIncident(incident.id))!.final).toBe(true);
  h.slack.clearCalls();
  await h.api('POST', `/api/v1/incidents/${incident.id}/notes`, { as: 'responder', body: { text: 'still nobody' } });
  await h.sync.syncOnce();
  // (Incidents of the earlier tests may still be moving on; this channel is not touched.)
  expect(h.slack.calls.filter((c) => c.args.channel === row.channelId)).toEqual([]);
});
