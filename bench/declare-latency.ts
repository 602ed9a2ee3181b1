import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createApp } from '../src/api/app';
import { createLogger } from '../src/logger';
import { RunbookCatalog } from '../src/runbooks/catalog';
import { createIncidentService } from '../src/services/incidents';
import { createTokenService } from '../src/services/tokens';
import { openSqliteStore } from '../src/store/sqlite';
import type { OutboxMessage, Store } from '../src/store/store';
import { WORKFLOWS_PATH } from '../src/temporal/worker';
import { FIRELINE_BENCH_CONVERTER } from './codec';
import { fmt, summarize } from './stats';
import { cliActionContext } from '../src/services/audit';

const RUNBOOK = 'triage';

/** Resolves the waiter registered for a message id when the outbox row is written. */
class OutboxWatch {
  private readonly waiters = new Map<string, (at: number) => void>();
  wait(id: string): Promise<number> {
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }
  wrap(store: Store): Store {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        if (prop !== 'enqueueOutbox') return Reflect.get(target, prop, receiver) as unknown;
        return async (message: OutboxMessage) => {
          const isNew = await target.enqueueOutbox(message);
          this.waiters.get(message.id)?.(performance.now());
          return isNew;
        };
      },
    });
  }
}

/**
 * "Declare via the API → first notify step recorded" against "bare workflow.start → its one no-op activity
 * started", on the same dev server in the same run, interleaved so drift hits both equally.
 */
export async function benchDeclareLatency(opts: { address: string; dataDir: string; runs: number; warmup: number }) {
  const store = openSqliteStore(path.join(opts.dataDir, 'bench.db'));
  await store.migrate();
  const watch = new OutboxWatch();
  const logger = createLogger({ level: 'warn' });
  const native = await NativeConnection.connect({ address: opts.address });
  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection, dataConverter: FIRELINE_BENCH_CONVERTER });
  // The bare baseline: no codec (see bench/codec.ts).
  const bareClient = new Client({ connection });

  const firelineQueue = `bench-fireline-${randomUUID().slice(0, 6)}`;
  const bareQueue = `bench-bare-${randomUUID().slice(0, 6)}`;
  const activityStarted = new Map<string, (at: number) => void>();
  const workers = [
    await Worker.create({
      connection: native,
      taskQueue: firelineQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({ store: watch.wrap(store) }),
      maxCachedWorkflows: 500,
      dataConverter: FIRELINE_BENCH_CONVERTER,
    }),
    await Worker.create({
      connection: native,
      taskQueue: bareQueue,
      workflowsPath: path.join(__dirname, 'baseline-workflow.ts'),
      maxCachedWorkflows: 500,
      activities: {
        async noop() {
          const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
          activityStarted.get(workflowId)?.(performance.now());
        },
      },
    }),
  ];
  const running = workers.map((w) => w.run());

  const tokens = createTokenService({ store });
  const { token } = await tokens.create('bench', 'commander', cliActionContext('bench', 'token create'));
  const runbooks = new RunbookCatalog(path.join(__dirname, '..', 'runbooks'));
  const snapshot = await runbooks.get(RUNBOOK);
  const firstNotify = snapshot?.runbook.phases.detect.find((s) => s.kind === 'notify');
  if (!firstNotify) throw new Error(`runbook ${RUNBOOK} must start with a notify step in detect`);
  const incidents = createIncidentService({ client, store, runbooks, taskQueue: firelineQueue, logger });
  const app = createApp({ logger, store, incidents, tokens, runbooks, checkTemporal: async () => undefined });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;

  async function fireline(): Promise<number> {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Bench incident', runbook: RUNBOOK, drill: true }),
    });
    if (res.status !== 201) throw new Error(`declare answered ${res.status}: ${await res.text()}`);
    const { incident } = (await res.json()) as { incident: { id: string } };
    const t1 = await watch.wait(`${incident.id}:${firstNotify!.id}`);
    return t1 - t0;
  }

  async function bare(): Promise<number> {
    const workflowId = `bare-${randomUUID()}`;
    const started = new Promise<number>((resolve) => activityStarted.set(workflowId, resolve));
    const t0 = performance.now();
    await bareClient.workflow.start('bareWorkflow', { workflowId, taskQueue: bareQueue });
    const t1 = await started;
    activityStarted.delete(workflowId);
    return t1 - t0;
  }

  for (let i = 0; i < opts.warmup; i++) {
    await fireline();
    await bare();
  }
  const f: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    // Alternate the order so neither side always runs right after the other.
    if (i % 2 === 0) {
      f.push(await fireline());
      b.push(await bare());
    } else {
      b.push(await bare());
      f.push(await fireline());
    }
  }

  server.close();
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await native.close();
  await connection.close();
  await store.close();

  const fs = summarize(f);
  const bs = summarize(b);
  return {
    lines: [
      `declare → first notify recorded (n=${fs.n}): p50 ${fmt(fs.p50)}, p95 ${fmt(fs.p95)}`,
      `bare start → no-op activity started (n=${bs.n}): p50 ${fmt(bs.p50)}, p95 ${fmt(bs.p95)}`,
      `ratio p50 ${(fs.p50 / bs.p50).toFixed(2)} (target ≤ 1.5), ratio p95 ${(fs.p95 / bs.p95).toFixed(2)}`,
    ],
  };
}
