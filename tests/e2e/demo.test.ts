// `fireline demo` as a newcomer runs it: the pretend order system, a demo installation in its own data dir,
// and a first incident that pages into the outbox, waits for a decision and then runs to closed through all
// six phases, acting on the order system with signed requests.
import fs from 'node:fs';
import path from 'node:path';
import type { TimelineEvent } from '../../src/domain/timeline';
import type { OutboxMessage } from '../../src/store/store';
import type { IncidentView } from '../../workflows/messages';
import { findFreePort, findFreePortWithOffset, killAllTracked, spawnFireline, tail, waitForExit, waitUntil } from '../support/processes';
import type { SpawnedProcess } from '../support/processes';
import { tempDir, testTemporal } from '../support/temporal';

jest.setTimeout(180_000);

const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const dirs: string[] = [];

afterEach(async () => {
  await killAllTracked();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function startDemo(dataDir: string): Promise<{ proc: SpawnedProcess; baseUrl: string }> {
  const port = await findFreePort();
  const temporalPort = await findFreePortWithOffset(1000);
  const cliPath = testTemporal().cliPath;
  const proc = spawnFireline(
    'fireline-demo',
    ['demo', '--data-dir', dataDir, '--port', String(port), '--temporal-port', String(temporalPort)],
    {
      TEMPORAL_CLI_PATH: cliPath === '' ? undefined : cliPath,
    },
  );
  return { proc, baseUrl: `http://127.0.0.1:${port}` };
}

function client(baseUrl: string, token: string) {
  return async <T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

test('fireline demo declares an incident that pages into the outbox, waits for a decision and closes after all six phases', async () => {
  const dataDir = path.join(tempDir('fireline-e2e-demo-'), 'demo');
  dirs.push(path.dirname(dataDir));
  const { proc, baseUrl } = await startDemo(dataDir);

  // What the demo tells a newcomer to do is what this test does.
  const [, id] = await proc.waitForOutput(/(INC-\d+) is waiting for your decision/, 120_000);
  const [, token] = await proc.waitForOutput(/Token:\s+(flt_\S+)\n/);
  await proc.waitForOutput(new RegExp(`/api/v1/incidents/${id}/decisions/strategy`));
  expect(proc.stdout()).toContain(`/#/incidents/${id}`);
  expect(proc.stdout()).toMatch(/Fireline DEMO/);
  const api = client(baseUrl, token!);

  const detail = await api<{ incident: { runbookId: string }; live: IncidentView | null }>('GET', `/api/v1/incidents/${id}`);
  expect(detail.status).toBe(200);
  expect(detail.body.incident.runbookId).toBe('demo-order-db-outage');
  expect(detail.body.live?.openDecisions.map((d) => d.stepId)).toEqual(['strategy']);

  // The on-call is paged in the background while the decision waits: the page lands in the outbox.
  const pages = await waitUntil(
    async () => {
      const outbox = await api<{ items: OutboxMessage[] }>('GET', `/api/v1/outbox?incident=${id}`);
      const found = outbox.body.items.filter((m) => m.id.startsWith(`${id}:page-on-call:`));
      return found.length > 0 ? found : undefined;
    },
    `a page of ${id} in the outbox`,
    60_000,
    250,
  );
  expect(pages[0]).toMatchObject({ incidentId: id, channel: 'email' });

  const decided = await api<IncidentView>('POST', `/api/v1/incidents/${id}/decisions/strategy`, { option: 'failover' });
  expect(decided.status).toBe(200);
  expect(decided.body.decisions.strategy).toMatchObject({ option: 'failover', timedOut: false });

  await proc.waitForOutput(new RegExp(`${id} went through all six phases and is closed`), 120_000);
  const timeline = await api<{ events: TimelineEvent[] }>('GET', `/api/v1/incidents/${id}/timeline`);
  expect(timeline.status).toBe(200);
  const events = timeline.body.events;
  const ofType = (type: TimelineEvent['type']) => events.filter((e) => e.type === type);
  expect(ofType('phase.entered').map((e) => e.data.phase)).toEqual(PHASES);
  expect(ofType('phase.completed').map((e) => [e.data.phase, e.data.interrupted])).toEqual(PHASES.map((p) => [p, false]));
  const stepsByPhase = Object.fromEntries(
    PHASES.map((phase) => [phase, events.filter((e) => e.phase === phase && e.type === 'step.started').map((e) => e.data.stepId)]),
  );
  expect(stepsByPhase).toEqual({
    detect: ['probe-order-api'],
    report: ['page-on-call', 'announce'],
    decide: ['strategy'],
    execute: ['hold-orders', 'failover'],
    recover: ['order-api-healthy', 'resume-orders', 'baseline-backup', 'recovered'],
    retrospective: ['postmortem', 'postmortem-request'],
  });
  // The order system was down (detect), the failover brought it back (recover) and the backup restores.
  const failed = ofType('step.failed').map((e) => e.data.stepId);
  expect(failed).toEqual(['probe-order-api']);
  const succeeded = ofType('step.succeeded').map((e) => e.data.stepId);
  expect(succeeded).toEqual(
    expect.arrayContaining([
      'page-on-call',
      'strategy',
      'hold-orders',
      'failover',
      'order-api-healthy',
      'resume-orders',
      'baseline-backup',
      'postmortem',
    ]),
  );
  expect(ofType('backup.taken')).toHaveLength(1);
  expect(ofType('postmortem.drafted')).toHaveLength(1);
  expect(ofType('incident.resolved')).toHaveLength(1);
  expect(events.at(-1)?.type).toBe('incident.closed');
  expect(proc.stdout()).toContain('[demo order system] replica promoted');

  const outbox = await api<{ items: OutboxMessage[] }>('GET', `/api/v1/outbox?incident=${id}`);
  expect(outbox.body.items.map((m) => m.id)).toEqual(
    expect.arrayContaining([`${id}:announce`, `${id}:recovered`, `${id}:postmortem-request`, pages[0]!.id]),
  );

  // Ctrl+C stops everything cleanly; the demo wrote only into its own data dir.
  proc.kill('SIGINT');
  const exit = await waitForExit(proc, 45_000);
  if (exit.code !== 0) throw new Error(`fireline demo exited with ${JSON.stringify(exit)}\n${tail(proc.output())}`);
  expect(fs.readdirSync(dataDir).sort()).toEqual(
    expect.arrayContaining(['FIRELINE-DEMO', 'config', 'fireline.db', 'runbooks', 'temporal.db']),
  );
});

test('fireline demo refuses a data dir that belongs to something else', async () => {
  const dataDir = tempDir('fireline-e2e-not-demo-');
  dirs.push(dataDir);
  fs.writeFileSync(path.join(dataDir, 'fireline.db'), '');
  const { proc } = await startDemo(dataDir);
  const exit = await waitForExit(proc, 60_000);
  expect(exit.code).toBe(2);
  expect(proc.stderr()).toContain('was not made by `fireline demo`');
  expect(fs.readdirSync(dataDir)).toEqual(['fireline.db']);
});
