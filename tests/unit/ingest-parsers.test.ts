// Receivers' parsers against the shared fixtures and the reference vectors (docs/reference/integrations.md §1–§3).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertEvent } from '../../src/domain/alert';
import {
  alertmanagerFingerprint,
  alertmanagerGroupKey,
  buildAlertmanagerMessage,
  parseAlertmanager,
  unescapeReceiver,
} from '../../src/ingest/alertmanager';
import { jsonDepth, parseUntrustedJson } from '../../src/ingest/body';
import { checkGenericSignature, genericGroupKey, parseGeneric } from '../../src/ingest/generic';
import { grafanaSignature, isPrivateLabel, parseGrafana, verifyGrafanaSignature } from '../../src/ingest/grafana';
import type { Parsed, PayloadIssue } from '../../src/ingest/issues';
import { sha256Hex } from '../../src/ingest/keys';
import { pagerDutyGroupKey, parsePagerDutyEvent } from '../../src/ingest/pagerduty';
import type { PagerDutyEvent } from '../../src/ingest/pagerduty';
import { signPayload } from '../../src/targets/sign';

const FIXTURES = join(__dirname, '..', 'fixtures', 'reference');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
const clone = <T>(value: T): T => structuredClone(value);

function ok<T>(result: Parsed<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.issues)}`);
  return result.value;
}
function issues<T>(result: Parsed<T>): PayloadIssue[] {
  if (result.ok) throw new Error('expected issues, the payload parsed');
  return result.issues;
}

const ORDER_DB_GROUP_KEY = '{}/{team="commerce"}:{alertname="OrderDBDown", service="orders"}';
const ORDER_DB_HASH = 'c97c070785076a7173785f93cfbe12f9b653dfcc0aa915ee1f178c2024f7bc0f';
const CHECKOUT_HASH = '9f805d6e96eae528c34238778707269dd017262d42cd9a4d040b95be08e154bc';

describe('Alertmanager fingerprint and group key (§1.5, §1.7)', () => {
  test('FNV-1a vectors', () => {
    expect(alertmanagerFingerprint({ alertname: 'alert1', lbl1: 'val1' })).toBe('fac0861a85de433a');
    expect(alertmanagerFingerprint({ alertname: 'alert1', lbl1: 'val2' })).toBe('fab6861a85d5eeb5');
    // Label order in the object does not matter: they are sorted by name.
    expect(alertmanagerFingerprint({ lbl1: 'val1', alertname: 'alert1' })).toBe('fac0861a85de433a');
    expect(alertmanagerFingerprint({})).toBe('cbf29ce484222325');
  });

  test('every fixture fingerprint recomputes from its labels', () => {
    for (const name of ['firing-order-db-down.json', 'resolved-order-db-down.json', 'partially-resolved-checkout-errors.json']) {
      for (const alert of fixture(`alertmanager/${name}`).alerts as { labels: Record<string, string>; fingerprint: string }[]) {
        expect(alertmanagerFingerprint(alert.labels)).toBe(alert.fingerprint);
      }
    }
  });

  test('groupKey sha256 vector and the fixtures’ derived values', () => {
    expect(sha256Hex('{}/{severity="page"}:{alertname="HighLatency", cluster="eu1"}')).toBe(
      'f1b6b61f92d43bb8c91b3943763619cba45c7be2dc54863ac443bc3085716f62',
    );
    expect(sha256Hex(ORDER_DB_GROUP_KEY)).toBe(ORDER_DB_HASH);
    expect(sha256Hex('{}/{team="commerce"}/{service=~"checkout|cart"}:{alertname="CheckoutHighErrorRate", service="checkout"}')).toBe(
      CHECKOUT_HASH,
    );
  });

  test('the message builder renders group keys as Alertmanager does', () => {
    expect(alertmanagerGroupKey(['team="commerce"'], { service: 'orders', alertname: 'OrderDBDown' })).toBe(ORDER_DB_GROUP_KEY);
    expect(alertmanagerGroupKey(['severity="page"'], { alertname: 'HighLatency', cluster: 'eu1' })).toBe(
      '{}/{severity="page"}:{alertname="HighLatency", cluster="eu1"}',
    );
    const built = buildAlertmanagerMessage({
      groupLabels: { alertname: 'OrderDBDown', service: 'orders' },
      routeMatchers: ['team="commerce"'],
      alerts: [{ labels: { alertname: 'OrderDBDown', service: 'orders', instance: 'a' }, startsAt: '2026-04-21T08:14:07.512Z' }],
    });
    const parsed = ok(parseAlertmanager(built, { integration: 'am' }));
    expect(parsed.groupKeyHash).toBe(ORDER_DB_HASH);
    expect(parsed.alerts[0]?.fingerprint).toBe(alertmanagerFingerprint({ alertname: 'OrderDBDown', service: 'orders', instance: 'a' }));
  });
});

describe('parseAlertmanager', () => {
  test('first notification of order-db-down: two firing alerts', () => {
    const m = ok(parseAlertmanager(fixture('alertmanager/firing-order-db-down.json'), { integration: 'prometheus' }));
    expect(m.groupKey).toBe(ORDER_DB_GROUP_KEY);
    expect(m.groupKeyHash).toBe(ORDER_DB_HASH);
    expect(m.receiver).toBe('fireline-commerce');
    expect(m.notificationReason).toBe('first notification');
    expect(m.routeLabels).toEqual({ escalation_policy: 'commerce-primary', slack_channel: 'inc-commerce' });
    expect(m.truncatedAlerts).toBe(0);
    expect(m.alerts).toHaveLength(2);
    const [first, second] = m.alerts as [AlertEvent, AlertEvent];
    expect(first).toEqual({
      source: 'alertmanager',
      integration: 'prometheus',
      groupKey: ORDER_DB_HASH,
      fingerprint: '74110214098f1bc6',
      status: 'firing',
      startsAt: '2026-04-21T08:14:07.512Z',
      endsAt: null,
      labels: expect.objectContaining({
        alertname: 'OrderDBDown',
        instance: 'orders-db-0.orders-db.orders-prod.svc:9187',
        severity: 'critical',
      }),
      annotations: expect.objectContaining({ summary: 'Orders database orders-db-0 is unreachable' }),
      summary: 'Orders database orders-db-0 is unreachable',
      senderSeverity: 'critical',
      generatorUrl: expect.stringMatching(/^https:\/\/prometheus\.example\.com\/graph/),
    });
    expect(second.fingerprint).toBe('bdddaac19233e8a7');
  });

  test('all resolved: the same group and fingerprints, with the real end times', () => {
    const firing = ok(parseAlertmanager(fixture('alertmanager/firing-order-db-down.json'), { integration: 'prometheus' }));
    const resolved = ok(parseAlertmanager(fixture('alertmanager/resolved-order-db-down.json'), { integration: 'prometheus' }));
    expect(resolved.status).toBe('resolved');
    expect(resolved.groupKeyHash).toBe(firing.groupKeyHash);
    expect(resolved.alerts.map((a) => [a.fingerprint, a.startsAt, a.status, a.endsAt])).toEqual([
      ['74110214098f1bc6', '2026-04-21T08:14:07.512Z', 'resolved', '2026-04-21T08:41:52.512Z'],
      ['bdddaac19233e8a7', '2026-04-21T08:14:22.512Z', 'resolved', '2026-04-21T08:42:07.512Z'],
    ]);
    // Same episode (fingerprint + startsAt) as the firing alerts.
    expect(resolved.alerts.map((a) => `${a.fingerprint}@${a.startsAt}`)).toEqual(
      firing.alerts.map((a) => `${a.fingerprint}@${a.startsAt}`),
    );
  });

  test('partially resolved checkout errors: per-alert status in a firing message', () => {
    const m = ok(parseAlertmanager(fixture('alertmanager/partially-resolved-checkout-errors.json'), { integration: 'prometheus' }));
    expect(m.groupKeyHash).toBe(CHECKOUT_HASH);
    expect(m.status).toBe('firing');
    expect(m.alerts.map((a) => [a.fingerprint, a.status, a.endsAt])).toEqual([
      ['13290b5dd2317bea', 'firing', null],
      ['330a094b1c23f7b2', 'resolved', '2026-04-21T08:33:46.906Z'],
      ['445f46d0d203c05c', 'firing', null],
    ]);
    expect(m.alerts.every((a) => a.senderSeverity === 'warning')).toBe(true);
  });

  test('HA duplicate deliveries produce identical events', () => {
    for (const name of ['firing-order-db-down.json', 'resolved-order-db-down.json', 'partially-resolved-checkout-errors.json']) {
      const a = ok(parseAlertmanager(fixture(`alertmanager/${name}`), { integration: 'prometheus' }));
      const b = ok(parseAlertmanager(JSON.parse(JSON.stringify(fixture(`alertmanager/${name}`))), { integration: 'prometheus' }));
      expect(b).toEqual(a);
    }
  });

  test('tolerates fields newer releases add, and their absence', () => {
    const body = clone(fixture('alertmanager/firing-order-db-down.json'));
    body.someFutureField = { nested: [1, 2] };
    (body.alerts as Record<string, unknown>[])[0]!.newAlertField = 'x';
    delete body.notification_reason;
    delete body.routeLabels;
    const m = ok(parseAlertmanager(body, { integration: 'am' }));
    expect(m.alerts).toHaveLength(2);
    expect(m.notificationReason).toBeNull();
    expect(m.routeLabels).toEqual({});
    expect(m.alerts[0]).not.toHaveProperty('newAlertField');
  });

  test('Go time encodings: nanoseconds, no fraction, offsets → UTC milliseconds', () => {
    const body = clone(fixture('alertmanager/firing-order-db-down.json'));
    const alerts = body.alerts as Record<string, unknown>[];
    alerts[0]!.startsAt = '2026-04-21T10:14:07.512345678+02:00';
    alerts[1]!.startsAt = '2026-04-21T08:14:22Z';
    const m = ok(parseAlertmanager(body, { integration: 'am' }));
    expect(m.alerts.map((a) => a.startsAt)).toEqual(['2026-04-21T08:14:07.512Z', '2026-04-21T08:14:22.000Z']);
  });

  test('receiver names are unescaped (regexp.QuoteMeta)', () => {
    expect(unescapeReceiver('team\\.web')).toBe('team.web');
    expect(unescapeReceiver('a\\+b\\(c\\)\\[d\\]\\{e\\}\\^\\$\\|\\*\\?')).toBe('a+b(c)[d]{e}^$|*?');
    const body = clone(fixture('alertmanager/firing-order-db-down.json'));
    body.receiver = 'team\\.web';
    expect(ok(parseAlertmanager(body, { integration: 'am' })).receiver).toBe('team.web');
  });

  test('truncatedAlerts is kept; a missing fingerprint is computed; a malformed one is refused', () => {
    const body = clone(fixture('alertmanager/firing-order-db-down.json'));
    body.truncatedAlerts = 17;
    delete (body.alerts as Record<string, unknown>[])[0]!.fingerprint;
    const m = ok(parseAlertmanager(body, { integration: 'am' }));
    expect(m.truncatedAlerts).toBe(17);
    expect(m.alerts[0]?.fingerprint).toBe('74110214098f1bc6');
    (body.alerts as Record<string, unknown>[])[1]!.fingerprint = 'NOT-HEX';
    expect(issues(parseAlertmanager(body, { integration: 'am' }))).toEqual([expect.objectContaining({ path: 'alerts.1.fingerprint' })]);
  });

  test('a templated payload: body, or another format, gets a message saying so', () => {
    const templated = issues(parseAlertmanager({ text: 'Orders DB is down', channel: '#ops' }, { integration: 'am' }));
    expect(templated[0]?.path).toBe('version');
    expect(templated[0]?.message).toMatch(/payload/);
    expect(issues(parseAlertmanager(['x'], { integration: 'am' }))[0]?.path).toBe('(body)');
    expect(issues(parseAlertmanager('text', { integration: 'am' }))[0]?.path).toBe('(body)');
    expect(issues(parseAlertmanager(null, { integration: 'am' }))[0]?.path).toBe('(body)');
    expect(issues(parseAlertmanager(fixture('grafana/firing-payment-latency.json'), { integration: 'am' }))[0]?.message).toMatch(
      /grafana/i,
    );
    expect(
      issues(parseAlertmanager({ ...fixture('alertmanager/firing-order-db-down.json'), version: '5' }, { integration: 'am' }))[0]?.message,
    ).toMatch(/expected "4"/);
  });

  test('missing and wrongly typed fields are named', () => {
    const body = clone(fixture('alertmanager/firing-order-db-down.json'));
    delete (body.alerts as Record<string, unknown>[])[0]!.status;
    (body.alerts as Record<string, unknown>[])[1]!.startsAt = 'yesterday';
    delete body.groupKey;
    const paths = issues(parseAlertmanager(body, { integration: 'am' })).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['alerts.0.status', 'alerts.1.startsAt', 'groupKey']));
    const labels = clone(fixture('alertmanager/firing-order-db-down.json'));
    (labels.alerts as Record<string, unknown>[])[0]!.labels = { alertname: 7 };
    expect(issues(parseAlertmanager(labels, { integration: 'am' }))[0]?.path).toBe('alerts.0.labels.alertname');
  });

  test('more than 1000 labels on an alert are refused', () => {
    const body = clone(fixture('alertmanager/firing-order-db-down.json'));
    const many: Record<string, string> = {};
    for (let i = 0; i < 1001; i++) many[`l${i}`] = 'v';
    (body.alerts as Record<string, unknown>[])[0]!.labels = many;
    expect(issues(parseAlertmanager(body, { integration: 'am' }))[0]).toEqual({
      path: 'alerts.0.labels',
      message: expect.stringMatching(/1000/),
    });
  });
});

describe('parseGrafana', () => {
  test('the fixture: opaque fingerprints, group key hashed, links as annotations', () => {
    const m = ok(parseGrafana(fixture('grafana/firing-payment-latency.json'), { integration: 'grafana' }));
    const groupKey =
      '{}/{__grafana_autogenerated__="true"}/{__grafana_receiver__="fireline-webhook"}:{alertname="PaymentLatencyHigh", grafana_folder="Payments"}';
    expect(m.groupKey).toBe(groupKey);
    expect(m.groupKeyHash).toBe(sha256Hex(groupKey));
    expect(m.orgId).toBe(1);
    expect(m.alerts.map((a) => a.fingerprint)).toEqual(['d7515c3723699063', '352d1eb9493fcb9f']);
    // Opaque: they do not match a hash of the visible labels.
    expect(m.alerts.map((a) => alertmanagerFingerprint(a.labels))).not.toContain('d7515c3723699063');
    const first = m.alerts[0]!;
    expect(first).toMatchObject({
      source: 'grafana',
      integration: 'grafana',
      status: 'firing',
      startsAt: '2026-04-21T08:22:10.000Z',
      endsAt: null,
      summary: 'p99 payment authorisation latency is 2.87s in eu-west-1',
      senderSeverity: 'critical',
      labels: {
        alertname: 'PaymentLatencyHigh',
        grafana_folder: 'Payments',
        region: 'eu-west-1',
        service: 'payments-api',
        severity: 'critical',
        team: 'payments',
      },
    });
    expect(first.annotations.dashboard_url).toMatch(/^https:\/\/grafana\.example\.com\/d\/payments-slo/);
    expect(first.annotations.panel_url).toMatch(/viewPanel=7/);
    expect(ok(parseGrafana(fixture('grafana/firing-payment-latency.json'), { integration: 'grafana' }))).toEqual(m);
  });

  test('private __…__ labels and annotations are stripped; the given fingerprint stays', () => {
    const body = clone(fixture('grafana/firing-payment-latency.json'));
    const alert = (body.alerts as Record<string, Record<string, string>>[])[0]!;
    alert.labels!.__alert_rule_uid__ = 'fej3k9x2mq7ab4';
    alert.annotations!.__dashboardUid__ = 'payments-slo';
    alert.annotations!.__values__ = '{"A":2.87}';
    (body.commonLabels as Record<string, string>).__alert_rule_uid__ = 'fej3k9x2mq7ab4';
    const m = ok(parseGrafana(body, { integration: 'g' }));
    expect(Object.keys(m.alerts[0]!.labels)).not.toContain('__alert_rule_uid__');
    expect(Object.keys(m.alerts[0]!.annotations).filter(isPrivateLabel)).toEqual([]);
    expect(Object.keys(m.commonLabels)).not.toContain('__alert_rule_uid__');
    expect(m.alerts[0]!.fingerprint).toBe('d7515c3723699063');
    expect(isPrivateLabel('grafana_folder')).toBe(false);
  });

  test('legacy Grafana alerting (no version) is refused with an explanation', () => {
    const legacy = {
      title: '[Alerting] CPU',
      ruleId: 1,
      ruleName: 'CPU',
      ruleUrl: 'http://g/d/x',
      state: 'alerting',
      evalMatches: [{ value: 100, metric: 'cpu', tags: {} }],
      message: 'hot',
    };
    const [issue] = issues(parseGrafana(legacy, { integration: 'g' }));
    expect(issue?.path).toBe('version');
    expect(issue?.message).toMatch(/legacy Grafana alerting.*not supported/);
    expect(issues(parseGrafana(fixture('alertmanager/firing-order-db-down.json'), { integration: 'g' }))[0]?.message).toMatch(
      /alertmanager/i,
    );
  });

  test('HMAC vectors (§2.1): plain body and timestamp', () => {
    const body = '{"status":"firing"}';
    expect(grafanaSignature('grafana-secret', body)).toBe('bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97d');
    expect(grafanaSignature('grafana-secret', body, 1700000000)).toBe('ab55bf0e780f8f32e85451f62e1ba2aee0589e5b2162cd2091e4db5072cc04ae');
    const now = 1700000000 * 1000;
    const plain = { secret: 'grafana-secret', body: Buffer.from(body), timestamped: false, now };
    expect(verifyGrafanaSignature({ ...plain, signature: 'bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97d' })).toBe(true);
    expect(verifyGrafanaSignature({ ...plain, signature: 'BF139E3403A31E4B49DEFAD120BC97D578B44BD35AF83566821426B9BB7FC97D' })).toBe(true);
    expect(verifyGrafanaSignature({ ...plain, signature: 'bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97e' })).toBe(false);
    expect(
      verifyGrafanaSignature({
        ...plain,
        body: '{"status":"resolved"}',
        signature: 'bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97d',
      }),
    ).toBe(false);
    expect(
      verifyGrafanaSignature({ ...plain, secret: 'other', signature: 'bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97d' }),
    ).toBe(false);
    expect(verifyGrafanaSignature({ ...plain, signature: undefined })).toBe(false);
    expect(verifyGrafanaSignature({ ...plain, signature: 'sha256=bf13' })).toBe(false);

    const stamped = {
      secret: 'grafana-secret',
      body,
      timestamped: true,
      signature: 'ab55bf0e780f8f32e85451f62e1ba2aee0589e5b2162cd2091e4db5072cc04ae',
    };
    expect(verifyGrafanaSignature({ ...stamped, timestamp: '1700000000', now })).toBe(true);
    expect(verifyGrafanaSignature({ ...stamped, timestamp: '1700000000', now: now + 300_000 })).toBe(true);
    expect(verifyGrafanaSignature({ ...stamped, timestamp: '1700000000', now: now + 301_000 })).toBe(false);
    expect(verifyGrafanaSignature({ ...stamped, timestamp: '1700000000', now: now - 301_000 })).toBe(false);
    expect(verifyGrafanaSignature({ ...stamped, timestamp: undefined, now })).toBe(false);
    expect(verifyGrafanaSignature({ ...stamped, timestamp: '1700000001', now })).toBe(false);
    expect(verifyGrafanaSignature({ ...stamped, timestamp: '17e8', now })).toBe(false);
  });
});

describe('parsePagerDutyEvent', () => {
  const routingKey = 'a3f9c2e17b4d4e08b6c1d95e2f7a0b84';
  const now = new Date('2026-04-21T09:03:00.000Z');
  const ctx = { integration: 'pd', routingKey, now };
  const trigger = () => clone(fixture('pagerduty/trigger-inventory-sync.json'));

  test('trigger: an alert named by the routing-key-scoped dedup_key', () => {
    const event = ok(parsePagerDutyEvent(trigger(), ctx)) as Extract<PagerDutyEvent, { action: 'trigger' }>;
    expect(event.action).toBe('trigger');
    expect(event.dedupKey).toBe('inventory-sync/wh-eu-2/stale-stock');
    expect(event.generated).toBe(false);
    const groupKey = sha256Hex(`${routingKey}\ninventory-sync/wh-eu-2/stale-stock`);
    expect(pagerDutyGroupKey(routingKey, 'inventory-sync/wh-eu-2/stale-stock')).toBe(groupKey);
    expect(event.alert).toMatchObject({
      source: 'pagerduty',
      integration: 'pd',
      groupKey,
      fingerprint: groupKey.slice(0, 16),
      status: 'firing',
      startsAt: '2026-04-21T09:02:45.118Z',
      endsAt: null,
      summary: 'Inventory sync failing: stock levels for warehouse WH-EU-2 are 47 minutes stale',
      senderSeverity: 'error',
      generatorUrl: 'https://scheduler.example.com/jobs/inventory-sync',
      labels: {
        source: 'inventory-sync-worker-3.prod.internal',
        severity: 'error',
        component: 'inventory-sync',
        group: 'fulfilment',
        class: 'sync lag',
        warehouse: 'WH-EU-2',
        lag_minutes: '47',
        oversell_risk: 'true',
      },
      annotations: { client: 'Inventory Scheduler', client_url: 'https://scheduler.example.com/jobs/inventory-sync' },
    });
    expect(JSON.parse(event.alert.annotations.custom_details!)).toMatchObject({ warehouse: 'WH-EU-2', affected_skus: 1284 });
    // Another routing key names another incident.
    expect(pagerDutyGroupKey('another-key', 'inventory-sync/wh-eu-2/stale-stock')).not.toBe(groupKey);
  });

  test('acknowledge and resolve name the same group as the trigger', () => {
    const t = ok(parsePagerDutyEvent(trigger(), ctx)) as Extract<PagerDutyEvent, { action: 'trigger' }>;
    for (const name of ['acknowledge', 'resolve'] as const) {
      const event = ok(parsePagerDutyEvent(fixture(`pagerduty/${name}.json`), ctx));
      expect(event).toEqual({
        action: name,
        dedupKey: 'inventory-sync/wh-eu-2/stale-stock',
        groupAction: { source: 'pagerduty', integration: 'pd', groupKey: t.alert.groupKey, action: name, at: now.toISOString() },
      });
    }
  });

  test('a trigger without dedup_key gets a generated one; follow-ups need one', () => {
    const body = trigger();
    delete body.dedup_key;
    const event = ok(parsePagerDutyEvent(body, ctx)) as Extract<PagerDutyEvent, { action: 'trigger' }>;
    expect(event.generated).toBe(true);
    expect(event.dedupKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(event.alert.groupKey).toBe(pagerDutyGroupKey(routingKey, event.dedupKey));
    const ack = clone(fixture('pagerduty/acknowledge.json'));
    delete ack.dedup_key;
    expect(issues(parsePagerDutyEvent(ack, ctx))).toEqual([{ path: 'dedup_key', message: 'is required for acknowledge' }]);
  });

  test('limits and enums, each named', () => {
    const at = (mutate: (b: Record<string, unknown>) => void) => {
      const body = trigger();
      mutate(body);
      return issues(parsePagerDutyEvent(body, ctx)).map((i) => i.path);
    };
    expect(at((b) => (b.dedup_key = 'k'.repeat(256)))).toEqual(['dedup_key']);
    expect(ok(parsePagerDutyEvent({ ...trigger(), dedup_key: 'k'.repeat(255) }, ctx)).dedupKey).toHaveLength(255);
    expect(at((b) => ((b.payload as Record<string, unknown>).summary = 's'.repeat(1025)))).toEqual(['payload.summary']);
    expect(at((b) => ((b.payload as Record<string, unknown>).severity = 'fatal'))).toEqual(['payload.severity']);
    expect(at((b) => (b.event_action = 'escalate'))).toEqual(['event_action']);
    expect(at((b) => delete b.payload)).toEqual(['payload']);
    expect(at((b) => delete (b.payload as Record<string, unknown>).source)).toEqual(['payload.source']);
    expect(at((b) => ((b.payload as Record<string, unknown>).timestamp = 'last tuesday'))).toEqual(['payload.timestamp']);
    expect(at((b) => (b.links = [{ text: 'no href' }]))).toEqual(['links.0.href']);
  });

  test("PagerDuty's own timestamp spelling (+0000) is accepted", () => {
    const body = trigger();
    (body.payload as Record<string, unknown>).timestamp = '2015-07-17T08:42:58.315+0000';
    const event = ok(parsePagerDutyEvent(body, ctx)) as Extract<PagerDutyEvent, { action: 'trigger' }>;
    expect(event.alert.startsAt).toBe('2015-07-17T08:42:58.315Z');
  });
});

describe('parseGeneric', () => {
  const now = new Date('2026-04-21T09:00:00.000Z');
  test('defaults: fingerprint from labels, one group per alert unless named, severity from the label', () => {
    const alerts = ok(
      parseGeneric(
        {
          alerts: [
            {
              status: 'firing',
              summary: 'Deploy smoke test failed',
              labels: { alertname: 'SmokeTest', service: 'checkout', severity: 'critical' },
            },
            {
              status: 'firing',
              summary: 'Second',
              labels: { alertname: 'SmokeTest', service: 'cart' },
              group: 'deploy-42',
              startsAt: '2026-04-21T08:59:00Z',
              severity: 'warning',
            },
            { status: 'resolved', summary: 'Third', labels: {}, fingerprint: 'abc', group: 'deploy-42', startsAt: '2026-04-21T08:58:00Z' },
          ],
        },
        { integration: 'ci', now },
      ),
    );
    const [a, b, c] = alerts as [AlertEvent, AlertEvent, AlertEvent];
    expect(a.fingerprint).toBe(alertmanagerFingerprint({ alertname: 'SmokeTest', service: 'checkout', severity: 'critical' }));
    expect(a.groupKey).toBe(genericGroupKey(a.fingerprint));
    expect(a.startsAt).toBe(now.toISOString());
    expect(a.senderSeverity).toBe('critical');
    expect(b.groupKey).toBe(genericGroupKey('deploy-42'));
    expect(c.groupKey).toBe(b.groupKey);
    expect(b.senderSeverity).toBe('warning');
    expect(c).toMatchObject({
      status: 'resolved',
      fingerprint: 'abc',
      startsAt: '2026-04-21T08:58:00.000Z',
      endsAt: now.toISOString(),
      source: 'generic',
      integration: 'ci',
    });
  });

  test('refusals name the field', () => {
    const paths = (body: unknown) => issues(parseGeneric(body, { integration: 'ci', now })).map((i) => i.path);
    expect(paths({})).toEqual(['alerts']);
    expect(paths({ alerts: [] })).toEqual(['alerts']);
    expect(paths({ alerts: [{ status: 'firing', labels: { a: 'b' } }] })).toEqual(['alerts.0.summary']);
    expect(paths({ alerts: [{ status: 'firing', summary: 'x', labels: {} }] })).toEqual(['alerts.0.labels']);
    expect(paths({ alerts: [{ status: 'burning', summary: 'x', labels: { a: 'b' } }] })).toEqual(['alerts.0.status']);
    expect(paths([1])).toEqual(['(body)']);
  });

  test('signature: X-Fireline-Signature v1 over "<timestamp>.<body>", 300 s either way', () => {
    const body = Buffer.from('{"alerts":[]}');
    const ts = 1776762000;
    const signature = signPayload('generic-secret-0123456789', ts, body);
    const check = (over: Partial<Parameters<typeof checkGenericSignature>[0]>) =>
      checkGenericSignature({ secret: 'generic-secret-0123456789', body, signature, timestamp: String(ts), now: ts * 1000, ...over });
    expect(check({})).toEqual({ ok: true });
    expect(check({ now: (ts + 300) * 1000 })).toEqual({ ok: true });
    expect(check({ now: (ts + 301) * 1000 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ now: (ts - 301) * 1000 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ body: Buffer.from('{"alerts":[1]}') })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ secret: 'another-secret-0123456789' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ signature: 'sha256=abc' })).toEqual({ ok: false, reason: 'malformed' });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('untrusted JSON', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  const refusal = (input: Uint8Array): string => {
    try {
      parseUntrustedJson(input);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  test('depth is measured without parsing, ignoring brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[{{{{"}]}')).toBe(3);
    expect(jsonDepth('"\\"[[["')).toBe(0);
    expect(jsonDepth('['.repeat(100_000))).toBe(65);
    expect(refusal(bytes('['.repeat(65) + ']'.repeat(65)))).toMatch(/64 levels/);
    expect(parseUntrustedJson(bytes('['.repeat(64) + ']'.repeat(64)))).toBeDefined();
  });

  test('prototype keys are refused wherever they are', () => {
    expect(refusal(bytes('{"__proto__":{"polluted":true}}'))).toMatch(/^__proto__: /);
    expect(refusal(bytes('{"alerts":[{"labels":{"constructor":{"prototype":{"polluted":1}}}}]}'))).toMatch(
      /^alerts\[0\]\.labels\.constructor/,
    );
    expect(refusal(bytes('{"a":{"prototype":1}}'))).toMatch(/a\.prototype/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('empty, not UTF-8, not JSON', () => {
    expect(refusal(Buffer.alloc(0))).toMatch(/empty/);
    expect(refusal(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toMatch(/UTF-8/);
    expect(refusal(bytes('{"a":'))).toMatch(/not valid JSON/);
    expect(refusal(bytes("{'a':1}"))).toMatch(/not valid JSON/);
  });
});
