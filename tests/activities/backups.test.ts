import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { parsePostgresConnection } from '../../activities/backup-providers/postgres';
import { createBackupActivities } from '../../activities/backups';
import type { BackupDeps, BackupRequest, BackupResult } from '../../activities/backups';
import { TargetsSchema } from '../../src/domain/targets';
import { databaseUrl, findPostgresBinDir, POSTGRES_MISSING, postgresAvailability, psql, startPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { tempDir } from '../support/temporal';

function targets(backups: Record<string, unknown>) {
  return TargetsSchema.parse({ backups });
}

function request(overrides: Partial<BackupRequest> = {}): BackupRequest {
  return {
    idempotencyKey: 'INC-1:backup',
    incidentId: 'INC-1',
    stepId: 'backup',
    target: 'orders',
    restoreCheck: true,
    drill: false,
    ...overrides,
  };
}

function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A MockActivityEnvironment that records heartbeats and log lines. */
function activityEnv(info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {}) {
  const heartbeats: unknown[] = [];
  const logs: string[] = [];
  const logger = new DefaultLogger('DEBUG', (entry: LogEntry) => logs.push(`${entry.message} ${JSON.stringify(entry.meta ?? {})}`));
  const env = new MockActivityEnvironment(info, { logger });
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  return { env, heartbeats, logs };
}

type TakeBackup = ReturnType<typeof createBackupActivities>['takeBackup'];

/** Runs takeBackup inside the mock activity context. */
function runIn(env: MockActivityEnvironment, takeBackup: TakeBackup, req: BackupRequest): Promise<BackupResult> {
  return env.run<[BackupRequest], BackupResult, TakeBackup>(takeBackup, req);
}

async function expectFailure(
  promise: Promise<unknown>,
  match: { type?: string; nonRetryable?: boolean; message?: RegExp },
): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  if (match.type) expect(failure.type).toBe(match.type);
  if (match.nonRetryable !== undefined) expect(failure.nonRetryable).toBe(match.nonRetryable);
  if (match.message) expect(failure.message).toMatch(match.message);
  return failure;
}

describe('takeBackup: target resolution', () => {
  it('refuses an unknown target without retries', async () => {
    const { takeBackup } = createBackupActivities({ targets: targets({}), env: {}, backupDir: tempDir() });
    await expectFailure(takeBackup(request({ target: 'nope' })), {
      type: 'UnknownBackupTarget',
      nonRetryable: true,
      message: /unknown backup target "nope"/,
    });
    await expectFailure(takeBackup(request({ target: 'constructor' })), { type: 'UnknownBackupTarget', nonRetryable: true });
  });

  it('names a missing environment variable, without retries', async () => {
    const deps: BackupDeps = {
      targets: targets({ orders: { provider: 'postgres', url: '${ORDERS_DB_URL}' } }),
      env: {},
      backupDir: tempDir(),
    };
    const failure = await expectFailure(createBackupActivities(deps).takeBackup(request()), {
      type: 'MissingEnvVariable',
      nonRetryable: true,
      message: /ORDERS_DB_URL/,
    });
    expect(failure.details).toEqual([{ variable: 'ORDERS_DB_URL' }]);
  });

  it('refuses ids that would escape the backup directory', async () => {
    const dir = tempDir();
    const source = path.join(dir, 'src.db');
    new Database(source).close();
    const { takeBackup } = createBackupActivities({
      targets: targets({ orders: { provider: 'sqlite', path: source } }),
      env: {},
      backupDir: path.join(dir, 'out'),
    });
    await expectFailure(takeBackup(request({ incidentId: '..' })), { type: 'InvalidBackupRequest', nonRetryable: true });
    await expectFailure(takeBackup(request({ stepId: '../../etc/x' })), { type: 'InvalidBackupRequest', nonRetryable: true });
  });
});

describe('takeBackup: sqlite', () => {
  function populatedDb(file: string, rows = 5000): void {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL)');
    db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id), total REAL, note TEXT)');
    db.exec('CREATE TABLE inventory (sku TEXT PRIMARY KEY, qty INTEGER)');
    const addCustomer = db.prepare('INSERT INTO customers (id, email) VALUES (?, ?)');
    const addOrder = db.prepare('INSERT INTO orders (customer, total, note) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 100; i++) addCustomer.run(i, `c${i}@example.com`);
      for (let i = 0; i < rows; i++) addOrder.run((i % 100) + 1, i * 1.5, 'x'.repeat(200));
    })();
    // Left open on purpose: the backup runs against a live database in WAL mode.
    process.once('exit', () => db.close());
  }

  it('copies a live database, hashes the file and checks the copy', async () => {
    const dir = tempDir();
    const source = path.join(dir, 'orders.db');
    populatedDb(source);
    const backupDir = path.join(dir, 'backups');
    const { takeBackup } = createBackupActivities({
      targets: targets({ orders: { provider: 'sqlite', path: '${ORDERS_SQLITE}' } }),
      env: { ORDERS_SQLITE: source },
      backupDir,
    });

    const result = await takeBackup(request());
    const expected = path.join(backupDir, 'INC-1', 'backup.sqlite');
    expect(result).toMatchObject({
      provider: 'sqlite',
      location: expected,
      restoreCheck: { ok: true, detail: 'integrity_check ok, 3 tables' },
    });
    expect(result.sizeBytes).toBe(fs.statSync(expected).size);
    expect(result.sizeBytes).toBeGreaterThan(1_000_000);
    expect(result.sha256).toBe(sha256Of(expected));
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const copy = new Database(expected, { readonly: true });
    expect(copy.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 5000 });
    copy.close();

    const again = await takeBackup(request());
    expect(again.location).toBe(expected);
    expect(again.restoreCheck?.ok).toBe(true);
    // One file: no temp leftovers and no -wal/-shm beside the copy.
    expect(fs.readdirSync(path.join(backupDir, 'INC-1'))).toEqual(['backup.sqlite']);
    expect(again.sha256).toBe(sha256Of(expected));
  });

  it("heartbeats progress inside an activity, removes a crashed attempt's temp file, and skips the check when not asked", async () => {
    const dir = tempDir();
    const source = path.join(dir, 'orders.db');
    populatedDb(source, 20_000);
    const incidentDir = path.join(dir, 'backups', 'INC-1');
    fs.mkdirSync(incidentDir, { recursive: true });
    fs.writeFileSync(path.join(incidentDir, '.backup.sqlite.deadbeef.partial'), 'half a file');
    const { takeBackup } = createBackupActivities({
      targets: targets({ orders: { provider: 'sqlite', path: source } }),
      env: {},
      backupDir: path.join(dir, 'backups'),
    });

    const { env, heartbeats } = activityEnv();
    const result = await runIn(env, takeBackup, request({ restoreCheck: false }));
    expect(result.restoreCheck).toBeNull();
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats[0]).toMatchObject({ phase: 'copy', totalPages: expect.any(Number) });
    expect(fs.readdirSync(incidentDir)).toEqual(['backup.sqlite']);
  });

  it('uses the drill variant for drills', async () => {
    const dir = tempDir();
    const real = path.join(dir, 'real.db');
    const drill = path.join(dir, 'drill.db');
    new Database(real).exec('CREATE TABLE a (x)');
    new Database(drill).exec('CREATE TABLE a (x); CREATE TABLE b (y)');
    const deps = {
      targets: targets({ orders: { provider: 'sqlite', path: real, drill: { provider: 'sqlite', path: drill } } }),
      env: {},
      backupDir: path.join(dir, 'out'),
    };
    const { takeBackup } = createBackupActivities(deps);
    expect((await takeBackup(request({ drill: true }))).restoreCheck?.detail).toBe('integrity_check ok, 2 tables');
    expect((await takeBackup(request({ drill: false, stepId: 'real' }))).restoreCheck?.detail).toBe('integrity_check ok, 1 table');
  });

  it('stops on cancellation and leaves no file', async () => {
    const dir = tempDir();
    const source = path.join(dir, 'orders.db');
    populatedDb(source);
    const { takeBackup } = createBackupActivities({
      targets: targets({ orders: { provider: 'sqlite', path: source } }),
      env: {},
      backupDir: path.join(dir, 'out'),
    });
    const { env } = activityEnv();
    env.cancel();
    await expect(runIn(env, takeBackup, request())).rejects.toBeInstanceOf(CancelledFailure);
    expect(fs.readdirSync(path.join(dir, 'out', 'INC-1'))).toEqual([]);
  });

  it('fails without retries when the source does not exist, naming the configured path only', async () => {
    const { takeBackup } = createBackupActivities({
      targets: targets({ orders: { provider: 'sqlite', path: '${ORDERS_SQLITE}' } }),
      env: { ORDERS_SQLITE: '/nonexistent/secret-name.db' },
      backupDir: tempDir(),
    });
    const failure = await expectFailure(takeBackup(request()), {
      type: 'BackupSourceUnavailable',
      nonRetryable: true,
      message: /\$\{ORDERS_SQLITE\}/,
    });
    expect(failure.message).not.toContain('secret-name');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// http provider against a fake backup service

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface FakeBackupService {
  base: string;
  calls: Recorded[];
  /** Answers for successive status polls; the last one repeats. */
  statuses: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startFakeBackupService(): Promise<FakeBackupService> {
  const calls: Recorded[] = [];
  const service: Partial<FakeBackupService> = { calls, statuses: [] };
  let polls = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/v1/backups') return json(202, { id: 'bk-1' });
      const status = /^\/v1\/backups\/([^/]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && status) {
        const answers = service.statuses!;
        const answer = answers[Math.min(polls++, answers.length - 1)] ?? { status: 'running' };
        return json(200, { id: decodeURIComponent(status[1]!), ...answer });
      }
      if (req.method === 'POST' && /^\/v1\/backups\/[^/]+\/cancel$/.test(req.url ?? '')) return json(200, { status: 'cancelled' });
      json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  service.base = `http://127.0.0.1:${port}`;
  service.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return service as FakeBackupService;
}

describe('takeBackup: http', () => {
  let fake: FakeBackupService;
  const TOKEN = 'tok-9f8e7d6c5b4a';
  beforeEach(async () => {
    fake = await startFakeBackupService();
  });
  afterEach(async () => {
    await fake.close();
  });

  const httpDeps = (withCancel = true): BackupDeps => ({
    targets: targets({
      orders: {
        provider: 'http',
        start: { url: '${BACKUP_API}/v1/backups', headers: { Authorization: 'Bearer ${BACKUP_TOKEN}' } },
        status: { url: '${BACKUP_API}/v1/backups/{id}', headers: { Authorization: 'Bearer ${BACKUP_TOKEN}' } },
        ...(withCancel ? { cancel: { url: '${BACKUP_API}/v1/backups/{id}/cancel' } } : {}),
        pollInterval: '20ms',
      },
    }),
    env: { BACKUP_API: fake.base, BACKUP_TOKEN: TOKEN },
    backupDir: tempDir(),
  });
  const done = { status: 'done', location: 's3://backups/orders/INC-1.dump', sizeBytes: 4096, sha256: 'a'.repeat(64) };

  it('starts once with the idempotency key, polls until done, heartbeating the id', async () => {
    fake.statuses = [{ status: 'running' }, { status: 'running' }, done];
    const { env, heartbeats, logs } = activityEnv();
    const result = await runIn(env, createBackupActivities(httpDeps()).takeBackup, request());
    expect(result).toMatchObject({
      provider: 'http',
      location: 's3://backups/orders/INC-1.dump',
      sizeBytes: 4096,
      sha256: 'a'.repeat(64),
      restoreCheck: null,
    });
    const starts = fake.calls.filter((c) => c.method === 'POST');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.headers['idempotency-key']).toBe('INC-1:backup');
    expect(starts[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(starts[0]!.body)).toMatchObject({
      idempotencyKey: 'INC-1:backup',
      incidentId: 'INC-1',
      stepId: 'backup',
      drill: false,
    });
    const polls = fake.calls.filter((c) => c.method === 'GET');
    expect(polls.map((c) => c.url)).toEqual(['/v1/backups/bk-1', '/v1/backups/bk-1', '/v1/backups/bk-1']);
    expect(polls.every((c) => c.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(heartbeats).toContainEqual({ provider: 'http', id: 'bk-1', status: 'running' });
    expect(heartbeats.every((h) => (h as { id?: string }).id === 'bk-1')).toBe(true);
    expect(JSON.stringify(result) + logs.join('\n')).not.toContain(TOKEN);
  });

  it('resumes polling the same backup after a crash instead of starting a second one', async () => {
    fake.statuses = [{ status: 'running' }, done];
    const { env } = activityEnv({ attempt: 2, heartbeatDetails: { provider: 'http', id: 'bk-1', status: 'running' } });
    const result = await runIn(env, createBackupActivities(httpDeps()).takeBackup, request());
    expect(result.location).toBe('s3://backups/orders/INC-1.dump');
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    expect(fake.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /v1/backups/bk-1', 'GET /v1/backups/bk-1']);
  });

  it('calls the cancel URL when the activity is cancelled, then rethrows the cancellation', async () => {
    // The cancelled backup answers "running" once; the rest is for the second backup below.
    fake.statuses = [{ status: 'running' }, { status: 'running' }, { status: 'running' }, done];
    const { env } = activityEnv();
    env.on('heartbeat', (d: { status?: string }) => {
      if (d.status === 'running') env.cancel();
    });
    await expect(runIn(env, createBackupActivities(httpDeps()).takeBackup, request())).rejects.toBeInstanceOf(CancelledFailure);
    const cancels = fake.calls.filter((c) => c.url === '/v1/backups/bk-1/cancel');
    expect(cancels).toHaveLength(1);
    expect(cancels[0]!.method).toBe('POST');
    expect(cancels[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // A second backup on the same poll interval polls three times: had the cancelled one kept polling, its
    // calls would be among these.
    const afterCancel = fake.calls.length;
    await runIn(activityEnv().env, createBackupActivities(httpDeps()).takeBackup, request());
    expect(fake.calls.slice(afterCancel).map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST /v1/backups',
      'GET /v1/backups/bk-1',
      'GET /v1/backups/bk-1',
      'GET /v1/backups/bk-1',
    ]);
  });

  it('turns a failed status into a non-retryable failure', async () => {
    fake.statuses = [{ status: 'running' }, { status: 'failed', message: 'disk full on backup host' }];
    const failure = await expectFailure(createBackupActivities(httpDeps()).takeBackup(request()), {
      type: 'BackupFailed',
      nonRetryable: true,
      message: /bk-1 failed: disk full on backup host/,
    });
    expect(failure.message).not.toContain(TOKEN);
  });

  it('refuses a start URL that the service does not know (4xx) without retries', async () => {
    const deps = httpDeps();
    deps.env.BACKUP_API = `${fake.base}/wrong`;
    await expectFailure(createBackupActivities(deps).takeBackup(request()), {
      type: 'BackupServiceError',
      nonRetryable: true,
      message: /HTTP 404/,
    });
  });

  it('sends userinfo as Basic auth and never shows it', async () => {
    fake.statuses = [done];
    const deps = httpDeps(false);
    deps.targets.backups.orders = targets({
      orders: {
        provider: 'http',
        start: { url: '${BACKUP_URL}/v1/backups' },
        status: { url: '${BACKUP_URL}/v1/backups/{id}' },
        pollInterval: '20ms',
      },
    }).backups.orders!;
    deps.env.BACKUP_URL = fake.base.replace('http://', 'http://svc:hunter2-secret@');
    const { env, logs } = activityEnv();
    await runIn(env, createBackupActivities(deps).takeBackup, request());
    expect(fake.calls[0]!.headers.authorization).toBe(`Basic ${Buffer.from('svc:hunter2-secret').toString('base64')}`);
    expect(logs.join('\n')).not.toContain('hunter2');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// postgres: argv and environment with a stand-in pg_dump, then a real server

describe('takeBackup: postgres connection handling', () => {
  it('splits the password out of both connection string forms', () => {
    const url = parsePostgresConnection('postgres://app:p%40ss%3Aword@db.internal:5432/orders?sslmode=require&password=ignored-too');
    expect(url).toMatchObject({
      conninfo: 'postgres://app@db.internal:5432/orders?sslmode=require',
      password: 'ignored-too',
      display: 'postgres://db.internal:5432/orders',
    });
    expect(url!.withDatabase('scratch')).toBe('postgres://app@db.internal:5432/scratch?sslmode=require');
    const plain = parsePostgresConnection('postgresql://app:p%40ss@db/orders');
    expect(plain?.password).toBe('p@ss');
    const kv = parsePostgresConnection("host=db port=5432 dbname=orders user=app password='it\\'s secret'");
    expect(kv).toBeDefined();
    expect(kv!.conninfo).toBe("host='db' port='5432' dbname='orders' user='app'");
    expect(kv!.password).toBe("it's secret");
    expect(kv!.display).toBe('host=db port=5432 dbname=orders');
    expect(kv!.withDatabase('scratch')).toContain("dbname='scratch'");
    expect(parsePostgresConnection('not a connection string')).toBeUndefined();
  });

  it('passes the password through PGPASSWORD, never in argv, results or errors', async () => {
    const dir = tempDir();
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const log = path.join(dir, 'calls');
    fs.writeFileSync(
      path.join(bin, 'pg_dump'),
      [
        '#!/bin/sh',
        'printf "%s\\n" "$@" > "$FAKE_PG_LOG.argv"',
        'printf "%s" "$PGPASSWORD" > "$FAKE_PG_LOG.password"',
        'for a in "$@"; do case "$a" in --file=*) printf "PGDMP-fake" > "${a#--file=}";; esac; done',
        'if [ "$PGPASSWORD" = "wrong" ]; then echo "pg_dump: error: connection to server failed: FATAL:  password authentication failed for user \\"app\\" (wrong)" >&2; exit 1; fi',
      ].join('\n'),
      { mode: 0o755 },
    );
    const secret = 'S3cr3t/with:chars@';
    const deps: BackupDeps = {
      targets: targets({ orders: { provider: 'postgres', url: '${ORDERS_DB_URL}' } }),
      env: { PATH: process.env.PATH, FAKE_PG_LOG: log, ORDERS_DB_URL: `postgres://app:${encodeURIComponent(secret)}@127.0.0.1:1/orders` },
      backupDir: path.join(dir, 'out'),
      postgresBinDir: bin,
    };
    const result = await createBackupActivities(deps).takeBackup(request({ restoreCheck: false }));
    expect(fs.readFileSync(`${log}.password`, 'utf8')).toBe(secret);
    const argv = fs.readFileSync(`${log}.argv`, 'utf8');
    expect(argv).toContain('--dbname=postgres://app@127.0.0.1:1/orders');
    expect(argv).toContain('--format=custom');
    expect(argv).toContain('--no-owner');
    expect(argv).not.toContain(encodeURIComponent(secret));
    expect(argv).not.toContain(secret);
    expect(result).toMatchObject({
      provider: 'postgres',
      location: path.join(dir, 'out', 'INC-1', 'backup.dump'),
      sizeBytes: 10,
      restoreCheck: null,
    });
    expect(JSON.stringify(result)).not.toContain(encodeURIComponent(secret));

    deps.env.ORDERS_DB_URL = 'postgres://app:wrong@127.0.0.1:1/orders';
    const failure = await expectFailure(createBackupActivities(deps).takeBackup(request({ stepId: 'again', restoreCheck: false })), {
      type: 'BackupFailed',
      nonRetryable: true,
      message: /password authentication failed/,
    });
    expect(failure.message).not.toContain('wrong');
    expect(failure.message).toContain('postgres://127.0.0.1:1/orders');
    expect(fs.readdirSync(path.join(dir, 'out', 'INC-1'))).toEqual(['backup.dump']);
  });
});

const pgAvailability = postgresAvailability();
(pgAvailability.run ? describe : describe.skip)(`takeBackup: postgres against a real server${pgAvailability.label}`, () => {
  let pg: TestPostgres;
  let bin: string;
  const SECRET_PASSWORD = 'pw-Zq8/x:y@z';

  beforeAll(async () => {
    if (!findPostgresBinDir()) throw new Error(POSTGRES_MISSING);
    const started = Date.now();
    pg = await startPostgres({ passwordRoles: ['fireline_secret'] });
    bin = pg.binDir;
    process.stderr.write(`[postgres] throwaway server on port ${pg.port} started in ${Date.now() - started} ms\n`);
    await psql(bin, pg.url, 'CREATE DATABASE orders');
    await psql(
      bin,
      databaseUrl(pg.url, 'orders'),
      [
        'CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL)',
        'CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers(id), total numeric(10,2), placed_at timestamptz DEFAULT now())',
        'CREATE TABLE empty_audit (id int)',
        "INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 250) g",
        'INSERT INTO orders (customer, total) SELECT (g % 250) + 1, g * 0.5 FROM generate_series(1, 20000) g',
      ].join('; '),
    );
    await psql(bin, pg.url, `CREATE ROLE fireline_secret LOGIN PASSWORD '${SECRET_PASSWORD}'`);
    await psql(bin, pg.url, 'CREATE DATABASE secret_orders OWNER fireline_secret');
    await psql(
      bin,
      databaseUrl(pg.url, 'secret_orders'),
      'SET ROLE fireline_secret; CREATE TABLE payments (id int PRIMARY KEY, amount numeric); INSERT INTO payments SELECT g, g FROM generate_series(1, 10) g',
    );
  });

  afterAll(async () => {
    if (pg) await pg.stop();
  });

  const pgDeps = (url: string, extra: Partial<BackupDeps> = {}): BackupDeps => ({
    targets: targets({ orders: { provider: 'postgres', url: '${ORDERS_DB_URL}' } }),
    env: { PATH: process.env.PATH, ORDERS_DB_URL: url },
    backupDir: tempDir(),
    postgresBinDir: bin,
    ...extra,
  });

  async function scratchDatabases(): Promise<string> {
    return psql(bin, pg.url, "SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'fireline_restore_%'");
  }

  it('dumps, restore-checks in a scratch database, and the dump restores independently', async () => {
    const deps = pgDeps(databaseUrl(pg.url, 'orders'));
    const { env } = activityEnv();
    const result: BackupResult = await runIn(env, createBackupActivities(deps).takeBackup, request({ incidentId: 'INC-PG' }));
    const file = path.join(deps.backupDir, 'INC-PG', 'backup.dump');
    expect(result).toMatchObject({
      provider: 'postgres',
      location: file,
      restoreCheck: { ok: true, detail: 'pg_restore into a scratch database ok, 3 tables in schema public' },
    });
    expect(result.sizeBytes).toBe(fs.statSync(file).size);
    expect(result.sha256).toBe(sha256Of(file));
    expect(fs.readFileSync(file).subarray(0, 5).toString('latin1')).toBe('PGDMP');
    expect(fs.readdirSync(path.join(deps.backupDir, 'INC-PG'))).toEqual(['backup.dump']);
    expect(await scratchDatabases()).toBe('');

    // Restore it ourselves into a new database and compare what came back.
    await psql(bin, pg.url, 'CREATE DATABASE verify_restore');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(path.join(bin, 'pg_restore'), ['--no-owner', `--dbname=${databaseUrl(pg.url, 'verify_restore')}`, file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_restore exit ${code}: ${err}`))));
    });
    const counts =
      "SELECT (SELECT count(*) FROM customers) || ',' || (SELECT count(*) FROM orders) || ',' || (SELECT sum(total) FROM orders)";
    const original = await psql(bin, databaseUrl(pg.url, 'orders'), counts);
    expect(original).toBe('250,20000,100005000.00');
    expect(await psql(bin, databaseUrl(pg.url, 'verify_restore'), counts)).toBe(original);

    // The same key again: a fresh dump replaces the file, still one file.
    const again = await createBackupActivities(deps).takeBackup(request({ incidentId: 'INC-PG' }));
    expect(again.restoreCheck?.ok).toBe(true);
    expect(fs.readdirSync(path.join(deps.backupDir, 'INC-PG'))).toEqual(['backup.dump']);
  });

  it('logs in with a password from the URL, keeps it out of everything, and reports a restore check it could not run', async () => {
    const url = databaseUrl(pg.url, 'secret_orders').replace('postgres@', `fireline_secret:${encodeURIComponent(SECRET_PASSWORD)}@`);
    const { env, logs } = activityEnv();
    const result = await runIn(env, createBackupActivities(pgDeps(url)).takeBackup, request({ incidentId: 'INC-PW' }));
    // The role may not create databases: the dump is fine, the restore check says why it could not run.
    expect(result.restoreCheck).toEqual({
      ok: false,
      detail: expect.stringMatching(
        /could not create scratch database fireline_restore_[0-9a-f]{12}: .*permission denied to create database/,
      ),
    });
    expect(result.sizeBytes).toBeGreaterThan(0);
    const everything = JSON.stringify(result) + logs.join('\n');
    expect(everything).not.toContain(SECRET_PASSWORD);
    expect(everything).not.toContain(encodeURIComponent(SECRET_PASSWORD));

    const wrong = url.replace(encodeURIComponent(SECRET_PASSWORD), 'not-the-password');
    const failure = await expectFailure(
      createBackupActivities(pgDeps(wrong)).takeBackup(request({ incidentId: 'INC-PW', stepId: 'wrong' })),
      {
        type: 'BackupFailed',
        nonRetryable: true,
        message: /password authentication failed for user "fireline_secret"/,
      },
    );
    expect(failure.message).not.toContain('not-the-password');
  });

  it('restore-checks an empty database as ok with no tables', async () => {
    await psql(bin, pg.url, 'CREATE DATABASE empty_db');
    const result = await createBackupActivities(pgDeps(databaseUrl(pg.url, 'empty_db'))).takeBackup(request({ incidentId: 'INC-EMPTY' }));
    expect(result.restoreCheck).toEqual({ ok: true, detail: 'pg_restore into a scratch database ok, 0 tables in schema public' });
  });

  it('kills pg_dump when the activity is cancelled and leaves no file', async () => {
    const ordersUrl = databaseUrl(pg.url, 'orders');
    // Holds a lock that pg_dump's ACCESS SHARE lock waits for, so pg_dump is still running when we cancel.
    const locker: ChildProcess = spawn(
      path.join(bin, 'psql'),
      ['-X', `--dbname=${ordersUrl}`, '-c', 'BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);'],
      { stdio: 'ignore' },
    );
    try {
      await waitFor(
        async () =>
          (await psql(
            bin,
            ordersUrl,
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted",
          )) === '1',
      );
      const deps = pgDeps(ordersUrl, { heartbeatIntervalMs: 100 });
      const { env, heartbeats } = activityEnv();
      let cancelled = false;
      env.on('heartbeat', (d: { phase?: string }) => {
        if (d.phase === 'pg_dump' && !cancelled) {
          cancelled = true;
          env.cancel();
        }
      });
      const running = runIn(env, createBackupActivities(deps).takeBackup, request({ incidentId: 'INC-CANCEL' }));
      await expect(running).rejects.toBeInstanceOf(CancelledFailure);
      expect(heartbeats.length).toBeGreaterThan(0);
      // The cancellation ended the backup while the lock was still held: pg_dump was stopped, not waited for.
      expect(locker.exitCode).toBeNull();
      await waitFor(
        async () => (await psql(bin, pg.url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'")) === '0',
      );
      expect(fs.readdirSync(path.join(deps.backupDir, 'INC-CANCEL'))).toEqual([]);
    } finally {
      locker.kill('SIGKILL');
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
