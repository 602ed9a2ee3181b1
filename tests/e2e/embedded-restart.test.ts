// The embedded stack as a user runs it: `fireline start` (Temporal dev server + worker + HTTP server in one
// process tree) over one data dir. An open incident must survive a clean stop (SIGTERM) and a hard kill of
// the whole process group, and close normally after the restart.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TimelineEvent } from '../../src/domain/timeline';
import type { OutboxMessage } from '../../src/store/store';
import type { IncidentView } from '../../workflows/messages';
import {
  findFreePort,
  findFreePortWithOffset,
  isPortFree,
  killAllTracked,
  processGroupAlive,
  spawnFireline,
  tail,
  waitForExit,
  waitForHttp,
  waitUntil,
} from '../support/processes';
import type { Exit, SpawnedProcess } from '../support/processes';
import { tempDir, testTemporal } from '../support/temporal';

jest.setTimeout(120_000);

const RUNBOOK_ID = 'checkout-outage';
const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const NOTIFY_STEPS = ['detected', 'announce', 'execute-note', 'recovered', 'review'];
const ALL_STEPS = ['detected', 'announce', 'strategy', 'pause', 'execute-note', 'recovered', 'review'];
const RUNBOOK = `id: ${RUNBOOK_ID}
title: Checkout outage
owner: team-checkout
service: checkout
severity: SEV2
phases:
  detect:
    - { id: detected, kind: notify, message: "Detected \${incident.title}" }
  report:
    - { id: announce, kind: notify, via: slack, to: "#incidents", message: "\${incident.id} is \${incident.severity}" }
  decide:
    - { id: strategy, kind: decide, prompt: "Fail over or restore?", options: [failover, restore], default: failover, timeout: 30m }
  execute:
    - { id: pause, kind: wait, duration: 200ms }
    - { id: execute-note, kind: notify, message: "Executing \${decision.strategy}" }
  recover:
    - { id: recovered, kind: notify, message: Recovered }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}" }
`;

/** One installation: a data dir and ports that stay the same across its restarts. */
interface Installation {
  dataDir: string;
  runbooksDir: string;
  port: number;
  devPort: number;
  adminToken: string | undefined;
  baseUrl: string;
}

const dirs: string[] = [];

afterEach(async () => {
  await killAllTracked();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function newInstallation(adminToken: string | undefined): Promise<Installation> {
  const dataDir = tempDir('fireline-e2e-data-');
  const runbooksDir = tempDir('fireline-e2e-runbooks-');
  dirs.push(dataDir, runbooksDir);
  fs.writeFileSync(path.join(runbooksDir, `${RUNBOOK_ID}.yaml`), RUNBOOK);
  const port = await findFreePort();
  const devPort = await findFreePortWithOffset(1000);
  return { dataDir, runbooksDir, port, devPort, adminToken, baseUrl: `http://127.0.0.1:${port}` };
}

/** `fireline start` in its own process group; resolves once the banner is out and /healthz answers 200. */
async function startStack(inst: Installation, name: string): Promise<SpawnedProcess> {
  const cliPath = testTemporal().cliPath;
  const proc = spawnFireline(name, ['start'], {
    FIRELINE_DATA_DIR: inst.dataDir,
    FIRELINE_RUNBOOKS_DIR: inst.runbooksDir,
    // No monitoring integrations, on-call or targets: this installation only declares by hand.
    FIRELINE_CONFIG_DIR: path.join(inst.dataDir, 'no-config'),
    FIRELINE_PORT: String(inst.port),
    TEMPORAL_DEV_PORT: String(inst.devPort),
    FIRELINE_ADMIN_TOKEN: inst.adminToken,
    TEMPORAL_CLI_PATH: cliPath === '' ? undefined : cliPath,
    // Info logs on purpose: a token leaking into any log line must fail the secrecy checks below.
    FIRELINE_LOG_LEVEL: 'info',
  });
  await proc.waitForOutput(/Press Ctrl\+C to stop\./, 90_000);
  await waitForHttp(`${inst.baseUrl}/healthz`, { process: proc, timeoutMs: 30_000 });
  return proc;
}

async function api<T>(
  inst: Installation,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${inst.baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A decision may wait for Temporal to move the workflow off the dead worker's sticky queue.
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface IncidentDetail {
  incident: { id: string; status: string; phase: string };
  live: IncidentView | null;
}

async function waitForOpenDecision(inst: Installation, token: string, id: string): Promise<IncidentDetail> {
  return waitUntil(
    async () => {
      const res = await api<IncidentDetail>(inst, token, 'GET', `/api/v1/incidents/${id}`);
      expect(res.status).toBe(200);
      return res.body.live?.openDecisions.some((d) => d.stepId === 'strategy') ? res.body : undefined;
    },
    `the open decision of ${id}`,
    60_000,
    250,
  );
}

/** Stops the stack the given way and checks that nothing of it is left: no process, no port. */
async function stopStack(inst: Installation, proc: SpawnedProcess, how: 'SIGTERM' | 'SIGKILL'): Promise<Exit> {
  if (how === 'SIGTERM') proc.kill('SIGTERM');
  else proc.killGroup('SIGKILL');
  const exit = await waitForExit(proc, 45_000);
  // The dev server is in the same process group; once the group is empty it cannot be running.
  await waitUntil(() => !processGroupAlive(proc.pid), `process group ${proc.pid} to be empty`, 15_000);
  for (const port of [inst.port, inst.devPort, inst.devPort + 1000]) {
    await waitUntil(() => isPortFree(port), `port ${port} to be free after ${how}`, 15_000);
  }
  return exit;
}

function expectEachEventOnce(id: string, events: TimelineEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.id)).toEqual(events.map((e) => `${id}:${e.seq}`));
  const ofType = (type: TimelineEvent['type']) => events.filter((e) => e.type === type);
  expect(ofType('phase.entered').map((e) => e.data.phase)).toEqual(PHASES);
  expect(ofType('step.started').map((e) => e.data.stepId)).toEqual(ALL_STEPS);
  expect(ofType('step.succeeded').map((e) => e.data.stepId)).toEqual(ALL_STEPS);
  expect(ofType('notification.sent').map((e) => e.data.stepId)).toEqual(NOTIFY_STEPS);
  expect(ofType('decision.requested')).toHaveLength(1);
  expect(ofType('decision.taken').map((e) => e.data.option)).toEqual(['restore']);
  expect(ofType('incident.declared')).toHaveLength(1);
  expect(ofType('incident.resolved')).toHaveLength(1);
  expect(ofType('incident.closed')).toHaveLength(1);
  expect(events.at(-1)?.type).toBe('incident.closed');
}

/**
 * Declare, wait for the decision, stop the stack `how`, start it again on the same data dir, decide, and
 * see the incident through to closed with every event and message exactly once.
 */
async function survivesRestart(how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const token = `e2e-admin-${randomBytes(16).toString('hex')}`;
  const inst = await newInstallation(token);
  const first = await startStack(inst, `fireline-start-1`);

  const declared = await api<{ incident: { id: string; status: string } }>(inst, token, 'POST', '/api/v1/incidents', {
    title: 'Checkout is failing',
    runbook: RUNBOOK_ID,
  });
  expect(declared.status).toBe(201);
  const id = declared.body.incident.id;
  await waitForOpenDecision(inst, token, id);

  const exit = await stopStack(inst, first, how);
  if (how === 'SIGTERM') expect(exit).toEqual({ code: 0, signal: null });
  else expect(exit).toEqual({ code: null, signal: 'SIGKILL' });

  const second = await startStack(inst, `fireline-start-2`);
  const detail = await waitForOpenDecision(inst, token, id);
  expect(detail.incident).toMatchObject({ id, status: 'open', phase: 'decide' });
  expect(detail.live).toMatchObject({ status: 'open', phase: 'decide', currentStep: { id: 'strategy', kind: 'decide' } });

  const decided = await api<IncidentView>(inst, token, 'POST', `/api/v1/incidents/${id}/decisions/strategy`, { option: 'restore' });
  expect(decided.status).toBe(200);
  expect(decided.body.decisions.strategy).toMatchObject({ option: 'restore', timedOut: false });

  await waitUntil(
    async () => (await api<IncidentDetail>(inst, token, 'GET', `/api/v1/incidents/${id}`)).body.incident.status === 'closed',
    `${id} to close`,
    60_000,
    250,
  );
  const timeline = await api<{ events: TimelineEvent[] }>(inst, token, 'GET', `/api/v1/incidents/${id}/timeline`);
  expect(timeline.status).toBe(200);
  expectEachEventOnce(id, timeline.body.events);
  const outbox = await api<{ items: OutboxMessage[] }>(inst, token, 'GET', `/api/v1/outbox?incident=${id}`);
  expect(outbox.body.items.map((m) => m.id).sort()).toEqual(NOTIFY_STEPS.map((s) => `${id}:${s}`).sort());

  expect(await stopStack(inst, second, 'SIGTERM')).toEqual({ code: 0, signal: null });

  // A seeded admin token is never printed, in the banner or any log line.
  for (const proc of [first, second]) {
    expect(proc.output()).not.toContain(token);
    expect(proc.output()).not.toMatch(/Admin token/i);
  }
}

test('an open incident survives SIGTERM of the whole stack, which exits 0 and leaves no dev server behind', async () => {
  await survivesRestart('SIGTERM');
});

test('an open incident survives SIGKILL of the whole process group', async () => {
  await survivesRestart('SIGKILL');
});

test('without FIRELINE_ADMIN_TOKEN the first start prints an admin token once; the second start does not', async () => {
  const inst = await newInstallation(undefined);
  const first = await startStack(inst, 'fireline-start-1');
  const match = first.stdout().match(/Admin token \(shown once[^\n]*\n\s+(\S+)\n/);
  if (!match) throw new Error(`no admin token in the first start's output:\n${tail(first.stdout())}`);
  const token = match[1]!;
  expect(first.output().split(token)).toHaveLength(2);

  expect((await api(inst, token, 'GET', '/api/v1/incidents')).status).toBe(200);
  expect((await api(inst, `${token}x`, 'GET', '/api/v1/incidents')).status).toBe(401);
  const exit = await stopStack(inst, first, 'SIGTERM');
  expect(exit).toEqual({ code: 0, signal: null });

  const second = await startStack(inst, 'fireline-start-2');
  expect(second.output()).not.toContain(token);
  expect(second.output()).not.toMatch(/Admin token/i);
  expect(second.output()).not.toMatch(/flt_/);
  // Still the same installation: the token from the first start keeps working.
  expect((await api(inst, token, 'GET', '/api/v1/incidents')).status).toBe(200);
  expect(await stopStack(inst, second, 'SIGTERM')).toEqual({ code: 0, signal: null });
});
