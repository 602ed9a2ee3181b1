// Runs one step of the runbook: its `when` condition, the handler of its kind in a cancellable scope (a resolve
// cancels it), the output or the failure with its `onFailure`, and the timeline lines around it.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { Step } from '../src/domain/runbook';
import { compensate } from './compensation';
import { evaluateCondition } from './conditions';
import { failureMessage } from './failures';
import type { IncidentRun } from './run';
import { alertCounts } from './state';
import type { StepContext } from './step-context';
import { runStep } from './steps';

export function createStepContext(run: IncidentRun): StepContext {
  const { state } = run;
  const { emit, flush } = run.timeline;
  return {
    incident: () => run.incident(),
    decisions: state.decisions,
    openDecisions: run.openDecisions,
    tasks: state.tasks,
    openTasks: run.openTasks,
    events: state.events,
    openAlertCount: () => alertCounts(state.alerts).firing,
    resolvedAt: () => state.resolved?.at ?? null,
    get review() {
      return state.review ?? null;
    },
    acknowledged: () => state.acknowledged !== null,
    onAcknowledge: (fn) => {
      if (state.acknowledged) fn();
      else run.ackListeners.push(fn);
    },
    manualEscalations: () => state.escalationLevel,
    defaultPolicy: run.runbook.escalation,
    background: (work) => {
      const tracked = work
        .catch((err: unknown) => {
          // Cancelled with its step when the incident was resolved: nothing went wrong.
          if (!isCancellation(err)) emit('step.failed', `Background paging failed: ${failureMessage(err)}`, { error: failureMessage(err) });
        })
        .finally(() => run.backgroundWork.delete(tracked));
      run.backgroundWork.add(tracked);
    },
    setReview: (review) => {
      state.review = review;
    },
    emit,
    flush,
  };
}

export async function executeStep(run: IncidentRun, ctx: StepContext, step: Step): Promise<void> {
  const { state } = run;
  const { emit, flush } = run.timeline;
  if (step.when && !evaluateCondition(step.when, { incident: run.incident(), outputs: state.stepOutputs })) {
    state.stepOutputs[step.id] = { result: 'skipped' };
    emit('step.skipped', `${step.kind} ${step.id} skipped: its condition is not met`, { stepId: step.id, reason: 'condition' });
    return;
  }
  run.currentStep = { id: step.id, kind: step.kind };
  emit('step.started', step.title ?? `${step.kind} ${step.id}`, { stepId: step.id, kind: step.kind });
  // Not awaited: the write travels alongside the step's first activity instead of before it.
  void flush();
  try {
    const output = await CancellationScope.cancellable(async () => {
      run.stepScope = CancellationScope.current();
      return runStep(ctx, step);
    });
    state.stepOutputs[step.id] = output;
    if (step.compensate) state.compensations.push({ stepId: step.id, name: step.compensate, done: false });
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
        run.stepScope = undefined;
        await flush();
        await compensate(run, step.id);
      }
      if (onFailure !== 'continue') state.aborted = true;
    }
  } finally {
    run.stepScope = undefined;
    run.currentStep = null;
  }
  await flush();
}
