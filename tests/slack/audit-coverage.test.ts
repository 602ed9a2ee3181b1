// Every Slack action that changes something (src/slack/handlers.ts SLACK_ACTIONS) writes an audit entry, driven
// through the real Bolt receiver: slash commands and a card button, accepted and refused, each with the Slack
// user as actor, the incident as target and a request id of its own.
import { SLACK_ACTIONS } from '../../src/slack/handlers';
import { verifyAuditChain } from '../../src/audit/verify';
import { clickPayload, nextResponseId, startSlackHarness } from './harness';
import type { SlackHarness, TestUser } from './harness';

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness({ name: 'slack-audit-coverage' });
});
afterAll(async () => {
  await h?.stop();
});

async function run(user: TestUser, text: string, channel?: string): Promise<string> {
  const responseId = nextResponseId('cov');
  expect((await h.command(user, text, { responseId, ...(channel ? { channel } : {}) })).status).toBe(200);
  return (await h.response(responseId)).body.text;
}

test('declare, ack, note, escalate, decide (a card button) and resolve from Slack each write an entry', async () => {
  const answer = await run('grace', 'declare sev2 Audit coverage --runbook hold');
  const id = /\*(INC-\d+)\*/.exec(answer)?.[1];
  if (!id) throw new Error(answer);
  const { channel, card } = await h.card(id, (m) => JSON.stringify(m.blocks ?? []).includes('incident.decide:go-ahead:proceed'));
  expect(await run('vera', 'ack', channel)).toMatch(/Only a responder or above/);
  expect(await run('linus', 'ack', channel)).toMatch(/You acknowledged/);
  expect(await run('linus', `note ${id} checking the replica`)).toMatch(/Note added/);
  expect(await run('linus', 'escalate replica is gone', channel)).toMatch(/escalated/);
  const responseId = nextResponseId('decide');
  expect((await h.interact(clickPayload(h, 'grace', channel, card, 'incident.decide:go-ahead:proceed', responseId))).status).toBe(200);
  await h.response(responseId);
  expect(await run('grace', 'resolve replica rebuilt', channel)).toMatch(/resolved/);

  const entries = await h.store.listAudit({ incidentId: id, limit: 50 });
  const fromSlack = entries.filter((e) => e.actor.id.startsWith('slack:'));
  const used = new Set(fromSlack.map((e) => e.action));
  const missing = [...new Set(Object.values(SLACK_ACTIONS).map((a) => a.useCase))].filter((u) => !used.has(u));
  expect(missing).toEqual([]);
  expect(fromSlack.map((e) => `${e.action} ${e.actor.id} ${e.outcome}`)).toEqual(
    expect.arrayContaining([
      'incident.declare slack:U0GRACE ok',
      'incident.acknowledge slack:U0VERA rejected',
      'incident.acknowledge slack:U0LINUS ok',
      'incident.note slack:U0LINUS ok',
      'incident.escalate slack:U0LINUS ok',
      'incident.decide slack:U0GRACE ok',
      'incident.resolve slack:U0GRACE ok',
    ]),
  );
  for (const e of fromSlack) expect(e).toMatchObject({ method: 'slack', requestId: expect.stringMatching(/\S/) });
  expect(new Set(fromSlack.map((e) => e.requestId)).size).toBe(fromSlack.length);
  expect(await verifyAuditChain(h.store)).toMatchObject({ ok: true });
});
