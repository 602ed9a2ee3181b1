// How `/incident …` text parses into a command.
import { parseIncidentCommand } from '../../src/slack/commands';

describe('/incident text', () => {
  test.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['declare', { kind: 'declare-form' }],
    [
      'declare sev1 Orders DB primary unreachable, checkout failing',
      { kind: 'declare', severity: 'SEV1', title: 'Orders DB primary unreachable, checkout failing', drill: false },
    ],
    [
      'declare SEV2 Payments slow --runbook payment-gateway-degradation --drill',
      { kind: 'declare', severity: 'SEV2', title: 'Payments slow', runbook: 'payment-gateway-degradation', drill: true },
    ],
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
