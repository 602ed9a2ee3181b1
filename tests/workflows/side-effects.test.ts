import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { Targets } from '../../src/domain/targets';
import type { TimelineEvent } from '../../src/domain/timeline';
import { snapshotOf } from '../support/runbooks';
import { resolveUpdate, statusQuery } from '../../workflows/messages';
import { eventually } from '../support/temporal';
import { useWorkflowHarness } from '../support/workflow-harness';
import type { IncidentHandle } from '../support/workflow-harness';

/** A remediation endpoint that records every call and answers per path. */
class TargetServer {
  readonly calls: { method: string; path: string; key: string | undefined }[] = [];
  private healthAnswers: number[] = [];
  private server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '/';
      this.calls.push({ method: req.method ?? '', path: url, key: req.headers['idempotency-key'] as string | undefined });
      if (url === '/health') {
        res.statusCode = this.healthAnswers.shift() ?? 200;
      } else {
        res.statusCode = url.startsWith('/fail') ? 400 : 200;
      }
      res.end('ok');
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  answerHealth(...statuses: number[]) {
    this.healthAnswers = statuses;
  }
  paths() {
    return this.calls.map((c) => c.path);
  }
  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

// The worker needs the target server's URL, so this file starts it itself.
const wf = useWorkflowHarness('effects', { worker: false });
let target: TargetServer;

beforeEach(async () => {
  const dir = wf.dir;
  target = new TargetServer();
  await target.start();
  const source = path.join(dir, 'orders.db');
  const db = new Database(source);
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders (total) VALUES (9.5), (12);');
  db.close();
  const targets: Targets = {
    databases: {},
    backups: { 'orders-db': { provider: 'sqlite', path: '${ORDERS_DB_PATH}' } },
    commands: {},
    secrets: { 'failover-hmac': { env: 'FAILOVER_HMAC_SECRET' } },
  };
  await wf.startWorker({
    deps: {
      targets,
      env: { TARGET_URL: target.url, ORDERS_DB_PATH: source, FAILOVER_HMAC_SECRET: 'test-secret-value' },
      backupDir: path.join(dir, 'backups'),
    },
  });
});
afterEach(async () => {
  await target.stop();
});

type Handle = IncidentHandle;

async function run(
  snapshot: RunbookSnapshot,
  drive?: (handle: Handle) => Promise<void>,
): Promise<{ handle: Handle; events: TimelineEvent[] }> {
  const handle = await wf.start(snapshot);
  await drive?.(handle);
  await handle.result();
  return { handle, events: await wf.timeline(handle) };
}

const action = (p: string, extra: Record<string, unknown> = {}) => ({
  kind: 'action',
  http: { url: `\${TARGET_URL}${p}`, secret: 'failover-hmac' },
  ...extra,
});

const SAGA = snapshotOf({
  id: 'saga',
  title: 'Saga',
  owner: 'team-test',
  compensations: {
    'undo-a': { http: { url: '${TARGET_URL}/undo-a' } },
    'undo-b': { http: { url: '${TARGET_URL}/undo-b' } },
  },
  phases: {
    execute: [
      { id: 'step-a', ...action('/a', { compensate: 'undo-a' }) },
      { id: 'step-b', ...action('/b', { compensate: 'undo-b' }) },
      { id: 'step-c', ...action('/fail', { onFailure: 'compensate', retries: 3 }) },
      { id: 'never', ...action('/never') },
    ],
    recover: [{ id: 'not-reached', kind: 'notify', message: 'x' }],
    retrospective: [{ id: 'review', kind: 'notify', message: 'review' }],
  },
});

test('a failing action with onFailure compensate runs the compensations in reverse, each once', async () => {
  const { events } = await run(SAGA, async (handle) => {
    // The saga aborted the runbook: the incident waits for a human to resolve it.
    await eventually(
      async () => ((await handle.query(statusQuery)).currentStep === null && target.paths().length === 5 ? true : undefined),
      'compensations',
    );
    await handle.executeUpdate(resolveUpdate, {
      args: [{ actor: { id: 'u1', name: 'Grace', role: 'commander' }, summary: 'rolled back' }],
    });
  });
  // 400 is not retried; the compensations run newest first; nothing after the failure runs.
  expect(target.paths()).toEqual(['/a', '/b', '/fail', '/undo-b', '/undo-a']);
  expect(target.calls.map((c) => c.key)).toEqual(
    expect.arrayContaining([expect.stringMatching(/:step-a$/), expect.stringMatching(/:step-b:compensate$/)]),
  );
  expect(events.filter((e) => e.type === 'step.compensated').map((e) => e.data.compensation)).toEqual(['undo-b', 'undo-a']);
  expect(events.find((e) => e.type === 'step.failed')?.data).toMatchObject({ stepId: 'step-c', onFailure: 'compensate' });
  expect(events.some((e) => e.type === 'step.started' && e.data.stepId === 'never')).toBe(false);
});

test('verify keeps checking until healthy within its until', async () => {
  target.answerHealth(503, 503);
  const { events } = await run(
    snapshotOf({
      id: 'verify',
      title: 'Verify',
      owner: 'team-test',
      phases: {
        recover: [
          { id: 'healthy', kind: 'verify', check: { http: { url: '${TARGET_URL}/health', expect: 200 } }, until: '30s', interval: '200ms' },
        ],
        retrospective: [{ id: 'review', kind: 'notify', message: 'review' }],
      },
    }),
  );
  expect(target.paths().filter((p) => p === '/health')).toHaveLength(3);
  expect(events.filter((e) => e.type === 'check.unhealthy')).toHaveLength(1);
  expect(events.find((e) => e.type === 'step.succeeded' && e.data.stepId === 'healthy')?.data).toMatchObject({
    output: { result: 'healthy', checks: 3 },
  });
});

test('verify that stays unhealthy past its until fails the step', async () => {
  target.answerHealth(...Array(50).fill(503));
  const { events } = await run(
    snapshotOf({
      id: 'verify-fails',
      title: 'Verify',
      owner: 'team-test',
      autoResolve: true,
      phases: {
        recover: [
          {
            id: 'healthy',
            kind: 'verify',
            check: { http: { url: '${TARGET_URL}/health' } },
            until: '3s',
            interval: '300ms',
            onFailure: 'continue',
          },
        ],
        retrospective: [{ id: 'review', kind: 'notify', message: 'review' }],
      },
    }),
  );
  expect(events.find((e) => e.type === 'step.failed')?.summary).toMatch(/still unhealthy after \d+ checks: HTTP 503/);
});

test('a backup records location, size and sha256 on the timeline, and the copy restores', async () => {
  const { events, handle } = await run(
    snapshotOf({
      id: 'backup',
      title: 'Backup',
      owner: 'team-test',
      phases: {
        execute: [{ id: 'snapshot', kind: 'backup', target: 'orders-db', restoreCheck: true }],
        retrospective: [{ id: 'review', kind: 'notify', message: 'review' }],
      },
    }),
  );
  const taken = events.find((e) => e.type === 'backup.taken');
  expect(taken?.data).toMatchObject({ target: 'orders-db', provider: 'sqlite', restoreCheck: { ok: true } });
  const location = String(taken?.data.location);
  expect(location).toContain(path.join(wf.dir, 'backups'));
  expect(fs.statSync(location).size).toBe(taken?.data.sizeBytes);
  const copy = new Database(location, { readonly: true });
  expect(copy.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 2 });
  copy.close();
  expect(handle.workflowId).toBeDefined();
});
