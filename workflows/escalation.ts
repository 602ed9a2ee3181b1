// The escalation loop of a page step: level by level, contact by contact, until someone acknowledges.
// Deterministic: runs inside the workflow sandbox.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
} from '@temporalio/workflow';
import type { FirelineActivities, PageRequest } from '../activities';
import type { EscalationSnapshot, SnapshotTarget } from '../src/domain/oncall';
import { FAILURE } from '../src/domain/failure-types';
import type { PageStep } from '../src/domain/runbook';
import type { StepContext, StepOutput } from './step-context';

const { sendPage } = proxyActivities<FirelineActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  // A page already being delivered when someone acknowledges is let finish, so the timeline says what happened.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  // Throttling asks for a later retry through nextRetryDelay; permanent failures are non-retryable.
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 6 },
});

const { resolveEscalation } = proxyActivities<FirelineActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

type EscalationOutcome = 'acknowledged' | 'resolved' | 'exhausted';

/** Pins the policy as it is now (later edits never change this incident's escalation) and runs it. */
export async function runPage(ctx: StepContext, step: PageStep): Promise<StepOutput> {
  const policyId = step.policy ?? ctx.defaultPolicy;
  if (!policyId)
    throw ApplicationFailure.nonRetryable(
      'no escalation policy: set `policy` on the step or `escalation` on the runbook',
      FAILURE.unknownPolicy,
    );
  const snapshot = await resolveEscalation({ policyId, at: new Date().toISOString() });
  const levels = snapshot.levels.map((l, i) => `level ${i + 1}: ${l.targets.map((t) => t.name).join(', ') || 'nobody'}`);
  ctx.emit('page.started', `Paging ${policyId} (${levels.join('; ')}${snapshot.repeat ? `; repeated ${snapshot.repeat}×` : ''})`, {
    stepId: step.id,
    policyId,
    levels: snapshot.levels.map((l) => ({ delayMs: l.delayMs, people: l.targets.map((t) => t.personId) })),
    repeat: snapshot.repeat,
    warnings: snapshot.warnings,
  });
  await ctx.flush();
  if (step.wait === 'none') {
    ctx.background(escalate(ctx, step, snapshot).then((outcome) => reportOutcome(ctx, step, outcome)));
    return { result: 'paging', policy: policyId };
  }
  const outcome = await escalate(ctx, step, snapshot);
  reportOutcome(ctx, step, outcome);
  if (outcome === 'exhausted')
    throw ApplicationFailure.nonRetryable(`nobody acknowledged after every level of ${policyId}`, FAILURE.nobodyAcknowledged);
  return { result: outcome, policy: policyId };
}

function reportOutcome(ctx: StepContext, step: PageStep, outcome: EscalationOutcome) {
  if (outcome === 'exhausted') ctx.emit('page.exhausted', 'Every escalation level was paged and nobody acknowledged', { stepId: step.id });
}

/**
 * Every send is decided on a fresh look at the state: an acknowledgement (or resolve) handled in the same
 * workflow task as a timer wins, because Temporal delivers updates before timers, so nothing is paged after
 * it is recorded. A manual escalate cuts the current level's wait short.
 */
async function escalate(ctx: StepContext, step: PageStep, snapshot: EscalationSnapshot): Promise<EscalationOutcome> {
  const stopped = (): EscalationOutcome | null => (ctx.acknowledged() ? 'acknowledged' : ctx.resolvedAt() ? 'resolved' : null);
  let escalationsSeen = ctx.manualEscalations();
  for (let round = 0; round <= snapshot.repeat; round++) {
    for (const [level, { targets, delayMs }] of snapshot.levels.entries()) {
      if (stopped()) return stopped()!;
      const delivered = await pageTargets(ctx, step, targets, round, level, stopped);
      if (stopped()) return stopped()!;
      // A level nobody could be reached on is no reason to wait: go on to the next one now.
      if (delivered === 0) continue;
      await condition(() => stopped() !== null || ctx.manualEscalations() > escalationsSeen, delayMs);
      // Each press of escalate skips exactly one level's wait, however quickly presses follow each other.
      if (ctx.manualEscalations() > escalationsSeen) escalationsSeen += 1;
    }
  }
  if (snapshot.fallback && !stopped()) {
    await pageTargets(ctx, step, [snapshot.fallback], snapshot.repeat + 1, snapshot.levels.length, stopped);
  }
  return stopped() ?? 'exhausted';
}

/** Pages each target's contacts in their order (e.g. Slack now, email two minutes later); returns how many went out. */
async function pageTargets(
  ctx: StepContext,
  step: PageStep,
  targets: SnapshotTarget[],
  round: number,
  level: number,
  stopped: () => EscalationOutcome | null,
): Promise<number> {
  const contacts = targets.flatMap((t) => t.contacts.map((c) => ({ target: t, ...c })));
  const offsets = [...new Set(contacts.map((c) => c.delayMs))].sort((a, b) => a - b);
  const started = Date.now();
  let delivered = 0;
  for (const offset of offsets) {
    const wait = started + offset - Date.now();
    if (wait > 0 && (await condition(() => stopped() !== null, wait))) return delivered;
    if (stopped()) return delivered;
    const batch = contacts.filter((c) => c.delayMs === offset);
    // Cancelled by an acknowledgement: pages still waiting for a worker are then never sent.
    const results = await CancellationScope.cancellable(() => {
      const scope = CancellationScope.current();
      ctx.onAcknowledge(() => scope.cancel());
      return Promise.allSettled(batch.map((c) => sendPage(pageRequest(ctx, step, round, level, c.target, c.channel, c.to))));
    });
    for (const [i, result] of results.entries()) {
      const c = batch[i]!;
      const data = { stepId: step.id, round, level: level + 1, person: c.target.personId, channel: c.channel };
      if (result.status === 'fulfilled') {
        delivered += 1;
        ctx.emit('page.sent', `Paged ${c.target.name} by ${result.value.via} (level ${level + 1})`, {
          ...data,
          via: result.value.via,
          providerId: result.value.providerId,
          startedAt: result.value.startedAt,
        });
      } else if ((isCancellation(result.reason) || isWithdrawn(result.reason)) && stopped()) {
        ctx.emit('page.failed', `Page to ${c.target.name} by ${c.channel} withdrawn: acknowledged first`, { ...data, withdrawn: true });
      } else {
        const error =
          result.reason instanceof Error
            ? result.reason.cause instanceof Error
              ? result.reason.cause.message
              : result.reason.message
            : String(result.reason);
        ctx.emit('page.failed', `Could not page ${c.target.name} by ${c.channel}: ${error}`, { ...data, error });
      }
    }
    await ctx.flush();
  }
  return delivered;
}

function pageRequest(
  ctx: StepContext,
  step: PageStep,
  round: number,
  level: number,
  target: SnapshotTarget,
  channel: PageRequest['channel'],
  to: string,
): PageRequest {
  const incident = ctx.incident();
  return {
    key: `${incident.id}:${step.id}:r${round}:l${level + 1}:${target.personId}:${channel}`,
    incident,
    stepId: step.id,
    round,
    level: level + 1,
    personId: target.personId,
    name: target.name,
    channel,
    to,
    message: step.message ?? `${incident.severity} ${incident.title} — please acknowledge in Fireline.`,
  };
}

/** The activity found the incident acknowledged (or resolved) in the read model just before sending. */
function isWithdrawn(reason: unknown): boolean {
  return reason instanceof Error && reason.cause instanceof ApplicationFailure && reason.cause.type === FAILURE.pageWithdrawn;
}
