// One handler per step kind. Deterministic: runs inside the workflow sandbox.
import { ApplicationFailure, condition, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { FirelineActivities } from '../activities';
import { FAILURE } from '../src/domain/failure-types';
import type {
  ActionStep,
  BackupStep,
  DecideStep,
  NotifyStep,
  PostmortemStep,
  Step,
  TaskStep,
  VerifyStep,
  WaitStep,
} from '../src/domain/runbook';
import { runPage } from './escalation';
import { RUNBOOK_ACTOR } from './step-context';
import type { StepContext, StepOutput } from './step-context';

const DEFAULT_STEP_TIMEOUT_MS = 60_000;
const DEFAULT_RETRIES = 2;

/** Activity options from a step's timeout and retries; attempts are Temporal's, never the client library's. */
function activityOptions(step: Step, fallbackTimeoutMs = DEFAULT_STEP_TIMEOUT_MS, extra: Partial<ActivityOptions> = {}): ActivityOptions {
  return {
    startToCloseTimeout: step.timeout ?? fallbackTimeoutMs,
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: (step.retries ?? DEFAULT_RETRIES) + 1 },
    ...extra,
  };
}

function templateContext(ctx: StepContext) {
  const incident = ctx.incident();
  return {
    incident,
    decisions: Object.fromEntries(Object.entries(ctx.decisions).map(([id, d]) => [id, d.option])),
    params: incident.params ?? {},
  };
}

/** What a simulated step reports in a drill: the result a healthy run would have had. */
const SIMULATED_RESULT: Record<Step['kind'], string> = {
  notify: 'sent',
  page: 'acknowledged',
  decide: 'simulated',
  verify: 'healthy',
  action: 'ok',
  backup: 'ok',
  wait: 'done',
  task: 'done',
  postmortem: 'drafted',
};

export async function runStep(ctx: StepContext, step: Step): Promise<StepOutput> {
  if (ctx.incident().drill && step.drill === 'simulate') {
    ctx.emit('step.simulated', `Drill: simulated ${step.kind} ${step.id}`, { stepId: step.id, kind: step.kind });
    return { result: SIMULATED_RESULT[step.kind], simulated: true };
  }
  switch (step.kind) {
    case 'notify':
      return runNotify(ctx, step);
    case 'page':
      return runPage(ctx, step);
    case 'decide':
      return runDecide(ctx, step);
    case 'verify':
      return runVerify(ctx, step);
    case 'action':
      return runAction(ctx, step);
    case 'backup':
      return runBackup(ctx, step);
    case 'wait':
      return runWait(ctx, step);
    case 'task':
      return runTask(ctx, step);
    case 'postmortem':
      return runPostmortem(ctx, step);
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
  const { decisions } = templateContext(ctx);
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
  return { result: 'sent', deliveredVia: result.deliveredVia, messageId: result.messageId };
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
  return { result: decision.option, option: decision.option, timedOut: decision.timedOut, by: decision.by.id };
}

async function runVerify(ctx: StepContext, step: VerifyStep): Promise<StepOutput> {
  const { runCheck } = proxyActivities<FirelineActivities>(activityOptions(step, 30_000));
  const incident = ctx.incident();
  const deadline = step.until === undefined ? null : Date.now() + step.until;
  for (let attempt = 1; ; attempt++) {
    const check = await runCheck({
      incidentId: incident.id,
      stepId: step.id,
      check: step.check,
      context: templateContext(ctx),
      drill: incident.drill,
    });
    if (check.healthy) return { result: 'healthy', checks: attempt, detail: check.detail };
    if (deadline === null || Date.now() + step.interval > deadline) {
      throw ApplicationFailure.nonRetryable(
        `still unhealthy after ${attempt} check${attempt === 1 ? '' : 's'}: ${check.detail}`,
        FAILURE.unhealthy,
      );
    }
    // One line per failed check would flood the timeline on a long `until`; the first one says enough.
    if (attempt === 1) ctx.emit('check.unhealthy', `Not healthy yet: ${check.detail}`, { stepId: step.id, detail: check.detail });
    await sleep(step.interval);
  }
}

async function runAction(ctx: StepContext, step: ActionStep): Promise<StepOutput> {
  // A command's own timeout (config) must end before the activity's, or Temporal would run it a second time.
  const { runAction: act } = proxyActivities<FirelineActivities>(
    activityOptions(step, step.command ? 15 * 60_000 : DEFAULT_STEP_TIMEOUT_MS),
  );
  const incident = ctx.incident();
  const action = step.http ? { http: step.http } : { command: step.command! };
  const result = await act({
    idempotencyKey: `${incident.id}:${step.id}`,
    incidentId: incident.id,
    stepId: step.id,
    action,
    context: templateContext(ctx),
    drill: incident.drill,
  });
  return { result: 'ok', code: result.code, detail: result.detail, durationMs: result.durationMs };
}

async function runBackup(ctx: StepContext, step: BackupStep): Promise<StepOutput> {
  const { takeBackup } = proxyActivities<FirelineActivities>(activityOptions(step, 3_600_000, { heartbeatTimeout: '30s' }));
  const incident = ctx.incident();
  const backup = await takeBackup({
    idempotencyKey: `${incident.id}:${step.id}`,
    incidentId: incident.id,
    stepId: step.id,
    target: step.target,
    restoreCheck: step.restoreCheck,
    drill: incident.drill,
  });
  const restore = backup.restoreCheck ? `, restore check ${backup.restoreCheck.ok ? 'passed' : 'FAILED'}` : '';
  ctx.emit('backup.taken', `Backup of ${step.target}: ${backup.sizeBytes} bytes in ${backup.durationMs} ms${restore}`, {
    stepId: step.id,
    target: step.target,
    ...backup,
  });
  if (backup.restoreCheck && !backup.restoreCheck.ok) {
    throw ApplicationFailure.nonRetryable(
      `restore check of ${step.target} failed: ${backup.restoreCheck.detail}`,
      FAILURE.restoreCheckFailed,
    );
  }
  return { result: 'ok', location: backup.location, sizeBytes: backup.sizeBytes, sha256: backup.sha256 };
}

async function runWait(ctx: StepContext, step: WaitStep): Promise<StepOutput> {
  if (step.duration !== undefined) {
    await sleep(step.duration);
    return { result: 'done', waitedMs: step.duration };
  }
  const timeout = step.timeout;
  if (step.for === 'alerts-resolved') {
    const ok = await waitUntil(() => ctx.openAlertCount() === 0, timeout);
    if (!ok) throw ApplicationFailure.nonRetryable('alerts still firing when the wait timed out', FAILURE.waitTimedOut);
    return { result: 'alerts-resolved' };
  }
  const name = step.for!.event;
  const ok = await waitUntil(() => ctx.events[name] !== undefined, timeout);
  if (!ok) throw ApplicationFailure.nonRetryable(`event "${name}" did not arrive in time`, FAILURE.waitTimedOut);
  return { result: 'received', event: name, by: ctx.events[name]!.by.id };
}

function waitUntil(fn: () => boolean, timeoutMs: number | undefined): Promise<boolean> {
  return timeoutMs === undefined ? condition(fn).then(() => true) : condition(fn, timeoutMs);
}

async function runTask(ctx: StepContext, step: TaskStep): Promise<StepOutput> {
  const deadline = step.timeout === undefined ? null : new Date(Date.now() + step.timeout).toISOString();
  ctx.openTasks[step.id] = { stepId: step.id, assignee: step.assignee, description: step.description, deadline };
  ctx.emit('task.created', `Task for ${step.assignee}: ${step.description}`, { stepId: step.id, assignee: step.assignee, deadline });
  try {
    await ctx.flush();
    const done = await waitUntil(() => ctx.tasks[step.id] !== undefined, step.timeout);
    if (!done)
      throw ApplicationFailure.nonRetryable(`task "${step.id}" was not completed by its deadline ${deadline}`, FAILURE.taskOverdue);
  } finally {
    delete ctx.openTasks[step.id];
  }
  const task = ctx.tasks[step.id]!;
  return { result: 'done', by: task.by.id, at: task.at };
}

async function runPostmortem(ctx: StepContext, step: PostmortemStep): Promise<StepOutput> {
  const { draftPostmortem } = proxyActivities<FirelineActivities>(activityOptions(step));
  // Flushed first so the draft is built from the complete timeline.
  await ctx.flush();
  const resolvedAt = ctx.resolvedAt() ?? new Date().toISOString();
  const dueAt = new Date(Date.parse(resolvedAt) + step.due).toISOString();
  const incident = ctx.incident();
  const draft = await draftPostmortem({ incident, template: step.template, dueAt });
  ctx.emit('postmortem.drafted', `Post-mortem drafted (template ${step.template}), review due ${dueAt}`, {
    stepId: step.id,
    template: step.template,
    dueAt,
    sections: draft.sections,
  });
  // Waiting for the review arrived after the first release: histories of incidents that closed without it
  // must replay unchanged.
  if (!step.review || incident.drill || !patched('postmortem-review')) return { result: 'drafted', dueAt };
  ctx.setReview({ stepId: step.id, dueAt, done: null });
  await ctx.flush();
  await remindUntilReviewed(ctx, step, Date.parse(dueAt));
  const done = ctx.review!.done!;
  return { result: 'reviewed', dueAt, by: done.by.id, at: done.at };
}

const DAY_MS = 86_400_000;
const OVERDUE_REMINDERS = 7;

/** Reminders before the due date, at it, then daily while overdue (a week at most); each sent once. */
async function remindUntilReviewed(ctx: StepContext, step: PostmortemStep, dueMs: number) {
  const { sendNotification } = proxyActivities<FirelineActivities>(activityOptions(step));
  const reviewed = () => ctx.review?.done != null;
  const schedule = [dueMs - step.remindBefore, dueMs, ...Array.from({ length: OVERDUE_REMINDERS }, (_, i) => dueMs + (i + 1) * DAY_MS)];
  for (const [n, at] of schedule.entries()) {
    if (await condition(reviewed, Math.max(1, at - Date.now()))) return;
    const overdue = at > dueMs;
    const incident = ctx.incident();
    const message = overdue
      ? `The post-mortem of \${incident.id} (\${incident.title}) is overdue since ${new Date(dueMs).toISOString()}.`
      : `The post-mortem review of \${incident.id} (\${incident.title}) is due ${new Date(dueMs).toISOString()}.`;
    const sent = await sendNotification({
      id: `${incident.id}:${step.id}:reminder-${n}`,
      incident,
      stepId: step.id,
      via: 'outbox',
      to: null,
      message,
      decisions: {},
    });
    ctx.emit('postmortem.reminder', overdue ? 'Post-mortem review overdue: reminder sent' : 'Post-mortem review due soon: reminder sent', {
      stepId: step.id,
      n,
      overdue,
      messageId: sent.messageId,
    });
    await ctx.flush();
  }
  await condition(reviewed);
}
