// Compensation: when a step with `onFailure: compensate` fails, the compensations of the steps completed before
// it run in reverse order, each once.
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { FirelineActivities } from '../activities';
import { failureMessage } from './failures';
import type { IncidentRun } from './run';

/** Runs the compensations of completed steps in reverse, each once, even if the incident is resolved meanwhile. */
export async function compensate(run: IncidentRun, failedStepId: string): Promise<void> {
  const { incidentId, runbook, state, input } = run;
  const { emit, flush } = run.timeline;
  for (const entry of [...state.compensations].reverse()) {
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
            context: {
              incident: run.incident(),
              decisions: Object.fromEntries(Object.entries(state.decisions).map(([k, d]) => [k, d.option])),
              params: input.incident.params ?? {},
            },
            drill: input.incident.drill,
          }),
        );
        emit('step.compensated', `Compensated ${entry.stepId} with ${entry.name}`, data);
      } catch (err) {
        emit('step.failed', `Compensation ${entry.name} of ${entry.stepId} failed: ${failureMessage(err)}`, {
          ...data,
          error: failureMessage(err),
        });
      }
    }
    entry.done = true;
    await flush();
  }
}
