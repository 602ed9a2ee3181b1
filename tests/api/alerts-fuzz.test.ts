// Fuzzing the four receivers over real HTTP on 127.0.0.1: random JSON trees, mutated fixtures, wrong types, huge
// strings, deep nesting, invalid UTF-8 and random headers. Only 2xx/4xx may come back, the server must stay up,
// and every alert that got through must be a well-formed AlertEvent. Reproduce with FUZZ_SEED=<seed>.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createApp } from '../../src/api/app';
import { ALERT_SOURCES } from '../../src/domain/alert';
import { parseIntegrations } from '../../src/ingest/integrations';
import { RecordingAlertSink } from '../support/recording-sink';
import { createLogger } from '../../src/logger';
import type { IncidentService } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import { signPayload } from '../../src/targets/sign';
import { listen, unlimitedGuessing } from '../support/api';
import { openTestStore, tempDir } from '../support/temporal';

const CASES_PER_RECEIVER = Number(process.env.FUZZ_CASES ?? 1000);
const CONCURRENCY = 16;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const FIXTURES = join(__dirname, '..', 'fixtures', 'reference');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

const ENV = {
  AM_TOKEN: 'fuzz-am-token-0123456789abcdef',
  GF_TOKEN: 'fuzz-gf-token-0123456789abcdef',
  GF_HMAC: 'fuzz-gf-hmac-0123456789abcdef',
  PD_KEY: 'a3f9c2e17b4d4e08b6c1d95e2f7a0b84',
  GENERIC: 'fuzz-generic-0123456789abcdef',
};
const INTEGRATIONS = `
integrations:
  am: { type: alertmanager, token: { env: AM_TOKEN } }
  gf: { type: grafana, token: { env: GF_TOKEN }, hmac: { env: GF_HMAC, timestampHeader: X-Grafana-Alerting-Timestamp } }
  pd: { type: pagerduty, routingKey: { env: PD_KEY } }
  ci: { type: generic, hmac: { env: GENERIC } }
`;

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

const NASTY_KEYS = [
  'alerts',
  'labels',
  'annotations',
  'status',
  'version',
  'groupKey',
  'fingerprint',
  'startsAt',
  'endsAt',
  'routing_key',
  'event_action',
  'dedup_key',
  'payload',
  'summary',
  'severity',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  '0',
  'length',
];
const NASTY_STRINGS = [
  '',
  ' ',
  '4',
  '1',
  'firing',
  'resolved',
  'trigger',
  'acknowledge',
  'resolve',
  'critical',
  '0001-01-01T00:00:00Z',
  '2026-04-21T08:14:07.512Z',
  '9999-12-31T23:59:59.999999999-23:59',
  '2026-02-30T00:00:00Z',
  'NaN',
  'null',
  '\u0000',
  '\ud800',
  '\udfff',
  '💥',
  '\u202e',
  'a'.repeat(300),
  '{{ .CommonLabels }}',
  '%s%n',
  '../../etc/passwd',
];

function randomString(r: Rng, max = 40): string {
  if (r.chance(0.4)) return r.pick(NASTY_STRINGS);
  const length = r.int(max);
  let text = '';
  for (let i = 0; i < length; i++) {
    const kind = r.int(10);
    if (kind < 6) text += String.fromCharCode(32 + r.int(95));
    else if (kind < 8) text += String.fromCharCode(r.int(0xd800));
    else if (kind < 9) text += String.fromCodePoint(0x10000 + r.int(0xfffff));
    else text += String.fromCharCode(0xd800 + r.int(0x800)); // lone surrogate
  }
  return text;
}

function randomNumber(r: Rng): number {
  return r.pick([0, -1, 1, 4, 0.5, -0.0, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 64, r.next() * 1e6, r.int(1000)]);
}

function randomJson(r: Rng, depth: number): unknown {
  const kind = depth <= 0 ? r.int(4) : r.int(7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return randomNumber(r);
    case 3:
      return randomString(r);
    case 4:
    case 5: {
      const object: Record<string, unknown> = {};
      const n = r.int(6);
      for (let i = 0; i < n; i++) {
        const key = r.chance(0.3) ? r.pick(NASTY_KEYS) : randomString(r, 12);
        // JSON.parse would create an own "__proto__" key; assigning one here would not, so define it.
        Object.defineProperty(object, key, { value: randomJson(r, depth - 1), enumerable: true, configurable: true, writable: true });
      }
      return object;
    }
    default:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth - 1));
  }
}

/** Replaces, deletes or retypes one random spot of a (cloned) fixture; often several times. */
function mutate(r: Rng, value: unknown): unknown {
  const root = structuredClone(value);
  const rounds = 1 + r.int(4);
  for (let round = 0; round < rounds; round++) {
    let parent: unknown = root;
    let key: string | number | undefined;
    // Walk down a random path.
    for (let depth = 0; depth < 6; depth++) {
      const current: unknown = key === undefined ? parent : (parent as Record<string | number, unknown>)[key];
      if (current === null || typeof current !== 'object') break;
      const keys: (string | number)[] = Array.isArray(current) ? current.map((_, i) => i) : Object.keys(current);
      if (keys.length === 0 || r.chance(0.25)) break;
      if (key !== undefined) parent = current;
      key = r.pick(keys);
    }
    if (key === undefined || parent === null || typeof parent !== 'object') continue;
    const target = parent as Record<string | number, unknown>;
    const action = r.int(6);
    if (action === 0) delete target[key];
    else if (action === 1) target[key] = randomJson(r, 2);
    else if (action === 2) target[key] = randomString(r, r.chance(0.1) ? 5000 : 40);
    else if (action === 3) target[key] = randomNumber(r);
    else if (action === 4 && Array.isArray(target[key])) (target[key] as unknown[]).push(...(target[key] as unknown[]));
    else target[key] = null;
  }
  return root;
}

interface Case {
  body: Buffer;
  headers: Record<string, string>;
  what: string;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'text/plain',
  'application/json; charset=latin1',
  'application/json;;;',
  'application/json; charset',
  '*/*',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'json',
];

function asciiJunk(r: Rng, max = 60): string {
  let text = '';
  const length = r.int(max);
  for (let i = 0; i < length; i++) text += String.fromCharCode(33 + r.int(94));
  return text;
}

function bodyBytes(r: Rng, base: unknown): { body: Buffer; what: string } {
  const style = r.int(100);
  if (style < 35) return { body: Buffer.from(JSON.stringify(mutate(r, base))), what: 'mutated fixture' };
  if (style < 45) return { body: Buffer.from(JSON.stringify(base)), what: 'fixture' };
  if (style < 65) return { body: Buffer.from(JSON.stringify(randomJson(r, 1 + r.int(6)))), what: 'random tree' };
  if (style < 72) {
    const depth = 30 + r.int(3000);
    const open = r.chance(0.5) ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    return { body: Buffer.from(open.repeat(depth) + '1' + close.repeat(r.chance(0.8) ? depth : r.int(depth))), what: `depth ${depth}` };
  }
  if (style < 80) {
    const text = Buffer.from(JSON.stringify(mutate(r, base)));
    for (let i = 0; i < 1 + r.int(5); i++) text[r.int(text.length)] = 0x80 + r.int(0x80);
    return { body: text, what: 'invalid utf-8' };
  }
  if (style < 85) {
    const size = r.chance(0.5) ? 100_000 + r.int(400_000) : 512 * 1024 + r.int(100_000);
    const grown = { ...(base as object), padding: 'x'.repeat(size) };
    return { body: Buffer.from(JSON.stringify(grown)), what: `huge ${size}` };
  }
  if (style < 90) {
    const text = JSON.stringify(base);
    return { body: Buffer.from(text.slice(0, r.int(text.length))), what: 'truncated' };
  }
  if (style < 95) return { body: Buffer.from(Array.from({ length: r.int(300) }, () => r.int(256))), what: 'random bytes' };
  return { body: Buffer.alloc(0), what: 'empty' };
}

type Receiver = 'alertmanager' | 'grafana' | 'pagerduty' | 'generic';
const PATHS: Record<Receiver, string> = {
  alertmanager: '/api/v1/alerts/alertmanager',
  grafana: '/api/v1/alerts/grafana',
  pagerduty: '/v2/enqueue',
  generic: '/api/v1/alerts/generic',
};

function makeCase(r: Rng, receiver: Receiver, bases: unknown[]): Case {
  const { body, what } = bodyBytes(r, r.pick(bases));
  const now = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': r.chance(0.85) ? 'application/json' : r.pick(CONTENT_TYPES) };
  const honest = r.chance(0.85);
  if (receiver === 'alertmanager')
    headers.authorization = honest ? `Bearer ${ENV.AM_TOKEN}` : r.pick([`Bearer ${asciiJunk(r)}`, `Basic ${asciiJunk(r)}`, asciiJunk(r)]);
  if (receiver === 'grafana') {
    const ts = honest ? now : r.pick([now - 1000, now + 1000, 0, 99999999999]);
    headers.authorization = honest ? `Bearer ${ENV.GF_TOKEN}` : `Bearer ${asciiJunk(r)}`;
    headers['x-grafana-alerting-timestamp'] = r.chance(0.9) ? String(ts) : asciiJunk(r, 12);
    const signature = createHmac('sha256', ENV.GF_HMAC).update(`${ts}:`).update(body).digest('hex');
    headers[r.pick(['x-grafana-alerting-signature', 'x-grafana-alert-signature'])] = honest ? signature : asciiJunk(r, 70);
  }
  if (receiver === 'generic') {
    const ts = honest ? now : r.pick([now - 301, now + 301, -1]);
    headers['x-fireline-timestamp'] = String(ts);
    headers['x-fireline-signature'] = honest ? signPayload(ENV.GENERIC, Math.max(ts, 0), body) : `v1=${asciiJunk(r, 64)}`;
  }
  // Random extra headers, some of them meaningful.
  for (let i = 0; i < r.int(3); i++) {
    const name = r.pick([
      'x-request-id',
      'content-encoding',
      'x-forwarded-for',
      'accept',
      'x-grafana-alert-signature',
      'x-fireline-timestamp',
      'x-custom',
    ]);
    headers[name] = name === 'content-encoding' ? r.pick(['gzip', 'br', 'identity', 'deflate', asciiJunk(r, 10)]) : asciiJunk(r);
  }
  return { body, headers, what };
}

const AlertEventShape = z.object({
  source: z.enum(ALERT_SOURCES),
  integration: z.string().min(1),
  groupKey: z.string().regex(/^[0-9a-f]{64}$/),
  fingerprint: z.string().min(1),
  status: z.enum(['firing', 'resolved']),
  startsAt: z.string().refine((s) => Number.isFinite(Date.parse(s))),
  endsAt: z
    .string()
    .refine((s) => Number.isFinite(Date.parse(s)))
    .nullable(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  summary: z.string().min(1).max(1024),
  senderSeverity: z.string().nullable(),
  generatorUrl: z.string().nullable(),
});

let url: string;
let close: () => Promise<void>;
let store: Store;
const sink = new RecordingAlertSink();

beforeAll(async () => {
  store = await openTestStore(tempDir());
  const loaded = parseIntegrations(INTEGRATIONS, 'integrations.yaml', ENV);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const server = await listen(
    createApp({
      logger: createLogger({ level: 'silent' }),
      store,
      authThrottle: unlimitedGuessing(store),
      incidents: {} as IncidentService,
      tokens: createTokenService({ store }),
      runbooks: { list: async () => [], get: async () => undefined },
      checkTemporal: async () => undefined,
      alertSink: sink,
      integrations: loaded.integrations,
    }),
  );
  url = server.url;
  close = server.close;
});
afterAll(async () => {
  await close?.();
  await store?.close();
});

test(`fuzz: ${CASES_PER_RECEIVER} hostile requests per receiver answer only 2xx/4xx (seed printed)`, async () => {
  process.stdout.write(`alerts-fuzz: seed ${SEED} (reproduce with FUZZ_SEED=${SEED})\n`);
  const r = prng(SEED);
  const bases: Record<Receiver, unknown[]> = {
    alertmanager: ['firing-order-db-down.json', 'resolved-order-db-down.json', 'partially-resolved-checkout-errors.json'].map((f) =>
      fixture(`alertmanager/${f}`),
    ),
    grafana: [fixture('grafana/firing-payment-latency.json')],
    pagerduty: ['trigger-inventory-sync.json', 'acknowledge.json', 'resolve.json'].map((f) => fixture(`pagerduty/${f}`)),
    generic: [
      {
        alerts: [
          {
            status: 'firing',
            summary: 'Smoke test failed',
            labels: { alertname: 'SmokeTest', service: 'checkout' },
            group: 'deploy',
            startsAt: '2026-04-21T09:00:00Z',
          },
        ],
      },
      { alerts: [{ status: 'resolved', summary: 'ok', labels: { a: 'b' }, annotations: { c: 'd' }, fingerprint: 'x', severity: 'info' }] },
    ],
  };
  const cases: { receiver: Receiver; c: Case }[] = [];
  for (const receiver of Object.keys(PATHS) as Receiver[]) {
    for (let i = 0; i < CASES_PER_RECEIVER; i++) cases.push({ receiver, c: makeCase(r, receiver, bases[receiver]) });
  }

  const started = Date.now();
  const counts: Record<string, number> = {};
  const failures: string[] = [];
  let index = 0;
  const worker = async () => {
    while (index < cases.length) {
      const n = index++;
      const { receiver, c } = cases[n]!;
      let status: number;
      try {
        const res = await fetch(url + PATHS[receiver], { method: 'POST', headers: c.headers, body: c.body });
        await res.arrayBuffer();
        status = res.status;
      } catch (error) {
        // The server may cut a connection after answering 413 to a body it will not read; the answer counts.
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        if (!/ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed/.test(String(cause)))
          failures.push(`case ${n} ${receiver} (${c.what}): client error ${cause}`);
        else counts[`${receiver} reset`] = (counts[`${receiver} reset`] ?? 0) + 1;
        continue;
      }
      counts[`${receiver} ${status}`] = (counts[`${receiver} ${status}`] ?? 0) + 1;
      if (status < 200 || status >= 500) failures.push(`case ${n} ${receiver} (${c.what}): HTTP ${status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = Date.now() - started;
  process.stdout.write(
    `alerts-fuzz: ${cases.length} requests in ${elapsed} ms; ${JSON.stringify(Object.fromEntries(Object.entries(counts).sort()))}\n`,
  );

  expect(failures.slice(0, 10)).toEqual([]);
  // Every receiver got past its checks sometimes: the fuzzing reached the parsers and the sink.
  for (const receiver of Object.keys(PATHS)) expect(counts[`${receiver} 202`] ?? 0).toBeGreaterThan(0);
  for (const alert of sink.allAlerts()) expect(AlertEventShape.safeParse(alert).error).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(Object.getOwnPropertyNames(Object.getPrototypeOf({})).sort());

  // Still alive and answering.
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
  const again = await fetch(url + PATHS.pagerduty, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fixture('pagerduty/trigger-inventory-sync.json')),
  });
  expect(again.status).toBe(202);
});
