// The incident workflow: walks the runbook's six phases and takes human input through validated updates.
// Deterministic: no I/O, no Node built-ins; every side effect is an activity. Behaviour changes to this
// interpreter after a release go behind patched() and are guarded by the replay tests.
import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { PHASES } from '../src/domain/phases';
import { registerHandlers } from './handlers';
import type { IncidentView } from './messages';
import { IncidentRun } from './run';
import type { IncidentWorkflowInput } from './state';
import { RUNBOOK_ACTOR } from './step-context';
import { createStepContext, executeStep } from './step-runner';
import { nowIso } from './timeline';

export type { IncidentWorkflowInput } from './state';

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentView> {
  const run = new IncidentRun(input);
  const { state, runbook, snapshot } = run;
  const { emit, patch, flush } = run.timeline;
  const declare = () => {
    if (state.seq !== 0) return;
    const trigger = input.incident.trigger;
    emit(
      'incident.declared',
      `Declared "${input.incident.title}" (${state.severity}) with runbook ${runbook.id}`,
      { runbook: runbook.id, version: snapshot.version, drill: input.incident.drill, trigger: trigger.kind },
      trigger.by,
    );
  };
  // An incident opened by alerts starts with its first batch (signalWithStart), which the handlers take as soon
  // as they are registered: declared first, or that batch's events would number before the declaration and
  // the declaration (seq 0 only) never be written.
  const declaredFirst = patched('declare-before-signals');
  if (declaredFirst) declare();
  registerHandlers(run);
  if (!declaredFirst) declare();
  const ctx = createStepContext(run);

  /** The retrospective needs a resolved incident: resolve on the runbook's behalf, or wait for a human. */
  async function awaitResolution() {
    if (state.resolved) return;
    if (runbook.autoResolve && !state.aborted) {
      run.resolveNow(RUNBOOK_ACTOR, 'recovery complete');
      return;
    }
    await flush();
    await condition(() => state.resolved !== null);
  }

  async function continueAsNewIfSuggested() {
    // Background paging lives in this run's memory only: never continue as new under it.
    if (!workflowInfo().continueAsNewSuggested || run.backgroundWork.size) return;
    await flush();
    await condition(allHandlersFinished);
    await continueAsNew<typeof incidentWorkflow>({ incident: input.incident, snapshot, carried: state });
  }

  for (; state.phaseIndex < PHASES.length; state.phaseIndex++, state.stepIndex = 0) {
    const phase = PHASES[state.phaseIndex]!;
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
      await executeStep(run, ctx, steps[state.stepIndex]!);
      state.stepIndex += 1;
      // A phase cut short by resolve or abort first records that it ended, then the run may continue as new.
      const cutShort = (state.resolved !== null || state.aborted) && phase !== 'retrospective';
      if (cutShort && patched('phase-end-before-continue-as-new')) break;
      await continueAsNewIfSuggested();
    }
    const interrupted = state.stepIndex < steps.length;
    emit('phase.completed', interrupted ? `Left ${phase} early` : `Completed ${phase}`, { phase, interrupted });
  }

  await Promise.all(run.backgroundWork);
  state.status = 'closed';
  state.phase = 'closed';
  patch({ status: 'closed', phase: 'closed', closedAt: nowIso() });
  emit('incident.closed', 'Closed after the retrospective', {});
  await flush();
  await condition(allHandlersFinished);
  return run.view();
}
