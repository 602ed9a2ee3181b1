// config/integrations.yaml and config/routing.yaml: loading with file:line problems, credential lookup, routing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertEvent } from '../../src/domain/alert';
import { parseAlertmanager } from '../../src/ingest/alertmanager';
import { parseGrafana } from '../../src/ingest/grafana';
import { formatConfigProblem, loadIntegrations, parseAuthorization, parseIntegrations } from '../../src/ingest/integrations';
import type { ConfigProblem, Integrations } from '../../src/ingest/integrations';
import { parsePagerDutyEvent } from '../../src/ingest/pagerduty';
import type { PagerDutyEvent } from '../../src/ingest/pagerduty';
import { loadRouting, parseRouting, routeAlert, severityFromSender, TRIAGE_RUNBOOK, UNMATCHED_RULE } from '../../src/ingest/routing';
import type { RoutingRule } from '../../src/ingest/routing';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'reference');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const RUNBOOK_IDS = readdirSync(join(ROOT, 'runbooks'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));

const ENV = {
  FIRELINE_ALERTMANAGER_TOKEN: 'am-token-0123456789abcdef',
  FIRELINE_GRAFANA_TOKEN: 'grafana-token-0123456789abcdef',
  FIRELINE_GRAFANA_HMAC_SECRET: 'grafana-hmac-0123456789abcdef',
  FIRELINE_PAGERDUTY_ROUTING_KEY: 'a3f9c2e17b4d4e08b6c1d95e2f7a0b84',
  FIRELINE_GENERIC_HMAC_SECRET: 'generic-hmac-0123456789abcdef',
};

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`"${needle}" not found`);
  return index + 1;
}

function integrationProblems(text: string, env: Record<string, string> = ENV): ConfigProblem[] {
  const result = parseIntegrations(text, 'config/integrations.yaml', env);
  if (result.ok) throw new Error('expected problems, the file loaded');
  return result.problems;
}

function integrations(text: string, env: Record<string, string> = ENV): Integrations {
  const result = parseIntegrations(text, 'config/integrations.yaml', env);
  if (!result.ok) throw new Error(result.problems.map(formatConfigProblem).join('\n'));
  return result.integrations;
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('config/integrations.yaml', () => {
  test('the example file is valid; unset variables disable integrations with a warning each', () => {
    const unset = loadIntegrations(join(ROOT, 'config', 'integrations.yaml'), {});
    if (!unset.ok) throw new Error(unset.problems.map(formatConfigProblem).join('\n'));
    expect(unset.integrations.list().every((i) => !i.enabled)).toBe(true);
    expect(unset.warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^FIRELINE_ALERTMANAGER_TOKEN is not set/)]),
    );
    expect(unset.warnings[0]?.line).toBeGreaterThan(1);

    const set = loadIntegrations(join(ROOT, 'config', 'integrations.yaml'), ENV);
    if (!set.ok) throw new Error(set.problems.map(formatConfigProblem).join('\n'));
    expect(set.warnings).toEqual([]);
    expect(set.integrations.list()).toEqual([
      { id: 'prometheus-prod', type: 'alertmanager', enabled: true },
      { id: 'grafana', type: 'grafana', enabled: true },
      { id: 'pagerduty-compat', type: 'pagerduty', enabled: true },
      { id: 'deploy-checks', type: 'generic', enabled: true },
    ]);
    expect(set.integrations.get('grafana')?.hmac).toEqual({
      secret: ENV.FIRELINE_GRAFANA_HMAC_SECRET,
      signatureHeaders: ['x-grafana-alerting-signature', 'x-grafana-alert-signature'],
      timestampHeader: 'x-grafana-alerting-timestamp',
    });
  });

  test('a missing file configures nothing', () => {
    const result = loadIntegrations(join(ROOT, 'config', 'no-such-file.yaml'), ENV);
    expect(result.ok && result.integrations.list()).toEqual([]);
  });

  test('a literal secret is refused at its line', () => {
    const text = `integrations:\n  am:\n    type: alertmanager\n    token: s3cr3t-in-the-file\n`;
    const [problem] = integrationProblems(text);
    expect(problem).toMatchObject({ line: 4, path: 'integrations.am.token', message: expect.stringMatching(/only from the environment/) });
    expect(formatConfigProblem(problem!)).toMatch(/^config\/integrations\.yaml:4:\d+: integrations\.am\.token: /);
    expect(JSON.stringify(integrationProblems(text))).not.toContain('s3cr3t');
  });

  test('unknown keys (with a suggestion), unknown types, missing credentials, bad names', () => {
    const typo = `integrations:\n  am:\n    type: alertmanager\n    tokn: { env: X }\n`;
    expect(integrationProblems(typo)[0]).toMatchObject({ line: 4, message: 'unknown key "tokn" (did you mean "token"?)' });
    const hmacOnAm = `integrations:\n  am:\n    type: alertmanager\n    token: { env: FIRELINE_ALERTMANAGER_TOKEN }\n    hmac: { env: X }\n`;
    expect(integrationProblems(hmacOnAm)[0]).toMatchObject({
      line: lineOf(hmacOnAm, 'hmac'),
      message: expect.stringMatching(/unknown key "hmac"/),
    });
    const type = `integrations:\n  x:\n    type: nagios\n`;
    expect(integrationProblems(type)[0]?.message).toMatch(
      /unknown type "nagios" \(expected one of alertmanager, grafana, pagerduty, generic\)/,
    );
    const none = `integrations:\n  am:\n    type: alertmanager\n`;
    expect(integrationProblems(none)[0]).toMatchObject({ line: 2, message: expect.stringMatching(/needs `token`.*or `basic`/) });
    const generic = `integrations:\n  ci:\n    type: generic\n`;
    expect(integrationProblems(generic)[0]?.message).toBe('missing required key "hmac"');
    const name = `integrations:\n  Bad_Name:\n    type: generic\n    hmac: { env: FIRELINE_GENERIC_HMAC_SECRET }\n`;
    expect(integrationProblems(name)[0]).toMatchObject({ line: 2, message: expect.stringMatching(/^name "Bad_Name"/) });
    const envName = `integrations:\n  ci:\n    type: generic\n    hmac: { env: lower_case }\n`;
    expect(integrationProblems(envName)[0]).toMatchObject({ line: 4, path: 'integrations.ci.hmac.env' });
    expect(integrationProblems('integrations: [1, 2]\n')[0]?.message).toMatch(/expected a mapping/);
    expect(integrationProblems('integrations:\n  a: [\n')[0]?.line).toBeGreaterThanOrEqual(2);
  });

  test('two integrations of one type with the same credential are refused', () => {
    const text = `integrations:\n  am-1:\n    type: alertmanager\n    token: { env: FIRELINE_ALERTMANAGER_TOKEN }\n  am-2:\n    type: alertmanager\n    token: { env: FIRELINE_ALERTMANAGER_TOKEN }\n`;
    expect(integrationProblems(text)[0]).toMatchObject({
      line: lineOf(text, 'am-2'),
      message: expect.stringMatching(/same credential as integration "am-1"/),
    });
  });

  test('short secrets work, with a warning; routing keys must be printable', () => {
    const text = `integrations:\n  pd:\n    type: pagerduty\n    routingKey: { env: KEY }\n`;
    const short = parseIntegrations(text, 'f', { KEY: 'short' });
    expect(short.ok && short.warnings[0]?.message).toMatch(/shorter than 16/);
    expect(integrationProblems(text, { KEY: 'has a space in it 0123456789' })[0]?.message).toMatch(/printable ASCII/);
  });

  describe('credentials → integration', () => {
    const text = `integrations:
  am-bearer:
    type: alertmanager
    token: { env: AM_TOKEN }
  am-basic:
    type: alertmanager
    basic: { username: alertmanager, password: { env: AM_PASSWORD } }
  grafana-token:
    type: grafana
    token: { env: GF_TOKEN }
  grafana-hmac:
    type: grafana
    hmac: { env: GF_HMAC }
  pd-a:
    type: pagerduty
    routingKey: { env: PD_A }
  pd-b:
    type: pagerduty
    routingKey: { env: PD_B }
  disabled:
    type: alertmanager
    token: { env: UNSET_TOKEN }
`;
    const env = {
      AM_TOKEN: 'am-token-aaaaaaaaaaaaaaaa',
      AM_PASSWORD: 'am-password-bbbbbbbbbbbb',
      GF_TOKEN: 'gf-token-cccccccccccccccc',
      GF_HMAC: 'gf-hmac-dddddddddddddddd',
      PD_A: 'pd-key-aaaaaaaaaaaaaaaa',
      PD_B: 'pd-key-bbbbbbbbbbbbbbbb',
    };
    const registry = () => integrations(text, env);
    const ids = (list: { id: string }[]) => list.map((i) => i.id);

    test('Bearer and Basic pick their integration; anything else none', () => {
      const r = registry();
      expect(ids(r.headerCandidates('alertmanager', 'Bearer am-token-aaaaaaaaaaaaaaaa'))).toEqual(['am-bearer']);
      expect(ids(r.headerCandidates('alertmanager', 'bearer am-token-aaaaaaaaaaaaaaaa'))).toEqual(['am-bearer']);
      expect(ids(r.headerCandidates('alertmanager', basic('alertmanager', 'am-password-bbbbbbbbbbbb')))).toEqual(['am-basic']);
      for (const bad of [
        undefined,
        '',
        'Bearer',
        'Bearer am-token-aaaaaaaaaaaaaaa',
        'am-token-aaaaaaaaaaaaaaaa',
        basic('alertmanager', 'wrong'),
        basic('other', 'am-password-bbbbbbbbbbbb'),
        basic('am-token-aaaaaaaaaaaaaaaa', ''),
        'Bearer am-password-bbbbbbbbbbbb',
        `Bearer ${'x'.repeat(5000)}`,
        'Basic !!!',
      ]) {
        expect(ids(r.headerCandidates('alertmanager', bad))).toEqual([]);
      }
      // An Alertmanager token is no Grafana credential; an HMAC-only Grafana integration waits for the body.
      expect(ids(r.headerCandidates('grafana', 'Bearer am-token-aaaaaaaaaaaaaaaa'))).toEqual(['grafana-hmac']);
      expect(ids(r.headerCandidates('grafana', 'Bearer gf-token-cccccccccccccccc'))).toEqual(['grafana-token', 'grafana-hmac']);
    });

    test('routing keys pick the PagerDuty integration; a disabled integration matches nothing', () => {
      const r = registry();
      expect(r.byRoutingKey('pd-key-bbbbbbbbbbbbbbbb')?.id).toBe('pd-b');
      expect(r.byRoutingKey('pd-key-aaaaaaaaaaaaaaaa')?.id).toBe('pd-a');
      expect(r.byRoutingKey('pd-key-aaaaaaaaaaaaaaab')).toBeUndefined();
      expect(r.byRoutingKey('am-token-aaaaaaaaaaaaaaaa')).toBeUndefined();
      expect(r.list().find((i) => i.id === 'disabled')?.enabled).toBe(false);
      expect(ids(r.headerCandidates('alertmanager', 'Bearer '))).toEqual([]);
    });

    test('parseAuthorization', () => {
      expect(parseAuthorization('Bearer abc')).toEqual({ kind: 'bearer', token: 'abc' });
      expect(parseAuthorization(basic('u', 'p:with:colons'))).toEqual({ kind: 'basic', username: 'u', password: 'p:with:colons' });
      expect(parseAuthorization('Digest x')).toEqual({ kind: 'none' });
    });
  });
});

describe('config/routing.yaml', () => {
  function rulesOf(text: string): RoutingRule[] {
    const result = parseRouting(text, 'config/routing.yaml', { runbookIds: RUNBOOK_IDS });
    if (!result.ok) throw new Error(result.problems.map(formatConfigProblem).join('\n'));
    return result.rules;
  }
  function routingProblems(text: string, runbookIds: readonly string[] | undefined = RUNBOOK_IDS): ConfigProblem[] {
    const result = parseRouting(text, 'config/routing.yaml', { runbookIds });
    if (result.ok) throw new Error('expected problems');
    return result.problems;
  }
  const alert = (over: Partial<AlertEvent>): AlertEvent => ({
    source: 'alertmanager',
    integration: 'am',
    groupKey: 'g',
    fingerprint: 'f',
    status: 'firing',
    startsAt: '2026-04-21T08:00:00.000Z',
    endsAt: null,
    labels: {},
    annotations: {},
    summary: 's',
    senderSeverity: null,
    generatorUrl: null,
    ...over,
  });

  test('the example file is valid against runbooks/ and routes the fixtures', () => {
    const result = loadRouting(join(ROOT, 'config', 'routing.yaml'), { runbookIds: RUNBOOK_IDS });
    if (!result.ok) throw new Error(result.problems.map(formatConfigProblem).join('\n'));
    expect(result.warnings).toEqual([]);
    const rules = result.rules;
    const am = (name: string) => {
      const parsed = parseAlertmanager(fixture(`alertmanager/${name}`), { integration: 'am' });
      if (!parsed.ok) throw new Error('fixture');
      return parsed.value.alerts[0]!;
    };
    expect(routeAlert(rules, am('firing-order-db-down.json'))).toEqual({
      rule: 'order-db-down',
      runbook: 'order-db-outage',
      service: 'orders-db',
      severity: 'SEV1',
    });
    expect(routeAlert(rules, am('partially-resolved-checkout-errors.json'))).toEqual({
      rule: 'checkout-errors',
      runbook: 'checkout-error-spike',
      service: 'checkout',
      severity: 'SEV2',
    });
    const grafana = parseGrafana(fixture('grafana/firing-payment-latency.json'), { integration: 'g' });
    if (!grafana.ok) throw new Error('fixture');
    expect(routeAlert(rules, grafana.value.alerts[0]!)).toEqual({
      rule: 'payment-gateway',
      runbook: 'payment-gateway-degradation',
      service: 'payments',
      severity: 'SEV2',
    });
    const pd = parsePagerDutyEvent(fixture('pagerduty/trigger-inventory-sync.json'), {
      integration: 'pd',
      routingKey: 'k',
      now: new Date(),
    });
    if (!pd.ok) throw new Error('fixture');
    const trigger = pd.value as Extract<PagerDutyEvent, { action: 'trigger' }>;
    // No rule gives a severity: the sender's "error" decides.
    expect(routeAlert(rules, trigger.alert)).toEqual({
      rule: 'inventory-sync-pagerduty',
      runbook: 'inventory-sync-drift',
      service: 'inventory',
      severity: 'SEV2',
    });
    expect(routeAlert(rules, alert({ labels: { alertname: 'DiskFull', service: 'search' }, senderSeverity: 'warning' }))).toEqual({
      rule: UNMATCHED_RULE,
      runbook: TRIAGE_RUNBOOK,
      service: 'search',
      severity: 'SEV3',
    });
    const every = new Set(rules.map((r) => r.runbook));
    for (const id of RUNBOOK_IDS.filter((id) => id !== TRIAGE_RUNBOOK)) expect(every.has(id)).toBe(true);
  });

  test('first match wins; every condition of a rule must hold', () => {
    const rules = rulesOf(`rules:
  - name: am-critical-orders
    match: { source: alertmanager, severity: SEV1, labels: { service: orders } }
    runbook: order-db-outage
  - name: orders
    match: { labels: { service: { regex: "orders|order-db" } } }
    runbook: order-queue-backlog
    severity: SEV4
  - name: everything-from-ci
    match: { integration: [ci, ci-2] }
    runbook: fraud-spike
`);
    expect(routeAlert(rules, alert({ labels: { service: 'orders' }, senderSeverity: 'critical' }))).toMatchObject({
      rule: 'am-critical-orders',
      severity: 'SEV1',
    });
    expect(routeAlert(rules, alert({ labels: { service: 'orders' }, senderSeverity: 'warning' }))).toMatchObject({
      rule: 'orders',
      severity: 'SEV4',
    });
    expect(routeAlert(rules, alert({ source: 'grafana', labels: { service: 'orders' }, senderSeverity: 'critical' }))).toMatchObject({
      rule: 'orders',
    });
    // Regexes are anchored: "orders-api" is not "orders".
    expect(routeAlert(rules, alert({ labels: { service: 'orders-api' } })).rule).toBe(UNMATCHED_RULE);
    expect(routeAlert(rules, alert({ integration: 'ci-2', source: 'generic' })).rule).toBe('everything-from-ci');
  });

  test('missing labels read as empty; numbers in YAML compare as text', () => {
    const rules = rulesOf(`rules:
  - { name: no-env, match: { labels: { env: "" } }, runbook: triage }
  - { name: code, match: { labels: { code: 500 } }, runbook: triage }
`);
    expect(routeAlert(rules, alert({ labels: { alertname: 'x' } })).rule).toBe('no-env');
    expect(routeAlert(rules, alert({ labels: { env: 'prod', code: '500' } })).rule).toBe('code');
  });

  test('triage fallback takes the sender severity (PagerDuty words and Alertmanager labels)', () => {
    const cases: [string | null, string][] = [
      ['critical', 'SEV1'],
      ['page', 'SEV1'],
      ['CRITICAL', 'SEV1'],
      ['error', 'SEV2'],
      ['high', 'SEV2'],
      ['warning', 'SEV3'],
      ['info', 'SEV4'],
      ['low', 'SEV4'],
      ['P2', 'SEV2'],
      ['sev4', 'SEV4'],
      ['bananas', 'SEV3'],
      [null, 'SEV3'],
    ];
    for (const [sender, severity] of cases) {
      expect(routeAlert([], alert({ senderSeverity: sender }))).toEqual({
        rule: UNMATCHED_RULE,
        runbook: 'triage',
        service: null,
        severity,
      });
    }
    expect(severityFromSender('__proto__')).toBeNull();
    expect(severityFromSender('constructor')).toBeNull();
  });

  test('problems come with file, line and column', () => {
    const unknown = `rules:\n  - name: a\n    match: {}\n    runbook: order-db-outag\n`;
    expect(routingProblems(unknown)).toEqual([
      expect.objectContaining({
        file: 'config/routing.yaml',
        line: 4,
        path: 'rules[0].runbook',
        message: 'unknown runbook "order-db-outag" (did you mean "order-db-outage"?)',
      }),
    ]);
    // Without a list of runbooks only the shape is checked.
    expect(parseRouting(unknown, 'config/routing.yaml').ok).toBe(true);

    const regex = `rules:\n  - name: a\n    match:\n      labels:\n        alertname: { regex: "([unclosed" }\n    runbook: triage\n`;
    expect(routingProblems(regex)[0]).toMatchObject({
      line: 5,
      path: 'rules[0].match.labels.alertname.regex',
      message: expect.stringMatching(/not a valid regular expression/),
    });

    const both = `rules:\n  - name: a\n    match: {}\n    runbook: triage\n    severity: SEV1\n    likelihood: rare\n    impact: minor\n`;
    expect(routingProblems(both)[0]).toMatchObject({ line: 5, message: expect.stringMatching(/either severity or likelihood and impact/) });
    const half = `rules:\n  - name: a\n    match: {}\n    runbook: triage\n    likelihood: rare\n`;
    expect(routingProblems(half)[0]).toMatchObject({ line: 5, message: expect.stringMatching(/go together/) });

    const dup = `rules:\n  - { name: a, match: {}, runbook: triage }\n  - { name: a, match: { source: grafana }, runbook: triage }\n`;
    expect(routingProblems(dup)[0]).toMatchObject({ line: 3, message: 'rule name "a" is already used by rules[0]' });

    const typo = `rules:\n  - name: a\n    match: { lables: { a: b } }\n    runbook: triage\n`;
    expect(routingProblems(typo)[0]).toMatchObject({ line: 3, message: 'unknown key "lables" (did you mean "labels"?)' });
    const noMatch = `rules:\n  - name: a\n    runbook: triage\n`;
    expect(routingProblems(noMatch)[0]).toMatchObject({ line: 2, message: 'missing required key "match"' });
    const source = `rules:\n  - { name: a, match: { source: nagios }, runbook: triage }\n`;
    expect(routingProblems(source)[0]?.path).toBe('rules[0].match.source');
    const severity = `rules:\n  - { name: a, match: {}, runbook: triage, severity: critical }\n`;
    expect(routingProblems(severity)[0]?.message).toMatch(/is not one of: SEV1, SEV2, SEV3, SEV4/);

    expect(routingProblems('rules: []\n', ['order-db-outage'])[0]?.message).toMatch(/no runbook "triage"/);
  });

  test('rules after a catch-all are reported as never matching', () => {
    const result = parseRouting(
      `rules:\n  - { name: all, match: {}, runbook: triage }\n  - { name: later, match: { source: grafana }, runbook: triage }\n`,
      'r.yaml',
      { runbookIds: RUNBOOK_IDS },
    );
    expect(result.ok && result.warnings).toEqual([
      expect.objectContaining({ line: 3, message: 'never matches: rule "all" before it matches every alert' }),
    ]);
  });

  test('a missing file routes everything to triage', () => {
    const result = loadRouting(join(ROOT, 'config', 'no-routing.yaml'), { runbookIds: RUNBOOK_IDS });
    expect(result.ok && result.rules).toEqual([]);
  });
});
