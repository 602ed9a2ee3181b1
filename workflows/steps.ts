// One handler per step kind. Deterministic: runs inside the workflow sandbox.
import { condition, proxyActivities, sleep } from '@temporalio/workflow';
import type { FirelineActivities } from '../activities';
import type { IncidentInfo } from '../src/domain/incident';
import type { Actor } from '../src/domain/roles';
import type { DecideStep, NotifyStep, Step, WaitStep } from '../src/domain/runbook';
import type { TimelineEventType } from '../src/domain/timeline';
import type { DecisionRecord, OpenDecision } from './messages';

export const RUNBOOK_ACTOR: Actor = { id: 'runbook', name: 'Runbook', role: 'admin' };

/** What a step handler may touch of the incident workflow. */
export interface StepContext {
  incident: () => IncidentInfo;
  decisions: Record<string, DecisionRecord>;
  openDecisions: Record<string, OpenDecision>;
  emit(type: TimelineEventType, summary: string, data?: Record<string, unknown>, actor?: Actor): void;
  flush(): Promise<void>;
}

export type StepOutput = Record<string, string | number | boolean | null>;

const DEFAULT_STEP_TIMEOUT_MS = 60_000;

export async function runStep(ctx: StepContext, step: Step): Promise<StepOutput> {
  switch (step.kind) {
    case 'notify':
      return runNotify(ctx, step);
    case 'decide':
      return runDecide(ctx, step);
    case 'wait':
      return runWait(step);
    default: {
      const unknownStep: never = step;
      throw new Error(`unknown step kind ${(unknownStep as { kind: string }).kind}`);
    }
  }
}

async function runNotify(ctx: StepContext, step: NotifyStep): Promise<StepOutput> {
  const { sendNotification } = proxyActivities<FirelineActivities>({
    startToCloseTimeout: step.timeout ?? DEFAULT_STEP_TIMEOUT_MS,
    retry: {
      initialInterval: '1s',
      maximumInterval: '30s',
      ...(step.retries !== undefined ? { maximumAttempts: step.retries + 1 } : {}),
    },
  });
  const incident = ctx.incident();
  const decisions = Object.fromEntries(Object.entries(ctx.decisions).map(([id, d]) => [id, d.option]));
  const result = await sendNotification({
    id: `${incident.id}:${step.id}`,
    incident,
    stepId: step.id,
    via: step.via,
    to: step.to ?? null,
    message: step.message,
    decisions,
  });
  ctx.emit('notification.sent', `Notified ${step.to ?? result.deliveredVia} via ${result.deliveredVia}`, {
    stepId: step.id,
    via: result.deliveredVia,
    requested: step.via,
    to: step.to ?? null,
    messageId: result.messageId,
  });
  return { deliveredVia: result.deliveredVia, messageId: result.messageId };
}

async function runDecide(ctx: StepContext, step: DecideStep): Promise<StepOutput> {
  const deadline = new Date(Date.now() + step.timeout).toISOString();
  ctx.openDecisions[step.id] = {
    stepId: step.id,
    prompt: step.prompt,
    options: step.options,
    default: step.default,
    approver: step.approver,
    deadline,
  };
  ctx.emit('decision.requested', step.prompt, { stepId: step.id, options: step.options, default: step.default, deadline });
  try {
    await ctx.flush();
    const decided = await condition(() => ctx.decisions[step.id] !== undefined, step.timeout);
    if (!decided) {
      ctx.decisions[step.id] = { option: step.default, by: RUNBOOK_ACTOR, at: new Date().toISOString(), timedOut: true };
      ctx.emit('decision.timed_out', `No decision in time; took the default "${step.default}"`, {
        stepId: step.id,
        option: step.default,
      });
    }
  } finally {
    delete ctx.openDecisions[step.id];
  }
  const decision = ctx.decisions[step.id]!;
  return { option: decision.option, timedOut: decision.timedOut, by: decision.by.id };
}

async function runWait(step: WaitStep): Promise<StepOutput> {
  await sleep(step.duration);
  return { waitedMs: step.duration };
}
