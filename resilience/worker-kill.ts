// Scenario 1: `fireline worker` SIGKILLed at a random moment of a random runbook variant — inside SMTP DATA,
// during a remediation webhook, during a backup, while waiting on a decision, during escalation — and a fresh
// worker finishes the incident. Counted at the receivers: steps lost, pages received twice, side effects
// applied twice at receivers that deduplicate by Idempotency-Key; and the time from the kill to the next event.
import type { TimelineEvent } from '../src/domain/timeline';
import { killHard } from '../tests/support/processes';
import type { SpawnedProcess } from '../tests/support/processes';
import { TestSmtpServer } from '../tests/support/smtp';
import { percentile } from '../bench/stats';
import { countRow, pick, reportedRow, seconds, sleep, within } from './common';
import type { Row, RunContext, Scenario } from './common';
import { Receivers } from './receivers';
import { RESPONDER, Stack, actionContext } from './stack';

const NAME = 'worker SIGKILL';
const POLICY = 'res-kill';
const MOMENTS = ['smtp-data', 'escalation', 'decision', 'backup', 'webhook'] as const;
type Moment = (typeof MOMENTS)[number];

const ONCALL = `
people:
  - { id: ana, name: Ana, email: ana@example.com, timeZone: Europe/Berlin }
  - { id: ben, name: Ben, email: ben@example.com, timeZone: Europe/Berlin }
escalationPolicies:
  - id: ${POLICY}
    levels:
      - { targets: [{ person: ana }], delay: 3s }
      - { targets: [{ person: ben }], delay: 10m }
    repeat: 0
`;

const TARGETS = `
backups:
  res-backup:
    provider: http
    start: { url: "\${RES_RECEIVER_URL}/backup/start" }
    status: { url: "\${RES_RECEIVER_URL}/backup/status/{id}" }
    pollInterval: 300ms
`;

const EXECUTE = {
  backup: '    - { id: backup, kind: backup, target: res-backup, timeout: 12s }',
  remediate: '    - { id: remediate, kind: action, http: { url: "${RES_RECEIVER_URL}/remediate" }, timeout: 8s }',
};

/** Six phases; the execute steps in either order (the "random runbook"); every step must end exactly once. */
function runbook(id: string, order: (keyof typeof EXECUTE)[]): string {
  return `id: ${id}
title: Resilience kill drill
owner: team-test
service: checkout
escalation: ${POLICY}
phases:
  detect:
    - { id: detected, kind: notify, message: "Detected \${incident.title}", timeout: 10s }
  report:
    - { id: page-oncall, kind: page, wait: ack }
  decide:
    - { id: strategy, kind: decide, prompt: "Fail over or restore?", options: [failover, restore], default: failover, timeout: 30m }
  execute:
${order.map((s) => EXECUTE[s]).join('\n')}
  recover:
    - { id: recovered, kind: notify, message: Recovered, timeout: 10s }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;
}

const STEPS = ['detected', 'page-oncall', 'strategy', 'backup', 'remediate', 'recovered', 'review'];

interface RunResult {
  moment: Moment;
  lostSteps: number;
  doubledEvents: number;
  duplicatePages: number;
  duplicatePagesInData: number;
  duplicateEffects: number;
  recoveryMs: number;
  workerStartMs: number;
  failure?: string;
}

export const workerKill: Scenario = {
  name: 'worker-kill',
  async run(ctx: RunContext): Promise<Row[]> {
    const runs = ctx.short ? 6 : 50;
    const rng = ctx.random('worker-kill');
    const results: RunResult[] = [];
    for (let i = 0; i < runs; i++) {
      // Every moment is covered in short mode too: the first five runs go through them in order.
      const moment = i < MOMENTS.length ? MOMENTS[i]! : pick(rng, MOMENTS);
      const order: (keyof typeof EXECUTE)[] = rng() < 0.5 ? ['backup', 'remediate'] : ['remediate', 'backup'];
      const jitter = rng();
      const started = Date.now();
      const result = await within(oneRun(ctx, moment, order, jitter), 300_000, `kill run ${i + 1}`).catch((err: Error): RunResult => ({
        moment,
        lostSteps: STEPS.length,
        doubledEvents: 0,
        duplicatePages: 0,
        duplicatePagesInData: 0,
        duplicateEffects: 0,
        recoveryMs: NaN,
        workerStartMs: NaN,
        failure: err.message,
      }));
      results.push(result);
      ctx.log(
        `  kill ${i + 1}/${runs} ${moment} (${order.join('→')}, jitter ${jitter.toFixed(2)}): ` +
          (result.failure
            ? `FAILED ${result.failure.split('\n')[0]}`
            : `recovered in ${seconds(result.recoveryMs)}, lost ${result.lostSteps}, run ${seconds(Date.now() - started)}`),
      );
      if (result.failure) ctx.log(result.failure);
    }
    const sum = (f: (r: RunResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const recovery = results.map((r) => r.recoveryMs).filter(Number.isFinite);
    const starts = results.map((r) => r.workerStartMs).filter(Number.isFinite);
    const byMoment = MOMENTS.map((m) => `${m} ${results.filter((r) => r.moment === m).length}`).join(', ');
    return [
      countRow(
        NAME,
        runs,
        'runbook steps lost',
        sum((r) => r.lostSteps),
      ),
      countRow(
        NAME,
        runs,
        'timeline events doubled',
        sum((r) => r.doubledEvents),
      ),
      countRow(
        NAME,
        runs,
        'duplicate pages (outside DATA)',
        sum((r) => r.duplicatePages),
      ),
      reportedRow(
        NAME,
        results.filter((r) => r.moment === 'smtp-data').length,
        'duplicate pages, kill inside DATA',
        String(sum((r) => r.duplicatePagesInData)),
      ),
      countRow(
        NAME,
        runs,
        'duplicate webhook/backup side effects',
        sum((r) => r.duplicateEffects),
      ),
      reportedRow(
        NAME,
        recovery.length,
        'recovery p50 / p95 / max',
        `${seconds(percentile(recovery, 50))} / ${seconds(percentile(recovery, 95))} / ${seconds(Math.max(...recovery))}`,
      ),
      reportedRow(NAME, starts.length, 'replacement worker start p50', seconds(percentile(starts, 50))),
      reportedRow(NAME, runs, 'kills by moment', byMoment),
    ];
  },
};

async function oneRun(ctx: RunContext, moment: Moment, order: (keyof typeof EXECUTE)[], jitter: number): Promise<RunResult> {
  const receivers = new Receivers();
  const receiverUrl = await receivers.start();
  const smtp = await TestSmtpServer.start();
  const runbookId = 'res-kill-drill';
  const stack = await Stack.create(ctx, {
    runbooks: { [runbookId]: runbook(runbookId, order) },
    oncall: ONCALL,
    targets: TARGETS,
    env: { RES_RECEIVER_URL: receiverUrl, SMTP_URL: smtp.url(), FIRELINE_MAIL_FROM: 'Fireline <fireline@example.com>' },
  });
  const pending: Promise<unknown>[] = [];
  try {
    if (moment === 'webhook') receivers.webhookHoldMs = 3000;
    if (moment === 'smtp-data') smtp.hangAfterData(1);
    const first = await stack.startWorker();
    const id = await stack.declare(runbookId);

    let killed: (() => void) | undefined;
    const killDone = new Promise<void>((resolve) => (killed = resolve));
    let acked = false;
    let decided = false;
    // The participants: acknowledge once level 2 was paged, decide once asked; each waits for the kill when
    // the kill is meant to land before it.
    const driver = (async () => {
      while (!(acked && decided)) {
        const events = await stack.timeline(id);
        if (!acked && events.some((e) => e.type === 'page.sent' && e.data.level === 2)) {
          if (moment === 'escalation') await killDone;
          acked = true;
          pending.push(stack.service.acknowledge(id, actionContext(RESPONDER)));
        }
        if (!decided && events.some((e) => e.type === 'decision.requested' && e.data.stepId === 'strategy')) {
          if (moment === 'decision') await killDone;
          decided = true;
          pending.push(stack.service.decide(id, 'strategy', jitter < 0.5 ? 'failover' : 'restore', actionContext()));
        }
        await sleep(50);
      }
    })();
    pending.push(driver);

    await waitForMoment(stack, id, moment, smtp, receivers, jitter);
    const seqAtKill = (await stack.timeline(id)).length;
    const killAt = Date.now();
    await killHard(first);
    if (moment === 'smtp-data') smtp.releaseHeld(250);
    killed!();
    const startBegan = Date.now();
    const second: Promise<SpawnedProcess> = stack.startWorker();
    const workerStartMs = await second.then(() => Date.now() - startBegan);
    const next = await stack.waitForTimeline(id, 'the next event after the kill', (e) => e.seq > seqAtKill, 180_000);
    const recoveryMs = Date.parse(next.at) - killAt;

    const result = await within(stack.handle(id).result(), 180_000, `${id} to close`);
    if (result.status !== 'closed') throw new Error(`${id} ended ${result.status}`);
    await Promise.all(pending);
    const events = await stack.timeline(id);
    ctx.histories.push(await stack.history(id));

    const pageCounts = new Map<string, number>();
    for (const m of smtp.messages) pageCounts.set(m.messageId ?? '(none)', (pageCounts.get(m.messageId ?? '(none)') ?? 0) + 1);
    const duplicates = [...pageCounts.values()].reduce((a, n) => a + n - 1, 0);
    const heldFirst = moment === 'smtp-data';
    return {
      moment,
      lostSteps: lostSteps(events),
      doubledEvents: doubledEvents(id, events),
      duplicatePages: heldFirst ? 0 : duplicates,
      duplicatePagesInData: heldFirst ? duplicates : 0,
      // One remediation and one backup per incident: anything beyond one each was applied twice.
      duplicateEffects: Math.max(0, receivers.applied.length - 1) + Math.max(0, receivers.backups.length - 1),
      recoveryMs,
      workerStartMs,
    };
  } finally {
    await Promise.allSettled(pending);
    await stack.dispose();
    await smtp.close();
    await receivers.close();
  }
}

/** Resolves at the kill point: a positive signal that the worker is inside the moment, plus a random delay within it. */
async function waitForMoment(stack: Stack, id: string, moment: Moment, smtp: TestSmtpServer, receivers: Receivers, jitter: number) {
  const poll = async (what: string, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 120_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} of ${id}`);
      await sleep(20);
    }
  };
  switch (moment) {
    case 'smtp-data':
      // The level 1 message read in full and never answered: the worker is between its "." and the reply.
      return poll('the page held in DATA', () => smtp.heldMessages.length === 1);
    case 'escalation':
      // Level 1 paged; somewhere in the 3 s before level 2 (or while level 2 is being sent).
      await stack.waitForTimeline(id, 'page.sent of level 1', (e) => e.type === 'page.sent' && e.data.level === 1);
      return sleep(jitter * 3500);
    case 'decision':
      await stack.waitForTimeline(id, 'decision.requested', (e) => e.type === 'decision.requested');
      return sleep(jitter * 1500);
    case 'backup':
      await poll('the backup to start', () => receivers.backupStarts.length > 0);
      return sleep(jitter * receivers.backupMs);
    case 'webhook':
      await poll('the remediation request', () => receivers.deliveries.length > 0);
      return sleep(jitter * receivers.webhookHoldMs * 0.9);
  }
}

/** Steps of the runbook that did not end (succeeded or failed) exactly once. */
function lostSteps(events: TimelineEvent[]): number {
  return STEPS.filter((step) => {
    const ends = events.filter((e) => (e.type === 'step.succeeded' || e.type === 'step.failed') && e.data.stepId === step);
    return ends.length !== 1 || ends[0]!.type !== 'step.succeeded';
  }).length;
}

/** Timeline events recorded twice: a gap or repeat in seq, or one logical event (step start, page …) twice. */
function doubledEvents(id: string, events: TimelineEvent[]): number {
  let bad = events.filter((e, i) => e.seq !== i + 1 || e.id !== `${id}:${e.seq}`).length;
  const identity = (e: TimelineEvent) => {
    const d = e.data;
    if (e.type.startsWith('page.')) return `${e.type}|${String(d.round)}|${String(d.level)}|${String(d.person)}|${String(d.channel)}`;
    if (e.type.startsWith('phase.')) return `${e.type}|${String(d.phase)}`;
    if (e.type === 'note.added') return `${e.id}`;
    return `${e.type}|${String(d.stepId ?? '')}`;
  };
  const seen = events.map(identity);
  bad += seen.filter((k, i) => seen.indexOf(k) !== i).length;
  return bad;
}
