import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createApp } from '../src/api/app';
import { createLogger } from '../src/logger';
import { RunbookCatalog } from '../src/runbooks/catalog';
import { createIncidentService } from '../src/services/incidents';
import { createTokenService } from '../src/services/tokens';
import { WORKFLOWS_PATH } from '../src/temporal/worker';
import { ENGINE_LABEL, EVENTS_PER_INCIDENT, INCIDENTS, fill, openStore } from './engines';
import type { Engine } from './engines';
import { FIRELINE_BENCH_CONVERTER } from './codec';
import { fmt, summarize } from './stats';
import type { Summary } from './stats';
import { cliActionContext } from '../src/services/audit';

/**
 * Far above the numbers the declare and ingest benches draw on the same dev server, and apart per engine, so
 * workflow ids never meet.
 */
const FIRST_NUMBER = { sqlite: 5_000_001, postgres: 6_000_001 } as const;

const ROUTES = {
  first: 'GET /incidents?limit=50, first page',
  deep: 'GET /incidents?limit=50, pages 2–5 by cursor',
  filtered: 'GET /incidents?limit=50 with filters (half by cursor)',
  timeline: `GET /incidents/:id/timeline (${EVENTS_PER_INCIDENT} events)`,
} as const;
type Route = keyof typeof ROUTES;

export interface ReadModelResult {
  engine: Engine['kind'];
  fillMs: number;
  describe: Summary;
  routes: Record<Route, Summary>;
  summary: { coldMs: number; warm: Summary };
}

/**
 * The read model at scale on one engine against Temporal's own answer for one incident: the list route (first
 * page, pages 2–5 by cursor, filtered pages) and the timeline route, and DescribeWorkflowExecution of a real
 * incident workflow on the same dev server, measured interleaved. `engine` must be a fresh database.
 */
export async function benchReadModel(opts: { address: string; engine: Engine; samples: number }): Promise<ReadModelResult> {
  const store = openStore(opts.engine);
  await store.migrate();
  const first = FIRST_NUMBER[opts.engine.kind];
  const fillMs = await fill(opts.engine, first);

  const logger = createLogger({ level: 'warn' });
  const native = await NativeConnection.connect({ address: opts.address });
  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection, dataConverter: FIRELINE_BENCH_CONVERTER });
  const taskQueue = `bench-read-${randomUUID().slice(0, 6)}`;
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ store }),
    dataConverter: FIRELINE_BENCH_CONVERTER,
  });
  const running = worker.run();
  const tokens = createTokenService({ store });
  const { token } = await tokens.create('bench', 'commander', cliActionContext('bench', 'token create'));
  const runbooks = new RunbookCatalog(path.join(__dirname, '..', 'runbooks'));
  const incidents = createIncidentService({ client, store, runbooks, taskQueue, logger });
  const app = createApp({ logger, store, incidents, tokens, runbooks, checkTemporal: async () => undefined });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
  const headers = { authorization: `Bearer ${token}` };

  async function get<T>(url: string): Promise<{ ms: number; body: T }> {
    const t0 = performance.now();
    const res = await fetch(base + url, { headers });
    const body = (await res.json()) as T;
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${JSON.stringify(body)}`);
    return { ms, body };
  }

  // One real incident: the triage runbook waits for a human decision, so its workflow stays open to describe.
  const declared = await fetch(`${base}/incidents`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Bench incident to describe', runbook: 'triage' }),
  });
  if (declared.status !== 201) throw new Error(`declare answered ${declared.status}: ${await declared.text()}`);
  const { incident } = (await declared.json()) as { incident: { id: string; workflowId: string } };
  for (
    let i = 0;
    i < 100 && !(await get<{ live: { openDecisions: unknown[] } | null }>(`/incidents/${incident.id}`)).body.live?.openDecisions.length;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const describe = async () => {
    const t0 = performance.now();
    await client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: incident.workflowId } });
    return performance.now() - t0;
  };

  // Cursors for pages 2–5, whole and filtered, taken once (a cursor stays valid).
  type ListPage = { items: { id: string }[]; nextCursor: string | null };
  const cursorsOf = async (query: string) => {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let p = 0; p < 4; p++) {
      const page: ListPage = (await get<ListPage>(`/incidents?limit=50${query}${cursor ? `&cursor=${cursor}` : ''}`)).body;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
      out.push(cursor);
    }
    return out;
  };
  const deep = await cursorsOf('');
  const filters = [
    '&status=closed&service=checkout',
    '&severity=SEV2',
    '&runbook=triage&status=closed',
    '&service=payments&from=2025-01-01T00:00:00Z',
  ];
  const filtered = await Promise.all(filters.map(async (f) => ({ f, cursors: await cursorsOf(f) })));
  const ids = Array.from({ length: 97 }, (_, i) => `INC-${first + Math.floor((i / 97) * INCIDENTS)}`);

  const SUMMARY_FROM = new Date(Date.now() - 3 * 365 * 86_400_000).toISOString();
  const cold = performance.now();
  await get(`/metrics/summary?groupBy=week&from=${SUMMARY_FROM}`);
  const metricsColdMs = performance.now() - cold;

  const samples = {
    describe: [] as number[],
    first: [] as number[],
    deep: [] as number[],
    filtered: [] as number[],
    timeline: [] as number[],
    summary: [] as number[],
  };
  const round = async (n: number, record: boolean) => {
    const f = filtered[n % filtered.length]!;
    const steps: [keyof typeof samples, () => Promise<number>][] = [
      ['describe', describe],
      ['first', async () => (await get('/incidents?limit=50')).ms],
      ['deep', async () => (await get(`/incidents?limit=50&cursor=${deep[n % deep.length]}`)).ms],
      [
        'filtered',
        async () =>
          (await get(`/incidents?limit=50${f.f}${n % 2 && f.cursors.length ? `&cursor=${f.cursors[n % f.cursors.length]}` : ''}`)).ms,
      ],
      ['timeline', async () => (await get(`/incidents/${ids[n % ids.length]}/timeline`)).ms],
    ];
    // Rotate the order so no route always runs right after another.
    for (let k = 0; k < steps.length; k++) {
      const [name, run] = steps[(n + k) % steps.length]!;
      const ms = await run();
      if (record) samples[name].push(ms);
    }
  };
  for (let n = 0; n < 30; n++) await round(n, false);
  for (let n = 0; n < opts.samples; n++) await round(n, true);
  // Apart from the routes above: a summary allocates enough to put garbage-collection pauses into their tails.
  for (let n = 0; n < 30; n++) samples.summary.push((await get(`/metrics/summary?groupBy=week&from=${SUMMARY_FROM}`)).ms);

  await client.workflow
    .getHandle(incident.workflowId)
    .terminate('bench finished')
    .catch(() => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  worker.shutdown();
  await running;
  await native.close();
  await connection.close();
  await store.close();

  return {
    engine: opts.engine.kind,
    fillMs,
    describe: summarize(samples.describe),
    routes: {
      first: summarize(samples.first),
      deep: summarize(samples.deep),
      filtered: summarize(samples.filtered),
      timeline: summarize(samples.timeline),
    },
    summary: { coldMs: metricsColdMs, warm: summarize(samples.summary) },
  };
}

/**
 * One table, a column group per engine: p50, p95, p99 and the p95 ratio against that engine's own
 * DescribeWorkflowExecution samples (target ≤ 1.0).
 */
export function readModelLines(results: ReadModelResult[], skipped: string[]): string[] {
  const rows: [string, (r: ReadModelResult) => { s: Summary; ratio?: number }][] = [
    [`DescribeWorkflowExecution (n=${results[0]?.describe.n ?? 0})`, (r) => ({ s: r.describe })],
    ...(Object.keys(ROUTES) as Route[]).map((k): [string, (r: ReadModelResult) => { s: Summary; ratio: number }] => [
      ROUTES[k],
      (r) => ({ s: r.routes[k], ratio: r.routes[k].p95 / r.describe.p95 }),
    ]),
  ];
  const label = Math.max(...rows.map(([name]) => name.length));
  const cell = (values: string[]) => values.map((v) => v.padStart(8)).join('');
  const ms = (x: number) => x.toFixed(1);
  const line = (name: string, cells: string[]) => name.padEnd(label) + cells.map((c) => ` │ ${c}`).join('');
  return [
    `${INCIDENTS.toLocaleString('en')} incidents, ${(INCIDENTS * EVENTS_PER_INCIDENT).toLocaleString('en')} timeline events; ` +
      results.map((r) => `${ENGINE_LABEL[r.engine]} filled in ${(r.fillMs / 1000).toFixed(1)} s`).join(', '),
    ...skipped,
    'milliseconds; ratio = route p95 / DescribeWorkflowExecution p95, measured interleaved on the same engine (target ≤ 1.0)',
    line(
      '',
      results.map((r) => ENGINE_LABEL[r.engine].padStart(32)),
    ),
    line(
      '',
      results.map(() => cell(['p50', 'p95', 'p99', 'ratio'])),
    ),
    ...rows.map(([name, of]) =>
      line(
        name,
        results.map((r) => {
          const { s, ratio } = of(r);
          return cell([ms(s.p50), ms(s.p95), ms(s.p99), ratio === undefined ? '' : ratio.toFixed(2)]);
        }),
      ),
    ),
    ...results.map(
      (r) =>
        `GET /metrics/summary over every incident, ${ENGINE_LABEL[r.engine]}: first call (fills the milestone cache) ${fmt(r.summary.coldMs)}; ` +
        `afterwards p50 ${fmt(r.summary.warm.p50)}, p95 ${fmt(r.summary.warm.p95)} (n=${r.summary.warm.n})`,
    ),
  ];
}
