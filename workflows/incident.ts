// The incident workflow: walks the runbook's six phases and takes human input through validated updates.
// Deterministic: no I/O, no Node built-ins; every side effect is an activity. Behaviour changes to this
// interpreter after a release go behind patched() and are guarded by the replay tests.
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { FirelineActivities, RecordBatch } from '../activities';
import type { IncidentInfo, IncidentPatch, IncidentPhase, IncidentStatus } from '../src/domain/incident';
import type { Actor, Role } from '../src/domain/roles';
import type { Phase, RunbookSnapshot, Step } from '../src/domain/runbook';
import type { Severity } from '../src/domain/severity';
import type { TimelineEvent, TimelineEventType } from '../src/domain/timeline';
import {
  REJECTION,
  acknowledgeUpdate,
  addNoteUpdate,
  alertsSignal,
  changeSeverityUpdate,
  completeReviewUpdate,
  completeTaskUpdate,
  decideUpdate,
  escalateUpdate,
  postEventUpdate,
  resolveUpdate,
  statusQuery,
} from './messages';
import type {
  AcknowledgeArgs,
  AlertBatch,
  CompleteReviewArgs,
  CompleteTaskArgs,
  DecisionRecord,
  EscalateArgs,
  IncidentView,
  OpenDecision,
  OpenTask,
  PostEventArgs,
  RejectionType,
  ReceivedEvent,
  ResolveArgs,
  TaskRecord,
} from './messages';
import { evaluateCondition } from './conditions';
import { RUNBOOK_ACTOR, runStep } from './steps';
import type { StepContext, StepOutput } from './steps';

// Copies of domain constants: the bundle may import types only (src/domain pulls in zod).
const PHASE_ORDER: readonly Phase[] = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const ROLE_ORDER: readonly Role[] = ['viewer', 'responder', 'commander', 'admin'];
const SEVERITY_ORDER: readonly Severity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const MAX_NOTE_LENGTH = 4000;
const MAX_EVENT_BYTES = 32 * 1024;

/** Everything the workflow must carry across continue-as-new; plain JSON only. */
export interface IncidentState {
  seq: number;
  status: IncidentStatus;
  phase: IncidentPhase;
  severity: Severity;
  phaseIndex: number;
  stepIndex: number;
  aborted: boolean;
  decisions: Record<string, DecisionRecord>;
  stepOutputs: Record<string, StepOutput>;
  acknowledged: { by: Actor; at: string } | null;
  resolved: { by: Actor; at: string; summary: string | null } | null;
  escalationLevel: number;
  // Added with the full runbook language; optional so state carried by older runs still loads.
  tasks?: Record<string, TaskRecord>;
  events?: Record<string, ReceivedEvent>;
  /** Compensations of completed steps, in completion order; run in reverse on a compensating failure. */
  compensations?: { stepId: string; name: string; done: boolean }[];
  review?: StepContext['review'];
  /** Alert episodes by `<fingerprint>@<startsAt>`. */
  alerts?: Record<string, AlertState>;
}

export interface AlertState {
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  endsAt: string | null;
  summary: string;
  labels: Record<string, string>;
  source: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

/** Monitoring acts under this actor; it may resolve (onAlertsResolved: resolve) but never decide. */
const MONITORING_ACTOR: Actor = { id: 'monitoring', name: 'Monitoring', role: 'responder' };

export interface IncidentWorkflowInput {
  incident: IncidentInfo;
  snapshot: RunbookSnapshot;
  /** Present only when continuing as new. */
  carried?: IncidentState;
}

const { recordTimeline } = proxyLocalActivities<FirelineActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s' },
});

function reject(type: RejectionType, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** The innermost message: activity failures wrap the cause that says what went wrong. */
function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? failureMessage(err.cause) : err.message;
}

function nowIso(): string {
  return new Date().toISOString();
}

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentView> {
  const { snapshot } = input;
  const runbook = snapshot.runbook;
  const state: IncidentState = input.carried ?? {
    seq: 0,
    status: 'open',
    phase: 'detect',
    severity: input.incident.severity,
    phaseIndex: 0,
    stepIndex: 0,
    aborted: false,
    decisions: {},
    stepOutputs: {},
    acknowledged: null,
    resolved: null,
    escalationLevel: 0,
  };
  state.tasks ??= {};
  state.events ??= {};
  state.compensations ??= [];
  state.alerts ??= {};
  const alerts = state.alerts;
  let changedAlerts: Record<string, AlertState> = {};
  const tasks = state.tasks;
  const events = state.events;
  const compensations = state.compensations;
  const incidentId = input.incident.id;
  const openDecisions: Record<string, OpenDecision> = {};
  const openTasks: Record<string, OpenTask> = {};
  const backgroundWork = new Set<Promise<void>>();
  let ackListeners: (() => void)[] = [];
  let currentStep: { id: string; kind: string } | null = null;
  let stepScope: CancellationScope | undefined;

  // Timeline writes are batched and chained so the read model sees them in workflow order.
  let pendingEvents: TimelineEvent[] = [];
  let pendingPatch: IncidentPatch = {};
  let recording: Promise<void> = Promise.resolve();

  const incident = (): IncidentInfo => ({ ...input.incident, severity: state.severity });

  function emit(type: TimelineEventType, summary: string, data: Record<string, unknown> = {}, actor: Actor = RUNBOOK_ACTOR) {
    state.seq += 1;
    pendingEvents.push({
      id: `${incidentId}:${state.seq}`,
      incidentId,
      seq: state.seq,
      at: nowIso(),
      type,
      phase: state.phase,
      actor,
      summary,
      data,
    });
  }

  function patch(p: IncidentPatch) {
    Object.assign(pendingPatch, p);
  }

  function flush(): Promise<void> {
    recording = recording.then(async () => {
      const alertRows = Object.values(changedAlerts);
      if (!pendingEvents.length && !Object.keys(pendingPatch).length && !alertRows.length) return;
      const events = pendingEvents;
      const p = pendingPatch;
      pendingEvents = [];
      pendingPatch = {};
      changedAlerts = {};
      const batch: RecordBatch = { incidentId, events, patch: Object.keys(p).length ? p : null, at: nowIso() };
      // Only present when there are alerts, so histories recorded before alerts existed replay unchanged.
      if (alertRows.length) batch.alerts = alertRows.map(({ count, ...a }) => ({ ...a, incidentId, received: count }));
      // Never cancelled with a step: a lost timeline write is worse than a late one.
      await CancellationScope.nonCancellable(() => recordTimeline(batch));
    });
    return recording;
  }

  const view = (): IncidentView => ({
    id: incidentId,
    status: state.status,
    phase: state.phase,
    severity: state.severity,
    currentStep,
    openDecisions: Object.values(openDecisions),
    decisions: state.decisions,
    openTasks: Object.values(openTasks),
    awaitingReview: state.review && !state.review.done ? { stepId: state.review.stepId, dueAt: state.review.dueAt } : null,
    drill: input.incident.drill,
    acknowledged: state.acknowledged,
    resolved: state.resolved,
    escalationLevel: state.escalationLevel,
    alerts: alertCounts(),
    runbook: { id: runbook.id, version: snapshot.version },
  });

  function rejectIfClosed() {
    if (state.status === 'closed') reject(REJECTION.conflict, 'the incident is closed');
  }

  function rejectIfResolved() {
    rejectIfClosed();
    if (state.resolved) reject(REJECTION.conflict, `the incident was resolved by ${state.resolved.by.name}`);
  }

  function resolveNow(by: Actor, summary: string | null) {
    const at = nowIso();
    state.resolved = { by, at, summary };
    state.status = 'resolved';
    patch({ status: 'resolved', resolvedAt: at });
    emit('incident.resolved', summary ? `Resolved: ${summary}` : 'Resolved', { summary }, by);
    // The current step is moot once resolved; the retrospective still runs in full.
    if (state.phase !== 'retrospective') stepScope?.cancel();
  }

  function alertCounts() {
    let firing = 0;
    let received = 0;
    const all = Object.values(alerts);
    for (const a of all) {
      if (a.status === 'firing') firing += 1;
      received += a.count;
    }
    return { firing, resolved: all.length - firing, received };
  }

  /**
   * Folds a batch into the alert episodes. Only changes reach the timeline: a new episode, a resolve, a re-fire
   * after resolution (flapping); repeated deliveries only count.
   */
  function applyAlerts(batch: AlertBatch) {
    const firingBefore = alertCounts().firing;
    for (const u of batch.alerts) {
      const key = `${u.fingerprint}@${u.startsAt}`;
      const known = alerts[key];
      const data = { fingerprint: u.fingerprint, startsAt: u.startsAt, labels: u.labels, source: u.source };
      if (!known) {
        alerts[key] = { fingerprint: u.fingerprint, startsAt: u.startsAt, status: u.status, endsAt: u.endsAt, summary: u.summary, labels: u.labels, source: u.source, count: u.count, firstSeen: u.receivedAt, lastSeen: u.receivedAt };
        if (u.status === 'firing') {
          const refire = state.resolved !== null;
          emit(refire ? 'alert.refired' : 'alert.fired', `${refire ? 'Fired again after resolution' : 'Alert firing'}: ${u.summary}`, data, MONITORING_ACTOR);
        } else {
          emit('alert.resolved', `Alert resolved: ${u.summary}`, data, MONITORING_ACTOR);
        }
      } else {
        known.count += u.count;
        if (u.receivedAt > known.lastSeen) known.lastSeen = u.receivedAt;
        // A resolved episode stays resolved: a late or duplicated "firing" delivery must not undo it.
        if (known.status === 'firing' && u.status === 'resolved') {
          known.status = 'resolved';
          known.endsAt = u.endsAt;
          emit('alert.resolved', `Alert resolved: ${u.summary}`, data, MONITORING_ACTOR);
        }
      }
      changedAlerts[key] = alerts[key]!;
    }
    const firingNow = alertCounts().firing;
    if (firingBefore > 0 && firingNow === 0) {
      emit('alerts.all_resolved', 'Every alert of this incident has resolved', { alerts: Object.keys(alerts).length }, MONITORING_ACTOR);
      if (runbook.onAlertsResolved === 'resolve' && !state.resolved) resolveNow(MONITORING_ACTOR, 'all alerts resolved');
    }
  }

  setHandler(alertsSignal, (batch) => {
    applyAlerts(batch);
    void flush();
  });

  setHandler(statusQuery, view);

  setHandler(
    acknowledgeUpdate,
    async ({ actor }) => {
      state.acknowledged = { by: actor, at: nowIso() };
      state.status = 'acknowledged';
      // Withdraw pages scheduled but not yet picked up by a worker.
      for (const withdraw of ackListeners) withdraw();
      ackListeners = [];
      patch({ status: 'acknowledged', acknowledgedAt: state.acknowledged.at });
      emit('incident.acknowledged', `Acknowledged by ${actor.name}`, {}, actor);
      await flush();
      return view();
    },
    {
      validator: (_args: AcknowledgeArgs) => {
        rejectIfResolved();
        if (state.acknowledged) reject(REJECTION.conflict, `already acknowledged by ${state.acknowledged.by.name}`);
      },
    },
  );

  setHandler(
    decideUpdate,
    async ({ actor, stepId, option }) => {
      state.decisions[stepId] = { option, by: actor, at: nowIso(), timedOut: false };
      delete openDecisions[stepId];
      emit('decision.taken', `${actor.name} chose "${option}"`, { stepId, option }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ actor, stepId, option }) => {
        rejectIfClosed();
        const taken = state.decisions[stepId];
        if (taken) reject(REJECTION.conflict, `decision "${stepId}" was already taken: "${taken.option}" by ${taken.by.name}`);
        const open = openDecisions[stepId];
        if (!open) reject(REJECTION.notFound, `no open decision "${stepId}"`);
        if (!open.options.includes(option)) {
          reject(REJECTION.invalid, `"${option}" is not an option of "${stepId}" (expected one of ${open.options.join(', ')})`);
        }
        if (ROLE_ORDER.indexOf(actor.role) < ROLE_ORDER.indexOf(open.approver)) {
          reject(REJECTION.forbidden, `deciding "${stepId}" needs the ${open.approver} role`);
        }
      },
    },
  );

  setHandler(
    escalateUpdate,
    async ({ actor, reason }) => {
      state.escalationLevel += 1;
      emit('incident.escalated', `Escalated to level ${state.escalationLevel}${reason ? `: ${reason}` : ''}`, {
        level: state.escalationLevel,
        reason: reason ?? null,
      }, actor);
      await flush();
      return view();
    },
    { validator: (_args: EscalateArgs) => rejectIfResolved() },
  );

  setHandler(
    resolveUpdate,
    async ({ actor, summary }) => {
      resolveNow(actor, summary ?? null);
      await flush();
      return view();
    },
    { validator: (_args: ResolveArgs) => rejectIfResolved() },
  );

  setHandler(
    addNoteUpdate,
    async ({ actor, text }) => {
      emit('note.added', text.trim(), {}, actor);
      await flush();
      return view();
    },
    {
      validator: ({ text }) => {
        rejectIfClosed();
        if (!text.trim()) reject(REJECTION.invalid, 'the note is empty');
        if (text.length > MAX_NOTE_LENGTH) reject(REJECTION.invalid, `the note is longer than ${MAX_NOTE_LENGTH} characters`);
      },
    },
  );

  setHandler(
    changeSeverityUpdate,
    async ({ actor, severity, reason }) => {
      const from = state.severity;
      state.severity = severity;
      patch({ severity });
      emit('severity.changed', `Severity ${from} → ${severity}${reason ? `: ${reason}` : ''}`, { from, to: severity, reason: reason ?? null }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ severity }) => {
        rejectIfClosed();
        if (!SEVERITY_ORDER.includes(severity)) reject(REJECTION.invalid, `unknown severity "${severity}"`);
        if (severity === state.severity) reject(REJECTION.conflict, `the severity is already ${severity}`);
      },
    },
  );

  setHandler(
    completeTaskUpdate,
    async ({ actor, stepId, note }) => {
      tasks[stepId] = { by: actor, at: nowIso(), note: note ?? null };
      delete openTasks[stepId];
      emit('task.completed', `${actor.name} completed "${stepId}"${note ? `: ${note}` : ''}`, { stepId, note: note ?? null }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ stepId, note }: CompleteTaskArgs) => {
        rejectIfClosed();
        if (tasks[stepId]) reject(REJECTION.conflict, `task "${stepId}" was already completed by ${tasks[stepId].by.name}`);
        if (!openTasks[stepId]) reject(REJECTION.notFound, `no open task "${stepId}"`);
        if (note !== undefined && note.length > MAX_NOTE_LENGTH) reject(REJECTION.invalid, `the note is longer than ${MAX_NOTE_LENGTH} characters`);
      },
    },
  );

  setHandler(
    completeReviewUpdate,
    async ({ actor, summary }) => {
      state.review!.done = { by: actor, at: nowIso() };
      emit('postmortem.reviewed', `${actor.name} marked the post-mortem review done${summary ? `: ${summary}` : ''}`, { summary: summary ?? null }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ actor }: CompleteReviewArgs) => {
        rejectIfClosed();
        if (!state.review || state.review.done) reject(REJECTION.notFound, 'no post-mortem is waiting for its review');
        if (ROLE_ORDER.indexOf(actor.role) < ROLE_ORDER.indexOf('commander')) reject(REJECTION.forbidden, 'marking the review done needs the commander role');
      },
    },
  );

  setHandler(
    postEventUpdate,
    async ({ actor, name, data }) => {
      events[name] = { by: actor, at: nowIso(), data };
      emit('event.received', `Event "${name}" from ${actor.name}`, { name, data }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ name, data }: PostEventArgs) => {
        rejectIfClosed();
        if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) reject(REJECTION.invalid, 'the event name must be lowercase letters, digits and dashes');
        if (events[name]) reject(REJECTION.conflict, `event "${name}" was already received`);
        if (JSON.stringify(data).length > MAX_EVENT_BYTES) reject(REJECTION.invalid, `event data is larger than ${MAX_EVENT_BYTES} bytes`);
      },
    },
  );

  const ctx: StepContext = {
    incident,
    decisions: state.decisions,
    openDecisions,
    tasks,
    openTasks,
    events,
    openAlertCount: () => alertCounts().firing,
    resolvedAt: () => state.resolved?.at ?? null,
    get review() {
      return state.review ?? null;
    },
    acknowledged: () => state.acknowledged !== null,
    onAcknowledge: (fn) => {
      if (state.acknowledged) fn();
      else ackListeners.push(fn);
    },
    manualEscalations: () => state.escalationLevel,
    defaultPolicy: runbook.escalation,
    background: (work) => {
      const tracked = work
        .catch((err: unknown) => {
          // Cancelled with its step when the incident was resolved: nothing went wrong.
          if (!isCancellation(err)) emit('step.failed', `Background paging failed: ${failureMessage(err)}`, { error: failureMessage(err) });
        })
        .finally(() => backgroundWork.delete(tracked));
      backgroundWork.add(tracked);
    },
    setReview: (review) => {
      state.review = review;
    },
    emit,
    flush,
  };

  /** Runs the compensations of completed steps in reverse, each once, even if the incident is resolved meanwhile. */
  async function compensate(failedStepId: string) {
    for (const entry of [...compensations].reverse()) {
      if (entry.done) continue;
      const spec = runbook.compensations[entry.name]!;
      const { runAction } = proxyActivities<FirelineActivities>({
        startToCloseTimeout: spec.timeout ?? (spec.command ? 15 * 60_000 : 120_000),
        retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: (spec.retries ?? 4) + 1 },
      });
      const data = { stepId: entry.stepId, compensation: entry.name, after: failedStepId };
      if (input.incident.drill && (spec.drill ?? 'simulate') === 'simulate') {
        emit('step.compensated', `Drill: simulated compensation ${entry.name} of ${entry.stepId}`, { ...data, simulated: true });
      } else {
        try {
          await CancellationScope.nonCancellable(() =>
            runAction({
              idempotencyKey: `${incidentId}:${entry.stepId}:compensate`,
              incidentId,
              stepId: entry.stepId,
              action: spec.http ? { http: spec.http } : { command: spec.command! },
              context: { incident: incident(), decisions: Object.fromEntries(Object.entries(state.decisions).map(([k, d]) => [k, d.option])), params: input.incident.params ?? {} },
              drill: input.incident.drill,
            }),
          );
          emit('step.compensated', `Compensated ${entry.stepId} with ${entry.name}`, data);
        } catch (err) {
          emit('step.failed', `Compensation ${entry.name} of ${entry.stepId} failed: ${failureMessage(err)}`, { ...data, error: failureMessage(err) });
        }
      }
      entry.done = true;
      await flush();
    }
  }

  async function executeStep(step: Step) {
    if (step.when && !evaluateCondition(step.when, { incident: incident(), outputs: state.stepOutputs })) {
      state.stepOutputs[step.id] = { result: 'skipped' };
      emit('step.skipped', `${step.kind} ${step.id} skipped: its condition is not met`, { stepId: step.id, reason: 'condition' });
      return;
    }
    currentStep = { id: step.id, kind: step.kind };
    emit('step.started', step.title ?? `${step.kind} ${step.id}`, { stepId: step.id, kind: step.kind });
    // Not awaited: the write travels alongside the step's first activity instead of before it.
    void flush();
    try {
      const output = await CancellationScope.cancellable(async () => {
        stepScope = CancellationScope.current();
        return runStep(ctx, step);
      });
      state.stepOutputs[step.id] = output;
      if (step.compensate) compensations.push({ stepId: step.id, name: step.compensate, done: false });
      emit('step.succeeded', `${step.kind} ${step.id} done`, { stepId: step.id, output });
    } catch (err) {
      if (isCancellation(err) && state.resolved) {
        emit('step.skipped', `${step.kind} ${step.id} skipped: the incident was resolved`, { stepId: step.id });
      } else {
        const message = failureMessage(err);
        const onFailure = step.onFailure ?? 'abort';
        state.stepOutputs[step.id] = { result: 'failed', error: message };
        emit('step.failed', `${step.kind} ${step.id} failed: ${message}`, { stepId: step.id, error: message, onFailure });
        if (onFailure === 'compensate') {
          stepScope = undefined;
          await flush();
          await compensate(step.id);
        }
        if (onFailure !== 'continue') state.aborted = true;
      }
    } finally {
      stepScope = undefined;
      currentStep = null;
    }
    await flush();
  }

  /** The retrospective needs a resolved incident: resolve on the runbook's behalf, or wait for a human. */
  async function awaitResolution() {
    if (state.resolved) return;
    if (runbook.autoResolve && !state.aborted) {
      resolveNow(RUNBOOK_ACTOR, 'recovery complete');
      return;
    }
    await flush();
    await condition(() => state.resolved !== null);
  }

  async function continueAsNewIfSuggested() {
    // Background paging lives in this run's memory only: never continue as new under it.
    if (!workflowInfo().continueAsNewSuggested || backgroundWork.size) return;
    await flush();
    await condition(allHandlersFinished);
    await continueAsNew<typeof incidentWorkflow>({ incident: input.incident, snapshot, carried: state });
  }

  if (state.seq === 0) {
    const trigger = input.incident.trigger;
    emit(
      'incident.declared',
      `Declared "${input.incident.title}" (${state.severity}) with runbook ${runbook.id}`,
      { runbook: runbook.id, version: snapshot.version, drill: input.incident.drill, trigger: trigger.kind },
      trigger.by,
    );
  }

  for (; state.phaseIndex < PHASE_ORDER.length; state.phaseIndex++, state.stepIndex = 0) {
    const phase = PHASE_ORDER[state.phaseIndex]!;
    const skipToRetrospective = (state.resolved !== null || state.aborted) && phase !== 'retrospective';
    if (skipToRetrospective) continue;
    if (phase === 'retrospective') await awaitResolution();
    if (state.stepIndex === 0) {
      state.phase = phase;
      patch({ phase });
      emit('phase.entered', `Entered ${phase}`, { phase });
    }
    const steps = runbook.phases[phase];
    while (state.stepIndex < steps.length) {
      if ((state.resolved || state.aborted) && phase !== 'retrospective') break;
      await executeStep(steps[state.stepIndex]!);
      state.stepIndex += 1;
      // A phase cut short by resolve or abort first records that it ended, then the run may continue as new.
      const cutShort = (state.resolved !== null || state.aborted) && phase !== 'retrospective';
      if (cutShort && patched('phase-end-before-continue-as-new')) break;
      await continueAsNewIfSuggested();
    }
    const interrupted = state.stepIndex < steps.length;
    emit('phase.completed', interrupted ? `Left ${phase} early` : `Completed ${phase}`, { phase, interrupted });
  }

  await Promise.all(backgroundWork);
  state.status = 'closed';
  state.phase = 'closed';
  const closedAt = nowIso();
  patch({ status: 'closed', phase: 'closed', closedAt });
  emit('incident.closed', 'Closed after the retrospective', {});
  await flush();
  await condition(allHandlersFinished);
  return view();
}
