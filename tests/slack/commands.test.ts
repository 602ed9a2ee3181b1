// Every `/incident` subcommand and the declaration modal, through the real Bolt receiver, with real services and a
// real worker; assertions on what Slack was asked (the fake's calls and response_url answers) and on the read model.
import type { IncidentRecord } from '../../src/domain/incident';
import { DECLARE, VIEW } from '../../src/slack/format';
import type { FakeSlackView } from '../support/fake-slack';
import { eventually } from '../support/temporal';
import { nextResponseId, startSlackHarness, USERS } from './harness';
import type { SlackHarness, TestUser } from './harness';

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness({ name: 'slack-commands' });
});
afterAll(async () => {
  await h?.stop();
});

/** Runs a command and returns the answer it posted to its response_url. */
async function run(user: TestUser, text: string, channel?: string): Promise<{ text: string; response_type?: string }> {
  const responseId = nextResponseId('cmd');
  const res = await h.command(user, text, { responseId, ...(channel ? { channel } : {}) });
  expect(res.status).toBe(200);
  // Acked at once with an empty body: the work happens after the ack.
  expect(await res.text()).toBe('');
  return (await h.response(responseId)).body;
}

async function declared(text: string): Promise<IncidentRecord> {
  const id = /\*(INC-\d+)\*/.exec(text)?.[1];
  if (!id) throw new Error(`no incident id in "${text}"`);
  return h.incident(id);
}

async function eventsOf(id: string, type: string) {
  return (await h.timeline(id)).filter((e) => e.type === type);
}

test('help, an unknown subcommand and bad arguments are answered in the ack itself, ephemerally', async () => {
  for (const [text, expected] of [
    ['help', /`declare sev1 <title>`/],
    ['', /`list` — open incidents/],
    ['frobnicate', /Unknown subcommand "frobnicate"/],
    ['note', /What should the note say/],
  ] as const) {
    const res = await h.command('linus', text, { responseId: 'never' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toMatch(expected);
  }
  expect(h.slack.responses.filter((r) => r.id === 'never')).toEqual([]);
});

test('`declare sev1 <title>` declares at once with the triage runbook and announces it in the channel', async () => {
  const answer = await run('grace', 'declare sev1 Orders DB primary unreachable, checkout failing');
  expect(answer.response_type).toBe('in_channel');
  const incident = await declared(answer.text);
  expect(incident).toMatchObject({
    title: 'Orders DB primary unreachable, checkout failing',
    severity: 'SEV1',
    runbookId: 'triage',
    drill: false,
    trigger: { by: { id: 'slack:U0GRACE', role: 'commander' } },
  });
  expect(answer.text).toContain(`#inc-${incident.id.slice(4)}-orders-db-primary-unreachable-checkout-failing`);

  const drill = await declared((await run('grace', 'declare sev3 Payment retries --runbook hold --drill')).text);
  expect(drill).toMatchObject({ severity: 'SEV3', runbookId: 'hold', drill: true });

  expect((await run('grace', 'declare sev2 Nothing --runbook no-such-runbook')).text).toMatch(
    /:warning: Could not declare the incident: runbook: unknown runbook "no-such-runbook"/,
  );
  expect((await run('grace', 'declare sev2 ab')).text).toMatch(/title: .*3/);
});

test('a responder or a stranger may not declare; the refusal is audited', async () => {
  expect((await run('linus', 'declare sev2 Not allowed')).text).toMatch(
    /Only a commander or above may declare incidents; you are a responder/,
  );
  expect((await run('stranger', 'declare sev2 Not allowed')).text).toMatch(/not linked to anyone/);
  const audit = await h.store.listAudit({ limit: 50 });
  expect(
    audit
      .filter((a) => a.action === 'incident.declare' && a.outcome === 'rejected')
      .map((a) => a.actor.id)
      .sort(),
  ).toEqual(['slack:U0LINUS', 'slack:U0STRANGER']);
  expect((await h.store.searchIncidents({ titleContains: 'Not allowed', limit: 5 })).items).toEqual([]);
});

test('`declare` opens the form; likelihood × impact redraw the severity; the submission declares once', async () => {
  const responseId = nextResponseId('form');
  const triggerId = `${Date.now()}.42.form`;
  expect((await h.command('grace', 'declare', { responseId, triggerId })).status).toBe(200);
  const opened = await eventually(async () => [...h.slack.views.values()].find((v) => v.triggerId === triggerId), 'views.open');
  const view = opened.view as {
    callback_id: string;
    private_metadata: string;
    blocks: { block_id: string; element?: { options?: { value: string }[] } }[];
  };
  expect(view.callback_id).toBe(VIEW.declare);
  const runbookOptions = view.blocks.find((b) => b.block_id === DECLARE.runbook.block)?.element?.options?.map((o) => o.value);
  expect(runbookOptions).toEqual(expect.arrayContaining(['flow', 'hold', 'triage', 'paged']));
  expect(runbookOptions).not.toContain('broken');

  const severityText = (v: FakeSlackView) =>
    JSON.stringify((v.view.blocks as { block_id: string }[]).find((b) => b.block_id === DECLARE.severity.block));
  const values = (likelihood?: string, impact?: string) => ({
    [DECLARE.title.block]: { [DECLARE.title.action]: { type: 'plain_text_input', value: 'Checkout latency through the roof' } },
    [DECLARE.runbook.block]: {
      [DECLARE.runbook.action]: { type: 'static_select', selected_option: { value: 'hold', text: { type: 'plain_text', text: 'hold' } } },
    },
    [DECLARE.service.block]: { [DECLARE.service.action]: { type: 'plain_text_input', value: 'checkout-eu' } },
    [DECLARE.likelihood.block]: {
      [DECLARE.likelihood.action]: { type: 'static_select', selected_option: likelihood ? { value: likelihood } : null },
    },
    [DECLARE.impact.block]: { [DECLARE.impact.action]: { type: 'static_select', selected_option: impact ? { value: impact } : null } },
    [DECLARE.summary.block]: { [DECLARE.summary.action]: { type: 'plain_text_input', value: 'p99 at 9s since 10:02' } },
    [DECLARE.drill.block]: { [DECLARE.drill.action]: { type: 'checkboxes', selected_options: [{ value: 'drill' }] } },
  });
  const select = async (actionId: string, blockId: string, value: string, state: ReturnType<typeof values>) => {
    const current = h.slack.views.get(opened.id)!;
    const res = await h.interact({
      type: 'block_actions',
      user: { id: USERS.grace.id, username: 'grace', name: 'grace', team_id: h.slack.teamId },
      api_app_id: h.slack.appId,
      token: 'legacy',
      container: { type: 'view', view_id: opened.id },
      trigger_id: `${Date.now()}.43.select`,
      team: { id: h.slack.teamId, domain: 'fireline-test' },
      view: {
        id: opened.id,
        hash: current.hash,
        callback_id: VIEW.declare,
        private_metadata: view.private_metadata,
        type: 'modal',
        state: { values: state },
        blocks: current.view.blocks,
        team_id: h.slack.teamId,
        app_id: h.slack.appId,
        bot_id: h.slack.botId,
        title: { type: 'plain_text', text: 'Declare' },
        root_view_id: opened.id,
        previous_view_id: null,
      },
      actions: [
        {
          type: 'static_select',
          action_id: actionId,
          block_id: blockId,
          selected_option: { value, text: { type: 'plain_text', text: value } },
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    });
    expect(res.status).toBe(200);
  };

  const hashBefore = opened.hash;
  await select(DECLARE.likelihood.action, DECLARE.likelihood.block, 'likely', values('likely'));
  await eventually(
    async () => (h.slack.views.get(opened.id)!.hash !== hashBefore ? true : undefined),
    'views.update after choosing a likelihood',
  );
  expect(h.slack.views.get(opened.id)!.via).toBe('views.update');
  expect(severityText(h.slack.views.get(opened.id)!)).toMatch(/choose the impact as well/);
  const hashMiddle = h.slack.views.get(opened.id)!.hash;
  await select(DECLARE.impact.action, DECLARE.impact.block, 'severe', values('likely', 'severe'));
  await eventually(
    async () => (h.slack.views.get(opened.id)!.hash !== hashMiddle ? true : undefined),
    'views.update after choosing an impact',
  );
  expect(severityText(h.slack.views.get(opened.id)!)).toMatch(/SEV1\* — likely × severe \(risk score 20 of 25\)/);

  const submit = (state: ReturnType<typeof values>) =>
    h.interact({
      type: 'view_submission',
      team: { id: h.slack.teamId, domain: 'fireline-test' },
      user: { id: USERS.grace.id, username: 'grace', name: 'grace', team_id: h.slack.teamId },
      api_app_id: h.slack.appId,
      token: 'legacy',
      trigger_id: `${Date.now()}.44.submit`,
      view: {
        id: opened.id,
        type: 'modal',
        callback_id: VIEW.declare,
        private_metadata: view.private_metadata,
        hash: h.slack.views.get(opened.id)!.hash,
        state: { values: state },
        blocks: [],
        title: { type: 'plain_text', text: 'Declare' },
        team_id: h.slack.teamId,
        app_id: h.slack.appId,
        bot_id: h.slack.botId,
        root_view_id: opened.id,
        previous_view_id: null,
        clear_on_close: false,
        notify_on_close: false,
      },
      response_urls: [],
    });

  // Likelihood without impact: the form says so, on the impact field, and nothing is declared.
  const invalid = await submit(values('likely'));
  expect(invalid.status).toBe(200);
  expect(await invalid.json()).toEqual({
    response_action: 'errors',
    errors: { [DECLARE.impact.block]: 'likelihood and impact go together' },
  });

  const ok = await submit(values('likely', 'minor'));
  expect(ok.status).toBe(200);
  expect(await ok.text()).toBe('');
  const answer = await h.response(responseId);
  expect(answer.body.response_type).toBe('in_channel');
  const incident = await declared(answer.body.text);
  // likely (4) × minor (2) = 8 → SEV3, whatever the runbook says.
  expect(incident).toMatchObject({
    title: 'Checkout latency through the roof',
    runbookId: 'hold',
    service: 'checkout-eu',
    severity: 'SEV3',
    summary: 'p99 at 9s since 10:02',
    drill: true,
  });

  // Slack may deliver a submission twice; the view id keys the declaration, so there is still one incident.
  const again = await submit(values('likely', 'minor'));
  expect(again.status).toBe(200);
  await eventually(async () => (h.slack.responses.filter((r) => r.id === responseId).length === 2 ? true : undefined), 'the second answer');
  expect((await h.store.searchIncidents({ titleContains: 'Checkout latency through the roof', limit: 5 })).items).toHaveLength(1);
});

test('list, status (named, or the channel’s incident), and a channel that is not an incident’s', async () => {
  const incident = await declared((await run('grace', 'declare sev2 Inventory drift --runbook paged')).text);
  const list = await run('vera', 'list');
  expect(list.response_type).toBe('ephemeral');
  expect(list.text).toMatch(/\*Open incidents\*/);
  expect(list.text).toContain(`*${incident.id}* Inventory drift — open`);

  const { channel } = await h.card(incident.id);
  const inChannel = await run('vera', 'status', channel);
  expect(inChannel.text).toContain(`*${incident.id}* Inventory drift`);
  await eventually(
    async () =>
      (await run('vera', `status ${incident.id}`)).text.includes('Decision `go-ahead` (commander): Roll back now?') ? true : undefined,
    'the open decision in the status',
  );
  expect((await run('vera', 'status')).text).toMatch(/This channel is not an incident channel/);
  expect((await run('vera', 'status INC-999999999999')).text).toMatch(
    /:mag: Could not show INC-999999999999: no incident INC-999999999999\. `\/incident list` shows the open ones\./,
  );
});

test('ack, note, escalate and resolve — in the incident channel or naming the incident — with role checks', async () => {
  const incident = await declared((await run('grace', 'declare sev2 Search is down --runbook hold')).text);
  const { channel } = await h.card(incident.id);

  expect((await run('vera', 'ack', channel)).text).toMatch(/Only a responder or above may acknowledge incidents; you are a viewer/);
  expect((await run('linus', 'ack', channel)).text).toMatch(/You acknowledged \*INC-\d+\*/);
  expect((await run('ben', `ack ${incident.id}`)).text).toMatch(
    /:no_entry: Could not acknowledge INC-\d+: already acknowledged by Linus Responder/,
  );
  expect(await eventsOf(incident.id, 'incident.acknowledged')).toEqual([
    expect.objectContaining({ actor: { id: 'slack:U0LINUS', name: 'Linus Responder', role: 'responder' } }),
  ]);

  expect((await run('linus', `note ${incident.id} index rebuild started\nETA 10 min`)).text).toMatch(/Note added/);
  expect((await run('vera', `note ${incident.id} viewers cannot`)).text).toMatch(/Only a responder or above may add notes/);
  expect((await eventsOf(incident.id, 'note.added')).map((e) => e.summary)).toEqual(['index rebuild started\nETA 10 min']);

  expect((await run('linus', 'escalate db still down', channel)).text).toMatch(/escalated/);
  expect(await eventsOf(incident.id, 'incident.escalated')).toEqual([
    expect.objectContaining({ summary: 'Escalated to level 1: db still down' }),
  ]);

  expect((await run('linus', 'resolve', channel)).text).toMatch(/Only a commander or above may resolve incidents; you are a responder/);
  expect((await run('grace', 'resolve reindexed; search is back', channel)).text).toMatch(/resolved/);
  expect(await eventsOf(incident.id, 'incident.resolved')).toEqual([
    expect.objectContaining({ summary: 'Resolved: reindexed; search is back', actor: expect.objectContaining({ id: 'slack:U0GRACE' }) }),
  ]);
  expect((await run('grace', 'resolve', channel)).text).toMatch(
    /:no_entry: Could not resolve INC-\d+: (the incident was resolved by Grace Hopper|incident INC-\d+ is closed)/,
  );

  const audit = (await h.store.listAudit({ incidentId: incident.id, limit: 50 })).map((a) => `${a.action} ${a.actor.id} ${a.outcome}`);
  expect(audit).toEqual(
    expect.arrayContaining([
      'incident.acknowledge slack:U0LINUS ok',
      'incident.acknowledge slack:U0VERA rejected',
      'incident.acknowledge slack:U0BEN rejected',
      'incident.resolve slack:U0LINUS rejected',
      'incident.resolve slack:U0GRACE ok',
    ]),
  );
});

test('a replayed `/incident ack` (same trigger) acknowledges once', async () => {
  const incident = await declared((await run('grace', 'declare sev2 Replay me --runbook hold')).text);
  const triggerId = `${Date.now()}.7.replay`;
  for (const responseId of ['replay-1', 'replay-2']) {
    expect((await h.command('linus', `ack ${incident.id}`, { responseId, triggerId })).status).toBe(200);
    expect((await h.response(responseId)).body.text).toMatch(/You acknowledged/);
  }
  expect(await eventsOf(incident.id, 'incident.acknowledged')).toHaveLength(1);
});

test('`run <runbook> [--drill]` launches a runbook; a commander known only by email may; unknown runbooks and closed incidents are explained', async () => {
  const drill = await declared((await run('eve', 'run paged --drill')).text);
  expect(drill).toMatchObject({
    runbookId: 'paged',
    drill: true,
    title: 'Drill: Pages the team',
    trigger: { by: { id: 'slack:U0EVE', name: 'Eve Byemail', role: 'commander' } },
  });
  expect(h.slack.callsTo('users.lookupByEmail').map((c) => c.args.email)).toContain('eve@example.com');
  expect((await run('linus', 'run paged')).text).toMatch(/Only a commander or above may launch runbooks/);
  expect((await run('grace', 'run no-such-runbook')).text).toMatch(/No usable runbook "no-such-runbook"/);

  const instant = await declared((await run('grace', 'run instant Flash in the pan')).text);
  expect(instant.title).toBe('Flash in the pan');
  await eventually(async () => ((await h.incident(instant.id)).status === 'closed' ? true : undefined), `${instant.id} to close`);
  expect((await run('linus', `note ${instant.id} too late`)).text).toMatch(
    /:no_entry: Could not add the note to INC-\d+: incident INC-\d+ is closed|the incident is closed/,
  );
  expect((await run('linus', `ack ${instant.id}`)).text).toMatch(/closed/);
});
