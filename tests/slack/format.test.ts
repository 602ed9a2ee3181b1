// What Fireline shows in Slack: channel names, the incident card derived from the timeline, the declaration form.
import type { IncidentRecord } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import { deriveCard, responderSlackIds } from '../../src/slack/card';
import { cardMessage, channelNameFor, declareModal, parseDecisionValue, severityPreview } from '../../src/slack/format';

test('channel names: inc-<n>-<slug>, lowercase, at most 80 characters, never ending in a dash', () => {
  expect(channelNameFor({ id: 'INC-42', title: 'Orders DB primary unreachable, checkout failing' })).toBe(
    'inc-42-orders-db-primary-unreachable-checkout-failing',
  );
  expect(channelNameFor({ id: 'INC-7', title: 'Zahlungsausfall bei Über-Bestellungen!!' })).toBe(
    'inc-7-zahlungsausfall-bei-uber-bestellungen',
  );
  expect(channelNameFor({ id: 'INC-7', title: '🔥🔥' })).toBe('inc-7');
  const long = channelNameFor({ id: 'INC-123456789012', title: 'a very long title '.repeat(10) });
  expect(long.length).toBeLessThanOrEqual(80);
  expect(long).toMatch(/^inc-123456789012-a-very-long-title[a-z0-9-]*[a-z0-9]$/);
  expect(channelNameFor({ id: 'INC-42', title: 'x' }, '-2')).toBe('inc-42-x-2');
  for (const name of [long, channelNameFor({ id: 'INC-1', title: 'A_B c.d' })]) expect(name).toMatch(/^[a-z0-9-]{1,80}$/);
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

function event(
  seq: number,
  type: TimelineEvent['type'],
  summary: string,
  data: Record<string, unknown> = {},
  actor: Actor = { id: 'runbook', name: 'Runbook', role: 'admin' },
): TimelineEvent {
  return { id: `INC-5:${seq}`, incidentId: 'INC-5', seq, at: '2026-04-21T10:00:00.000Z', type, phase: 'decide', actor, summary, data };
}

test('the card: who is paged, who commands, open decisions and tasks, from the timeline', () => {
  const events = [
    event(1, 'page.sent', 'Paged Ben by slack (level 1)', { person: 'ben', via: 'slack', level: 1 }),
    event(2, 'incident.acknowledged', 'Acknowledged by Ben', {}, { id: 'slack:U0BEN', name: 'Ben Paged', role: 'responder' }),
    event(3, 'decision.requested', 'Fail over or restore?', {
      stepId: 'strategy',
      options: ['failover', 'restore'],
      default: 'failover',
      deadline: '2026-04-21T10:15:00.000Z',
    }),
    event(4, 'decision.requested', 'Tell customers?', {
      stepId: 'comms',
      options: ['yes', 'no'],
      default: 'no',
      deadline: '2026-04-21T10:15:00.000Z',
    }),
    event(
      5,
      'decision.taken',
      'Grace chose "yes"',
      { stepId: 'comms', option: 'yes' },
      { id: 'token:abc', name: 'Grace', role: 'commander' },
    ),
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
  const resolved = deriveCard(
    { ...incident, status: 'closed', phase: 'closed' },
    [...events, event(8, 'step.skipped', 'skipped', { stepId: 'strategy' })],
    () => ({ name: 'x', slackId: null }),
  );
  expect(resolved.openDecisions).toEqual([]);
  const closedJson = JSON.stringify(cardMessage(resolved, 'https://fireline.example.com').blocks);
  for (const id of ['incident.acknowledge', 'incident.escalate', 'incident.resolve', 'incident.add_note', 'incident.decide'])
    expect(closedJson).not.toContain(`"${id}`);
});

test('the declaration form shows the severity likelihood × impact gives', () => {
  const runbooks = [
    { id: 'flow', title: 'Full flow', severity: 'SEV1' as const },
    { id: 'quick', title: 'Quick', severity: null },
  ];
  expect(severityPreview({}, runbooks)).toMatch(/from the runbook/);
  expect(severityPreview({ runbook: 'flow' }, runbooks)).toMatch(/SEV1\* from runbook `flow`/);
  expect(severityPreview({ likelihood: 'likely' }, runbooks)).toMatch(/choose the impact/);
  expect(severityPreview({ likelihood: 'likely', impact: 'severe' }, runbooks)).toMatch(
    /\*SEV1\* — likely × severe \(risk score 20 of 25\)/,
  );
  expect(severityPreview({ likelihood: 'rare', impact: 'severe' }, runbooks)).toMatch(/\*SEV2\*/);
  const modal = declareModal({ runbooks, state: { runbook: 'flow', likelihood: 'rare', impact: 'minor' }, privateMetadata: '{}' });
  const json = JSON.stringify(modal);
  expect(json).toContain('"initial_option":{"text":{"type":"plain_text","text":"flow — Full flow (SEV1)"');
  expect(json).toContain('SEV4');
});
