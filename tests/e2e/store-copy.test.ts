// Moving an embedded install up: a SQLite read model with real incidents (the real workflow on the shared dev
// server, through the real API: notes, decisions, a post-mortem with action items, a silence, audit rows) plus
// tokens, an on-call override, an alert group with its alerts and inbox rows, is copied into a throwaway
// PostgreSQL by the real `fireline store copy` child process. Then a `fireline api` child on DATABASE_URL serves
// the same incidents, timelines and post-mortem with the old tokens, and declares the next incident after the
// highest copied number. A second copy changes nothing; a copy killed after its first chunk of a table resumes
// there, every row arriving once.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { IncidentRecord } from '../../src/domain/incident';
import type { PostmortemView } from '../../src/services/postmortems';
import { COPIED_TABLES, copySqliteToPostgres } from '../../src/store/copy-to-postgres';
import type { CopyProgress } from '../../src/store/copy-to-postgres';
import { openPostgresStore } from '../../src/store/postgres';
import { openPgDb } from '../../src/store/postgres/db';
import type { PgDb } from '../../src/store/postgres/db';
import type { Store } from '../../src/store/store';
import {
  API_RUNBOOKS,
  declareIncident,
  getIncident,
  startApiHarness,
  timelineOf,
  waitForOpenDecision,
  waitForStatus,
} from '../support/api';
import type { ApiHarness } from '../support/api';
import { databaseUrl, postgresAvailability, psql, startPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { findFreePort, killAllTracked, spawnFireline, tail, waitForExit, waitForHttp } from '../support/processes';
import type { SpawnedProcess } from '../support/processes';
import { eventually, startTestWorker, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';
import type { TestWorker } from '../support/temporal';

jest.setTimeout(240_000);

const availability = postgresAvailability();
const maybe = availability.run ? describe : describe.skip;

const PASSWORD = 'c0py-s3cret-Pw';
const AUDIT_ROWS = 2_500;
/**
 * Tables of the SQLite file the copy leaves out on purpose: leases, the auth throttle's failure counts and pending SSO logins
 * (minutes long, single use) belong to running processes; the audit chain's head is set from the last copied entry.
 */
const NOT_COPIED = ['audit_chain', 'auth_failures', 'leases', 'oidc_logins', 'schema_migrations', 'sequences', 'slack_sync_lease'];

const REVIEW_RUNBOOK = `
id: review
title: Post-mortem with a review
owner: team-test
service: payments
severity: SEV2
phases:
  detect:
    - { id: opened, kind: notify, message: "Opened \${incident.id}" }
  retrospective:
    - { id: pm, kind: postmortem, due: 5d }
`;

interface Snapshot {
  list: unknown;
  incidents: Record<string, { record: IncidentRecord; timeline: unknown }>;
  postmortem: PostmortemView;
  actionItems: unknown;
  silences: unknown;
}

/** What the API serves from the read model, read with one token: the list, each incident and timeline, the post-mortem. */
async function snapshot(baseUrl: string, token: string, reviewId: string): Promise<Snapshot> {
  const get = async <T>(urlPath: string): Promise<T> => {
    const res = await fetch(baseUrl + urlPath, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    expect({ urlPath, status: res.status, text: res.status === 200 ? '' : text }).toEqual({ urlPath, status: 200, text: '' });
    return JSON.parse(text) as T;
  };
  const list = await get<{ items: IncidentRecord[] }>('/api/v1/incidents?limit=200');
  const incidents: Snapshot['incidents'] = {};
  for (const { id } of list.items) {
    incidents[id] = {
      record: (await get<{ incident: IncidentRecord }>(`/api/v1/incidents/${id}`)).incident,
      timeline: await get(`/api/v1/incidents/${id}/timeline?limit=10000`),
    };
  }
  return {
    list,
    incidents,
    postmortem: await get<PostmortemView>(`/api/v1/incidents/${reviewId}/postmortem`),
    actionItems: await get('/api/v1/action-items'),
    silences: await get('/api/v1/silences'),
  };
}

function sqliteCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(COPIED_TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

async function pgCounts(db: PgDb): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of COPIED_TABLES) counts[t] = (await db.rows<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${t}`))[0]!.n;
  return counts;
}

const numberOf = (id: string) => Number(/^INC-(\d+)$/.exec(id)?.[1] ?? NaN);

maybe(`fireline store copy: an embedded install moves to PostgreSQL${availability.label}`, () => {
  let api: ApiHarness;
  let postgres: TestPostgres;
  let sqliteFile: string;
  let targetUrl: string;
  let target: PgDb;
  let before: Snapshot;
  let reviewId: string;
  const copied: IncidentRecord[] = [];
  let scaledApi: SpawnedProcess | undefined;
  let scaledStore: Store | undefined;
  let scaledWorker: TestWorker | undefined;
  const figures: string[] = [];

  beforeAll(async () => {
    [api, postgres] = await Promise.all([
      startApiHarness({ name: 'store-copy', runbooks: { ...API_RUNBOOKS, 'review.yaml': REVIEW_RUNBOOK } }),
      startPostgres({ passwordRoles: ['fireline'] }),
    ]);
    sqliteFile = path.join(api.dataDir, 'fireline.db');
    await psql(postgres.binDir, postgres.url, `CREATE ROLE fireline LOGIN PASSWORD '${PASSWORD}'`);
    await psql(postgres.binDir, postgres.url, 'CREATE DATABASE fireline OWNER fireline');
    await psql(postgres.binDir, postgres.url, 'CREATE DATABASE resumed');
    const u = new URL(databaseUrl(postgres.url, 'fireline'));
    u.username = 'fireline';
    u.password = PASSWORD;
    targetUrl = u.toString();
    target = openPgDb(targetUrl, { max: 2 });
  });

  afterAll(async () => {
    await killAllTracked();
    await scaledWorker?.stop();
    await scaledStore?.close();
    await target?.pool.end();
    await api?.stop();
    await postgres?.stop();
    if (figures.length) process.stderr.write(`[store-copy]\n${figures.join('\n')}\n`);
  });

  function copyCli(args: string[]): SpawnedProcess {
    return spawnFireline('store-copy', ['store', 'copy', ...args], { FIRELINE_DATA_DIR: tempDir(), FIRELINE_LOG_LEVEL: 'warn' });
  }

  test('the embedded install: real incidents with timelines, a post-mortem with action items, tokens, audit, alerts', async () => {
    for (const title of ['Orders DB primary down', 'Orders DB replica lag']) {
      const incident = await declareIncident(api, { title, runbook: 'flow' });
      await waitForOpenDecision(api, incident.id, 'strategy');
      const note = await api.post(`/api/v1/incidents/${incident.id}/notes`, { as: 'responder', body: { text: `Looking at ${title}` } });
      expect(note.status).toBe(201);
      const decided = await api.post(`/api/v1/incidents/${incident.id}/decisions/strategy`, {
        as: 'commander',
        body: { option: 'restore' },
      });
      expect({ status: decided.status, text: decided.text }).toMatchObject({ status: 200 });
      await waitForStatus(api, incident.id, 'closed');
    }
    const instant = await declareIncident(api, { title: 'Catalog search slow', runbook: 'instant' });
    await waitForStatus(api, instant.id, 'closed');

    const review = await declareIncident(api, { title: 'Payment gateway timeouts', runbook: 'review' });
    reviewId = review.id;
    await eventually(async () => ((await getIncident(api, reviewId)).live?.awaitingReview ? true : undefined), 'the review');
    const pmPath = `/api/v1/incidents/${reviewId}/postmortem`;
    const edited = await api.request<PostmortemView>('PUT', pmPath, {
      as: 'commander',
      headers: { 'if-match': '"1"' },
      body: {
        sections: { rootCause: 'A client library upgrade halved the gateway timeout.', impact: '12% of card payments failed.' },
        actionItems: [
          { title: 'Pin the gateway client timeout', owner: 'dana', due: '2026-12-01' },
          { title: 'Alert on payment error rate per provider', owner: null },
        ],
        status: 'in-review',
      },
    });
    expect({ status: edited.status, text: edited.text }).toMatchObject({ status: 200 });
    const done = await api.request<PostmortemView>('PUT', pmPath, {
      as: 'commander',
      headers: { 'if-match': '"2"' },
      body: { status: 'done' },
    });
    expect({ status: done.status, text: done.text }).toMatchObject({ status: 200 });
    await waitForStatus(api, reviewId, 'closed');

    // One left open, waiting for a human (its workflow stays on the dev server until the harness stops).
    const hold = await declareIncident(api, { title: 'Checkout rollback pending', runbook: 'hold' });
    await waitForOpenDecision(api, hold.id, 'go-ahead');

    const silence = await api.post('/api/v1/silences', {
      as: 'admin',
      body: { matchers: [{ name: 'service', value: 'orders' }], duration: '2h', comment: 'Postgres minor upgrade' },
    });
    expect({ status: silence.status, text: silence.text }).toMatchObject({ status: 201 });

    const at = new Date().toISOString();
    const admin = { id: `token:${api.tokenIds.admin}`, name: 'Ada Admin', role: 'admin' as const };
    await api.store.insertOnCallOverride({
      id: 'ovr_copy_1',
      scheduleId: 'primary',
      personId: 'dana',
      from: '2026-12-01T09:00:00.000Z',
      to: '2026-12-01T17:00:00.000Z',
      reason: 'swap with lee',
      createdAt: at,
      createdBy: admin,
    });
    expect(await api.store.swapAlertGroup('prometheus', '{}:{alertname="OrdersDown"}', undefined, instant.id, at)).toBe(true);
    const alert = { fingerprint: 'f00d', status: 'firing', labels: { alertname: 'OrdersDown', service: 'orders' } };
    await api.store.enqueueAlerts([
      { incidentId: instant.id, alert, receivedAt: at },
      { incidentId: instant.id, alert: { ...alert, status: 'resolved' }, receivedAt: at },
    ]);
    const batch = await api.store.takeAlertBatch(instant.id, 10);
    await api.store.markAlertsForwarded(
      batch!.rows.map((r) => r.id),
      at,
    );
    await api.store.upsertAlerts([
      {
        incidentId: instant.id,
        fingerprint: 'f00d',
        startsAt: '2026-12-01T08:00:00.000Z',
        status: 'resolved',
        endsAt: '2026-12-01T08:20:00.000Z',
        summary: 'Orders are down',
        labels: alert.labels,
        source: 'prometheus',
        received: 2,
        firstSeen: at,
        lastSeen: at,
      },
    ]);
    // Enough audit rows for several chunks of the copy.
    for (let i = 0; i < AUDIT_ROWS; i++) {
      await api.store.recordAudit({
        id: `aud_bulk_${String(i).padStart(5, '0')}`,
        at: new Date(Date.parse('2026-11-01T00:00:00.000Z') + i * 1000).toISOString(),
        actor: admin,
        action: 'incident.note',
        method: 'POST',
        path: `/api/v1/incidents/${instant.id}/notes`,
        requestId: `req-${i}`,
        incidentId: instant.id,
        details: { n: i, text: `bulk ${i}`, nested: { b: 1, a: [i, null, 'x'] } },
        outcome: 'ok',
      });
    }

    copied.push(...(await api.store.listIncidents({ limit: 200 })).items);
    expect(copied).toHaveLength(5);
    for (const i of copied) expect((await timelineOf(api, i.id)).events.length).toBeGreaterThan(3);
    before = await snapshot(api.url, api.tokens.admin, reviewId);
    expect(before.postmortem).toMatchObject({ status: 'done', actionItems: [{ title: 'Pin the gateway client timeout' }, {}] });

    const db = new Database(sqliteFile, { readonly: true });
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
    )
      .map((t) => t.name)
      .filter((t) => !(COPIED_TABLES as readonly string[]).includes(t))
      .sort();
    db.close();
    expect(tables).toEqual(NOT_COPIED);
  });

  test('refuses clearly without a postgres:// --to or with a --from that is not there', async () => {
    const runs = [
      copyCli(['--from', sqliteFile]),
      copyCli(['--to', 'mysql://root@127.0.0.1/fireline', '--from', sqliteFile]),
      copyCli(['--to']),
      copyCli(['--to', targetUrl, '--from', path.join(tempDir(), 'nope.db')]),
      copyCli(['--to', targetUrl]),
    ];
    const exits = await Promise.all(runs.map((p) => waitForExit(p, 120_000)));
    for (const [i, p] of runs.entries()) {
      expect({ i, exit: exits[i], output: p.output() }).toMatchObject({ exit: { code: 2 } });
      expect(p.output()).not.toContain(PASSWORD);
      expect(p.output()).not.toMatch(/\n\s+at /);
    }
    expect(runs[0]!.stderr()).toContain('--to');
    expect(runs[1]!.stderr()).toContain('--to');
    expect(runs[2]!.stderr()).toContain('--to');
    expect(runs[3]!.stderr()).toMatch(/--from: .*nope\.db does not exist/);
    // Without --from: the data dir's fireline.db, which this empty data dir does not have.
    expect(runs[4]!.stderr()).toMatch(/--from: .*fireline\.db does not exist/);
    expect(await target.rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'incidents'")).toEqual([]);
  });

  test('`fireline store copy` copies every table, never printing the password', async () => {
    const source = sqliteCounts(sqliteFile);
    const t0 = Date.now();
    const run = copyCli(['--to', targetUrl, '--from', sqliteFile]);
    const exit = await waitForExit(run, 180_000);
    const ms = Date.now() - t0;
    expect({ exit, output: run.output() }).toMatchObject({ exit: { code: 0 } });
    const output = run.stdout();
    expect(run.output()).not.toContain(PASSWORD);
    expect(output).toContain(`copying ${sqliteFile} → postgres://fireline:***@127.0.0.1:${postgres.port}/fireline`);
    for (const table of COPIED_TABLES) {
      expect(output).toMatch(new RegExp(`^  ${table} +${source[table]} rows, ${source[table]} new, ${source[table]} there now$`, 'm'));
    }
    expect(output).toMatch(/^done in \d+\.\d s: \d+ rows, \d+ new; every row is in PostgreSQL/m);
    expect(await pgCounts(target)).toEqual(source);
    expect(source.audit_log).toBeGreaterThan(AUDIT_ROWS);
    expect(source.timeline_events).toBeGreaterThan(20);
    expect(source.action_items).toBe(2);
    const progress = await target.rows<{ table_name: string; copied: number; finished: boolean }>(
      'SELECT table_name, copied, finished_at IS NOT NULL AS finished FROM store_copy_progress ORDER BY table_name',
    );
    expect(Object.fromEntries(progress.map((p) => [p.table_name, [p.copied, p.finished]]))).toEqual(
      Object.fromEntries(COPIED_TABLES.map((t) => [t, [source[t], true]])),
    );
    figures.push(`first copy (child process, incl. start-up and migrations): ${ms} ms`, tail(output, 30));
  });

  test('the scaled stack serves the same incidents, timelines and post-mortem with the old tokens', async () => {
    const taskQueue = uniqueTaskQueue('store-copy-scaled');
    const port = await findFreePort();
    const dataDir = tempDir();
    const configDir = tempDir();
    scaledApi = spawnFireline('scaled-api', ['api'], {
      DATABASE_URL: targetUrl,
      TEMPORAL_ADDRESS: testTemporal().address,
      FIRELINE_TASK_QUEUE: taskQueue,
      FIRELINE_DATA_DIR: dataDir,
      FIRELINE_CONFIG_DIR: configDir,
      FIRELINE_RUNBOOKS_DIR: api.runbooksDir,
      FIRELINE_HOST: '127.0.0.1',
      FIRELINE_PORT: String(port),
      FIRELINE_LOG_LEVEL: 'warn',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, { process: scaledApi, timeoutMs: 180_000 });
    expect(fs.existsSync(path.join(dataDir, 'fireline.db'))).toBe(false);

    const after = await snapshot(base, api.tokens.admin, reviewId);
    expect(after).toEqual(before);
    expect(Object.keys(after.incidents).sort()).toEqual(copied.map((i) => i.id).sort());
    // Every role's copied token still authenticates; a made-up one does not.
    for (const token of Object.values(api.tokens)) {
      const res = await fetch(`${base}/api/v1/incidents/${reviewId}/postmortem`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }
    const forged = await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer ${api.tokens.admin}x` } });
    expect(forged.status).toBe(401);

    // A new incident on PostgreSQL, run by a worker on the same read model, numbered after the highest copied one.
    scaledStore = openPostgresStore(targetUrl, { max: 4 });
    scaledWorker = await startTestWorker({ taskQueue, store: scaledStore });
    const declared = await fetch(`${base}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.tokens.commander}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'First incident after the move', runbook: 'instant' }),
    });
    const body = (await declared.json()) as { incident: IncidentRecord };
    expect(declared.status).toBe(201);
    const highest = Math.max(...copied.map((i) => numberOf(i.id)));
    expect(numberOf(body.incident.id)).toBe(highest + 1);
    await eventually(async () => ((await scaledStore!.getIncident(body.incident.id))?.status === 'closed' ? true : undefined), 'closed');
  });

  test('a second copy is a no-op: exit 0, nothing new, the same rows', async () => {
    const pgBefore = await pgCounts(target);
    const source = sqliteCounts(sqliteFile);
    const t0 = Date.now();
    const run = copyCli(['--to', targetUrl, '--from', sqliteFile]);
    const exit = await waitForExit(run, 180_000);
    const ms = Date.now() - t0;
    expect({ exit, output: run.output() }).toMatchObject({ exit: { code: 0 } });
    for (const table of COPIED_TABLES) {
      expect(run.stdout()).toMatch(new RegExp(`^  ${table} +${source[table]} rows, 0 new, ${pgBefore[table]} there now$`, 'm'));
    }
    expect(run.stdout()).toMatch(/^done in \d+\.\d s: \d+ rows, 0 new;/m);
    expect(await pgCounts(target)).toEqual(pgBefore);
    figures.push(`second copy (no-op): ${ms} ms`);
  });

  test('a copy interrupted after the first chunk of a table resumes there; every row arrives once', async () => {
    const url = databaseUrl(postgres.url, 'resumed');
    const migrated = openPostgresStore(url);
    await migrated.migrate();
    await migrated.close();
    const db = openPgDb(url, { max: 3 });
    try {
      const source = sqliteCounts(sqliteFile);
      const seen: CopyProgress[] = [];
      await expect(
        copySqliteToPostgres(sqliteFile, db, {
          onProgress: (p) => {
            seen.push(p);
            if (p.table === 'audit_log' && p.target < 0) throw new Error('killed mid-copy');
          },
        }),
      ).rejects.toThrow('killed mid-copy');
      const progressOf = async () =>
        Object.fromEntries(
          (
            await db.rows<{ table_name: string; copied: number; finished: boolean }>(
              'SELECT table_name, copied, finished_at IS NOT NULL AS finished FROM store_copy_progress',
            )
          ).map((p) => [p.table_name, [p.copied, p.finished]]),
        );
      const interrupted = await progressOf();
      expect(interrupted.audit_log).toEqual([1000, false]);
      expect(interrupted.incidents).toEqual([source.incidents, true]);
      expect(interrupted.silences).toEqual([0, false]);
      expect((await pgCounts(db)).audit_log).toBe(1000);

      const t0 = Date.now();
      const results = await copySqliteToPostgres(sqliteFile, db);
      const ms = Date.now() - t0;
      const byTable = Object.fromEntries(results.map((r) => [r.table, r]));
      expect(byTable.incidents).toMatchObject({ resumed: true, inserted: 0, target: source.incidents });
      expect(byTable.audit_log).toMatchObject({ copied: source.audit_log, inserted: source.audit_log! - 1000, target: source.audit_log });
      expect(byTable.silences).toMatchObject({ inserted: source.silences, target: source.silences });
      expect(await pgCounts(db)).toEqual(source);
      expect(await progressOf()).toEqual(Object.fromEntries(COPIED_TABLES.map((t) => [t, [source[t], true]])));

      const sqlite = new Database(sqliteFile, { readonly: true });
      const ids = (sqlite.prepare('SELECT id FROM audit_log ORDER BY id').all() as { id: string }[]).map((r) => r.id);
      sqlite.close();
      const pgIds = (await db.rows<{ id: string }>('SELECT id FROM audit_log ORDER BY id COLLATE "C"')).map((r) => r.id);
      expect(pgIds).toEqual(ids);
      figures.push(`in-process copy resumed after 1,000 of ${source.audit_log} audit rows: ${ms} ms`);
    } finally {
      await db.pool.end();
    }
  });
});
