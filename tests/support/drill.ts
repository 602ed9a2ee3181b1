// Running shipped runbooks as drills: a local HTTP server standing in for every system a runbook checks, the
// environment that points a runbook's `${..._URL}` references at it, and a driver that plays the people in
// an incident (answers decisions, completes tasks, posts the external events waits expect, resolves).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import type { Actor } from '../../src/domain/roles';
import type { Condition, Runbook, Step } from '../../src/domain/runbook';
import { PHASES } from '../../src/domain/runbook';
import type { Phase } from '../../src/domain/runbook';
import type { ActionContext, IncidentService } from '../../src/services/incidents';
import { ServiceError } from '../../src/services/errors';
import type { Store } from '../../src/store/store';

/** A healthy answer: HTTP 200 with the words health checks and status pages usually look for. */
export const DRILL_TARGET_BODY = JSON.stringify({ status: 'ok', description: 'All Systems Operational' });

export interface DrillTargets {
  url: string;
  /** `METHOD /path` of every request, in arrival order. */
  requests: string[];
  close(): Promise<void>;
}

/** One server for every drill target: answers every method and path with a healthy 200. */
export async function startDrillTargets(): Promise<DrillTargets> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://drill').pathname}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : DRILL_TARGET_BODY);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

const ENV_REF = /\$\{\s*([A-Z][A-Z0-9_]*)\s*\}/g;

/** `${ENV_VAR}` names referenced anywhere in a text (a runbook file, a target's value). */
export function envRefsIn(text: string): string[] {
  return [...new Set([...text.matchAll(ENV_REF)].map((m) => m[1]!))];
}

/** `${ORDERS_HEALTH_URL}` → `<drill targets>/orders-health-url`: each variable gets a path of its own. */
export function drillTargetUrl(baseUrl: string, variable: string): string {
  return `${baseUrl}/${variable.toLowerCase().replace(/_/g, '-')}`;
}

/** `${ENV}` references replaced from `env` (unknown ones stay), as the worker resolves them. */
export function renderEnv(text: string, env: Record<string, string | undefined>): string {
  return text.replace(ENV_REF, (whole, name: string) => env[name] ?? whole);
}

/** Each step with its phase, in execution order. */
export function stepsWithPhase(runbook: Runbook): { step: Step; phase: Phase }[] {
  return PHASES.flatMap((phase) => runbook.phases[phase].map((step) => ({ step, phase })));
}

function conditionSteps(condition: Condition): string[] {
  if ('all' in condition) return condition.all.flatMap(conditionSteps);
  if ('any' in condition) return condition.any.flatMap(conditionSteps);
  if ('not' in condition) return conditionSteps(condition.not);
  return 'step' in condition ? [condition.step] : [];
}

/** Decide steps that some `when` looks at: the ones whose options lead down different branches. */
export function branchingDecisions(runbook: Runbook): Extract<Step, { kind: 'decide' }>[] {
  const referenced = new Set(stepsWithPhase(runbook).flatMap(({ step }) => (step.when ? conditionSteps(step.when) : [])));
  return stepsWithPhase(runbook)
    .map(({ step }) => step)
    .filter((step): step is Extract<Step, { kind: 'decide' }> => step.kind === 'decide' && referenced.has(step.id));
}

/**
 * Workflow ids are `incident/INC-<n>` in the namespace every test file shares, while each store counts from 1:
 * start this store's sequence in a random block so no two test files use the same id.
 */
export function startIncidentSequenceAt(dbFile: string, value: number): void {
  const db = new Database(dbFile);
  try {
    db.prepare("UPDATE sequences SET value = ? WHERE name = 'incident'").run(value);
  } finally {
    db.close();
  }
}

export interface DriveOptions {
  service: IncidentService;
  store: Store;
  incidentId: string;
  runbook: Runbook;
  actor: Actor;
  /** Option per decide step; the step's default otherwise. */
  choices?: Record<string, string>;
  timeoutMs?: number;
  pollMs?: number;
}

export interface DriveLog {
  decided: Record<string, string>;
  completedTasks: string[];
  postedEvents: string[];
  resolvedByDriver: boolean;
}

/** Another participant (or a timeout) got there first: nothing to do. */
function ignoreRace(err: unknown): void {
  if (err instanceof ServiceError && (err.code === 'conflict' || err.code === 'not_found')) return;
  throw err;
}

/**
 * Plays the incident's participants until the incident is closed, as they would through the API: answers
 * open decisions, completes open tasks, posts the event a running `wait` step waits for, and resolves the
 * incident when the runbook leaves that to a human (autoResolve: false, or it stopped early).
 */
export async function driveDrill(opts: DriveOptions): Promise<DriveLog> {
  const { service, store, incidentId: id, runbook } = opts;
  const steps = new Map(stepsWithPhase(runbook).map(({ step }) => [step.id, step]));
  const log: DriveLog = { decided: {}, completedTasks: [], postedEvents: [], resolvedByDriver: false };
  const ctx = (): ActionContext => ({ actor: opts.actor, requestId: randomUUID(), source: 'cli' });
  const deadline = Date.now() + (opts.timeoutMs ?? 100_000);
  for (;;) {
    const { incident, live } = await service.get(id);
    if (incident.status === 'closed') return log;
    if (live) {
      for (const open of live.openDecisions) {
        const option = opts.choices?.[open.stepId] ?? open.default;
        await service.decide(id, open.stepId, option, ctx()).then(() => (log.decided[open.stepId] = option), ignoreRace);
      }
      for (const task of live.openTasks) {
        await service
          .completeTask(id, task.stepId, 'Done in the drill', ctx())
          .then(() => log.completedTasks.push(task.stepId), ignoreRace);
      }
      const current = live.currentStep ? steps.get(live.currentStep.id) : undefined;
      if (current?.kind === 'wait' && typeof current.for === 'object' && !log.postedEvents.includes(current.for.event)) {
        const event = current.for.event;
        await service.postEvent(id, event, { drill: true }, ctx()).then(() => log.postedEvents.push(event), ignoreRace);
      }
      const idle = !live.resolved && !live.currentStep && live.openDecisions.length === 0 && live.openTasks.length === 0;
      if (idle && (await waitsForResolution(store, id))) {
        await service.resolve(id, 'Drill complete', ctx()).then(() => (log.resolvedByDriver = true), ignoreRace);
      }
    }
    if (Date.now() > deadline)
      throw new Error(`drill ${id} (${runbook.id}) did not close in time; last phase ${incident.phase}, status ${incident.status}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 150));
  }
}

/**
 * The workflow waits for a human to resolve when the last event it recorded closes the recover phase, or an
 * earlier phase it left early (a step failed and the runbook stopped); when it resolves on its own, the
 * resolution is recorded in the same write as that event.
 */
async function waitsForResolution(store: Store, incidentId: string): Promise<boolean> {
  const events = await store.listTimeline(incidentId, { limit: 10_000 });
  const last = events[events.length - 1];
  return last?.type === 'phase.completed' && (last.data.phase === 'recover' || last.data.interrupted === true);
}
