// authenticate() without a server: which integration sent a request, when the body is read, and how refusals read.
import { authenticate } from '../../src/ingest/authenticate';
import type { IngestRequest } from '../../src/ingest/authenticate';
import { AuthenticationError, IngestError } from '../../src/ingest/errors';
import { grafanaSignature } from '../../src/ingest/grafana';
import { parseIntegrations } from '../../src/ingest/integrations';
import type { IntegrationType } from '../../src/ingest/integrations';
import { signPayload } from '../../src/targets/sign';

const NOW = new Date('2026-11-25T10:00:00Z');
const TS = Math.floor(NOW.getTime() / 1000);
const ENV = {
  AM_TOKEN: 'am-token-0123456789abcdef',
  GF_TOKEN: 'grafana-token-0123456789abcdef',
  GF_HMAC: 'grafana-hmac-0123456789abcdef',
  PD_KEY: 'a3f9c2e17b4d4e08b6c1d95e2f7a0b84',
  GENERIC_SECRET: 'generic-secret-0123456789abcdef',
};
const loaded = parseIntegrations(
  `
integrations:
  prometheus: { type: alertmanager, token: { env: AM_TOKEN } }
  grafana: { type: grafana, token: { env: GF_TOKEN }, hmac: { env: GF_HMAC, timestampHeader: X-Grafana-Alerting-Timestamp } }
  pagerduty: { type: pagerduty, routingKey: { env: PD_KEY } }
  ci: { type: generic, hmac: { env: GENERIC_SECRET } }
`,
  'integrations.yaml',
  ENV,
);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
const options = { integrations: loaded.integrations, now: () => NOW };

/** A request whose body is counted when read. */
function request(headers: Record<string, string>, body: string): IngestRequest & { reads: number } {
  const r = {
    headers,
    reads: 0,
    body: async () => {
      r.reads += 1;
      return Buffer.from(body);
    },
  };
  return r;
}

async function refusal(type: IntegrationType, r: IngestRequest): Promise<unknown> {
  return authenticate(type, r, options).then(
    () => undefined,
    (err: unknown) => err,
  );
}

test('a header credential picks the integration; a wrong one is refused before the body is read', async () => {
  const ok = request({ authorization: `Bearer ${ENV.AM_TOKEN}` }, '{"version":"4"}');
  expect(await authenticate('alertmanager', ok, options)).toMatchObject({ integration: { id: 'prometheus' }, payload: { version: '4' } });

  const wrong = request({ authorization: 'Bearer not-the-token-0123456789' }, '{}');
  const err = await refusal('alertmanager', wrong);
  expect(err).toBeInstanceOf(AuthenticationError);
  expect(err).toMatchObject({ code: 'unauthorized', integrationType: 'alertmanager', reason: 'credential' });
  expect(wrong.reads).toBe(0);
});

test('Grafana: token, then the timestamped HMAC over the raw bytes', async () => {
  const body = '{"version":"1"}';
  const headers = {
    authorization: `Bearer ${ENV.GF_TOKEN}`,
    'x-grafana-alert-signature': grafanaSignature(ENV.GF_HMAC, body, TS),
    'x-grafana-alerting-timestamp': String(TS),
  };
  expect(await authenticate('grafana', request(headers, body), options)).toMatchObject({ integration: { id: 'grafana' } });
  const tampered = request(headers, '{"version":"1" }');
  expect(await refusal('grafana', tampered)).toMatchObject({ reason: 'signature' });
  expect(tampered.reads).toBe(1);
});

test('generic: the Fireline signature; missing headers are refused unread', async () => {
  const body = '{"alerts":[]}';
  const signed = request({ 'x-fireline-timestamp': String(TS), 'x-fireline-signature': signPayload(ENV.GENERIC_SECRET, TS, body) }, body);
  expect(await authenticate('generic', signed, options)).toMatchObject({ integration: { id: 'ci' }, payload: { alerts: [] } });
  const unsigned = request({}, body);
  expect(await refusal('generic', unsigned)).toMatchObject({ reason: 'signature headers missing' });
  expect(unsigned.reads).toBe(0);
});

test('PagerDuty: the routing key in the body; a body without one is invalid, not unauthorized', async () => {
  const ok = request({}, JSON.stringify({ routing_key: ENV.PD_KEY, event_action: 'trigger' }));
  expect(await authenticate('pagerduty', ok, options)).toMatchObject({ integration: { id: 'pagerduty' } });
  expect(await refusal('pagerduty', request({}, JSON.stringify({ routing_key: 'unknown-key-0123456789abcdef' })))).toMatchObject({
    reason: 'routing key',
  });
  const missing = await refusal('pagerduty', request({}, '{"event_action":"trigger"}'));
  expect(missing).toBeInstanceOf(IngestError);
  expect(missing).not.toBeInstanceOf(AuthenticationError);
  expect(missing).toMatchObject({ code: 'invalid_request', message: 'routing_key: missing or not a non-empty string' });
});

test('every refusal reads the same to the sender', async () => {
  const messages = new Set(
    (
      await Promise.all([
        refusal('alertmanager', request({}, '{}')),
        refusal('grafana', request({ authorization: `Bearer ${ENV.GF_TOKEN}` }, '{}')),
        refusal('generic', request({ 'x-fireline-timestamp': String(TS), 'x-fireline-signature': 'v1=00' }, '{}')),
      ])
    ).map((e) => (e as Error).message),
  );
  expect(messages.size).toBe(1);
});
