// The incident channel and its pinned live card: made by the worker-side sync loop from the read model, steered
// with the card's buttons, modals and reactions through the real Bolt receiver — and kept right when the incident is
// steered elsewhere (the HTTP API), when the sync restarts, or when its channel already exists.
import fs from 'node:fs';
import path from 'node:path';
import type { IncidentRecord } from '../../src/domain/incident';
import { createLogger } from '../../src/logger';
import { createOnCallSource } from '../../src/oncall/source';
import { channelNameFor, NOTE_INPUT, VIEW } from '../../src/slack/format';
import { createSlackWebClient, SlackGateway } from '../../src/slack/gateway';
import { SlackDirectory } from '../../src/slack/identity';
import { SlackSync } from '../../src/slack/sync';
import { postEvent, postSignedForm } from '../support/fake-slack';
import type { FakeSlackMessage } from '../support/fake-slack';
import { eventually, tempDir } from '../support/temporal';
import {
  buttonOn,
  CARD_EVENT_TYPE,
  clickPayload,
  keyedMessages,
  nextResponseId,
  ONCALL_YAML,
  SIGNING_SECRET,
  startSlackHarness,
  textOf,
  TIMELINE_EVENT_TYPE,
  USERS,
} from './harness';
import type { SlackHarness, TestUser } from './harness';

const FIXTURES = path.resolve(__dirname, '../fixtures/reference/slack');

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness({ name: 'slack-card' });
});
afterAll(async () => {
  await h?.stop();
});

async function declareFromSlack(text: string, user: TestUser = 'grace'): Promise<IncidentRecord> {
  const responseId = nextResponseId('decl');
  expect((await h.command(user, text, { responseId })).status).toBe(200);
  const answer = (await h.response(responseId)).body.text;
  const id = /\*(INC-\d+)\*/.exec(answer)?.[1];
  if (!id) throw new Error(answer);
  return h.incident(id);
}

async function click(user: TestUser, channel: string, card: FakeSlackMessage, actionId: string): Promise<string> {
  const responseId = nextResponseId('click');
  const res = await h.interact(clickPayload(h, user, channel, card, actionId, responseId));
  expect(res.status).toBe(200);
  return (await h.response(responseId)).body.text;
}

async function eventsOf(id: string, type: string) {
  return (await h.timeline(id)).filter((e) => e.type === type);
}

test('declaring opens inc-<n>-<title>, invites the commander and whoever is paged, posts and pins one live card', async () => {
  const incident = await declareFromSlack('declare sev2 Card payments failing --runbook paged');
  const { channel, card } = await h.card(
    incident.id,
    (m) => textOf(m).includes('<@U0BEN>') && textOf(m).includes('incident.decide:go-ahead:rollback'),
  );
  const created = h.slack.channels.get(channel)!;
  expect(created.name).toBe(channelNameFor(incident));
  expect(created.name).toMatch(/^inc-\d+-card-payments-failing$/);
  expect([...created.members].sort()).toEqual(['UBOT', USERS.ben.id, USERS.grace.id].sort());
  expect(h.slack.pins.get(channel)).toEqual(new Set([card.ts]));
  expect(card.metadata).toEqual({ event_type: CARD_EVENT_TYPE, event_payload: { key: incident.id } });

  const text = textOf(card);
  for (const expected of [
    `SEV2 · ${incident.id} · Card payments failing`,
    '*Commander:*\\n<@U0GRACE>',
    '*Paged:* <@U0BEN> (outbox, level 1)',
    'Roll back now?',
    '*Phase:*\\ndecide',
  ])
    expect(text).toContain(expected);
  for (const action of [
    'incident.acknowledge',
    'incident.escalate',
    'incident.resolve',
    'incident.add_note',
    'incident.decide:go-ahead:rollback',
    'incident.decide:go-ahead:wait',
  ])
    expect(buttonOn(card, action)).toBeDefined();

  // The decision request is echoed into the channel once.
  const echoes = await eventually(async () => {
    const keyed = keyedMessages(h.slack, channel, TIMELINE_EVENT_TYPE);
    return [...keyed.values()].some((m) => m[0]!.text?.includes('Decision needed')) ? keyed : undefined;
  }, 'the decision echo');
  for (const messages of echoes.values()) expect(messages).toHaveLength(1);
  expect(keyedMessages(h.slack, channel, CARD_EVENT_TYPE).get(incident.id)).toHaveLength(1);
});

test('the card’s buttons: acknowledge (the fixture, replayed), escalate, decisions with approver check, add note, resolve', async () => {
  const incident = await declareFromSlack('declare sev2 Basket service down --runbook paged');
  const { channel } = await h.card(incident.id);
  let { card } = await h.card(incident.id, (m) => !!buttonOn(m, 'incident.decide:go-ahead:rollback'));

  // Acknowledge: the captured fixture, aimed at this card, clicked by the paged responder — and replayed.
  const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'block-actions-acknowledge.json'), 'utf8')) as {
    user: { id: string; username: string; name: string };
    container: { message_ts: string; channel_id: string };
    channel: { id: string };
    message: { ts: string };
    actions: { value: string }[];
    response_url: string;
  };
  fixture.user = { ...fixture.user, id: USERS.ben.id, username: 'ben', name: 'ben' };
  fixture.container = { ...fixture.container, message_ts: card.ts, channel_id: channel };
  fixture.channel = { ...fixture.channel, id: channel };
  fixture.message.ts = card.ts;
  fixture.actions[0]!.value = incident.id;
  fixture.response_url = h.slack.responseUrl('fixture-ack');
  const body = { payload: JSON.stringify(fixture) };
  const timestamp = Math.floor(Date.now() / 1000);
  const first = await postSignedForm(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestamp });
  expect(first.status).toBe(200);
  await eventually(async () => (h.slack.responses.filter((r) => r.id === 'fixture-ack').length === 1 ? true : undefined), 'the ack answer');
  // The very same signed request again (Slack allows replays within five minutes).
  const replay = await postSignedForm(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestamp });
  expect(replay.status).toBe(200);
  await eventually(
    async () => (h.slack.responses.filter((r) => r.id === 'fixture-ack').length === 2 ? true : undefined),
    'the replay answer',
  );
  for (const r of h.slack.responses.filter((x) => x.id === 'fixture-ack'))
    expect((r.body as { text: string }).text).toMatch(/You acknowledged/);
  expect(await eventsOf(incident.id, 'incident.acknowledged')).toEqual([
    expect.objectContaining({ actor: { id: 'slack:U0BEN', name: 'Ben Paged', role: 'responder' } }),
  ]);
  ({ card } = await h.card(incident.id, (m) => !buttonOn(m, 'incident.acknowledge') && textOf(m).includes('*Acknowledged by:* <@U0BEN>')));

  // The link button only needs its click acknowledged.
  const linkClick = await h.interact(clickPayload(h, 'vera', channel, card, 'incident.open', nextResponseId('link')));
  expect({ status: linkClick.status, body: await linkClick.text() }).toEqual({ status: 200, body: '' });

  expect(await click('linus', channel, card, 'incident.escalate')).toMatch(/escalated/);
  expect(await eventsOf(incident.id, 'incident.escalated')).toHaveLength(1);
  ({ card } = await h.card(incident.id, (m) => textOf(m).includes('*Escalated:* 1×')));

  // The decision needs a commander: a responder is refused (by the workflow's validator) and the attempt is audited.
  expect(await click('linus', channel, card, 'incident.decide:go-ahead:rollback')).toMatch(
    /:no_entry_sign: Could not decide `go-ahead`: deciding "go-ahead" needs the commander role/,
  );
  expect(await eventsOf(incident.id, 'decision.taken')).toEqual([]);
  const refused = (await h.store.listAudit({ incidentId: incident.id, limit: 50 })).find((a) => a.action === 'incident.decide');
  expect(refused).toMatchObject({
    outcome: 'rejected',
    actor: { id: 'slack:U0LINUS', role: 'responder' },
    details: { stepId: 'go-ahead', option: 'rollback' },
  });
  // A viewer does not even reach the workflow: deciding needs a responder, in Slack as in the API.
  expect(await click('vera', channel, card, 'incident.decide:go-ahead:wait')).toMatch(
    /Only a responder or above may take decisions; you are a viewer/,
  );
  expect(await click('grace', channel, card, 'incident.decide:go-ahead:rollback')).toMatch(/You chose \*rollback\*/);
  expect(await eventsOf(incident.id, 'decision.taken')).toEqual([
    expect.objectContaining({ data: { stepId: 'go-ahead', option: 'rollback' }, actor: expect.objectContaining({ id: 'slack:U0GRACE' }) }),
  ]);
  ({ card } = await h.card(
    incident.id,
    (m) => !buttonOn(m, 'incident.decide:') && textOf(m).includes('`go-ahead` → *rollback* by <@U0GRACE>'),
  ));

  // Add note: a modal, then its submission.
  const triggerCount = h.slack.views.size;
  const noteClick = clickPayload(h, 'linus', channel, card, 'incident.add_note', nextResponseId('note'));
  expect((await h.interact(noteClick)).status).toBe(200);
  const modal = await eventually(
    async () => (h.slack.views.size > triggerCount ? [...h.slack.views.values()].at(-1) : undefined),
    'the note modal',
  );
  expect(modal.triggerId).toBe(noteClick.trigger_id);
  expect(modal.view.callback_id).toBe(VIEW.note);
  const submission = (text: string) => ({
    type: 'view_submission',
    team: { id: h.slack.teamId, domain: 'fireline-test' },
    user: { id: USERS.linus.id, username: 'linus', name: 'linus', team_id: h.slack.teamId },
    api_app_id: h.slack.appId,
    token: 'legacy',
    trigger_id: `${Date.now()}.9.note`,
    view: {
      id: modal.id,
      type: 'modal',
      callback_id: VIEW.note,
      private_metadata: modal.view.private_metadata,
      hash: modal.hash,
      state: { values: { [NOTE_INPUT.block]: { [NOTE_INPUT.action]: { type: 'plain_text_input', value: text } } } },
      blocks: [],
      title: { type: 'plain_text', text: 'Note' },
      team_id: h.slack.teamId,
      app_id: h.slack.appId,
      bot_id: h.slack.botId,
      root_view_id: modal.id,
      previous_view_id: null,
    },
  });
  const empty = await h.interact(submission('   '));
  expect(await empty.json()).toEqual({ response_action: 'errors', errors: { [NOTE_INPUT.block]: 'the note is empty' } });
  expect((await h.interact(submission('Rolled back to 2026.04.1; errors dropping'))).status).toBe(200);
  const noted = await eventually(async () => (await eventsOf(incident.id, 'note.added'))[0], 'the note');
  expect(noted).toMatchObject({ summary: 'Rolled back to 2026.04.1; errors dropping', actor: { id: 'slack:U0LINUS' } });
  await eventually(
    async () => h.slack.messagesIn(channel).find((m) => m.text?.includes(':memo: *Note* from <@U0LINUS>: Rolled back')),
    'the note echoed in the channel',
  );

  // Resolve (confirmed in Slack's own dialog): a responder may not, a commander may.
  expect(await click('linus', channel, card, 'incident.resolve')).toMatch(/Only a commander or above may resolve incidents/);
  expect(await click('grace', channel, card, 'incident.resolve')).toMatch(/resolved/);
  // The runbook then runs its retrospective and closes: the last card has no buttons that steer.
  ({ card } = await h.card(incident.id, (m) => textOf(m).includes('Closed')));
  for (const action of ['incident.acknowledge', 'incident.escalate', 'incident.resolve', 'incident.add_note', 'incident.decide:'])
    expect(buttonOn(card, action)).toBeUndefined();
  await eventually(async () => ((await h.store.getSlackIncident(incident.id))?.final ? true : undefined), 'the row to be final');

  // Every echoed event is in the channel exactly once.
  for (const messages of keyedMessages(h.slack, channel, TIMELINE_EVENT_TYPE).values()) expect(messages).toHaveLength(1);
  expect(h.slack.callsTo('chat.update').every((c) => c.ok)).toBe(true);
});

test('a message marked with :memo: becomes a note, once, whoever else reacts; viewers are told they may not', async () => {
  const incident = await declareFromSlack('declare sev3 Slow searches --runbook hold');
  const { channel } = await h.card(incident.id);
  h.slack.channels.get(channel)!.members.add(USERS.linus.id).add(USERS.vera.id);
  const typed = h.slack.addUserMessage(channel, USERS.linus.id, 'Cache hit rate fell to 12% at 10:41');
  const react = (user: TestUser, reaction: string, ts = typed.ts) =>
    postEvent(
      h.eventsUrl,
      { type: 'reaction_added', user: USERS[user].id, reaction, item: { type: 'message', channel, ts }, item_user: USERS.linus.id },
      { signingSecret: SIGNING_SECRET, teamId: h.slack.teamId },
    );

  expect((await react('grace', 'thumbsup')).status).toBe(200);
  expect((await react('grace', 'memo')).status).toBe(200);
  const note = await eventually(async () => (await eventsOf(incident.id, 'note.added'))[0], 'the note from the reaction');
  expect(note).toMatchObject({
    summary: 'Cache hit rate fell to 12% at 10:41 — Linus Responder',
    actor: { id: 'slack:U0GRACE', name: 'Grace Hopper' },
  });
  expect((await react('ben', 'memo')).status).toBe(200);

  const other = h.slack.addUserMessage(channel, USERS.vera.id, 'I think it is DNS');
  expect((await react('vera', 'memo', other.ts)).status).toBe(200);
  const told = await eventually(async () => h.slack.ephemerals.find((e) => e.user === USERS.vera.id), 'the refusal to vera');
  expect(told.text).toMatch(/Only a responder or above may add notes/);
  // A later :memo: on another message: once its note is there, Ben's earlier reaction would have made one too.
  const later = h.slack.addUserMessage(channel, USERS.linus.id, 'Evictions doubled since the deploy');
  expect((await react('grace', 'memo', later.ts)).status).toBe(200);
  const notes = await eventually(async () => {
    const added = await eventsOf(incident.id, 'note.added');
    return added.length >= 2 ? added : undefined;
  }, 'the note from the later reaction');
  expect(notes.map((e) => e.summary)).toEqual([
    'Cache hit rate fell to 12% at 10:41 — Linus Responder',
    'Evictions doubled since the deploy — Linus Responder',
  ]);
});

test('the live card follows a decision taken through the HTTP API', async () => {
  const res = await h.api<{ incident: IncidentRecord }>('POST', '/api/v1/incidents', {
    as: 'commander',
    body: { title: 'Refund queue stuck', runbook: 'hold' },
  });
  expect(res.status).toBe(201);
  const incident = res.body.incident;
  const { channel } = await h.card(incident.id, (m) => !!buttonOn(m, 'incident.decide:go-ahead:proceed'));
  // Declared by a token, not a Slack user: nobody to invite, and the commander is named.
  expect([...h.slack.channels.get(channel)!.members]).toEqual(['UBOT']);

  const decided = await h.api('POST', `/api/v1/incidents/${incident.id}/decisions/go-ahead`, {
    as: 'commander',
    body: { option: 'proceed' },
  });
  expect(decided.status).toBe(200);
  const { card } = await h.card(
    incident.id,
    (m) => !buttonOn(m, 'incident.decide:') && textOf(m).includes('`go-ahead` → *proceed* by Grace Commander'),
  );
  expect(textOf(card)).toContain('*Commander:*\\nGrace Commander');
  expect(
    await eventually(
      async () =>
        h.slack
          .messagesIn(channel)
          .find((m) => m.text?.includes('Grace Commander chose \\"proceed\\"') || m.text?.includes('Grace Commander chose "proceed"')),
      'the decision echoed',
    ),
  ).toBeDefined();
});

test('a restarted sync, or one that lost its row, finds the channel and the card instead of making new ones', async () => {
  const incident = await declareFromSlack('declare sev2 Warehouse sync lagging --runbook hold');
  const { channel, card } = await h.card(incident.id, (m) => !!buttonOn(m, 'incident.decide:go-ahead:proceed'));
  await eventually(async () => ((await h.store.getSlackIncident(incident.id))?.syncedSeq ? true : undefined), 'a first complete sync');
  await h.sync.stop();

  // As after a crash between creating the channel and storing anything: the row knows only the incident.
  const row = (await h.store.getSlackIncident(incident.id))!;
  await h.store.saveSlackIncident({
    ...row,
    channelId: null,
    cardTs: null,
    pinned: false,
    cardHash: null,
    postedSeq: 0,
    syncedSeq: 0,
    syncedUpdatedAt: null,
  });
  const creates = h.slack.callsTo('conversations.create').length;
  const posts = h.slack.callsTo('chat.postMessage').filter((c) => c.ok).length;

  const logger = createLogger({ level: 'silent' });
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'oncall.yaml'), ONCALL_YAML);
  const oncall = createOnCallSource(path.join(dir, 'oncall.yaml'));
  const gateway = new SlackGateway({ client: createSlackWebClient(h.slack.token, h.slack.apiUrl), logger });
  const fresh = new SlackSync({
    store: h.store,
    gateway,
    directory: new SlackDirectory({ oncall: () => oncall.current(), gateway, logger }),
    logger,
    publicUrl: 'https://fireline.example.com',
  });
  try {
    await fresh.syncOnce();
    await fresh.syncOnce();
  } finally {
    await fresh.stop();
  }

  const after = (await h.store.getSlackIncident(incident.id))!;
  expect(after).toMatchObject({ channelId: channel, cardTs: card.ts, pinned: true });
  expect(
    h.slack
      .callsTo('conversations.create')
      .slice(creates)
      .map((c) => c.error),
  ).toEqual(['name_taken']);
  expect(h.slack.callsTo('conversations.list').length).toBeGreaterThan(0);
  // No new card, no echo posted twice: everything was found by its metadata key.
  expect(h.slack.callsTo('chat.postMessage').filter((c) => c.ok).length).toBe(posts);
  expect(keyedMessages(h.slack, channel, CARD_EVENT_TYPE).get(incident.id)).toHaveLength(1);
  for (const messages of keyedMessages(h.slack, channel, TIMELINE_EVENT_TYPE).values()) expect(messages).toHaveLength(1);
  expect([...h.slack.channels.values()].filter((c) => c.name.startsWith(channelNameFor(incident)))).toHaveLength(1);
});
