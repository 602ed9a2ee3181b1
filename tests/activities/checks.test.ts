import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import Database from 'better-sqlite3';
import { type CheckRequest, createCheckActivities } from '../../activities/checks';
import type { TemplateContext } from '../../activities/template';
import type { Check } from '../../src/domain/runbook';
import { EMPTY_TARGETS, type Targets } from '../../src/domain/targets';
import { postgresAvailability, startPostgres, type TestPostgres } from '../support/postgres';

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
};

function request(check: Check, extra: Partial<CheckRequest> = {}): CheckRequest {
  return { incidentId: 'inc-42', stepId: 'probe', check, context, drill: false, ...extra };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the check to throw');
}

// --- Real servers on 127.0.0.1 ---------------------------------------------------------------------------

interface Recorded {
  url: string;
  headers: http.IncomingHttpHeaders;
}

let server: http.Server;
let base: string;
const seen: Recorded[] = [];
/** Accepts connections and requests but never answers. */
let silent: http.Server;
let silentBase: string;
/** A port nothing listens on. */
let closedPort: number;

function listen(s: net.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

function close(s: http.Server | net.Server): Promise<void> {
  if (s instanceof http.Server) s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url?.startsWith('/health')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('status: all systems nominal');
    } else if (req.url === '/down') {
      res.writeHead(503).end('maintenance');
    } else {
      res.writeHead(404).end();
    }
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  silent = http.createServer(() => undefined);
  silentBase = `http://127.0.0.1:${await listen(silent)}`;
  const probe = net.createServer();
  closedPort = await listen(probe);
  await close(probe);
});

afterAll(async () => {
  await close(server);
  await close(silent);
});

describe('runCheck: http', () => {
  const { runCheck } = createCheckActivities({ targets: EMPTY_TARGETS, env: {} });

  test('healthy: the expected status', async () => {
    const result = await runCheck(request({ http: { url: `${base}/health`, method: 'GET', expect: 200 } }));
    expect(result).toMatchObject({ healthy: true, detail: `HTTP 200 from GET ${base}/health` });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('unhealthy: another status', async () => {
    const result = await runCheck(request({ http: { url: `${base}/down`, method: 'GET', expect: 200 } }));
    expect(result).toMatchObject({ healthy: false, detail: `HTTP 503 from GET ${base}/down, expected 200` });
  });

  test('an expected non-200 status is healthy', async () => {
    const result = await runCheck(request({ http: { url: `${base}/down`, method: 'GET', expect: 503 } }));
    expect(result.healthy).toBe(true);
  });

  test('body substring: present and missing', async () => {
    const found = await runCheck(request({ http: { url: `${base}/health`, method: 'GET', expect: { status: 200, body: 'nominal' } } }));
    expect(found).toMatchObject({ healthy: true, detail: expect.stringContaining('body contains "nominal"') });
    const missing = await runCheck(request({ http: { url: `${base}/health`, method: 'GET', expect: { status: 200, body: 'degraded' } } }));
    expect(missing).toMatchObject({ healthy: false, detail: `HTTP 200 from GET ${base}/health, but the body does not contain "degraded"` });
  });

  test('connection refused is an unhealthy answer, not an error', async () => {
    const url = `http://127.0.0.1:${closedPort}/health`;
    const result = await runCheck(request({ http: { url, method: 'GET', expect: 200 } }));
    expect(result).toMatchObject({ healthy: false, detail: `GET ${url} failed: connection refused (ECONNREFUSED)` });
  });

  test('a server that never answers times out', async () => {
    const result = await runCheck(request({ http: { url: `${silentBase}/health`, method: 'GET', expect: 200 } }, { timeoutMs: 300 }));
    expect(result).toMatchObject({ healthy: false, detail: `GET ${silentBase}/health: no answer within 300ms` });
  });

  test('${ENV} references resolve; credentials and query never reach the detail', async () => {
    const port = new URL(base).port;
    const env = {
      HEALTH_URL: `http://checker:pa55-w0rd-xyz@127.0.0.1:${port}/health/deep?token=tok-0123456789abcdef`,
      API_TOKEN: 'bearer-secret-value-987',
    };
    const { runCheck: withEnv } = createCheckActivities({ targets: EMPTY_TARGETS, env });
    seen.length = 0;
    const result = await withEnv(
      request({
        http: {
          url: '${HEALTH_URL}',
          method: 'GET',
          headers: { 'X-Token': '${API_TOKEN}', 'X-Incident': '${incident.id}' },
          expect: { status: 200, body: 'nominal' },
        },
      }),
    );
    expect(result).toMatchObject({ healthy: true });
    expect(result.detail).toContain(`GET http://127.0.0.1:${port}/health/deep`);
    for (const secret of ['pa55-w0rd-xyz', 'checker', 'tok-0123456789abcdef', 'token=', 'bearer-secret-value-987']) {
      expect(result.detail).not.toContain(secret);
    }
    // The request itself carried everything, credentials as Basic auth.
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/health/deep?token=tok-0123456789abcdef');
    expect(seen[0]?.headers['x-token']).toBe('bearer-secret-value-987');
    expect(seen[0]?.headers['x-incident']).toBe('inc-42');
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('checker:pa55-w0rd-xyz').toString('base64')}`);
  });

  test('an unset environment variable is a non-retryable failure naming it', async () => {
    const failure = await failureOf(runCheck(request({ http: { url: '${ORDERS_HEALTH_URL}/health', method: 'GET', expect: 200 } })));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('FirelineMissingEnv');
    expect(failure.message).toContain('ORDERS_HEALTH_URL');
  });

  test('a URL that is not http(s) is a config error', async () => {
    const failure = await failureOf(runCheck(request({ http: { url: 'file:///etc/passwd', method: 'GET', expect: 200 } })));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
  });

  test('activity cancellation ends the check with CancelledFailure, not an answer', async () => {
    const env = new MockActivityEnvironment();
    const pending = env.run(
      runCheck,
      request({ http: { url: `${silentBase}/health`, method: 'GET', expect: 200 } }, { timeoutMs: 30_000 }),
    );
    setTimeout(() => env.cancel(), 100);
    await expect(pending).rejects.toBeInstanceOf(CancelledFailure);
  });
});

describe('runCheck: tcp', () => {
  const { runCheck } = createCheckActivities({ targets: EMPTY_TARGETS, env: { PROBE_HOST: '127.0.0.1' } });

  test('an open port is healthy', async () => {
    const port = Number(new URL(base).port);
    const result = await runCheck(request({ tcp: { host: '${PROBE_HOST}', port } }));
    expect(result).toMatchObject({ healthy: true, detail: `TCP 127.0.0.1:${port} accepts connections` });
  });

  test('a closed port is unhealthy', async () => {
    const result = await runCheck(request({ tcp: { host: '127.0.0.1', port: String(closedPort) } }));
    expect(result).toMatchObject({ healthy: false, detail: `TCP 127.0.0.1:${closedPort} failed: connection refused (ECONNREFUSED)` });
  });

  test('a port that is not a number is a config error', async () => {
    const failure = await failureOf(runCheck(request({ tcp: { host: '127.0.0.1', port: 'http' } })));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
  });
});

describe('runCheck: sql (sqlite)', () => {
  let dir: string;
  let targets: Targets;
  let env: Record<string, string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fireline-checks-'));
    for (const [file, rows] of [
      ['live.db', 3],
      ['drill.db', 1],
    ] as const) {
      const db = new Database(join(dir, file));
      db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, service TEXT, status TEXT)');
      const insert = db.prepare('INSERT INTO orders (service, status) VALUES (?, ?)');
      for (let i = 0; i < rows; i++) insert.run('orders', 'paid');
      db.close();
    }
    env = { DATA_DIR: dir };
    targets = {
      ...EMPTY_TARGETS,
      databases: {
        shop: { driver: 'sqlite', url: '${DATA_DIR}/live.db', drill: { driver: 'sqlite', url: '${DATA_DIR}/drill.db' } },
        gone: { driver: 'sqlite', url: '${DATA_DIR}/missing.db' },
        elsewhere: { driver: 'sqlite', url: '${OTHER_DATA_DIR}/x.db' },
      },
    };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (sql: Extract<Check, { sql: unknown }>['sql'], extra: Partial<CheckRequest> = {}) =>
    createCheckActivities({ targets, env }).runCheck(request({ sql }, extra));

  test('expect compares the first column of the first row', async () => {
    expect(await run({ database: 'shop', query: 'SELECT count(*) FROM orders', expect: 3 })).toMatchObject({
      healthy: true,
      detail: 'SQL on shop: "3" as expected',
    });
    expect(await run({ database: 'shop', query: 'SELECT count(*) FROM orders', expect: '4' })).toMatchObject({
      healthy: false,
      detail: 'SQL on shop: got "3", expected "4"',
    });
  });

  test('without expect, one row is healthy and none is not', async () => {
    expect(await run({ database: 'shop', query: "SELECT id FROM orders WHERE status = 'paid'" })).toMatchObject({
      healthy: true,
      detail: 'SQL on shop: 1 row',
    });
    expect(await run({ database: 'shop', query: "SELECT id FROM orders WHERE status = 'refunded'" })).toMatchObject({
      healthy: false,
      detail: 'SQL on shop: no rows',
    });
  });

  test('drills use the drill database', async () => {
    expect(await run({ database: 'shop', query: 'SELECT count(*) FROM orders', expect: 1 }, { drill: true })).toMatchObject({
      healthy: true,
      detail: 'SQL on shop (drill): "1" as expected',
    });
  });

  test('placeholders are bound as parameters, so incident text cannot inject SQL', async () => {
    const query = 'SELECT count(*) FROM orders WHERE service = ${incident.service}';
    expect(await run({ database: 'shop', query, expect: 3 })).toMatchObject({ healthy: true });
    const quoted = "SELECT count(*) FROM orders WHERE service = '${incident.service}'";
    expect(await run({ database: 'shop', query: quoted, expect: 3 })).toMatchObject({ healthy: true });
    const hostile = { ...context, incident: { ...context.incident, service: "x' OR '1'='1" } };
    expect(await run({ database: 'shop', query, expect: 0 }, { context: hostile })).toMatchObject({ healthy: true });
  });

  test('a placeholder inside a longer string literal is a config error', async () => {
    const failure = await failureOf(run({ database: 'shop', query: "SELECT 1 WHERE 'a ${incident.id}' <> ''" }));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
  });

  test('a failing query or a missing file is unhealthy, with the reason', async () => {
    expect(await run({ database: 'shop', query: 'SELECT * FROM no_such_table' })).toMatchObject({
      healthy: false,
      detail: expect.stringContaining('no such table: no_such_table'),
    });
    const gone = await run({ database: 'gone', query: 'SELECT 1' });
    expect(gone.healthy).toBe(false);
    expect(gone.detail).toMatch(/^SQL on gone failed: /);
  });

  test('the database is opened read-only', async () => {
    const result = await run({ database: 'shop', query: "INSERT INTO orders (service, status) VALUES ('x', 'y') RETURNING id" });
    expect(result.healthy).toBe(false);
    expect(await run({ database: 'shop', query: 'SELECT count(*) FROM orders', expect: 3 })).toMatchObject({ healthy: true });
  });

  test('an unknown database is a non-retryable config error', async () => {
    const failure = await failureOf(run({ database: 'nope', query: 'SELECT 1' }));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineConfigError' });
    expect(failure.message).toContain('database "nope" is not in config/targets.yaml');
    expect(failure.message).toContain('known: shop, gone, elsewhere');
  });

  test('an unset variable in the database URL names the variable', async () => {
    const failure = await failureOf(run({ database: 'elsewhere', query: 'SELECT 1' }));
    expect(failure).toMatchObject({ nonRetryable: true, type: 'FirelineMissingEnv' });
    expect(failure.message).toContain('OTHER_DATA_DIR');
  });
});

// FIRELINE_TEST_PG_URL points at a server to use; without it, a throwaway cluster is started when PostgreSQL is
// installed (always in CI, see tests/support/postgres.ts); otherwise the case is skipped, saying why.
const externalPgUrl = process.env.FIRELINE_TEST_PG_URL;
const pgAvailability = externalPgUrl
  ? { run: true, label: '' }
  : ((availability) => ({ ...availability, label: availability.run ? '' : ' (skipped: set FIRELINE_TEST_PG_URL or install PostgreSQL)' }))(
      postgresAvailability(),
    );

describe('runCheck: sql (postgres)', () => {
  const targets: Targets = { ...EMPTY_TARGETS, databases: { pg: { driver: 'postgres', url: '${PG_URL}' } } };
  let cluster: TestPostgres | undefined;
  let pgUrl = externalPgUrl ?? '';

  beforeAll(async () => {
    if (!pgAvailability.run || externalPgUrl) return;
    cluster = await startPostgres();
    pgUrl = cluster.url;
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  (pgAvailability.run ? test : test.skip)(
    `expect, bound placeholders and errors against a real server${pgAvailability.label}`,
    async () => {
      const { runCheck } = createCheckActivities({ targets, env: { PG_URL: pgUrl } });
      expect(await runCheck(request({ sql: { database: 'pg', query: 'SELECT 1', expect: 1 } }))).toMatchObject({
        healthy: true,
        detail: 'SQL on pg: "1" as expected',
      });
      expect(await runCheck(request({ sql: { database: 'pg', query: 'SELECT ${incident.id}::text', expect: 'inc-42' } }))).toMatchObject({
        healthy: true,
      });
      expect(await runCheck(request({ sql: { database: 'pg', query: 'SELECT 1 WHERE false' } }))).toMatchObject({
        healthy: false,
        detail: 'SQL on pg: no rows',
      });
      const broken = await runCheck(request({ sql: { database: 'pg', query: 'SELECT * FROM fireline_no_such_table' } }));
      expect(broken).toMatchObject({
        healthy: false,
        detail: 'SQL on pg failed: relation "fireline_no_such_table" does not exist (42P01)',
      });
      // Read-only: a write is refused, and the detail never shows the connection string.
      const write = await runCheck(request({ sql: { database: 'pg', query: 'CREATE TABLE fireline_check_probe (id int)' } }));
      expect(write).toMatchObject({ healthy: false, detail: expect.stringContaining('read-only transaction') });
      expect(write.detail).not.toContain(pgUrl);
      // statement_timeout bounds a slow query.
      const slow = await runCheck(request({ sql: { database: 'pg', query: 'SELECT pg_sleep(5)' } }, { timeoutMs: 500 }));
      expect(slow).toMatchObject({ healthy: false, detail: expect.stringContaining('statement timeout') });
    },
  );

  test('an unreachable postgres is unhealthy, and the password stays hidden', async () => {
    const { runCheck } = createCheckActivities({
      targets,
      env: { PG_URL: `postgres://fireline:hunter2-secret@127.0.0.1:${closedPort}/orders` },
    });
    const result = await runCheck(request({ sql: { database: 'pg', query: 'SELECT 1' } }, { timeoutMs: 2000 }));
    expect(result).toMatchObject({ healthy: false, detail: expect.stringContaining('connection refused') });
    expect(result.detail).not.toContain('hunter2-secret');
  });
});
