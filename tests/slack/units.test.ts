// The Slack pieces that need neither Temporal nor the HTTP app: parsing, names, the card, the timestamp rule,
// the gateway's rate-limit and no-double-post behaviour, and the Slack → Fireline identity map (fake Web API).
import fs from 'node:fs';
import path from 'node:path';
import type { IncidentRecord } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import { parseOnCall } from '../../src/oncall/load';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createLogger } from '../../src/logger';
import { deriveCard, responderSlackIds } from '../../src/slack/card';
import { parseIncidentCommand } from '../../src/slack/commands';
import { cardMessage, channelNameFor, declareModal, parseDecisionValue, severityPreview } from '../../src/slack/format';
import { createSlackWebClient, SlackCallError, SlackGateway } from '../../src/slack/gateway';
import { SlackDirectory } from '../../src/slack/identity';
import { slackTimestampIsFresh } from '../../src/slack/verify';
import { SLACK_OFF_MESSAGE, startSlackApi, startSlackWorker } from '../../src/slack';
import { loadConfig } from '../../src/config';
import pino from 'pino';
import { FakeSlack, slackSignature } from '../support/fake-slack';
import { ONCALL_YAML, USERS, VirtualClock } from './harness';

const FIXTURES = path.resolve(__dirname, '../fixtures/reference/slack');
const logger = createLogger({ level: 'silent' });

describe('/incident text', () => {
  test.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['declare', { kind: 'declare-form' }],
    ['declare sev1 Orders DB primary unreachable, checkout failing', { kind: 'declare', severity: 'SEV1', title: 'Orders DB primary unreachable, checkout failing', drill: false }],
    ['declare SEV2 Payments slow --runbook payment-gateway-degradation --drill', { kind: 'declare', severity: 'SEV2', title: 'Payments slow', runbook: 'payment-gateway-degradation', drill: true }],
    ['declare Checkout broken', { kind: 'declare', title: 'Checkout broken', drill: false }],
    ['run order-db-outage --drill', { kind: 'run', runbook: 'order-db-outage', drill: true }],
    ['run triage Something odd', { kind: 'run', runbook: 'triage', title: 'Something odd', drill: false }],
    ['list', { kind: 'list' }],
    ['status', { kind: 'status' }],
    ['status inc-12', { kind: 'status', incidentId: 'INC-12' }],
    ['ack', { kind: 'ack' }],
    ['acknowledge INC-7', { kind: 'ack', incidentId: 'INC-7' }],
    ['escalate INC-7 nobody answers', { kind: 'escalate', incidentId: 'INC-7', reason: 'nobody answers' }],
    ['resolve', { kind: 'resolve' }],
    ['resolve INC-3 failed over;  all green', { kind: 'resolve', incidentId: 'INC-3', summary: 'failed over;  all green' }],
    ['note replica lag 3s\nsecond line', { kind: 'note', text: 'replica lag 3s\nsecond line' }],
    ['note INC-9 checked the dashboards', { kind: 'note', incidentId: 'INC-9', text: 'checked the dashboards' }],
  ])('%j', (text, expected) => {
    expect(parseIncidentCommand(text)).toEqual(expected);
  });

  test.each([
    ['frobnicate', /Unknown subcommand "frobnicate"/],
    ['note', /What should the note say/],
    ['note INC-4', /What should the note say/],
    ['declare sev1', /title/],
    ['declare sev1 x --runbook', /--runbook needs a value/],
    ['declare sev1 x --force', /unknown option --force/],
    ['run', /Which runbook/],
    ['run Not_A_Runbook', /not a runbook id/],
    ['ack INC-1 please', /at most an incident id/],
  ])('%j is refused with a clear message', (text, message) => {
    const parsed = parseIncidentCommand(text);
    expect(parsed.kind).toBe('invalid');
    expect((parsed as { message: string }).message).toMatch(message);
  });
});

test('channel names: inc-<n>-<slug>, lowercase, at most 80 characters, never ending in a dash', () => {
  expect(channelNameFor({ id: 'INC-42', title: 'Orders DB primary unreachable, checkout failing' })).toBe('inc-42-orders-db-primary-unreachable-checkout-failing');
  expect(channelNameFor({ id: 'INC-7', title: 'Zahlungsausfall bei Über-Bestellungen!!' })).toBe('inc-7-zahlungsausfall-bei-uber-bestellungen');
  expect(channelNameFor({ id: 'INC-7', title: '🔥🔥' })).toBe('inc-7');
  const long = channelNameFor({ id: 'INC-123456789012', title: 'a very long title '.repeat(10) });
  expect(long.length).toBeLessThanOrEqual(80);
  expect(long).toMatch(/^inc-123456789012-a-very-long-title[a-z0-9-]*[a-z0-9]$/);
  expect(channelNameFor({ id: 'INC-42', title: 'x' }, '-2')).toBe('inc-42-x-2');
  for (const name of [long, channelNameFor({ id: 'INC-1', title: 'A_B c.d' })]) expect(name).toMatch(/^[a-z0-9-]{1,80}$/);
});

test('request timestamps: within five minutes of now in both directions (Bolt alone accepts any future one)', () => {
  const now = 1_776_759_401_000;
  expect(slackTimestampIsFresh('1776759401', now)).toBe(true);
  expect(slackTimestampIsFresh(String(1_776_759_401 - 300), now)).toBe(true);
  expect(slackTimestampIsFresh(String(1_776_759_401 - 301), now)).toBe(false);
  expect(slackTimestampIsFresh(String(1_776_759_401 + 300), now)).toBe(true);
  expect(slackTimestampIsFresh(String(1_776_759_401 + 301), now)).toBe(false);
  expect(slackTimestampIsFresh(String(1_776_759_401 + 3600), now)).toBe(false);
  for (const bad of [undefined, '', 'abc', '1776759401.5', '-1', ['1776759401']]) expect(slackTimestampIsFresh(bad, now)).toBe(false);
});

test('the fixtures sign as documented (integrations.md §4.1, fixtures/README.md)', () => {
  const body = fs.readFileSync(path.join(FIXTURES, 'slash-command-incident-declare.txt'), 'utf8');
  expect(slackSignature('fireline-test-signing-secret', 1776759401, body)).toBe('v0=66ea16cbb364e1396f4b165931331913b20bfb38a6e6c3619a186d5f50b7dd3d');
  const vector = 'command=%2Fincident&text=db+down&user_id=U1&channel_id=C1&team_id=T1&trigger_id=1.2.abc&response_url=http%3A%2F%2F127.0.0.1%3A9999%2Fresp';
  expect(slackSignature('test-signing-secret', 1700000000, vector)).toBe('v0=0cd228fe3b31a9af94c019261ae1016920e33aeabe5be5bd281e73223e82eb94');
});

const incident: IncidentRecord = {
  id: 'INC-5',
  title: 'Checkout failing',
  service: 'checkout',
  severity: 'SEV2',
  summary: null,
  drill: false,
  trigger: { kind: 'alert', by: { id: 'monitoring', name: 'Monitoring', role: 'responder' } },
  declaredAt: '2026-04-21T10:00:00.000Z',
  runbookId: 'paged',
  runbookVersion: 'v1',
  workflowId: 'incident/INC-5',
  status: 'acknowledged',
  phase: 'decide',
  acknowledgedAt: '2026-04-21T10:03:00.000Z',
  resolvedAt: null,
  closedAt: null,
  updatedAt: '2026-04-21T10:03:00.000Z',
};

function event(seq: number, type: TimelineEvent['type'], summary: string, data: Record<string, unknown> = {}, actor: Actor = { id: 'runbook', name: 'Runbook', role: 'admin' }): TimelineEvent {
  return { id: `INC-5:${seq}`, incidentId: 'INC-5', seq, at: '2026-04-21T10:00:00.000Z', type, phase: 'decide', actor, summary, data };
}

test('the card: who is paged, who commands, open decisions and tasks, from the timeline', () => {
  const events = [
    event(1, 'page.sent', 'Paged Ben by slack (level 1)', { person: 'ben', via: 'slack', level: 1 }),
    event(2, 'incident.acknowledged', 'Acknowledged by Ben', {}, { id: 'slack:U0BEN', name: 'Ben Paged', role: 'responder' }),
    event(3, 'decision.requested', 'Fail over or restore?', { stepId: 'strategy', options: ['failover', 'restore'], default: 'failover', deadline: '2026-04-21T10:15:00.000Z' }),
    event(4, 'decision.requested', 'Tell customers?', { stepId: 'comms', options: ['yes', 'no'], default: 'no', deadline: '2026-04-21T10:15:00.000Z' }),
    event(5, 'decision.taken', 'Grace chose "yes"', { stepId: 'comms', option: 'yes' }, { id: 'token:abc', name: 'Grace', role: 'commander' }),
    event(6, 'task.created', 'Task for dpo: Notify the authority', { stepId: 'notify-dpo', assignee: 'dpo', deadline: null }),
    event(7, 'incident.escalated', 'Escalated to level 1', { level: 1 }),
  ];
  const model = deriveCard(incident, events, (id) => ({ name: id === 'ben' ? 'Ben Paged' : id, slackId: id === 'ben' ? 'U0BEN' : null }));
  expect(model.commander).toEqual({ name: 'Ben Paged', slackId: 'U0BEN' });
  expect(model.paged).toEqual([{ person: { name: 'Ben Paged', slackId: 'U0BEN' }, via: 'slack', level: 1 }]);
  expect(model.openDecisions.map((d) => d.stepId)).toEqual(['strategy']);
  expect(model.decided).toEqual([{ stepId: 'comms', option: 'yes', by: { name: 'Grace', slackId: null }, timedOut: false }]);
  expect(model.openTasks).toEqual([{ stepId: 'notify-dpo', assignee: 'dpo', description: 'Notify the authority', deadline: null }]);
  expect(model.escalationLevel).toBe(1);
  expect(responderSlackIds(model)).toEqual(['U0BEN']);

  const { blocks, text } = cardMessage(model, 'https://fireline.example.com');
  const json = JSON.stringify(blocks);
  expect(text).toContain('INC-5');
  expect(json).toContain('incident.decide:strategy:failover');
  expect(json).toContain('incident.decide:strategy:restore');
  expect(json).not.toContain('incident.decide:comms');
  expect(json).not.toContain('"incident.acknowledge"');
  for (const id of ['incident.escalate', 'incident.resolve', 'incident.add_note', 'incident.open']) expect(json).toContain(`"${id}"`);
  expect(json).toContain('<@U0BEN>');
  expect(json).toContain('https://fireline.example.com/incidents/INC-5');
  expect(parseDecisionValue('INC-5 strategy failover')).toEqual({ incidentId: 'INC-5', stepId: 'strategy', option: 'failover' });

  // A step cancelled by resolution drops its decision; a closed incident shows none and offers no buttons.
  const resolved = deriveCard({ ...incident, status: 'closed', phase: 'closed' }, [...events, event(8, 'step.skipped', 'skipped', { stepId: 'strategy' })], () => ({ name: 'x', slackId: null }));
  expect(resolved.openDecisions).toEqual([]);
  const closedJson = JSON.stringify(cardMessage(resolved, 'https://fireline.example.com').blocks);
  for (const id of ['incident.acknowledge', 'incident.escalate', 'incident.resolve', 'incident.add_note', 'incident.decide']) expect(closedJson).not.toContain(`"${id}`);
});

test('the declaration form shows the severity likelihood × impact gives', () => {
  const runbooks = [{ id: 'flow', title: 'Full flow', severity: 'SEV1' as const }, { id: 'quick', title: 'Quick', severity: null }];
  expect(severityPreview({}, runbooks)).toMatch(/from the runbook/);
  expect(severityPreview({ runbook: 'flow' }, runbooks)).toMatch(/SEV1\* from runbook `flow`/);
  expect(severityPreview({ likelihood: 'likely' }, runbooks)).toMatch(/choose the impact/);
  expect(severityPreview({ likelihood: 'likely', impact: 'severe' }, runbooks)).toMatch(/\*SEV1\* — likely × severe \(risk score 20 of 25\)/);
  expect(severityPreview({ likelihood: 'rare', impact: 'severe' }, runbooks)).toMatch(/\*SEV2\*/);
  const modal = declareModal({ runbooks, state: { runbook: 'flow', likelihood: 'rare', impact: 'minor' }, privateMetadata: '{}' });
  const json = JSON.stringify(modal);
  expect(json).toContain('"initial_option":{"text":{"type":"plain_text","text":"flow — Full flow (SEV1)"');
  expect(json).toContain('SEV4');
});

describe('gateway', () => {
  let slack: FakeSlack;
  let clock: VirtualClock;
  let gateway: SlackGateway;
  beforeEach(async () => {
    clock = new VirtualClock();
    slack = await FakeSlack.start({ now: () => clock.now(), channels: [{ id: 'C1', name: 'one' }, { id: 'C2', name: 'two' }] });
    gateway = new SlackGateway({ client: createSlackWebClient(slack.token, slack.apiUrl), logger, clock });
  });
  afterEach(async () => {
    await slack.close();
  });

  test('a 429 blocks that method for that channel until Retry-After has passed; the client itself never retries', async () => {
    const posted = await gateway.postOnce('C1', { text: 'card' }, { eventType: 'x', key: 'k0' });
    slack.rateLimit('chat.update', { retryAfter: 30, times: 2 });
    const started = clock.now();
    await gateway.call('chat.update', { channel: 'C1', ts: posted.ts, text: 'v2' }, { channel: 'C1' });
    const updates = slack.callsTo('chat.update');
    expect(updates.map((c) => c.status)).toEqual([429, 429, 200]);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(30_000);
    expect(updates[2]!.at - updates[1]!.at).toBeGreaterThanOrEqual(30_000);
    expect(clock.now() - started).toBeGreaterThanOrEqual(60_000);
    expect(slack.message('C1', posted.ts)?.text).toBe('v2');
  });

  test('interactive calls do not wait: they fail at once and do not call Slack again before Retry-After', async () => {
    slack.rateLimit('views.open', { retryAfter: 20 });
    const open = () => gateway.call('views.open', { trigger_id: 't', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } }, { channel: 'views', maxWaitMs: 0 });
    await expect(open()).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 20_000 });
    await expect(open()).rejects.toBeInstanceOf(SlackCallError);
    expect(slack.callsTo('views.open')).toHaveLength(1);
    await clock.sleep(20_000);
    await expect(open()).resolves.toMatchObject({ ok: true });
  });

  test('"429 but posted": the retry finds the message by its metadata key and does not post again', async () => {
    slack.rateLimit('chat.postMessage', { retryAfter: 5, postAnyway: true });
    const result = await gateway.postOnce('C1', { text: 'hello' }, { eventType: 'fireline_test', key: 'once' });
    expect(result.reused).toBe(true);
    expect(slack.messagesIn('C1').filter((m) => m.metadata?.event_payload.key === 'once')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const history = slack.callsTo('conversations.history');
    expect(history).toHaveLength(1);
    expect(history[0]!.args.include_all_metadata).toBe('true');
    expect(history[0]!.at - slack.callsTo('chat.postMessage')[0]!.at).toBeGreaterThanOrEqual(5_000);
  });

  test('a timeout-like failure (HTTP 500) is ambiguous: the next post looks first, and posts when nothing is there', async () => {
    slack.httpError('chat.postMessage', 500);
    await expect(gateway.postOnce('C2', { text: 'x' }, { eventType: 'fireline_test', key: 'k' })).rejects.toMatchObject({ kind: 'uncertain', status: 500 });
    const again = await gateway.postOnce('C2', { text: 'x' }, { eventType: 'fireline_test', key: 'k' });
    expect(again.reused).toBe(false);
    expect(slack.callsTo('conversations.history')).toHaveLength(1);
    expect(slack.messagesIn('C2')).toHaveLength(1);
    // A definite refusal is not ambiguous: nothing to look for next time.
    slack.failWith('chat.postMessage', 'msg_too_long');
    await expect(gateway.postOnce('C2', { text: 'y' }, { eventType: 'fireline_test', key: 'k2' })).rejects.toMatchObject({ kind: 'permanent', slackError: 'msg_too_long' });
  });

  test('channels queue separately: one waiting out a rate limit does not hold up another', async () => {
    slack.rateLimit('chat.postMessage', { retryAfter: 60 });
    const order: string[] = [];
    const slow = gateway.postOnce('C1', { text: 'slow' }, { eventType: 't', key: 'a' }).then(() => order.push('C1'));
    const fast = gateway.postOnce('C2', { text: 'fast' }, { eventType: 't', key: 'b' }).then(() => order.push('C2'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['C2', 'C1']);
  });

  test('Slack users map to people by member id, else by email (looked up once), else they are viewers', async () => {
    slack.addUser({ id: USERS.eve.id, name: 'eve', email: 'eve@example.com' });
    const parsed = parseOnCall(ONCALL_YAML, 'oncall.yaml');
    if (!parsed.ok) throw new Error('bad test config');
    const directory = new SlackDirectory({ oncall: () => parsed.config, gateway, logger });
    expect(await directory.identify(USERS.grace.id, 'grace')).toMatchObject({ actor: { id: 'slack:U0GRACE', name: 'Grace Hopper', role: 'commander' }, person: { id: 'grace' } });
    expect((await directory.identify(USERS.linus.id)).actor).toEqual({ id: 'slack:U0LINUS', name: 'Linus Responder', role: 'responder' });
    expect((await directory.identify(USERS.vera.id)).actor.role).toBe('viewer');
    expect((await directory.identify(USERS.eve.id)).actor).toEqual({ id: 'slack:U0EVE', name: 'Eve Byemail', role: 'commander' });
    expect(await directory.identify('U0NOBODY', 'nobody')).toEqual({ actor: { id: 'slack:U0NOBODY', name: 'nobody', role: 'viewer' }, person: null });
    expect(await directory.slackIdOfPerson('eve')).toBe(USERS.eve.id);
    expect(slack.callsTo('users.lookupByEmail')).toHaveLength(1);
  });
});

test('without Slack settings both halves stay off and say so', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const config = loadConfig({});
  const unused = {} as never;
  expect(await startSlackApi({ config, logger: log, store: unused, incidents: unused, runbooks: unused, oncall: () => unused })).toBeUndefined();
  expect(startSlackWorker({ config, logger: log, store: unused, oncall: () => unused })).toBeUndefined();
  expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([SLACK_OFF_MESSAGE, SLACK_OFF_MESSAGE]);
  expect(SLACK_OFF_MESSAGE).toMatch(/^Slack is off/);
});

