// Guessing is slow, over real HTTP from several loopback addresses (127.0.0.x are all this machine): 1,000 wrong
// tokens from one address get 429s after the limit, the right token from another address still works, the
// receivers keep taking alerts for other integrations, and a throttled answer says nothing about the guess.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { createApp } from '../../src/api/app';
import type { AppDeps } from '../../src/api/app';
import { parseIntegrations } from '../../src/ingest/integrations';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { Metrics } from '../../src/observability/metrics';
import { DEFAULT_AUTH_THROTTLE } from '../../src/services/auth-throttle';
import { cliActionContext } from '../../src/services/audit';
import type { IncidentService } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import { listen } from '../support/api';
import { RecordingAlertSink } from '../support/recording-sink';
import { openTestStore } from '../support/temporal';

const ENV = { AM_TOKEN: 'am-token-0123456789abcdef', OTHER_TOKEN: 'other-token-0123456789abcdef' };
const INTEGRATIONS = `
integrations:
  prometheus:
    type: alertmanager
    token: { env: AM_TOKEN }
  other:
    type: alertmanager
    token: { env: OTHER_TOKEN }
`;
const ALERT = readFileSync(join(__dirname, '..', 'fixtures', 'reference', 'alertmanager', 'firing-order-db-down.json'), 'utf8');

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

let store: Store;
let admin: string;
let metrics: Metrics;
const sink = new RecordingAlertSink();
const servers: { close(): Promise<void> }[] = [];

/** One request from `from` (a loopback address), on a fresh connection so the source address is that one. */
function request(
  base: string,
  from: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function start(extra: Partial<AppDeps> = {}): Promise<string> {
  const loaded = parseIntegrations(INTEGRATIONS, 'integrations.yaml', ENV);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  metrics = createMetrics();
  const server = await listen(
    createApp({
      logger: createLogger({ level: process.env.FIRELINE_TEST_LOG_LEVEL ?? 'silent' }),
      store,
      incidents: {} as IncidentService,
      tokens: createTokenService({ store }),
      runbooks: { list: async () => [], get: async () => undefined },
      checkTemporal: async () => undefined,
      alertSink: sink,
      integrations: loaded.integrations,
      telemetry: metrics,
      ...extra,
    }),
  );
  servers.push(server);
  return server.url;
}

const counter = async (name: 'authFailures' | 'authThrottled', door: string) =>
  (await metrics[name].get()).values.find((v) => v.labels.door === door)?.value ?? 0;

beforeEach(async () => {
  store = await openTestStore();
  admin = (await createTokenService({ store }).create('admin', 'admin', cliActionContext('tests', 'token create'))).token;
  sink.clear();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await store.close();
});

test('1,000 wrong tokens from one address: 401 up to the limit, then 429; other addresses and receivers unaffected', async () => {
  const base = await start();
  const { limit } = DEFAULT_AUTH_THROTTLE;
  const statuses: number[] = [];
  let alertsAccepted = 0;
  for (let i = 0; i < 1000; i++) {
    const res = await request(base, '127.0.0.2', 'GET', '/api/v1/runbooks', { authorization: `Bearer wrong-${i}-0123456789abcdefghij` });
    statuses.push(res.status);
    if (res.status === 429) {
      const wait = Number(res.headers['retry-after']);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(DEFAULT_AUTH_THROTTLE.windowMs / 1000);
    }
    // Meanwhile another integration's Alertmanager, at another address, delivers as usual.
    if (i % 100 === 50) {
      const alert = await request(
        base,
        '127.0.0.3',
        'POST',
        '/api/v1/alerts/alertmanager',
        { authorization: `Bearer ${ENV.OTHER_TOKEN}`, 'content-type': 'application/json' },
        ALERT,
      );
      expect(alert.status).toBe(202);
      alertsAccepted++;
    }
  }
  expect(statuses.slice(0, limit).every((s) => s === 401)).toBe(true);
  expect(statuses.slice(limit).every((s) => s === 429)).toBe(true);
  expect(alertsAccepted).toBe(10);
  expect(await counter('authFailures', 'bearer')).toBe(limit);
  expect(await counter('authThrottled', 'bearer')).toBe(1000 - limit);

  // A throttled address learns nothing: the right token gets the very same answer as a wrong one.
  const right = await request(base, '127.0.0.2', 'GET', '/api/v1/runbooks', { authorization: `Bearer ${admin}` });
  const wrong = await request(base, '127.0.0.2', 'GET', '/api/v1/runbooks', { authorization: 'Bearer wrong-again-0123456789abcdefghij' });
  expect(right.status).toBe(429);
  expect(JSON.parse(right.text).error.code).toBe('too_many_attempts');
  expect(right.text.replace(/\d+/g, 'N')).toBe(wrong.text.replace(/\d+/g, 'N'));
  // The right token from another address works.
  expect((await request(base, '127.0.0.1', 'GET', '/api/v1/runbooks', { authorization: `Bearer ${admin}` })).status).toBe(200);
  // The same address at another door (its Alertmanager behind the same NAT) still delivers.
  const sameAddress = await request(
    base,
    '127.0.0.2',
    'POST',
    '/api/v1/alerts/alertmanager',
    { authorization: `Bearer ${ENV.AM_TOKEN}`, 'content-type': 'application/json' },
    ALERT,
  );
  expect(sameAddress.status).toBe(202);
});

test('wrong integration credentials and session sign-ins are throttled at their own doors', async () => {
  const base = await start();
  const { limit } = DEFAULT_AUTH_THROTTLE;
  const am = (from: string, token: string) =>
    request(
      base,
      from,
      'POST',
      '/api/v1/alerts/alertmanager',
      { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ALERT,
    );
  for (let i = 0; i < limit; i++) expect((await am('127.0.0.4', `guess-${i}-0123456789abcdef`)).status).toBe(401);
  expect((await am('127.0.0.4', ENV.AM_TOKEN)).status).toBe(429);
  expect((await am('127.0.0.5', ENV.AM_TOKEN)).status).toBe(202);

  const signIn = (from: string, token: string) =>
    request(base, from, 'POST', '/api/v1/session', { 'content-type': 'application/json' }, JSON.stringify({ token }));
  for (let i = 0; i < limit; i++) expect((await signIn('127.0.0.6', `guess-${i}-0123456789abcdefghij`)).status).toBe(401);
  expect((await signIn('127.0.0.6', admin)).status).toBe(429);
  expect((await signIn('127.0.0.7', admin)).status).toBe(201);
  expect(await counter('authFailures', 'integration')).toBe(limit);
  expect(await counter('authFailures', 'session')).toBe(limit);
});

test('requests that present no credential are refused but not counted as guesses', async () => {
  const base = await start();
  for (let i = 0; i < DEFAULT_AUTH_THROTTLE.limit * 2; i++) {
    expect((await request(base, '127.0.0.8', 'GET', '/api/v1/runbooks', {})).status).toBe(401);
  }
  expect((await request(base, '127.0.0.8', 'GET', '/api/v1/runbooks', { authorization: `Bearer ${admin}` })).status).toBe(200);
});

test('X-Forwarded-For names the client only behind a trusted proxy', async () => {
  const { limit } = DEFAULT_AUTH_THROTTLE;
  const guess = (base: string, forwarded: string) =>
    request(base, '127.0.0.1', 'GET', '/api/v1/runbooks', {
      authorization: 'Bearer wrong-0123456789abcdefghijkl',
      'x-forwarded-for': forwarded,
    });
  // Not trusted: a guesser cannot pick a fresh address per request.
  const direct = await start();
  for (let i = 0; i < limit; i++) expect((await guess(direct, `198.51.100.${i}`)).status).toBe(401);
  expect((await guess(direct, '198.51.100.250')).status).toBe(429);
  // Behind a trusted loopback proxy, each forwarded client counts on its own.
  const proxied = await start({ trustProxy: ['loopback'] });
  for (let i = 0; i < limit; i++) expect((await guess(proxied, '203.0.113.7')).status).toBe(401);
  expect((await guess(proxied, '203.0.113.7')).status).toBe(429);
  expect((await guess(proxied, '203.0.113.8')).status).toBe(401);
});

test('a JSON body that is not UTF-8 is refused with 400 and nothing is stored', async () => {
  const base = await start();
  const body = Buffer.concat([
    Buffer.from('{"matchers":[{"name":"service","value":"'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('"}]}'),
  ]);
  const res = await request(
    base,
    '127.0.0.1',
    'POST',
    '/api/v1/silences',
    { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body,
  );
  expect(res.status).toBe(400);
  expect(JSON.parse(res.text).error).toEqual({ code: 'invalid_encoding', message: 'the request body is not valid UTF-8' });
  const listed = await request(base, '127.0.0.1', 'GET', '/api/v1/silences', { authorization: `Bearer ${admin}` });
  expect(listed.status).toBe(200);
  expect(JSON.parse(listed.text)).toEqual({ silences: [] });
});
