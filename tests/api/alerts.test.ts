// The four receivers over real HTTP: the shared fixtures, credentials and signatures, PagerDuty's exact answers,
// limits (413 before the body is read whole, 415, depth, labels), prototype pollution, and 503 when the sink
// (Temporal) is down. The sink is an in-memory recorder: the lead's storm test covers the real one.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createApp } from '../../src/api/app';
import type { AlertEvent } from '../../src/domain/alert';
import { sha256Hex } from '../../src/ingest/keys';
import { parseIntegrations } from '../../src/ingest/integrations';
import { pagerDutyGroupKey } from '../../src/ingest/pagerduty';
import { RecordingAlertSink } from '../support/recording-sink';
import { createLogger } from '../../src/logger';
import { ServiceError } from '../../src/services/errors';
import type { IncidentService } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import { signPayload } from '../../src/targets/sign';
import { expectError, listen, unlimitedGuessing } from '../support/api';
import type { ErrorBody } from '../support/api';
import { openTestStore, tempDir } from '../support/temporal';

const FIXTURES = join(__dirname, '..', 'fixtures', 'reference');
const fixtureText = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const fixture = (name: string): Record<string, unknown> => JSON.parse(fixtureText(name)) as Record<string, unknown>;

const ROUTING_KEY = 'a3f9c2e17b4d4e08b6c1d95e2f7a0b84';
const ENV = {
  AM_TOKEN: 'am-token-0123456789abcdef',
  AM_PASSWORD: 'am-password-0123456789abcdef',
  GF_TOKEN: 'grafana-token-0123456789abcdef',
  GF_HMAC: 'grafana-hmac-0123456789abcdef',
  GF_HMAC_ONLY: 'grafana-secret',
  PD_KEY: ROUTING_KEY,
  PD_OTHER: 'other-routing-key-0123456789ab',
  GENERIC_SECRET: 'generic-secret-0123456789abcdef',
};
const INTEGRATIONS = `
integrations:
  prometheus:
    type: alertmanager
    token: { env: AM_TOKEN }
  prometheus-basic:
    type: alertmanager
    basic: { username: alertmanager, password: { env: AM_PASSWORD } }
  grafana:
    type: grafana
    token: { env: GF_TOKEN }
    hmac: { env: GF_HMAC, timestampHeader: X-Grafana-Alerting-Timestamp }
  grafana-hmac-only:
    type: grafana
    hmac: { env: GF_HMAC_ONLY }
  pagerduty:
    type: pagerduty
    routingKey: { env: PD_KEY }
  pagerduty-other:
    type: pagerduty
    routingKey: { env: PD_OTHER }
  ci:
    type: generic
    hmac: { env: GENERIC_SECRET }
`;

interface Res<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

let url: string;
let port: number;
let close: () => Promise<void>;
let store: Store;
const sink = new RecordingAlertSink();

beforeAll(async () => {
  store = await openTestStore(tempDir());
  const loaded = parseIntegrations(INTEGRATIONS, 'integrations.yaml', ENV);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const app = createApp({
    logger: createLogger({ level: process.env.FIRELINE_TEST_LOG_LEVEL ?? 'silent' }),
    store,
    authThrottle: unlimitedGuessing(store),
    // The receivers never reach the incident service; the incident routes are not under test here.
    incidents: {} as IncidentService,
    tokens: createTokenService({ store }),
    runbooks: { list: async () => [], get: async () => undefined },
    checkTemporal: async () => undefined,
    alertSink: sink,
    integrations: loaded.integrations,
  });
  const server = await listen(app);
  url = server.url;
  port = Number(new URL(url).port);
  close = server.close;
});
afterAll(async () => {
  await close?.();
  await store?.close();
});
beforeEach(() => sink.clear());

async function post<T = unknown>(
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Res<T>> {
  const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, text, body: (isJson && text ? JSON.parse(text) : undefined) as T };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
const am = (body: string | Buffer, headers: Record<string, string> = bearer(ENV.AM_TOKEN)) =>
  post('/api/v1/alerts/alertmanager', body, headers);

function grafanaHeaders(body: string, opts: { ts?: number; headerName?: string; secret?: string } = {}): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', opts.secret ?? ENV.GF_HMAC)
    .update(`${ts}:${body}`)
    .digest('hex');
  return {
    ...bearer(ENV.GF_TOKEN),
    [opts.headerName ?? 'X-Grafana-Alerting-Signature']: signature,
    'X-Grafana-Alerting-Timestamp': String(ts),
  };
}

function genericHeaders(body: string | Buffer, opts: { ts?: number; secret?: string } = {}): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return {
    'X-Fireline-Timestamp': String(ts),
    'X-Fireline-Signature': signPayload(opts.secret ?? ENV.GENERIC_SECRET, ts, Buffer.from(body)),
  };
}

interface Accepted {
  status: 'accepted';
  alerts: number;
  incidents: string[];
  silenced: number;
  truncatedAlerts?: number;
}

function expectAccepted(res: Res, alerts: number): Accepted {
  expect({ status: res.status, text: res.text }).toMatchObject({ status: 202 });
  const body = res.body as Accepted;
  expect(body).toMatchObject({ status: 'accepted', alerts });
  return body;
}

describe('Alertmanager', () => {
  test('every fixture is accepted; fingerprints and hashed group keys match the fixture README', async () => {
    const firing = await am(fixtureText('alertmanager/firing-order-db-down.json'));
    const body = expectAccepted(firing, 2);
    const orderDbHash = 'c97c070785076a7173785f93cfbe12f9b653dfcc0aa915ee1f178c2024f7bc0f';
    expect(body).toEqual({
      status: 'accepted',
      alerts: 2,
      incidents: [RecordingAlertSink.incidentOf('prometheus', orderDbHash)],
      silenced: 0,
    });
    expect(sink.allAlerts().map((a) => [a.integration, a.groupKey, a.fingerprint, a.status])).toEqual([
      ['prometheus', orderDbHash, '74110214098f1bc6', 'firing'],
      ['prometheus', orderDbHash, 'bdddaac19233e8a7', 'firing'],
    ]);
    expect(sink.accepted[0]?.requestId).toBe(firing.headers.get('x-request-id'));

    expectAccepted(await am(fixtureText('alertmanager/resolved-order-db-down.json')), 2);
    expect(
      sink
        .allAlerts()
        .slice(2)
        .map((a) => [a.groupKey, a.fingerprint, a.status, a.endsAt]),
    ).toEqual([
      [orderDbHash, '74110214098f1bc6', 'resolved', '2026-04-21T08:41:52.512Z'],
      [orderDbHash, 'bdddaac19233e8a7', 'resolved', '2026-04-21T08:42:07.512Z'],
    ]);

    expectAccepted(await am(fixtureText('alertmanager/partially-resolved-checkout-errors.json')), 3);
    expect(
      sink
        .allAlerts()
        .slice(4)
        .map((a) => [a.groupKey, a.fingerprint, a.status]),
    ).toEqual([
      ['9f805d6e96eae528c34238778707269dd017262d42cd9a4d040b95be08e154bc', '13290b5dd2317bea', 'firing'],
      ['9f805d6e96eae528c34238778707269dd017262d42cd9a4d040b95be08e154bc', '330a094b1c23f7b2', 'resolved'],
      ['9f805d6e96eae528c34238778707269dd017262d42cd9a4d040b95be08e154bc', '445f46d0d203c05c', 'firing'],
    ]);
  });

  test('HA duplicate deliveries (two peers, same body) hand the sink identical events', async () => {
    const text = fixtureText('alertmanager/firing-order-db-down.json');
    const [a, b] = await Promise.all([am(text), am(text)]);
    expectAccepted(a, 2);
    expectAccepted(b, 2);
    expect(sink.accepted).toHaveLength(2);
    expect(sink.accepted[0]?.alerts).toEqual(sink.accepted[1]?.alerts);
  });

  test('Basic auth, unknown fields, truncatedAlerts reported back', async () => {
    const body = fixture('alertmanager/firing-order-db-down.json');
    body.truncatedAlerts = 3;
    body.addedInV0_99 = { anything: [1, 'two'] };
    const res = await am(JSON.stringify(body), basic('alertmanager', ENV.AM_PASSWORD));
    expect(expectAccepted(res, 2).truncatedAlerts).toBe(3);
    expect(sink.allAlerts()[0]?.integration).toBe('prometheus-basic');
  });

  test('bad or missing credentials → opaque 401, nothing accepted', async () => {
    const text = fixtureText('alertmanager/firing-order-db-down.json');
    const attempts: Record<string, string>[] = [
      {},
      bearer('wrong'),
      bearer(ENV.GF_TOKEN),
      basic('alertmanager', 'wrong'),
      basic('someone', ENV.AM_PASSWORD),
      { authorization: ENV.AM_TOKEN },
      { authorization: `Token ${ENV.AM_TOKEN}` },
    ];
    const messages = new Set<string>();
    for (const headers of attempts) {
      const res = await am(text, headers);
      messages.add(expectError(res, 401, 'unauthorized').message);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(messages.size).toBe(1);
    expect(sink.accepted).toHaveLength(0);
  });

  test('a templated payload: body → 400 saying so; missing fields → 400 naming them', async () => {
    const templated = expectError(await am('{"text":"Orders DB down","channel":"#ops"}'), 400, 'invalid_request');
    expect(templated.message).toMatch(/^version: missing.*payload/);
    const body = fixture('alertmanager/firing-order-db-down.json');
    delete (body.alerts as Record<string, unknown>[])[1]!.labels;
    const missing = expectError(await am(JSON.stringify(body)), 400, 'invalid_request');
    expect(missing.message).toMatch(/^alerts\.1\.labels: /);
    expect(missing.details).toEqual({ issues: [{ path: 'alerts.1.labels', message: expect.any(String) }] });
  });
});

describe('Grafana', () => {
  const text = fixtureText('grafana/firing-payment-latency.json');

  test('the fixture with token + timestamped HMAC, under both header names, POST and PUT', async () => {
    for (const headerName of ['X-Grafana-Alerting-Signature', 'X-Grafana-Alert-Signature']) {
      expectAccepted(await post('/api/v1/alerts/grafana', text, grafanaHeaders(text, { headerName })), 2);
    }
    expectAccepted(await post('/api/v1/alerts/grafana', text, grafanaHeaders(text), 'PUT'), 2);
    const alerts = sink.allAlerts();
    expect(alerts.map((a) => a.fingerprint)).toEqual([
      'd7515c3723699063',
      '352d1eb9493fcb9f',
      'd7515c3723699063',
      '352d1eb9493fcb9f',
      'd7515c3723699063',
      '352d1eb9493fcb9f',
    ]);
    expect(new Set(alerts.map((a) => `${a.integration}/${a.groupKey}`))).toEqual(
      new Set([
        `grafana/${sha256Hex('{}/{__grafana_autogenerated__="true"}/{__grafana_receiver__="fireline-webhook"}:{alertname="PaymentLatencyHigh", grafana_folder="Payments"}')}`,
      ]),
    );
    expect(alerts[0]?.source).toBe('grafana');
  });

  test('signature failures → 401: wrong secret, tampered body, stale or future timestamp, missing header or timestamp', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, Record<string, string>][] = [
      ['wrong secret', text, grafanaHeaders(text, { secret: 'nope-nope-nope-nope' })],
      ['tampered body', text.replace('2.87s', '0.01s'), grafanaHeaders(text)],
      ['stale timestamp', text, grafanaHeaders(text, { ts: now - 400 })],
      ['future timestamp', text, grafanaHeaders(text, { ts: now + 400 })],
      ['no signature', text, { ...bearer(ENV.GF_TOKEN), 'X-Grafana-Alerting-Timestamp': String(now) }],
      ['no timestamp', text, (({ 'X-Grafana-Alerting-Timestamp': _ts, ...rest }) => rest)(grafanaHeaders(text))],
      ['no token', text, (({ authorization: _a, ...rest }) => rest)(grafanaHeaders(text))],
    ];
    for (const [what, body, headers] of cases) {
      const res = await post('/api/v1/alerts/grafana', body, headers);
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
    }
    expect(sink.accepted).toHaveLength(0);
  });

  test('an HMAC-only integration: the §2.1 vector authenticates (the body is then refused as no v1 message)', async () => {
    const vector = '{"status":"firing"}';
    const res = await post('/api/v1/alerts/grafana', vector, {
      'X-Grafana-Alert-Signature': 'bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97d',
    });
    expect(expectError(res, 400).message).toMatch(/^version: /);
    expectError(
      await post('/api/v1/alerts/grafana', vector, {
        'X-Grafana-Alert-Signature': 'bf139e3403a31e4b49defad120bc97d578b44bd35af83566821426b9bb7fc97e',
      }),
      401,
    );
    const signature = createHmac('sha256', ENV.GF_HMAC_ONLY).update(text).digest('hex');
    expectAccepted(await post('/api/v1/alerts/grafana', text, { 'X-Grafana-Alerting-Signature': signature }), 2);
    expect(sink.allAlerts()[0]?.integration).toBe('grafana-hmac-only');
  });

  test('legacy Grafana → 400 explaining it is not supported', async () => {
    const legacy = JSON.stringify({ ruleName: 'CPU', ruleId: 1, state: 'alerting', evalMatches: [] });
    const error = expectError(await post('/api/v1/alerts/grafana', legacy, grafanaHeaders(legacy)), 400);
    expect(error.message).toMatch(/legacy Grafana alerting.*not supported/);
  });
});

describe('PagerDuty Events API v2 (/v2/enqueue)', () => {
  const enqueue = (body: string, headers: Record<string, string> = {}) => post('/v2/enqueue', body, headers);
  const DEDUP = 'inventory-sync/wh-eu-2/stale-stock';

  test('trigger, acknowledge, resolve: 202 with the exact §3.3 body', async () => {
    const trigger = await enqueue(fixtureText('pagerduty/trigger-inventory-sync.json'));
    expect(trigger.status).toBe(202);
    expect(trigger.headers.get('content-type')).toMatch(/^application\/json/);
    expect(trigger.text).toBe(`{"status":"success","message":"Event processed","dedup_key":"${DEDUP}"}`);
    const [alert] = sink.allAlerts() as [AlertEvent];
    expect(alert).toMatchObject({
      source: 'pagerduty',
      integration: 'pagerduty',
      groupKey: pagerDutyGroupKey(ROUTING_KEY, DEDUP),
      senderSeverity: 'error',
      status: 'firing',
    });

    for (const name of ['acknowledge', 'resolve']) {
      const res = await enqueue(fixtureText(`pagerduty/${name}.json`));
      expect(res.status).toBe(202);
      expect(res.text).toBe(`{"status":"success","message":"Event processed","dedup_key":"${DEDUP}"}`);
    }
    expect(sink.actions.map((a) => [a.action.action, a.action.groupKey, a.action.integration])).toEqual([
      ['acknowledge', alert.groupKey, 'pagerduty'],
      ['resolve', alert.groupKey, 'pagerduty'],
    ]);
  });

  test('follow-ups on unknown keys are accepted and dropped; another routing key is another incident', async () => {
    const res = await enqueue(JSON.stringify({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'never-triggered' }));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'never-triggered' });
    const other = fixture('pagerduty/trigger-inventory-sync.json');
    other.routing_key = ENV.PD_OTHER;
    expect((await enqueue(JSON.stringify(other))).status).toBe(202);
    expect(sink.allAlerts()[0]).toMatchObject({ integration: 'pagerduty-other', groupKey: pagerDutyGroupKey(ENV.PD_OTHER, DEDUP) });
  });

  test('a trigger without dedup_key gets one generated and returned', async () => {
    const body = fixture('pagerduty/trigger-inventory-sync.json');
    delete body.dedup_key;
    const res = await enqueue(JSON.stringify(body));
    expect(res.status).toBe(202);
    const dedupKey = (res.body as { dedup_key: string }).dedup_key;
    expect(dedupKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(res.body as object)).toEqual(['status', 'message', 'dedup_key']);
    expect(sink.allAlerts()[0]?.groupKey).toBe(pagerDutyGroupKey(ROUTING_KEY, dedupKey));
  });

  test('invalid events: 400 with the exact §3.3 shape, naming the field', async () => {
    const base = fixture('pagerduty/trigger-inventory-sync.json');
    const cases: [string, unknown, RegExp][] = [
      ['dedup_key too long', { ...base, dedup_key: 'x'.repeat(256) }, /^dedup_key: /],
      ['unknown event_action', { ...base, event_action: 'snooze' }, /^event_action: /],
      ['missing payload', { ...base, payload: undefined }, /^payload: /],
      ['summary too long', { ...base, payload: { ...(base.payload as object), summary: 's'.repeat(1025) } }, /^payload\.summary: /],
      ['bad severity', { ...base, payload: { ...(base.payload as object), severity: 'sev1' } }, /^payload\.severity: /],
      ['missing routing_key', { ...base, routing_key: undefined }, /^routing_key: /],
      ['not an object', [base], /^\(body\): /],
      ['ack without dedup_key', { routing_key: ROUTING_KEY, event_action: 'acknowledge' }, /^dedup_key: /],
    ];
    for (const [what, body, error] of cases) {
      const res = await enqueue(JSON.stringify(body));
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      const parsed = res.body as { status: string; message: string; errors: string[] };
      expect(Object.keys(parsed)).toEqual(['status', 'message', 'errors']);
      expect(parsed.status).toBe('invalid event');
      expect(parsed.message).toBe('Event object is invalid');
      expect(parsed.errors[0]).toMatch(error);
    }
    const malformed = await enqueue('{"routing_key": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: [expect.stringMatching(/not valid JSON/)],
    });
    const wrongType = await enqueue(fixtureText('pagerduty/resolve.json'), { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: ['Content-Type must be application/json'],
    });
    expect(sink.accepted).toHaveLength(0);
    expect(sink.actions).toHaveLength(0);
  });

  test('an unknown routing key → 401', async () => {
    const body = fixture('pagerduty/trigger-inventory-sync.json');
    body.routing_key = 'b3f9c2e17b4d4e08b6c1d95e2f7a0b84';
    const res = await enqueue(JSON.stringify(body));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'unauthorized' });
    expect(sink.accepted).toHaveLength(0);
  });
});

describe('generic', () => {
  const body = JSON.stringify({
    alerts: [
      {
        status: 'firing',
        summary: 'Smoke test failed after deploy 42',
        labels: { alertname: 'SmokeTest', service: 'checkout', severity: 'critical' },
        group: 'deploy-42',
        startsAt: '2026-04-21T09:00:00Z',
      },
    ],
  });

  test('a signed request is accepted', async () => {
    const res = await post('/api/v1/alerts/generic', body, genericHeaders(body));
    expectAccepted(res, 1);
    expect(sink.allAlerts()[0]).toMatchObject({
      source: 'generic',
      integration: 'ci',
      summary: 'Smoke test failed after deploy 42',
      senderSeverity: 'critical',
      startsAt: '2026-04-21T09:00:00.000Z',
    });
  });

  test('signature failures → 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, Record<string, string>][] = [
      ['no headers', body, {}],
      ['wrong secret', body, genericHeaders(body, { secret: 'wrong-wrong-wrong-wrong' })],
      ['tampered', body.replace('42', '43'), genericHeaders(body)],
      ['stale', body, genericHeaders(body, { ts: now - 301 })],
      ['future', body, genericHeaders(body, { ts: now + 400 })],
      ['no timestamp', body, { 'X-Fireline-Signature': genericHeaders(body)['X-Fireline-Signature']! }],
      ['malformed signature', body, { ...genericHeaders(body), 'X-Fireline-Signature': 'v1=zz' }],
    ];
    for (const [what, b, headers] of cases) {
      const res = await post('/api/v1/alerts/generic', b, headers);
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
    }
    expect(sink.accepted).toHaveLength(0);
  });

  test('a missing field is named', async () => {
    const bad = JSON.stringify({ alerts: [{ status: 'firing', labels: { a: 'b' } }] });
    expect(expectError(await post('/api/v1/alerts/generic', bad, genericHeaders(bad)), 400).message).toMatch(/^alerts\.0\.summary: /);
  });
});

describe('the sink decides when to answer', () => {
  test('Temporal unreachable → 503 with Retry-After on every receiver, never 202', async () => {
    sink.failWith = new ServiceError('unavailable', 'Temporal is unreachable');
    const amRes = await am(fixtureText('alertmanager/firing-order-db-down.json'));
    expectError(amRes, 503, 'unavailable');
    expect(amRes.headers.get('retry-after')).toBe('5');
    const grafana = fixtureText('grafana/firing-payment-latency.json');
    expect((await post('/api/v1/alerts/grafana', grafana, grafanaHeaders(grafana))).status).toBe(503);
    const generic = JSON.stringify({ alerts: [{ status: 'firing', summary: 's', labels: { a: 'b' } }] });
    expect((await post('/api/v1/alerts/generic', generic, genericHeaders(generic))).status).toBe(503);
    for (const name of ['trigger-inventory-sync', 'acknowledge', 'resolve']) {
      const pd = await post('/v2/enqueue', fixtureText(`pagerduty/${name}.json`));
      expect(pd.status).toBe(503);
      expect(pd.headers.get('retry-after')).toBe('5');
      expect(pd.body).toMatchObject({ status: 'unavailable' });
    }
  });

  test('silenced alerts are reported back', async () => {
    sink.silence = (alert) => alert.labels.instance?.startsWith('orders-db-0') ?? false;
    const res = await am(fixtureText('alertmanager/firing-order-db-down.json'));
    expect(expectAccepted(res, 2).silenced).toBe(1);
  });
});

describe('limits and hostile input', () => {
  test('wrong content type → 415; non-UTF-8 charset → 415', async () => {
    const text = fixtureText('alertmanager/firing-order-db-down.json');
    expectError(await am(text, { ...bearer(ENV.AM_TOKEN), 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await am(text, { ...bearer(ENV.AM_TOKEN), 'content-type': 'application/x-www-form-urlencoded' }), 415);
    expectError(await am(text, { ...bearer(ENV.AM_TOKEN), 'content-type': 'application/json; charset=utf-16' }), 415);
    expectAccepted(await am(text, { ...bearer(ENV.AM_TOKEN), 'content-type': 'application/json; charset=UTF-8' }), 2);
    const gzip = await am(text, { ...bearer(ENV.AM_TOKEN), 'content-encoding': 'gzip' });
    expectError(gzip, 415);
  });

  test('malformed JSON → 400 naming the problem; empty body, invalid UTF-8, too deep → 400', async () => {
    expect(expectError(await am('{"receiver": "x",'), 400, 'invalid_json').message).toMatch(/not valid JSON/);
    expect(expectError(await am(''), 400, 'invalid_json').message).toMatch(/empty/);
    expect(expectError(await am(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])), 400, 'invalid_json').message).toMatch(
      /UTF-8/,
    );
    expect(expectError(await am('['.repeat(100) + ']'.repeat(100)), 400, 'invalid_json').message).toMatch(/64 levels/);
  });

  test('more than 1000 labels on an alert → 400', async () => {
    const body = fixture('alertmanager/firing-order-db-down.json');
    const labels: Record<string, string> = {};
    for (let i = 0; i < 1200; i++) labels[`label_${i}`] = String(i);
    (body.alerts as Record<string, unknown>[])[0]!.labels = labels;
    expect(expectError(await am(JSON.stringify(body)), 400).message).toMatch(/alerts\.0\.labels: at most 1000/);
  });

  test('prototype pollution attempts are refused and pollute nothing', async () => {
    const base = fixtureText('alertmanager/firing-order-db-down.json');
    const attacks = [
      '{"__proto__": {"polluted": "yes"}, "version": "4"}',
      base.replace('"alertname": "OrderDBDown",', '"__proto__": {"polluted": "yes"}, "alertname": "OrderDBDown",'),
      base.replace('"receiver": "fireline-commerce",', '"receiver": "x", "constructor": {"prototype": {"polluted": "yes"}},'),
      base.replace('"commonLabels": {', '"commonLabels": {"prototype": "x", '),
    ];
    for (const attack of attacks) {
      const error = expectError(await am(attack), 400, 'invalid_json');
      expect(error.message).toMatch(/__proto__|constructor|prototype/);
      const pd = await post('/v2/enqueue', attack.replace('{', `{"routing_key": "${ROUTING_KEY}", `));
      expect(pd.status).toBe(400);
      const generic = attack;
      expect((await post('/api/v1/alerts/generic', generic, genericHeaders(generic))).status).toBe(400);
      const grafana = attack;
      expect((await post('/api/v1/alerts/grafana', grafana, grafanaHeaders(grafana))).status).toBe(400);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(sink.accepted).toHaveLength(0);
  });

  test('a body over 512 KB with a normal client → 413', async () => {
    const big = JSON.stringify({ ...fixture('alertmanager/firing-order-db-down.json'), padding: 'x'.repeat(600 * 1024) });
    const error = expectError(await am(big), 413, 'payload_too_large');
    expect(error.message).toMatch(/512 KB/);
    const pd = await post('/v2/enqueue', JSON.stringify({ routing_key: ROUTING_KEY, padding: 'x'.repeat(600 * 1024) }));
    expect(pd.status).toBe(413);
    expect(pd.body).toMatchObject({ status: 'invalid event' });
    // Just under the limit is read (and then judged on its content).
    const under = JSON.stringify({ ...fixture('alertmanager/firing-order-db-down.json'), padding: 'x'.repeat(500 * 1024) });
    expectAccepted(await am(under), 2);
  });

  /**
   * Raw HTTP over a socket, so the test controls how much of the body is ever sent: the answer must arrive while
   * the body is still incomplete, which proves the server did not wait to read it whole.
   */
  function rawRequest(head: string, sendBody: (socket: net.Socket) => Promise<void>): Promise<{ statusLine: string; text: string }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve({ statusLine: received.split('\r\n')[0] ?? '', text: received });
      };
      socket.on('data', (chunk) => {
        received += chunk.toString('utf8');
        const end = received.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(received)?.[1];
        if (end !== -1 && length !== undefined && received.length >= end + 4 + Number(length)) finish();
      });
      socket.on('close', finish);
      socket.on('error', (err) => (done ? undefined : received ? finish() : reject(err)));
      socket.write(head);
      sendBody(socket).catch(() => undefined);
    });
  }

  const writeAll = (socket: net.Socket, data: Buffer | string) =>
    new Promise<void>((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));

  const heads = (path: string, extra: string) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${ENV.AM_TOKEN}\r\n${extra}\r\n`;

  test('413 from Content-Length alone, before the body is sent', async () => {
    for (const path of ['/api/v1/alerts/alertmanager', '/v2/enqueue']) {
      const res = await rawRequest(heads(path, 'Content-Length: 10485760\r\n'), async (socket) => {
        await writeAll(socket, '{"version": "4", "alerts": [');
      });
      expect(res.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    }
  });

  test('413 for a chunked body as soon as it passes 512 KB, with the body never finished', async () => {
    for (const path of ['/api/v1/alerts/alertmanager', '/v2/enqueue']) {
      let sent = 0;
      const res = await rawRequest(heads(path, 'Transfer-Encoding: chunked\r\n'), async (socket) => {
        const chunk = Buffer.alloc(32 * 1024, 0x20);
        // 520 KB, then stop: no terminating chunk, so a server that waits for the end never answers.
        for (let i = 0; i < 17 && !socket.destroyed; i++) {
          await writeAll(socket, `${chunk.length.toString(16)}\r\n`);
          await writeAll(socket, chunk);
          await writeAll(socket, '\r\n');
          sent += chunk.length;
        }
      });
      expect(res.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
      expect(sent).toBeLessThanOrEqual(17 * 32 * 1024);
      expect(res.text).toMatch(/payload_too_large|Request too large/);
    }
    expect(sink.accepted).toHaveLength(0);
  });

  test('a wrong credential is refused before a huge body is read', async () => {
    const res = await rawRequest(
      heads('/api/v1/alerts/alertmanager', 'Content-Length: 10485760\r\n').replace(ENV.AM_TOKEN, 'wrong'),
      async (socket) => {
        await writeAll(socket, '{');
      },
    );
    expect(res.statusLine).toBe('HTTP/1.1 401 Unauthorized');
  });

  test('error bodies never echo credentials', async () => {
    const res = await am('{"receiver":', bearer(ENV.AM_TOKEN));
    expect(res.text).not.toContain(ENV.AM_TOKEN);
    const pd = await post('/v2/enqueue', JSON.stringify({ routing_key: 'secret-looking-key-1234567890', event_action: 'trigger' }));
    expect(pd.text).not.toContain('secret-looking-key');
    expect((res.body as ErrorBody).error.code).toBe('invalid_json');
  });
});
