import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { type ActionRequest, createActionActivities } from '../../activities/actions';
import { parseRetryAfter } from '../../activities/shared/http';
import type { TemplateContext } from '../../activities/template';
import type { ActionSpec } from '../../src/domain/runbook';
import { EMPTY_TARGETS, type Targets } from '../../src/domain/targets';
import { verifySignature } from '../../src/targets/sign';

const context: TemplateContext = {
  incident: {
    id: 'inc-42',
    title: 'Orders failing',
    service: 'orders',
    severity: 'SEV1',
    summary: null,
    drill: false,
    trigger: { kind: 'manual', by: { id: 'u1', name: 'Ada', role: 'commander' } },
    declaredAt: '2024-01-01T00:00:00.000Z',
  },
  decisions: { strategy: 'failover' },
  params: { region: 'eu-west-1' },
};

const HMAC_SECRET = 'whsec-failover-0123456789';
const API_TOKEN = 'api-token-abcdef-987654';

function request(action: ActionSpec, extra: Partial<ActionRequest> = {}): ActionRequest {
  return { idempotencyKey: 'inc-42:failover', incidentId: 'inc-42', stepId: 'failover', action, context, drill: false, ...extra };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the action to throw');
}

// --- A receiver that records what it got -----------------------------------------------------------------

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let server: http.Server;
let base: string;
let closedPort: number;

function listen(s: net.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path.startsWith('/ok')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"failover started"}');
      else if (path === '/echo-auth') res.writeHead(202).end(`got ${req.headers.authorization ?? ''}`);
      else if (path === '/fail') res.writeHead(500).end('database platform exploded');
      else if (path === '/bad') res.writeHead(400).end('{"error":"unknown cluster"}');
      else if (path === '/busy') res.writeHead(429, { 'retry-after': '7' }).end('slow down');
      else if (path === '/busy-no-header') res.writeHead(429).end();
      else if (path === '/redirect') res.writeHead(302, { location: 'http://example.invalid/' }).end();
      else if (path === '/silent')
        return; // never answers
      else res.writeHead(404).end();
    });
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  const probe = net.createServer();
  closedPort = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
});

const targets: Targets = {
  ...EMPTY_TARGETS,
  secrets: { 'failover-hmac': { env: 'FAILOVER_HMAC_SECRET' }, 'payments-hmac': { env: 'PAYMENTS_HMAC_SECRET' } },
  commands: {
    echo: { argv: ['/bin/echo', 'incident', '${incident.id}', 'chose', '${decision.strategy}'], timeout: 5000, description: 'echo' },
    staged: {
      argv: ['/bin/echo', 'production'],
      timeout: 5000,
      drill: { argv: ['/bin/echo', 'staging', '${params.region}'], timeout: 5000 },
    },
    fails: {
      argv: ['/bin/sh', '-c', 'echo "step one" >&2; echo "cannot reach ${incident.service}" >&2; exit 3'],
      timeout: 5000,
    },
    sleeps: { argv: ['/bin/sleep', '5'], timeout: 200 },
    env: { argv: ['/usr/bin/env'], timeout: 5000 },
    chatty: { argv: ['/bin/sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" a'], timeout: 5000 },
    missing: { argv: ['/nonexistent/fireline-tool'], timeout: 5000 },
  },
};

const env = { FAILOVER_HMAC_SECRET: HMAC_SECRET, API_TOKEN, PATH: process.env.PATH, FIRELINE_MARKER: 'from-deps' };
// `base` is known only once the server listens, so the activities are made per test.
const activities = () => createActionActivities({ targets, env: { ...env, FAILOVER_URL: base } });

describe('runAction: http', () => {
  test('method, URL, headers and JSON body are templated; the request is signed and idempotent', async () => {
    const action: ActionSpec = {
      http: {
        method: 'PUT',
        url: '${FAILOVER_URL}/ok/${incident.id}?region=${params.region}',
        headers: { 'X-Reason': 'commander chose ${decision.strategy}', Authorization: 'Bearer ${API_TOKEN}', 'Idempotency-Key': 'spoofed' },
        body: {
          incident: '${incident.id}',
          severity: '${incident.severity}',
          target: { service: '${incident.service}', tags: ['${params.region}', 3, true, null], token: '${API_TOKEN}' },
        },
        secret: 'failover-hmac',
      },
    };
    const result = await activities().runAction(request(action));

    expect(result).toMatchObject({ ok: true, code: 200, detail: `HTTP 200 from PUT ${base}/ok/inc-42: {"status":"failover started"}` });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    const got = received[0] as Received;
    expect(got.method).toBe('PUT');
    expect(got.url).toBe('/ok/inc-42?region=eu-west-1');
    expect(got.headers).toMatchObject({
      'idempotency-key': 'inc-42:failover',
      'content-type': 'application/json',
      'user-agent': 'Fireline',
      'x-reason': 'commander chose failover',
      authorization: `Bearer ${API_TOKEN}`,
    });
    expect(got.headers['x-fireline-drill']).toBeUndefined();
    expect(JSON.parse(got.body)).toEqual({
      incident: 'inc-42',
      severity: 'SEV1',
      target: { service: 'orders', tags: ['eu-west-1', 3, true, null], token: API_TOKEN },
    });

    const timestamp = got.headers['x-fireline-timestamp'] as string;
    const signature = got.headers['x-fireline-signature'] as string;
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(10);
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifySignature({ secret: HMAC_SECRET, header: signature, timestamp, body: got.body })).toBe(true);
    expect(verifySignature({ secret: 'another-secret', header: signature, timestamp, body: got.body })).toBe(false);
  });

  test('without a secret there is no signature; drills are marked', async () => {
    await activities().runAction(request({ http: { method: 'POST', url: `${base}/ok` } }, { drill: true }));
    const got = received[0] as Received;
    expect(got.headers['x-fireline-signature']).toBeUndefined();
    expect(got.headers['x-fireline-timestamp']).toBeUndefined();
    expect(got.headers['x-fireline-drill']).toBe('true');
    expect(got.body).toBe('');
  });

  test('secrets from the environment never appear in the detail, even when echoed back', async () => {
    const result = await activities().runAction(
      request({ http: { method: 'POST', url: `${base}/echo-auth`, headers: { Authorization: 'Bearer ${API_TOKEN}' } } }),
    );
    expect(result).toMatchObject({ ok: true, code: 202 });
    expect(result.detail).toBe(`HTTP 202 from POST ${base}/echo-auth: got ***`);
    expect(result.detail).not.toContain(API_TOKEN);
  });

  test('500 is a retryable failure', async () => {
    const failure = await failureOf(activities().runAction(request({ http: { method: 'POST', url: '${FAILOVER_URL}/fail' } })));
    expect(failure).toMatchObject({ nonRetryable: false, type: 'FirelineActionHttpRetryable' });
    expect(failure.message).toBe(`HTTP 500 from POST ${base}/fail: database platform exploded`);
  });

  test('400 is a non-retryable failure with the status', async () => {
    const failure = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `${base}/bad` } })));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineActionHttpRejected' });
    expect(failure.message).toContain('HTTP 400');
    expect(failure.message).toContain('unknown cluster');
  });

  test('429 honours Retry-After through nextRetryDelay', async () => {
    const failure = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `${base}/busy` } })));
    expect(failure).toMatchObject({ nonRetryable: false, nextRetryDelay: 7000 });
    expect(failure.message).toContain('HTTP 429');
    const plain = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `${base}/busy-no-header` } })));
    expect(plain.nonRetryable).toBe(false);
    expect(plain.nextRetryDelay).toBeUndefined();
  });

  test('Retry-After: seconds, HTTP dates, caps and garbage', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(15 * 60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  test('redirects are not followed: another 3xx/4xx is non-retryable', async () => {
    const failure = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `${base}/redirect` } })));
    expect(failure).toMatchObject({ nonRetryable: true });
    expect(failure.message).toContain('HTTP 302');
    expect(received).toHaveLength(1);
  });

  test('network errors and timeouts are retryable', async () => {
    const refused = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `http://127.0.0.1:${closedPort}/x` } })));
    expect(refused).toMatchObject({ nonRetryable: false, type: 'FirelineActionNetworkError' });
    expect(refused.message).toContain('connection refused (ECONNREFUSED)');
    const slow = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `${base}/silent` } }, { timeoutMs: 300 })));
    expect(slow).toMatchObject({ nonRetryable: false, type: 'FirelineActionNetworkError' });
    expect(slow.message).toBe(`POST ${base}/silent no answer within 300ms`);
  });

  test('an unknown secret, or one whose variable is unset, is non-retryable', async () => {
    const unknown = await failureOf(activities().runAction(request({ http: { method: 'POST', url: `${base}/ok`, secret: 'nope' } })));
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
    expect(unknown.message).toContain('secret "nope" is not in config/targets.yaml');
    const unset = await failureOf(
      activities().runAction(request({ http: { method: 'POST', url: `${base}/ok`, secret: 'payments-hmac' } })),
    );
    expect(unset).toMatchObject({ nonRetryable: true, type: 'FirelineMissingEnv' });
    expect(unset.message).toContain('PAYMENTS_HMAC_SECRET');
    expect(received).toHaveLength(0);
  });

  test('an unset variable in the URL is non-retryable and names it', async () => {
    const failure = await failureOf(activities().runAction(request({ http: { method: 'POST', url: '${PAYMENTS_URL}/pause' } })));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineMissingEnv' });
    expect(failure.message).toContain('PAYMENTS_URL');
  });
});

describe('runAction: command', () => {
  test('argv is rendered and run without a shell', async () => {
    const result = await activities().runAction(request({ command: 'echo' }));
    expect(result).toMatchObject({ ok: true, code: 0, detail: 'command "echo" exited 0: incident inc-42 chose failover' });
  });

  test('drills run the drill variant', async () => {
    const real = await activities().runAction(request({ command: 'staged' }));
    expect(real.detail).toBe('command "staged" exited 0: production');
    const drill = await activities().runAction(request({ command: 'staged' }, { drill: true }));
    expect(drill.detail).toBe('command "staged" (drill) exited 0: staging eu-west-1');
  });

  test('a non-zero exit is non-retryable, with the code and the last lines of stderr', async () => {
    const failure = await failureOf(activities().runAction(request({ command: 'fails' })));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineCommandFailed' });
    expect(failure.message).toBe('command "fails" exited with 3: step one\ncannot reach orders');
    expect(failure.details?.[0]).toMatchObject({ code: 3 });
  });

  test('a command over its timeout is stopped and fails', async () => {
    const failure = await failureOf(activities().runAction(request({ command: 'sleeps' })));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineCommandTimeout' });
    expect(failure.message).toContain('timed out after 200ms');
  });

  test("the command gets Fireline's environment, and configured secrets are masked in its output", async () => {
    const result = await activities().runAction(request({ command: 'env' }));
    expect(result.detail).toContain('FIRELINE_MARKER=from-deps');
    expect(result.detail).toContain('FAILOVER_HMAC_SECRET=***');
    expect(result.detail).not.toContain(HMAC_SECRET);
    // Only deps.env: nothing from the test process that deps did not pass on.
    expect(result.detail).not.toContain('JEST_WORKER_ID');
  });

  test('output is cut to 2 KB in the detail', async () => {
    const result = await activities().runAction(request({ command: 'chatty' }));
    expect(result.detail).toMatch(/^command "chatty" exited 0: a{2048}… \(truncated, 5000 bytes in all\)$/);
  });

  test('an unknown command or a missing executable is non-retryable', async () => {
    const unknown = await failureOf(activities().runAction(request({ command: 'rm-rf' })));
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
    expect(unknown.message).toContain('command "rm-rf" is not in config/targets.yaml');
    const missing = await failureOf(activities().runAction(request({ command: 'missing' })));
    expect(missing).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
    expect(missing.message).toContain('ENOENT');
  });
});
