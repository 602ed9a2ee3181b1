// The scaled shape end to end, on the production engine: one PostgreSQL cluster holds Temporal's databases and
// Fireline's read model (database `fireline`), the real Temporal server runs on it, and two `fireline api` and two
// `fireline worker` child processes share both. An Alertmanager storm (seeded PRNG: fresh alerts, repeats, resolves)
// is spread round-robin over the two APIs, retried like Alertmanager retries (503, refused or cut connections);
// one API is SIGKILLed mid-storm and one worker mid-escalation, and each is restarted.
//
// Then: exactly one incident per alert group; every accepted delivery counted on its group's incident (a delivery
// whose connection was cut may or may not have been accepted, so it may count once more, never twice); every
// escalation level of every incident paged exactly once (Message-IDs at the SMTP server); no timeline event twice.
//
// Each group routes to its own runbook and escalation policy with its own three people: email is throttled to one
// page a minute per address, so twenty incidents paging the same person would be twenty minutes of throttling.
//
// The default is a short storm that fits the normal jest run; FIRELINE_SCALED_FULL=1 (`npm run test:scaled`) runs
// the storm of the load test, 10,000 deliveries in 60 s. The figures are printed; only counts are asserted.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { emailMessageId } from '../../activities/channels';
import type { IncidentRecord } from '../../src/domain/incident';
import type { TimelineEvent } from '../../src/domain/timeline';
import { buildAlertmanagerMessage } from '../../src/ingest/alertmanager';
import { openPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { TEST_PAYLOAD_KEYS, testDataConverter } from '../support/keys';
import { databaseUrl, postgresAvailability, psql, startPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { findFreePort, killAllTracked, spawnFireline, waitForHttp, waitUntil, sigkill, waitForWorkerPolling } from '../support/processes';
import type { SpawnedProcess } from '../support/processes';
import { TestSmtpServer } from '../support/smtp';
import type { ReceivedMail } from '../support/smtp';
import { tempDir } from '../support/temporal';
import { startTemporalServer, temporalServerAvailability } from '../support/temporal-server';
import type { TestTemporalServer } from '../support/temporal-server';
import { prng } from '../support/prng';

const FULL = process.env.FIRELINE_SCALED_FULL === '1';
const SHAPE = FULL
  ? { groups: 20, perGroup: 10, deliveries: 10_000, windowMs: 60_000, concurrency: 40 }
  : { groups: 20, perGroup: 5, deliveries: 1_500, windowMs: 15_000, concurrency: 16 };
const SEED = Number(process.env.STORM_SEED ?? 20261203);

jest.setTimeout(FULL ? 900_000 : 300_000);

const availability = postgresAvailability().run ? temporalServerAvailability() : postgresAvailability();
const maybe = availability.run ? describe : describe.skip;

const TASK_QUEUE = 'fireline';
const PUBLIC_URL = 'https://fireline.example.com';
const MAIL_FROM = 'Fireline <fireline@example.com>';
const ADMIN_TOKEN = 'scaled-test-admin-token-0123456789abcdef';
const ALERTMANAGER_TOKEN = 'scaled-test-alertmanager-token-0123456789';
const INTEGRATION = 'prometheus-prod';
const PAGE_STEP = 'page-oncall';
const HOLD_STEP = 'hold';
const LEVELS = 3;
/**
 * Each level's delay. The worker is killed once every incident's level 1 went out, which must fall before any
 * level 2 is due: the incidents open within the storm's first seconds, so their level-1 pages are that close.
 */
const LEVEL_DELAY_S = 8;
/** How long the test waits before sending a refused or cut delivery again (Alertmanager backs off similarly). */
const RETRY_MS = 100;
const STARTS_AT = '2026-12-03T10:00:00Z';

const runbookOf = (group: number) => `scaled-g${group}`;
const policyOf = (group: number) => `scaled-g${group}`;
const personOf = (group: number, level: number) => `g${group}-l${level}`;
const emailOf = (group: number, level: number) => `${personOf(group, level)}@example.com`;
const alertnameOf = (group: number) => `ScaledStorm${group}`;
const groupOfRunbook = (runbookId: string) => Number(/^scaled-g(\d+)$/.exec(runbookId)?.[1] ?? NaN);

function groupRange(): number[] {
  return Array.from({ length: SHAPE.groups }, (_, g) => g);
}

function oncallYaml(): string {
  const people = groupRange().flatMap((g) =>
    Array.from({ length: LEVELS }, (_, l) => {
      const level = l + 1;
      return `  - { id: ${personOf(g, level)}, name: "Group ${g} level ${level}", email: ${emailOf(g, level)}, timeZone: Europe/Berlin }`;
    }),
  );
  const policies = groupRange().map((g) => {
    const levels = Array.from(
      { length: LEVELS },
      (_, l) => `      - { targets: [{ person: ${personOf(g, l + 1)} }], delay: ${LEVEL_DELAY_S}s }`,
    );
    return `  - id: ${policyOf(g)}\n    levels:\n${levels.join('\n')}\n    repeat: 0`;
  });
  return `people:\n${people.join('\n')}\nescalationPolicies:\n${policies.join('\n')}\n`;
}

/**
 * The page step waits for an acknowledgement; when the policy runs out it fails but the runbook goes on, and the
 * decision after it keeps the incident open: its request on the timeline says the escalation is over.
 */
function runbookYaml(group: number): string {
  return `id: ${runbookOf(group)}
title: Scaled storm group ${group}
owner: team-test
service: orders
escalation: ${policyOf(group)}
phases:
  report:
    - { id: ${PAGE_STEP}, kind: page, wait: ack, onFailure: continue }
    - { id: ${HOLD_STEP}, kind: decide, prompt: "Keep the incident open?", options: [stay, close], default: stay, timeout: 30m }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;
}

/** Routing needs the runbook that alerts matching no rule go to; the storm's alerts all match a rule. */
const TRIAGE_YAML = `id: triage
title: Triage
owner: team-test
phases:
  report:
    - { id: look, kind: decide, prompt: "Is this real?", options: [yes, no], default: yes, timeout: 30m }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;

function routingYaml(): string {
  const rules = groupRange().map(
    (g) =>
      `  - name: storm-g${g}\n    match:\n      labels:\n        alertname: ${alertnameOf(g)}\n    runbook: ${runbookOf(g)}\n    severity: SEV2`,
  );
  return `rules:\n${rules.join('\n')}\n`;
}

const INTEGRATIONS_YAML = `integrations:
  ${INTEGRATION}:
    type: alertmanager
    description: The storm's Alertmanager
    token: { env: FIRELINE_ALERTMANAGER_TOKEN }
`;

interface Delivery {
  group: number;
  alert: number;
  status: 'firing' | 'resolved';
}

/** Every alert fires first; then 30 % exact repeats of an earlier delivery, 10 % resolves, the rest re-firings. */
function plan(seed: number): Delivery[] {
  const random = prng(seed);
  const out: Delivery[] = [];
  const fresh = SHAPE.groups * SHAPE.perGroup;
  for (let i = 0; i < SHAPE.deliveries; i++) {
    const roll = random();
    if (i < fresh) out.push({ group: i % SHAPE.groups, alert: Math.floor(i / SHAPE.groups), status: 'firing' });
    else if (roll < 0.3) out.push({ ...out[Math.floor(random() * out.length)]! });
    else if (roll < 0.4)
      out.push({ group: Math.floor(random() * SHAPE.groups), alert: Math.floor(random() * SHAPE.perGroup), status: 'resolved' });
    else out.push({ group: Math.floor(random() * SHAPE.groups), alert: Math.floor(random() * SHAPE.perGroup), status: 'firing' });
  }
  return out;
}

const instanceOf = (d: Pick<Delivery, 'group' | 'alert'>) => `orders-${d.group}-${d.alert}`;

function bodyOf(d: Delivery): string {
  return JSON.stringify(
    buildAlertmanagerMessage({
      groupLabels: { alertname: alertnameOf(d.group) },
      routeMatchers: ['team="commerce"'],
      alerts: [
        {
          labels: { alertname: alertnameOf(d.group), service: 'orders', instance: instanceOf(d) },
          status: d.status,
          startsAt: STARTS_AT,
          endsAt: d.status === 'resolved' ? '2026-12-03T10:30:00Z' : undefined,
          annotations: { summary: `Scaled storm ${d.group}/${d.alert}` },
        },
      ],
    }),
  );
}

/** What the storm did to one alert (one fingerprint, one episode), from the sender's side. */
interface Sent {
  group: number;
  /** Deliveries answered 202. */
  accepted: number;
  /** Deliveries whose connection was cut or timed out after sending: maybe accepted, maybe not. */
  uncertain: number;
  resolveAccepted: boolean;
  resolveUncertain: boolean;
}

interface Figures {
  deliveries: number;
  statuses: Map<number, number>;
  /** Connection refused: certainly not received (the API was down). */
  refused: number;
  /** Cut or timed out mid-request. */
  uncertain: number;
  retries: number;
  unexpected: string[];
  stormMs: number;
  drainMs: number;
}

interface ApiProcess {
  name: string;
  port: number;
  process: SpawnedProcess;
}

maybe(`scaled: two APIs and two workers on the production Temporal server and one PostgreSQL${availability.label}`, () => {
  let postgres: TestPostgres;
  let temporal: TestTemporalServer;
  let connection: Connection;
  let client: Client;
  let smtp: TestSmtpServer;
  let store: Store;
  let dbUrl: string;
  let dir: string;
  let configDir: string;
  let runbooksDir: string;

  beforeAll(async () => {
    const t0 = Date.now();
    postgres = await startPostgres();
    await psql(postgres.binDir, postgres.url, 'CREATE DATABASE fireline');
    dbUrl = databaseUrl(postgres.url, 'fireline');
    temporal = await startTemporalServer({ postgres });
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace, dataConverter: testDataConverter() });
    smtp = await TestSmtpServer.start();
    dir = tempDir('fireline-scaled-');
    configDir = path.join(dir, 'config');
    runbooksDir = path.join(dir, 'runbooks');
    fs.mkdirSync(configDir);
    fs.mkdirSync(runbooksDir);
    fs.writeFileSync(path.join(configDir, 'oncall.yaml'), oncallYaml());
    fs.writeFileSync(path.join(configDir, 'integrations.yaml'), INTEGRATIONS_YAML);
    fs.writeFileSync(path.join(configDir, 'routing.yaml'), routingYaml());
    for (const g of groupRange()) fs.writeFileSync(path.join(runbooksDir, `${runbookOf(g)}.yaml`), runbookYaml(g));
    fs.writeFileSync(path.join(runbooksDir, 'triage.yaml'), TRIAGE_YAML);
    process.stderr.write(
      `[scaled] PostgreSQL and Temporal server ready in ${Date.now() - t0} ms (schema ${temporal.startupMs.schema} ms)\n`,
    );
  });

  afterAll(async () => {
    await killAllTracked();
    await store?.close();
    await connection?.close();
    await smtp?.close();
    await temporal?.stop();
    await postgres?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Settings every Fireline process gets: the shared read model and Temporal, paging by email; its own data dir. */
  function fireline(name: string, command: 'api' | 'worker', extra: Record<string, string> = {}): SpawnedProcess {
    const dataDir = path.join(dir, `data-${name}`);
    fs.mkdirSync(dataDir, { recursive: true });
    return spawnFireline(name, [command], {
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      // One ring for every replica: each has a data dir of its own, so a key file per process could not work.
      FIRELINE_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      FIRELINE_TASK_QUEUE: TASK_QUEUE,
      FIRELINE_DATA_DIR: dataDir,
      FIRELINE_CONFIG_DIR: configDir,
      FIRELINE_RUNBOOKS_DIR: runbooksDir,
      FIRELINE_PUBLIC_URL: PUBLIC_URL,
      SMTP_URL: smtp.url(),
      FIRELINE_MAIL_FROM: MAIL_FROM,
      FIRELINE_LOG_LEVEL: 'warn',
      ...extra,
    });
  }

  async function startApi(name: string, port: number): Promise<ApiProcess> {
    const api = fireline(name, 'api', {
      FIRELINE_HOST: '127.0.0.1',
      FIRELINE_PORT: String(port),
      FIRELINE_ADMIN_TOKEN: ADMIN_TOKEN,
      FIRELINE_ALERTMANAGER_TOKEN: ALERTMANAGER_TOKEN,
    });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: api, timeoutMs: 180_000 });
    return { name, port, process: api };
  }

  /** Resolves once the worker polls both the workflow and the activity side of the task queue. */
  async function startWorker(name: string): Promise<SpawnedProcess> {
    const worker = fireline(name, 'worker');
    await waitForWorkerPolling(worker, {
      name,
      connection,
      namespace: temporal.namespace,
      taskQueue: TASK_QUEUE,
      timeoutMs: 180_000,
      intervalMs: 250,
    });
    return worker;
  }

  async function apiGet<T>(port: number, route: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1${route}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200) throw new Error(`GET ${route} on :${port}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as T;
  }

  async function incidentsVia(port: number): Promise<IncidentRecord[]> {
    const items: IncidentRecord[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : '?limit=200';
      const page: { items: IncidentRecord[]; nextCursor: string | null } = await apiGet(port, `/incidents${query}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  async function timelineVia(port: number, id: string): Promise<TimelineEvent[]> {
    return (await apiGet<{ events: TimelineEvent[] }>(port, `/incidents/${id}/timeline?limit=10000`)).events;
  }

  test(`a storm of ${SHAPE.deliveries} Alertmanager deliveries over two APIs, one API and one worker SIGKILLed: one incident per group, every alert counted, every level paged once`, async () => {
    const [port1, port2] = [await findFreePort(), await findFreePort()];
    // All four at once: their migrations race on one database, and must run once.
    const [api1, api2, worker1, worker2] = await Promise.all([
      startApi('api-1', port1),
      startApi('api-2', port2),
      startWorker('worker-1'),
      startWorker('worker-2'),
    ]);
    const apis: ApiProcess[] = [api1, api2];
    const workers: SpawnedProcess[] = [worker1, worker2];
    store = openPostgresStore(dbUrl, { max: 2 });

    const deliveries = plan(SEED);
    const sent = new Map<string, Sent>();
    for (const d of deliveries) {
      const key = instanceOf(d);
      if (!sent.has(key)) sent.set(key, { group: d.group, accepted: 0, uncertain: 0, resolveAccepted: false, resolveUncertain: false });
    }
    const figures: Figures = {
      deliveries: deliveries.length,
      statuses: new Map(),
      refused: 0,
      uncertain: 0,
      retries: 0,
      unexpected: [],
      stormMs: 0,
      drainMs: 0,
    };
    const perApi = new Map<number, number>();

    /** One delivery, sent until an API answers 202 (Alertmanager retries 5xx and connection errors the same way). */
    async function deliver(index: number): Promise<void> {
      const d = deliveries[index]!;
      const record = sent.get(instanceOf(d))!;
      const body = bodyOf(d);
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) figures.retries += 1;
        // Round-robin as a load balancer would; a retry goes to the other replica.
        const port = [port1, port2][(index + attempt) % 2]!;
        let status: number;
        let retryAfterMs = RETRY_MS;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts/alertmanager`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ALERTMANAGER_TOKEN}`, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          status = res.status;
          figures.statuses.set(status, (figures.statuses.get(status) ?? 0) + 1);
          if (status === 202) {
            record.accepted += 1;
            if (d.status === 'resolved') record.resolveAccepted = true;
            perApi.set(port, (perApi.get(port) ?? 0) + 1);
            return;
          }
          if (status !== 503) {
            figures.unexpected.push(`HTTP ${status} from :${port}: ${text.slice(0, 200)}`);
            return;
          }
          retryAfterMs = Math.min(1000, Number(res.headers.get('retry-after') ?? 1) * 1000);
        } catch (err) {
          if (causeCode(err) === 'ECONNREFUSED') {
            figures.refused += 1;
          } else {
            figures.uncertain += 1;
            record.uncertain += 1;
            if (d.status === 'resolved') record.resolveUncertain = true;
          }
        }
        await new Promise((r) => setTimeout(r, retryAfterMs));
      }
    }

    let dispatched = 0;
    const stormStarted = Date.now();
    async function sender(): Promise<void> {
      for (;;) {
        const i = dispatched++;
        if (i >= deliveries.length) return;
        // Spread evenly over the window, as a real storm arrives.
        const due = stormStarted + (i * SHAPE.windowMs * 0.9) / deliveries.length;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        await deliver(i);
      }
    }
    const storm = Promise.all(Array.from({ length: SHAPE.concurrency }, sender)).then(() => {
      figures.stormMs = Date.now() - stormStarted;
    });

    // Mid-storm: the first API dies with whatever it had in flight, and comes back on its port.
    const apiChaos = (async () => {
      await waitUntil(() => dispatched >= deliveries.length * 0.4, '40 % of the storm to be dispatched', SHAPE.windowMs * 3, 20);
      await sigkill(apis[0]!.process);
      const killedAt = dispatched;
      apis[0] = await startApi('api-1-restarted', port1);
      return { killedAt, restartedAt: dispatched };
    })();

    // Mid-escalation: once every incident's level 1 went out, the first worker dies and a new one takes its place.
    const workerChaos = (async () => {
      await waitUntil(() => levelKeys(smtp.messages, 1).size >= SHAPE.groups, `level 1 of all ${SHAPE.groups} incidents`, 180_000, 50);
      const laterLevels = levelKeys(smtp.messages, 2).size + levelKeys(smtp.messages, 3).size;
      const killedPid = workers[0]!.pid;
      await sigkill(workers[0]!);
      const atDispatch = dispatched;
      workers[0] = await startWorker('worker-1-restarted');
      return { killedPid, laterLevels, atDispatch };
    })();

    const [, apiKill, workerKill] = await Promise.all([storm, apiChaos, workerChaos]);

    // Drained: the inbox is empty, every accepted delivery is on its incident, every escalation has ended.
    const drainStarted = Date.now();
    await waitUntil(
      async () => {
        if ((await store.incidentsWithPendingAlerts()).length) return false;
        const incidents = (await store.listIncidents({ limit: 200 })).items;
        if (new Set(incidents.map((i) => i.runbookId)).size < SHAPE.groups) return false;
        for (const incident of incidents) {
          const alerts = await store.listAlerts(incident.id);
          const received = new Map(alerts.map((a) => [a.labels.instance, a.received]));
          for (const [instance, s] of sent) {
            if (s.group === groupOfRunbook(incident.runbookId) && (received.get(instance) ?? 0) < s.accepted) return false;
          }
          const events = await store.listTimeline(incident.id, { limit: 10_000 });
          if (!events.some((e) => e.type === 'decision.requested' && e.data.stepId === HOLD_STEP)) return false;
        }
        return true;
      },
      'the inbox to drain, every accepted alert to be counted and every escalation to end',
      FULL ? 600_000 : 180_000,
      500,
    );
    figures.drainMs = Date.now() - drainStarted;

    // Everything the assertions look at, read once the system is quiet; the figures are printed before any check.
    const incidents = await incidentsVia(port1);
    const fromOther = await incidentsVia(port2);
    const fromStore = (await store.listIncidents({ limit: 200 })).items;
    const alertsOf = new Map(await Promise.all(incidents.map(async (i) => [i.id, await store.listAlerts(i.id)] as const)));
    const pagesOf = new Map(await Promise.all(incidents.map(async (i) => [i.id, await store.listPages(i.id)] as const)));
    const timelines = new Map(
      await Promise.all(
        incidents.map(async (i) => [i.id, { one: await timelineVia(port1, i.id), other: await timelineVia(port2, i.id) }] as const),
      ),
    );
    const histories = await Promise.all(
      incidents.map(async (i) => (await client.workflow.getHandle(i.workflowId).fetchHistory()).events ?? []),
    );
    // The killed worker had been running some of these incidents: its identity is in their histories.
    const ranOnKilled = histories.filter((events) =>
      events.some((e) => e.workflowTaskStartedEventAttributes?.identity?.startsWith(`${workerKill.killedPid}@`)),
    ).length;
    const mails = smtp.messages.slice();
    const counts = new Map<string, number>();
    for (const m of mails) counts.set(m.messageId ?? '(none)', (counts.get(m.messageId ?? '(none)') ?? 0) + 1);
    // A worker killed inside an SMTP transaction leaves that page uncertain: it is never sent again (it may have
    // arrived), and the next level follows at once. The kill is timed between levels, so this should be none.
    const uncertainPages = [...pagesOf.values()]
      .flat()
      .filter((row) => row.status === 'failed' && /died while sending/.test(row.error ?? ''))
      .map((row) => row.key);
    const received = [...alertsOf.values()].flat().reduce((n, a) => n + a.received, 0);

    const statuses = [...figures.statuses.entries()].sort(([a], [b]) => a - b);
    process.stdout.write(
      [
        `scaled storm (seed ${SEED}, ${FULL ? 'full' : 'short'}): ${figures.deliveries} deliveries, ${SHAPE.groups} groups × ${SHAPE.perGroup} alerts, sent in ${(figures.stormMs / 1000).toFixed(1)} s`,
        `  answers: ${statuses.map(([s, n]) => `${s}×${n}`).join(', ')}; connection refused ${figures.refused}, cut ${figures.uncertain}; retries ${figures.retries}`,
        `  202s per API: ${[...perApi].map(([p, n]) => `${p === port1 ? 'api-1' : 'api-2'} ${n}`).join(', ')}`,
        `  api-1 SIGKILLed at delivery ${apiKill.killedAt}, answering again at ${apiKill.restartedAt}; worker-1 SIGKILLed at delivery ${workerKill.atDispatch} (${workerKill.laterLevels} level-2/3 pages out by then), it had run ${ranOnKilled} of ${incidents.length} incidents`,
        `  incidents: ${incidents.length} (read model ${fromStore.length}); alerts: ${[...alertsOf.values()].flat().length} of ${sent.size}; deliveries counted ${received}, 202s ${figures.statuses.get(202) ?? 0}`,
        `  pages: ${mails.length} emails, ${counts.size} distinct Message-IDs, ${SHAPE.groups * LEVELS} expected, ${uncertainPages.length} uncertain`,
        `  drained ${(figures.drainMs / 1000).toFixed(1)} s after the last delivery; longest history ${Math.max(...histories.map((h) => h.length))} events`,
        '',
      ].join('\n'),
    );

    expect(figures.unexpected).toEqual([]);
    expect(figures.statuses.get(202)).toBe(deliveries.length);
    expect(ranOnKilled).toBeGreaterThan(0);

    // One incident per group, the same list from both replicas and from the read model itself.
    const ids = incidents.map((i) => i.id).sort();
    expect(fromOther.map((i) => i.id).sort()).toEqual(ids);
    expect(fromStore.map((i) => i.id).sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(incidents.map((i) => groupOfRunbook(i.runbookId)).sort((a, b) => a - b)).toEqual(groupRange());

    // Every accepted alert on its group's incident, counted once per accepted delivery (plus at most the cut ones).
    const miscounted: unknown[] = [];
    for (const incident of incidents) {
      const group = groupOfRunbook(incident.runbookId);
      const alerts = alertsOf.get(incident.id)!;
      expect(alerts.map((a) => a.labels.alertname)).toEqual(alerts.map(() => alertnameOf(group)));
      expect(alerts.map((a) => a.startsAt)).toEqual(alerts.map(() => new Date(STARTS_AT).toISOString()));
      const byInstance = new Map(alerts.map((a) => [a.labels.instance!, a]));
      expect(byInstance.size).toBe(alerts.length);
      const expectedInstances = [...sent].filter(([, s]) => s.group === group).map(([instance]) => instance);
      expect([...byInstance.keys()].sort()).toEqual(expectedInstances.sort());
      for (const instance of expectedInstances) {
        const s = sent.get(instance)!;
        const a = byInstance.get(instance)!;
        const statusOk = s.resolveAccepted ? a.status === 'resolved' : s.resolveUncertain || a.status === 'firing';
        if (a.received < s.accepted || a.received > s.accepted + s.uncertain || !statusOk)
          miscounted.push({ instance, incident: incident.id, received: a.received, status: a.status, ...s });
      }
    }
    expect(miscounted).toEqual([]);

    // Each level of each incident paged exactly once: every expected key arrived, every Message-ID once.
    const expectedKeys = new Map<string, string>();
    for (const incident of incidents) {
      const group = groupOfRunbook(incident.runbookId);
      for (let level = 1; level <= LEVELS; level++)
        expectedKeys.set(pageKey(incident.id, level, personOf(group, level)), emailOf(group, level));
    }
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    const keys = mails.map(keyOf);
    expect(keys.filter((k) => k === undefined || !expectedKeys.has(k))).toEqual([]);
    expect([...expectedKeys.keys()].filter((k) => !keys.includes(k) && !uncertainPages.includes(k))).toEqual([]);
    for (const m of mails) {
      const key = keyOf(m)!;
      expect({ key, messageId: m.messageId, to: m.to }).toEqual({
        key,
        messageId: emailMessageId(key, PUBLIC_URL),
        to: [expectedKeys.get(key)],
      });
    }
    expect(smtp.heldMessages).toEqual([]);
    const pageRows = [...pagesOf.values()].flat().filter((row) => !uncertainPages.includes(row.key));
    expect(pageRows.map((row) => [row.key, row.status]).sort()).toEqual(
      [...expectedKeys.keys()]
        .filter((k) => !uncertainPages.includes(k))
        .map((k) => [k, 'sent'])
        .sort(),
    );

    // No timeline event twice, seq contiguous, the escalation told once per level; the same from both replicas.
    for (const incident of incidents) {
      const group = groupOfRunbook(incident.runbookId);
      const { one: events, other } = timelines.get(incident.id)!;
      expect(other).toEqual(events);
      expectTimelineOnce(incident.id, events);
      const expectedLevels = Array.from({ length: LEVELS }, (_, l) => [l + 1, personOf(group, l + 1)]).filter(
        ([level, person]) => !uncertainPages.includes(pageKey(incident.id, Number(level), String(person))),
      );
      expect(events.filter((e) => e.type === 'page.sent').map((e) => [e.data.level, e.data.person])).toEqual(expectedLevels);
      expect(events.filter((e) => e.type === 'page.started')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'page.exhausted')).toHaveLength(1);
      // Every alert of the group is on the timeline: it fired, or its first batch already had it resolved.
      const told = new Set(events.filter((e) => e.type === 'alert.fired' || e.type === 'alert.resolved').map((e) => e.data.fingerprint));
      expect(told.size).toBe(SHAPE.perGroup);
    }
  });
});

function pageKey(incidentId: string, level: number, person: string): string {
  return `${incidentId}:${PAGE_STEP}:r0:l${level}:${person}:email`;
}

/** The error code under fetch's "fetch failed" (undici puts the socket error in `cause`). */
function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function keyOf(mail: ReceivedMail): string | undefined {
  return mail.headers['x-fireline-idempotency-key'];
}

/** The distinct idempotency keys of the pages of `level` received so far. */
function levelKeys(mails: readonly ReceivedMail[], level: number): Set<string> {
  return new Set(mails.map(keyOf).filter((k): k is string => k !== undefined && k.includes(`:l${level}:`)));
}

/**
 * Every event on the timeline exactly once: seq 1..n without gap or repeat, one id per seq, and no logical event
 * recorded twice (a step started twice, a page reported twice, an alert episode fired twice …).
 */
function expectTimelineOnce(id: string, events: TimelineEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.id)).toEqual(events.map((e) => `${id}:${e.seq}`));
  const identity = (e: TimelineEvent) => {
    const d = e.data;
    switch (e.type) {
      case 'page.sent':
      case 'page.failed':
        return `${e.type}|${String(d.stepId)}|r${String(d.round)}|l${String(d.level)}|${String(d.person)}|${String(d.channel)}`;
      case 'alert.fired':
      case 'alert.resolved':
      case 'alert.refired':
        return `${e.type}|${String(d.fingerprint)}|${String(d.startsAt)}`;
      case 'phase.entered':
      case 'phase.completed':
        return `${e.type}|${String(d.phase)}`;
      default:
        return `${e.type}|${String(d.stepId ?? '')}`;
    }
  };
  const seen = events.map(identity);
  expect(seen.filter((k, i) => seen.indexOf(k) !== i)).toEqual([]);
  // Declared once, though not necessarily first: an incident opened by alerts starts with their first batch.
  expect(events.filter((e) => e.type === 'incident.declared')).toHaveLength(1);
}
