// Scenario 6: acknowledge, escalate and resolve fired within ±50 ms of each other and of the level-1 timer,
// many incidents at once on one in-process worker (real activities, real read model, the real dev server).
// Invariants, read from the timeline and the read model: no page started after the acknowledgement was
// recorded, no resolve undone by a late acknowledgement, one escalation per level and no level paged twice.
import fs from 'node:fs';
import path from 'node:path';
import type { TimelineEvent } from '../src/domain/timeline';
import { createOnCallSource } from '../src/oncall/source';
import { startTestWorker } from '../tests/support/temporal';
import { countRow, reportedRow, sleep, within } from './common';
import type { Row, RunContext, Scenario } from './common';
import { COMMANDER, RESPONDER, Stack, actionContext } from './stack';

const NAME = 'ack/escalate/resolve races';
const POLICY = 'res-race';
const LEVEL_DELAY_MS = 500;
const RUNBOOK_ID = 'res-race-drill';
const NO_THROTTLE = { email: [], slack: [], webhook: [], sms: [], voice: [] };

const ONCALL = `
people:
  - { id: ana, name: Ana, email: ana@example.com, timeZone: Europe/Berlin }
  - { id: ben, name: Ben, email: ben@example.com, timeZone: Europe/Berlin }
  - { id: cleo, name: Cleo, email: cleo@example.com, timeZone: Europe/Berlin }
escalationPolicies:
  - id: ${POLICY}
    levels:
      - { targets: [{ person: ana }], delay: ${LEVEL_DELAY_MS}ms }
      - { targets: [{ person: ben }], delay: ${LEVEL_DELAY_MS}ms }
      - { targets: [{ person: cleo }], delay: ${LEVEL_DELAY_MS}ms }
    repeat: 0
`;

const RUNBOOK = `id: ${RUNBOOK_ID}
title: Resilience race drill
owner: team-test
service: checkout
escalation: ${POLICY}
phases:
  report:
    - { id: page-oncall, kind: page, wait: ack, onFailure: continue }
    - { id: hold, kind: wait, duration: 1s }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;

type Action = 'acknowledge' | 'escalate' | 'resolve';

interface Outcome {
  violations: string[];
  accepted: Record<Action, number>;
  /** Pages already past sendPage's last look when the acknowledgement was handled: let finish, by design. */
  inFlight: number;
}

export const races: Scenario = {
  name: 'races',
  async run(ctx: RunContext): Promise<Row[]> {
    const runs = ctx.short ? 100 : 1000;
    const parallel = 10;
    const rng = ctx.random('races');
    const stack = await Stack.create(ctx, { runbooks: { [RUNBOOK_ID]: RUNBOOK }, oncall: ONCALL });
    const oncallFile = path.join(stack.configDir, 'oncall.yaml');
    if (!fs.existsSync(oncallFile)) throw new Error('oncall.yaml missing');
    const worker = await startTestWorker({
      taskQueue: stack.taskQueue,
      store: stack.store,
      deps: { oncall: createOnCallSource(oncallFile), throttle: NO_THROTTLE, publicUrl: 'https://fireline.example.com' },
      extra: { maxConcurrentWorkflowTaskExecutions: 20 },
    });
    const outcomes: Outcome[] = [];
    try {
      for (let done = 0; done < runs; done += parallel) {
        const batch = Array.from({ length: Math.min(parallel, runs - done) }, () => {
          // Each action present with probability 0.8, at the level-1 timer ± 50 ms, plus ± 50 ms of its own.
          const centre = LEVEL_DELAY_MS + (rng() * 100 - 50);
          const plan = (['acknowledge', 'escalate', 'resolve'] as const)
            .filter(() => rng() < 0.8)
            .map((action) => ({ action, atMs: Math.max(0, centre + (rng() * 100 - 50)) }));
          return plan;
        });
        outcomes.push(...(await Promise.all(batch.map((plan) => oneRace(ctx, stack, plan)))));
        if ((done / parallel) % 10 === 9) ctx.log(`  ${done + parallel}/${runs} races`);
      }
    } finally {
      await worker.stop();
      await stack.dispose();
    }
    const violations = outcomes.flatMap((o) => o.violations);
    for (const v of violations.slice(0, 10)) ctx.log(`  violation: ${v}`);
    const acc = (a: Action) => outcomes.reduce((n, o) => n + o.accepted[a], 0);
    return [
      countRow(NAME, runs, 'invariant violations', violations.length),
      reportedRow(NAME, runs, 'pages in flight at the ack (let finish)', String(outcomes.reduce((n, o) => n + o.inFlight, 0))),
      reportedRow(NAME, runs, 'accepted ack / escalate / resolve', `${acc('acknowledge')} / ${acc('escalate')} / ${acc('resolve')}`),
    ];
  },
};

async function oneRace(ctx: RunContext, stack: Stack, plan: { action: Action; atMs: number }[]): Promise<Outcome> {
  const violations: string[] = [];
  const accepted: Record<Action, number> = { acknowledge: 0, escalate: 0, resolve: 0 };
  const id = await stack.declare(RUNBOOK_ID);
  let ackReturnedAt: number | undefined;
  const inFlight = { count: 0 };
  try {
    const level1 = await stack.waitForTimeline(id, 'page.sent of level 1', (e) => e.type === 'page.sent' && e.data.level === 1, 60_000);
    const t0 = Date.parse(String(level1.data.startedAt ?? level1.at));
    const calls = plan.map(async ({ action, atMs }) => {
      await sleep(Math.max(0, t0 + atMs - Date.now()));
      const call =
        action === 'acknowledge'
          ? stack.service.acknowledge(id, actionContext(RESPONDER))
          : action === 'escalate'
            ? stack.service.escalate(id, 'race', actionContext(COMMANDER))
            : stack.service.resolve(id, 'race', actionContext(COMMANDER));
      // A refusal (already resolved, already acknowledged, closed) is a valid answer to a race.
      await call.then(
        () => {
          accepted[action]++;
          if (action === 'acknowledge') ackReturnedAt = Date.now();
        },
        () => undefined,
      );
    });
    await Promise.all(calls);
    const result = await within(stack.handle(id).result(), 60_000, `${id} to close`);
    const events = await stack.timeline(id);
    const row = await stack.store.getIncident(id);
    ctx.histories.push(await stack.history(id));
    check(id, events, accepted, result.status, row?.status, violations, ackReturnedAt, inFlight);
  } catch (err) {
    violations.push(`${id}: ${(err as Error).message}`);
  }
  return { violations, accepted, inFlight: inFlight.count };
}

function check(
  id: string,
  events: TimelineEvent[],
  accepted: Record<Action, number>,
  workflowStatus: string,
  rowStatus: string | undefined,
  violations: string[],
  ackReturnedAt: number | undefined,
  inFlight: { count: number },
): void {
  const of = (type: TimelineEvent['type']) => events.filter((e) => e.type === type);
  const acks = of('incident.acknowledged');
  const resolves = of('incident.resolved');
  if (acks.length > 1) violations.push(`${id}: acknowledged ${acks.length} times`);
  if (acks.length !== accepted.acknowledge) violations.push(`${id}: ${accepted.acknowledge} acks accepted, ${acks.length} recorded`);
  // No page after an acknowledgement is recorded: the acknowledge call returns once the read model has it, and
  // sendPage's last look reads the read model. A page already past that look when the update ran is let finish.
  const ack = acks[0];
  for (const p of of('page.sent')) {
    const startedAt = Date.parse(String(p.data.startedAt ?? p.at));
    if (ackReturnedAt !== undefined && startedAt > ackReturnedAt)
      violations.push(`${id}: level ${String(p.data.level)} paged after the ack`);
    else if (ack && startedAt > Date.parse(ack.at)) inFlight.count++;
  }
  // No resolve undone by a late acknowledgement.
  if (resolves.length !== 1) violations.push(`${id}: resolved ${resolves.length} times`);
  const resolved = resolves[0];
  if (resolved && acks.some((a) => a.seq > resolved.seq)) violations.push(`${id}: acknowledged after it was resolved`);
  if (workflowStatus !== 'closed' || rowStatus !== 'closed') violations.push(`${id}: ended ${workflowStatus} / row ${String(rowStatus)}`);
  // One escalation per level; no level paged twice.
  const levels = of('incident.escalated').map((e) => Number(e.data.level));
  if (levels.length !== accepted.escalate) violations.push(`${id}: ${accepted.escalate} escalations accepted, ${levels.length} recorded`);
  if (new Set(levels).size !== levels.length) violations.push(`${id}: escalation levels ${levels.join(',')}`);
  const pages = of('page.sent').map((e) => `${String(e.data.round)}/${String(e.data.level)}/${String(e.data.person)}`);
  if (new Set(pages).size !== pages.length) violations.push(`${id}: a level paged twice (${pages.join(' ')})`);
}
