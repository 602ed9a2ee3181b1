// Every shipped runbook runs end to end as a drill: declared through the incident service, run by the real
// incident workflow on the dev server, with the real activities. Verify steps check a local HTTP server that
// stands in for every `${..._URL}` the runbooks use; targets come from config/targets.yaml, with a throwaway
// PostgreSQL as the drill database where a runbook backs up or queries one for real in drills. A driver plays
// the participants: it answers decisions (the default, and each other option of decisions that branch),
// completes tasks, posts the external events waits expect, and resolves when the runbook leaves that to a
// human.
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { IncidentRecord } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import { PHASES } from '../../src/domain/runbook';
import type { Runbook, Step } from '../../src/domain/runbook';
import type { Targets } from '../../src/domain/targets';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createLogger } from '../../src/logger';
import { isRunbookFileName, RunbookCatalog } from '../../src/runbooks/catalog';
import { formatProblem, parseRunbook } from '../../src/runbooks/load';
import { printValidation, validateRunbookFiles } from '../../src/runbooks/validate-command';
import { createIncidentService } from '../../src/services/incidents';
import type { IncidentService } from '../../src/services/incidents';
import type { Store } from '../../src/store/store';
import { formatTargetsProblem, loadTargets } from '../../src/targets/load';
import { createActivities } from '../../activities';
import { evaluateCondition } from '../../workflows/conditions';
import type { incidentWorkflow } from '../../workflows/incident';
import type { StepOutput } from '../../workflows/step-context';
import type { IncidentView } from '../../workflows/messages';
import {
  branchingDecisions,
  driveDrill,
  drillTargetUrl,
  envRefsIn,
  renderEnv,
  startDrillTargets,
  startIncidentSequenceAt,
  stepsWithPhase,
} from '../support/drill';
import type { DriveLog, DrillTargets } from '../support/drill';
import { databaseUrl, postgresAvailability, psql, startPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { connectClient, openTestStore, startTestWorker, tempDir, uniqueTaskQueue } from '../support/temporal';
import type { TestWorker } from '../support/temporal';

const ROOT = path.resolve(__dirname, '../..');
const RUNBOOKS_DIR = path.join(ROOT, 'runbooks');
const TARGETS_FILE = path.join(ROOT, 'config', 'targets.yaml');
const DRILL_TIMEOUT_MS = 100_000;

const commander: Actor = { id: 'drill-commander', name: 'Drill Commander', role: 'commander' };

// --- What to run, known when jest collects the tests -------------------------------------------------------

interface Shipped {
  file: string;
  runbook: Runbook;
  text: string;
}

const shipped: Shipped[] = fs
  .readdirSync(RUNBOOKS_DIR)
  .filter(isRunbookFileName)
  .sort()
  .map((file) => {
    const text = fs.readFileSync(path.join(RUNBOOKS_DIR, file), 'utf8');
    const parsed = parseRunbook(text, path.join('runbooks', file));
    if (!parsed.ok) throw new Error(`runbooks/${file} does not validate:\n${parsed.problems.map(formatProblem).join('\n')}`);
    return { file, runbook: parsed.runbook, text };
  });

const targetsLoaded = loadTargets(TARGETS_FILE);
if (!targetsLoaded.ok)
  throw new Error(`config/targets.yaml does not load:\n${targetsLoaded.problems.map(formatTargetsProblem).join('\n')}`);
const targets: Targets = targetsLoaded.targets;

/** One drill: a runbook with one choice per branching decision (others take their default). */
interface Drill {
  name: string;
  runbook: Runbook;
  choices: Record<string, string>;
  needsPostgres: boolean;
}

/** Runs for real in this drill (not simulated) and touches a PostgreSQL target. */
function usesPostgres(runbook: Runbook): boolean {
  return stepsWithPhase(runbook).some(({ step }) => {
    if (step.drill !== 'real') return false;
    if (step.kind === 'backup') {
      const target = targets.backups[step.target];
      return (target?.drill ?? target)?.provider === 'postgres';
    }
    if (step.kind === 'verify' && 'sql' in step.check) {
      const db = targets.databases[step.check.sql.database];
      return (db?.drill ?? db)?.driver === 'postgres';
    }
    return false;
  });
}

/**
 * Choices that make a decision reachable when its own `when` looks at an earlier decision, e.g. "lift the edge
 * rules?" is only asked after "bot-traffic" was chosen.
 */
function choicesToReach(runbook: Runbook, decision: Step): Record<string, string> {
  const when = decision.when;
  if (!when || !('step' in when)) return {};
  const earlier = stepsWithPhase(runbook).find(({ step }) => step.id === when.step)?.step;
  if (earlier?.kind !== 'decide' || (when.field ?? 'result') !== 'result') return {};
  const option = when.is ?? when.in?.[0];
  return typeof option === 'string' ? { ...choicesToReach(runbook, earlier), [earlier.id]: option } : {};
}

const drills: Drill[] = shipped.flatMap(({ runbook }) => {
  const needsPostgres = usesPostgres(runbook);
  const variants: Drill[] = [{ name: `${runbook.id} (defaults)`, runbook, choices: {}, needsPostgres }];
  for (const decision of branchingDecisions(runbook)) {
    for (const option of decision.options.filter((o) => o !== decision.default)) {
      const choices = { ...choicesToReach(runbook, decision), [decision.id]: option };
      const label = Object.entries(choices)
        .map(([step, choice]) => `${step}: ${choice}`)
        .join(', ');
      variants.push({ name: `${runbook.id} (${label})`, runbook, choices, needsPostgres });
    }
  }
  return variants;
});

const pgAvailability = postgresAvailability();

// --- The stack the drills run on --------------------------------------------------------------------------

interface DrillOutcome {
  incident: IncidentRecord;
  final: IncidentView;
  events: TimelineEvent[];
  drive: DriveLog;
}

let client: Client;
let connection: Connection;
let store: Store;
let worker: TestWorker;
let drillTargets: DrillTargets;
let pg: TestPostgres | undefined;
let backupDir: string;
let env: Record<string, string>;
let service: IncidentService;
const outcomes = new Map<string, Promise<DrillOutcome>>();

/** The drill database: a small order schema, so dumps and restore checks have something to carry. */
async function startDrillDatabase(): Promise<{ pg: TestPostgres; url: string }> {
  const server = await startPostgres();
  await psql(server.binDir, server.url, 'CREATE DATABASE orders_drill');
  const url = databaseUrl(server.url, 'orders_drill');
  await psql(
    server.binDir,
    url,
    `CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total_cents integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE order_lines (order_id bigint REFERENCES orders(id), sku text NOT NULL, quantity integer NOT NULL);
     INSERT INTO orders (customer_id, total_cents) SELECT g, 1000 + g FROM generate_series(1, 50) g;
     INSERT INTO order_lines SELECT id, 'SKU-' || id, 1 FROM orders;`,
  );
  return { pg: server, url };
}

/**
 * `${..._URL}` references in the runbooks point at the drill targets server. References in the targets that
 * drills use for real (the drill database) point at the throwaway PostgreSQL.
 */
function drillEnv(targetsUrl: string, drillDatabaseUrl: string | undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const { text } of shipped) {
    for (const name of envRefsIn(text)) vars[name] = name.endsWith('_URL') ? drillTargetUrl(targetsUrl, name) : 'drill';
  }
  if (drillDatabaseUrl) {
    for (const { runbook } of shipped) {
      for (const { step } of stepsWithPhase(runbook)) {
        if (step.drill !== 'real') continue;
        const target =
          step.kind === 'backup'
            ? targets.backups[step.target]
            : step.kind === 'verify' && 'sql' in step.check
              ? targets.databases[step.check.sql.database]
              : undefined;
        const used = target?.drill ?? target;
        if (used && 'url' in used) for (const name of envRefsIn(used.url)) vars[name] = drillDatabaseUrl;
      }
    }
  }
  return vars;
}

async function runDrill(drill: Drill): Promise<DrillOutcome> {
  const incident = await service.declare(
    { title: `Drill: ${drill.runbook.title}`, runbook: drill.runbook.id, drill: true },
    { actor: commander, requestId: `declare-${drill.name}`, source: 'cli' },
  );
  const drive = await driveDrill({
    service,
    store,
    incidentId: incident.id,
    runbook: drill.runbook,
    actor: commander,
    choices: drill.choices,
    timeoutMs: DRILL_TIMEOUT_MS,
  });
  const final = await client.workflow.getHandle<typeof incidentWorkflow>(incident.workflowId).result();
  return {
    incident: (await store.getIncident(incident.id))!,
    final,
    events: await store.listTimeline(incident.id, { limit: 10_000 }),
    drive,
  };
}

beforeAll(async () => {
  ({ client, connection } = await connectClient());
  const dataDir = tempDir('fireline-drills-');
  store = await openTestStore(dataDir);
  startIncidentSequenceAt(path.join(dataDir, 'fireline.db'), Math.floor(Math.random() * 100_000) * 100_000 + 10_000_000);
  backupDir = path.join(dataDir, 'backups');
  drillTargets = await startDrillTargets();
  let drillDatabaseUrl: string | undefined;
  if (pgAvailability.run && drills.some((d) => d.needsPostgres)) {
    const started = await startDrillDatabase();
    pg = started.pg;
    drillDatabaseUrl = started.url;
  }
  env = drillEnv(drillTargets.url, drillDatabaseUrl);
  const taskQueue = uniqueTaskQueue('drills');
  worker = await startTestWorker({ taskQueue, store, wrap: () => createActivities({ store, targets, env, backupDir }) });
  service = createIncidentService({
    client,
    store,
    runbooks: new RunbookCatalog(RUNBOOKS_DIR),
    taskQueue,
    logger: createLogger({ level: 'silent' }),
  });
  // All drills run at once, each at its own pace; the tests below check them one by one.
  for (const drill of drills) {
    if (drill.needsPostgres && !pg) continue;
    const outcome = runDrill(drill);
    outcome.catch(() => undefined);
    outcomes.set(drill.name, outcome);
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(outcomes.values());
  await worker?.stop();
  await drillTargets?.close();
  await pg?.stop();
  await store?.close();
  await connection?.close();
});

// --- Checks -------------------------------------------------------------------------------------------------

const byType = (events: TimelineEvent[], type: TimelineEvent['type']) => events.filter((e) => e.type === type);
const stepIdsOf = (events: TimelineEvent[], type: TimelineEvent['type']) => byType(events, type).map((e) => String(e.data.stepId));

test('the shipped runbooks are drilled: each file at least once, every branching option once', () => {
  expect(shipped.length).toBeGreaterThanOrEqual(8);
  const ids = new Set(drills.map((d) => d.runbook.id));
  expect([...ids].sort()).toEqual(shipped.map((s) => s.runbook.id).sort());
});

test('every runbook validates against config/targets.yaml (names the runbooks use exist there)', async () => {
  const result = await validateRunbookFiles([RUNBOOKS_DIR], { targets });
  let report = '';
  printValidation(result, (line) => (report += line));
  expect(report).toBe(`checked ${shipped.length} runbooks: no problems\n`);
});

describe.each(drills)('drill $name', (drill) => {
  const skip = drill.needsPostgres && !pgAvailability.run;
  const it = skip ? test.skip : test;
  const { runbook } = drill;
  const located = stepsWithPhase(runbook);
  const phaseOf = new Map(located.map(({ step, phase }) => [step.id, phase]));
  const stepById = new Map<string, Step>(located.map(({ step }) => [step.id, step]));

  it(`runs through all six phases and closes${skip ? pgAvailability.label : ''}`, async () => {
    const { incident, final, events } = await outcomes.get(drill.name)!;

    expect(final.status).toBe('closed');
    expect(final.drill).toBe(true);
    expect(incident).toMatchObject({ status: 'closed', phase: 'closed', drill: true, runbookId: runbook.id });

    // Each event exactly once, in order.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events[0]?.type).toBe('incident.declared');
    expect(events[events.length - 1]?.type).toBe('incident.closed');

    // The six phases in order, each step inside its own phase; nothing failed, nothing was compensated.
    expect(byType(events, 'phase.entered').map((e) => e.data.phase)).toEqual([...PHASES]);
    expect(byType(events, 'phase.completed').map((e) => [e.data.phase, e.data.interrupted])).toEqual(PHASES.map((p) => [p, false]));
    for (const e of byType(events, 'step.started'))
      expect([e.data.stepId, e.phase]).toEqual([e.data.stepId, phaseOf.get(String(e.data.stepId))]);
    expect(byType(events, 'step.failed')).toEqual([]);
    expect(byType(events, 'step.compensated')).toEqual([]);

    // Every step either ran or was skipped by its condition, once; what ran succeeded.
    const started = stepIdsOf(events, 'step.started');
    const skipped = stepIdsOf(events, 'step.skipped');
    expect([...started, ...skipped].sort()).toEqual(located.map(({ step }) => step.id).sort());
    expect(stepIdsOf(events, 'step.succeeded').sort()).toEqual([...started].sort());
  });

  it(`takes the branches its conditions select${skip ? pgAvailability.label : ''}`, async () => {
    const { incident, events, drive } = await outcomes.get(drill.name)!;
    const decisions = branchingDecisions(runbook).map((d) => d.id);
    for (const id of decisions) {
      if (!stepIdsOf(events, 'step.started').includes(id)) continue;
      expect(drive.decided[id]).toBe(drill.choices[id] ?? (stepById.get(id) as Extract<Step, { kind: 'decide' }>).default);
    }
    for (const e of byType(events, 'decision.taken')) expect(e.data.option).toBe(drive.decided[String(e.data.stepId)]);

    // Replays the conditions over the outputs the timeline recorded: a step ran exactly when its `when` held.
    const outputs: Record<string, StepOutput> = {};
    for (const e of events) {
      const stepId = String(e.data.stepId);
      const step = stepById.get(stepId);
      if (e.type === 'step.started' || (e.type === 'step.skipped' && step)) {
        const holds = !step?.when || evaluateCondition(step.when, { incident, outputs });
        expect({ stepId, ran: e.type === 'step.started' }).toEqual({ stepId, ran: holds });
      }
      if (e.type === 'step.succeeded') outputs[stepId] = e.data.output as StepOutput;
      if (e.type === 'step.skipped') outputs[stepId] = { result: 'skipped' };
    }
  });

  it(`simulates side effects per drill behaviour and runs the rest for real${skip ? pgAvailability.label : ''}`, async () => {
    const { incident, final, events, drive } = await outcomes.get(drill.name)!;
    const ran = new Set(stepIdsOf(events, 'step.started'));
    const ranSteps = located.map(({ step }) => step).filter((s) => ran.has(s.id));

    expect(stepIdsOf(events, 'step.simulated').sort()).toEqual(
      ranSteps
        .filter((s) => s.drill === 'simulate')
        .map((s) => s.id)
        .sort(),
    );
    const real = ranSteps.filter((s) => s.drill === 'real');

    // Messages: one per notify step that ran, all marked as a drill.
    const outbox = await store.listOutbox({ incidentId: incident.id, limit: 500 });
    expect(outbox.map((m) => m.id.split(':')[1]).sort()).toEqual(
      real
        .filter((s) => s.kind === 'notify')
        .map((s) => s.id)
        .sort(),
    );
    for (const message of outbox) {
      expect(message.drill).toBe(true);
      expect(message.body).toMatch(/^\[DRILL\] /);
      expect(message.subject).toMatch(/^\[DRILL\] /);
    }

    // Verify steps checked the drill targets for real.
    for (const step of real) {
      if (step.kind !== 'verify') continue;
      const succeeded = byType(events, 'step.succeeded').find((e) => e.data.stepId === step.id);
      expect(succeeded?.data.output).toMatchObject({ result: 'healthy' });
      if ('http' in step.check) {
        const url = new URL(renderEnv(step.check.http.url, env));
        expect(drillTargets.requests).toContain(`${step.check.http.method} ${url.pathname}`);
      }
    }

    // Backups that run for real in drills went to the drill database and restored.
    for (const step of real) {
      if (step.kind !== 'backup') continue;
      const taken = byType(events, 'backup.taken').find((e) => e.data.stepId === step.id);
      expect(taken?.data).toMatchObject({ target: step.target, ...(step.restoreCheck ? { restoreCheck: { ok: true } } : {}) });
      expect(String(taken?.data.location)).toContain(backupDir);
      expect(fs.statSync(String(taken?.data.location)).size).toBeGreaterThan(0);
    }

    // The participants' part: every task completed and every awaited event received once.
    expect(stepIdsOf(events, 'task.completed').sort()).toEqual(
      real
        .filter((s) => s.kind === 'task')
        .map((s) => s.id)
        .sort(),
    );
    expect(drive.completedTasks.sort()).toEqual(
      real
        .filter((s) => s.kind === 'task')
        .map((s) => s.id)
        .sort(),
    );
    const awaited = real.flatMap((s) => (s.kind === 'wait' && typeof s.for === 'object' ? [s.for.event] : []));
    expect(
      byType(events, 'event.received')
        .map((e) => e.data.name)
        .sort(),
    ).toEqual([...awaited].sort());

    // Resolution: by the runbook when it may, otherwise by the commander.
    expect(drive.resolvedByDriver).toBe(!runbook.autoResolve);
    expect(final.resolved?.by.id).toBe(runbook.autoResolve ? 'runbook' : commander.id);
    expect(byType(events, 'incident.resolved')).toHaveLength(1);

    // The retrospective drafted the post-mortem, marked as a drill, when its step ran.
    const pm = await store.getPostmortem(incident.id);
    if (real.some((s) => s.kind === 'postmortem')) {
      expect(pm).toMatchObject({ status: 'draft' });
      expect(pm?.body).toContain('(drill)');
      expect(byType(events, 'postmortem.drafted')).toHaveLength(1);
    } else {
      expect(pm).toBeUndefined();
    }
  });
});
