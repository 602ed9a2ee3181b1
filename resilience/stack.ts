// One Fireline installation for a scenario run: its own data, config and runbooks directories, a read model
// numbering incidents in its own block (the Temporal namespace is shared), its own task queue, the real
// incident service in this process (playing the API) and real `fireline worker` children.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { DeclareIncidentSchema } from '../src/domain/incident';
import type { Actor } from '../src/domain/roles';
import type { TimelineEvent } from '../src/domain/timeline';
import { createLogger } from '../src/logger';
import { loadOnCall } from '../src/oncall/load';
import { RunbookCatalog } from '../src/runbooks/catalog';
import { formatProblem, parseRunbook } from '../src/runbooks/load';
import { ServiceError } from '../src/services/errors';
import { createIncidentService } from '../src/services/incidents';
import type { ActionContext, IncidentService } from '../src/services/incidents';
import type { Store } from '../src/store/store';
import { formatTargetsProblem, loadTargets } from '../src/targets/load';
import { incidentWorkflowId } from '../src/temporal/ids';
import type { incidentWorkflow } from '../workflows/incident';
import { killHard, spawnFireline, waitForWorkerPolling, waitUntil } from '../tests/support/processes';
import type { SpawnedProcess } from '../tests/support/processes';
import { openTestStore, tempDir, uniqueTaskQueue } from '../tests/support/temporal';
import type { RunContext } from './common';

export const COMMANDER: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
export const RESPONDER: Actor = { id: 'u-ana', name: 'Ana', role: 'responder' };
export const actionContext = (actor: Actor = COMMANDER): ActionContext => ({ actor, requestId: randomUUID(), source: 'cli' });

export interface StackFiles {
  runbooks: Record<string, string>;
  oncall?: string;
  targets?: string;
  /** More environment for the worker children (URLs the runbooks and targets reference). */
  env?: Record<string, string>;
}

export class Stack {
  readonly dataDir = tempDir('fireline-res-data-');
  readonly configDir = tempDir('fireline-res-config-');
  readonly runbooksDir = tempDir('fireline-res-runbooks-');
  readonly taskQueue = uniqueTaskQueue('res');
  readonly started: string[] = [];
  readonly workers: SpawnedProcess[] = [];
  store!: Store;
  service!: IncidentService;
  private workerCount = 0;

  private constructor(
    private readonly ctx: RunContext,
    private readonly files: StackFiles,
  ) {}

  /** Writes and validates the files (a runbook the catalog would skip fails here, loudly), opens the read model. */
  static async create(ctx: RunContext, files: StackFiles): Promise<Stack> {
    const stack = new Stack(ctx, files);
    await stack.init();
    return stack;
  }

  private async init(): Promise<void> {
    const { files } = this;
    let policies: string[] | undefined;
    if (files.oncall !== undefined) {
      const file = path.join(this.configDir, 'oncall.yaml');
      fs.writeFileSync(file, files.oncall);
      const loaded = loadOnCall(file);
      if (!loaded.ok) throw new Error(`resilience oncall.yaml does not load:\n${JSON.stringify(loaded.problems, null, 2)}`);
      policies = loaded.config.escalationPolicies.map((p) => p.id);
    }
    let targets;
    if (files.targets !== undefined) {
      const file = path.join(this.configDir, 'targets.yaml');
      fs.writeFileSync(file, files.targets);
      const loaded = loadTargets(file, files.env);
      if (!loaded.ok) throw new Error(`resilience targets.yaml does not load:\n${loaded.problems.map(formatTargetsProblem).join('\n')}`);
      targets = loaded.targets;
    }
    for (const [id, text] of Object.entries(files.runbooks)) {
      const file = path.join(this.runbooksDir, `${id}.yaml`);
      fs.writeFileSync(file, text);
      const parsed = parseRunbook(text, file, { escalationPolicies: policies, targets });
      if (!parsed.ok) throw new Error(`resilience runbook ${id} does not validate:\n${parsed.problems.map(formatProblem).join('\n')}`);
    }
    this.store = await openTestStore(this.dataDir);
    this.service = createIncidentService({
      client: this.ctx.client,
      store: this.store,
      runbooks: new RunbookCatalog(this.runbooksDir, { escalationPolicies: policies, targets }),
      taskQueue: this.taskQueue,
      logger: createLogger({ level: 'silent' }),
    });
  }

  /** `fireline worker` as its own process group; resolves once it polls both sides of the task queue. */
  async startWorker(extraEnv: Record<string, string> = {}): Promise<SpawnedProcess> {
    const name = `worker-${++this.workerCount}`;
    const worker = spawnFireline(name, ['worker'], {
      TEMPORAL_ADDRESS: this.ctx.address,
      FIRELINE_TASK_QUEUE: this.taskQueue,
      FIRELINE_DATA_DIR: this.dataDir,
      FIRELINE_CONFIG_DIR: this.configDir,
      FIRELINE_RUNBOOKS_DIR: this.runbooksDir,
      FIRELINE_PUBLIC_URL: 'https://fireline.example.com',
      FIRELINE_LOG_LEVEL: 'warn',
      ...this.files.env,
      ...extraEnv,
    });
    this.workers.push(worker);
    await waitForWorkerPolling(worker, {
      name,
      connection: this.ctx.connection,
      namespace: 'default',
      taskQueue: this.taskQueue,
      timeoutMs: 90_000,
      intervalMs: 100,
    });
    return worker;
  }

  async declare(runbook: string, extra: Record<string, unknown> = {}): Promise<string> {
    const input = DeclareIncidentSchema.parse({ title: 'Checkout failing', runbook, severity: 'SEV2', ...extra });
    for (let attempt = 1; ; attempt++) {
      try {
        const record = await this.service.declare(input, actionContext());
        this.started.push(record.id);
        return record.id;
      } catch (err) {
        if (!(err instanceof ServiceError && err.code === 'conflict') || attempt >= 50) throw err;
      }
    }
  }

  handle(id: string): WorkflowHandle<typeof incidentWorkflow> {
    return this.ctx.client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(id));
  }

  timeline(id: string): Promise<TimelineEvent[]> {
    return this.store.listTimeline(id, { limit: 10_000 });
  }

  waitForTimeline(id: string, what: string, match: (e: TimelineEvent) => boolean, timeoutMs = 120_000): Promise<TimelineEvent> {
    return waitUntil(async () => (await this.timeline(id)).find(match), `${what} on the timeline of ${id}`, timeoutMs, 50);
  }

  async history(id: string): Promise<HistoryAndWorkflowId> {
    const workflowId = incidentWorkflowId(id);
    return { workflowId, history: await this.handle(id).fetchHistory() };
  }

  /** Kills every worker, terminates what is still running, removes the directories. */
  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => killHard(w).catch(() => undefined)));
    for (const id of this.started) {
      await this.handle(id)
        .terminate('resilience cleanup')
        .catch(() => undefined);
    }
    await this.store?.close();
    for (const dir of [this.dataDir, this.configDir, this.runbooksDir]) fs.rmSync(dir, { recursive: true, force: true });
  }
}
