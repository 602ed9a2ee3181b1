// Durability of an escalation across worker crashes: the real `fireline worker` runs as a child process that pages
// by real email (a TestSmtpServer in this process), and is SIGKILLed at chosen points of a three-level escalation;
// a fresh worker process carries on. The test process plays the API: it runs the real incident service against
// the same SQLite read model and Temporal server.
//
// The idempotency of every page is visible on the wire: each email carries X-Fireline-Idempotency-Key
// (`<incident>:<step>:r<round>:l<level>:<person>:<channel>`) and a Message-ID derived from it, so "paged exactly
// once" is "each Message-ID received exactly once" and "no level lost" is "every expected key received".
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { emailMessageId } from '../../activities/channels';
import { DeclareIncidentSchema } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createLogger } from '../../src/logger';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { ServiceError } from '../../src/services/errors';
import { createIncidentService } from '../../src/services/incidents';
import type { ActionContext, IncidentService } from '../../src/services/incidents';
import type { Store } from '../../src/store/store';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { killAllTracked, spawnFireline, waitUntil, sigkill, waitForWorkerPolling } from '../support/processes';
import type { SpawnedProcess } from '../support/processes';
import { TestSmtpServer } from '../support/smtp';
import type { ReceivedMail } from '../support/smtp';
import { connectClient, openTestStore, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';
import { runningTimers, unsettledActivities } from '../support/workflow-harness';

// Scenario (b) waits out sendPage's one-minute startToCloseTimeout (the only way a lost attempt is retried).
jest.setTimeout(240_000);

const PENDING_ACTIVITY_STATE_STARTED = 2;

const RUNBOOK_ID = 'escalation-crash';
const POLICY_ID = 'crash-escalation';
const PAGE_STEP = 'page-oncall';
const HOLD_STEP = 'hold';
/** Each level's delay. Long enough to kill the worker between a level's page and the next, short enough to wait out. */
const LEVEL_DELAY_S = 3;
const PUBLIC_URL = 'https://fireline.example.com';
const MAIL_FROM = 'Fireline <fireline@example.com>';

/** Every page the policy makes when nobody acknowledges, in order: three levels, then the fallback. */
const EXPECTED_PAGES = [
  { round: 0, level: 1, person: 'ana', to: 'ana@example.com' },
  { round: 0, level: 2, person: 'ben', to: 'ben@example.com' },
  { round: 0, level: 3, person: 'cleo', to: 'cleo@example.com' },
  // The fallback is paged as round repeat + 1, level levels + 1.
  { round: 1, level: 4, person: 'dara', to: 'dara@example.com' },
] as const;
type ExpectedPage = (typeof EXPECTED_PAGES)[number];

// Four different people: the default email throttle (1 per minute per contact) never holds a page back.
const ONCALL_YAML = `
people:
  - { id: ana, name: Ana, email: ana@example.com, timeZone: Europe/Berlin }
  - { id: ben, name: Ben, email: ben@example.com, timeZone: Europe/Berlin }
  - { id: cleo, name: Cleo, email: cleo@example.com, timeZone: Europe/Berlin }
  - { id: dara, name: Dara, email: dara@example.com, timeZone: Europe/Berlin }
escalationPolicies:
  - id: ${POLICY_ID}
    levels:
      - { targets: [{ person: ana }], delay: ${LEVEL_DELAY_S}s }
      - { targets: [{ person: ben }], delay: ${LEVEL_DELAY_S}s }
      - { targets: [{ person: cleo }], delay: ${LEVEL_DELAY_S}s }
    repeat: 0
    fallback: { person: dara }
`;

/**
 * The page step waits for an acknowledgement; when the policy runs out it fails but the runbook goes on, and the
 * decision after it keeps the incident open. Its request on the timeline says the escalation is over.
 */
const RUNBOOK_YAML = `id: ${RUNBOOK_ID}
title: Escalation crash drill
owner: team-test
service: checkout
escalation: ${POLICY_ID}
phases:
  report:
    - { id: ${PAGE_STEP}, kind: page, wait: ack, onFailure: continue }
    - { id: ${HOLD_STEP}, kind: decide, prompt: "Keep the incident open?", options: [stay, close], default: stay, timeout: 30m }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}", timeout: 10s }
`;

const responder: Actor = { id: 'u-ana', name: 'Ana', role: 'responder' };
const ctx = (actor: Actor = responder): ActionContext => ({ actor, requestId: randomUUID(), source: 'cli' });

let client: Client;
let connection: Connection;
let dataDir: string | undefined;
let configDir: string | undefined;
let runbooksDir: string | undefined;
let store: Store | undefined;
let smtp: TestSmtpServer | undefined;
let service: IncidentService;
let taskQueue: string;
let started: string[] = [];

beforeAll(async () => {
  ({ client, connection } = await connectClient());
});

afterAll(async () => {
  await killAllTracked();
  await connection.close();
});

async function setUp(): Promise<void> {
  dataDir = tempDir('fireline-esc-crash-data-');
  configDir = tempDir('fireline-esc-crash-config-');
  runbooksDir = tempDir('fireline-esc-crash-runbooks-');
  // Only the on-call file: no targets, routing or integrations.
  fs.writeFileSync(path.join(configDir, 'oncall.yaml'), ONCALL_YAML);
  fs.writeFileSync(path.join(runbooksDir, `${RUNBOOK_ID}.yaml`), RUNBOOK_YAML);
  // The worker opens <data dir>/fireline.db, this one (migrated, incident numbers from a random offset).
  store = await openTestStore(dataDir);
  smtp = await TestSmtpServer.start();
  taskQueue = uniqueTaskQueue('esc-crash');
  started = [];
  service = createIncidentService({
    client,
    store,
    runbooks: new RunbookCatalog(runbooksDir, { escalationPolicies: [POLICY_ID] }),
    taskQueue,
    logger: createLogger({ level: 'silent' }),
  });
}

afterEach(async () => {
  await killAllTracked();
  // A failed test must not leave its incident running on the shared server (its worker is gone).
  for (const id of started) {
    await client.workflow
      .getHandle(incidentWorkflowId(id))
      .terminate('test cleanup')
      .catch(() => undefined);
  }
  await store?.close();
  await smtp?.close();
  for (const dir of [dataDir, configDir, runbooksDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  store = undefined;
  smtp = undefined;
  dataDir = configDir = runbooksDir = undefined;
});

function mailServer(): TestSmtpServer {
  if (!smtp) throw new Error('setUp() first');
  return smtp;
}

function readModel(): Store {
  if (!store) throw new Error('setUp() first');
  return store;
}

/** `fireline worker` as its own process, paging by email; resolves once it polls both the workflow and activity queue. */
async function startWorkerProcess(name: string): Promise<SpawnedProcess> {
  const worker = spawnFireline(name, ['worker'], {
    TEMPORAL_ADDRESS: testTemporal().address,
    FIRELINE_TASK_QUEUE: taskQueue,
    FIRELINE_DATA_DIR: dataDir,
    FIRELINE_CONFIG_DIR: configDir,
    FIRELINE_RUNBOOKS_DIR: runbooksDir,
    FIRELINE_PUBLIC_URL: PUBLIC_URL,
    SMTP_URL: mailServer().url(),
    FIRELINE_MAIL_FROM: MAIL_FROM,
    FIRELINE_LOG_LEVEL: 'warn',
  });
  await waitForWorkerPolling(worker, { name, connection, namespace: 'default', taskQueue, timeoutMs: 60_000, intervalMs: 200 });
  return worker;
}

async function declare(): Promise<string> {
  const input = DeclareIncidentSchema.parse({ title: 'Checkout failing', runbook: RUNBOOK_ID, severity: 'SEV2' });
  // All test files share one Temporal namespace, where an id is never reused: on a clash the service refuses the
  // id and, as its message says, the next declaration draws a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      const record = await service.declare(input, ctx({ id: 'u-commander', name: 'Grace', role: 'commander' }));
      started.push(record.id);
      return record.id;
    } catch (err) {
      if (!(err instanceof ServiceError && err.code === 'conflict') || attempt >= 50) throw err;
    }
  }
}

function handleOf(id: string): WorkflowHandle<typeof incidentWorkflow> {
  return client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(id));
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

async function historyOf(id: string): Promise<HistoryEvent[]> {
  return (await handleOf(id).fetchHistory()).events ?? [];
}

/** The escalation's level timers (the hold decision's 30 min timer is not one). */
function levelTimerIds(events: HistoryEvent[]): string[] {
  return events
    .filter((e) => String(e.timerStartedEventAttributes?.startToFireTimeout?.seconds) === String(LEVEL_DELAY_S))
    .map((e) => e.timerStartedEventAttributes!.timerId!);
}

function firedTimerIds(events: HistoryEvent[]): string[] {
  return events.filter((e) => e.timerFiredEventAttributes).map((e) => e.timerFiredEventAttributes!.timerId!);
}

async function timelineOf(id: string): Promise<TimelineEvent[]> {
  return readModel().listTimeline(id, { limit: 10_000 });
}

async function waitForTimeline(id: string, what: string, match: (e: TimelineEvent) => boolean, timeoutMs = 60_000): Promise<TimelineEvent> {
  return waitUntil(async () => (await timelineOf(id)).find(match), `${what} on the timeline of ${id}`, timeoutMs, 50);
}

/** The page step is over (exhausted or acknowledged) once the decision after it is asked. */
async function waitForEscalationEnd(id: string, timeoutMs: number): Promise<void> {
  await waitForTimeline(
    id,
    `decision.requested of ${HOLD_STEP}`,
    (e) => e.type === 'decision.requested' && e.data.stepId === HOLD_STEP,
    timeoutMs,
  );
}

/** Level 1 was paged, the worker heard the server's answer, and its level timer runs in Temporal. */
async function waitForLevelOneDone(id: string): Promise<string> {
  const [first] = await mailServer().waitForMessages(1, 60_000);
  expect(first?.headers['x-fireline-idempotency-key']).toBe(keyOf(id, EXPECTED_PAGES[0]));
  await waitForTimeline(id, 'page.sent of level 1', (e) => e.type === 'page.sent' && e.data.level === 1);
  // The workflow task that started the timer completed: a crash from here on loses nothing of level 1.
  const [timerId] = await waitUntil(
    async () => {
      const ids = levelTimerIds(await historyOf(id));
      return ids.length > 0 ? ids : undefined;
    },
    `the level 1 timer of ${id}`,
    30_000,
    50,
  );
  return timerId!;
}

/** While no worker runs, Temporal fires the level timer: its workflow task waits for the next worker. */
async function waitForTimerFired(id: string, timerId: string): Promise<void> {
  await waitUntil(async () => firedTimerIds(await historyOf(id)).includes(timerId), `timer ${timerId} of ${id} to fire`, 30_000, 100);
}

function keyOf(id: string, page: ExpectedPage): string {
  return `${id}:${PAGE_STEP}:r${page.round}:l${page.level}:${page.person}:email`;
}

function keyHeader(mail: ReceivedMail): string | undefined {
  return mail.headers['x-fireline-idempotency-key'];
}

/** How many times each Message-ID was accepted, in order of first receipt. */
function countByMessageId(mails: ReceivedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of mails) counts.set(m.messageId ?? '(none)', (counts.get(m.messageId ?? '(none)') ?? 0) + 1);
  return counts;
}

/** Each mail is the page it says it is: its Message-ID is the one derived from its idempotency key, sent to that person. */
function expectMailsMatchTheirKeys(id: string, mails: ReceivedMail[]): void {
  for (const mail of mails) {
    const key = keyHeader(mail);
    const page = EXPECTED_PAGES.find((p) => keyOf(id, p) === key);
    expect(page).toBeDefined();
    expect(mail.messageId).toBe(emailMessageId(key!, PUBLIC_URL));
    expect(mail.to).toEqual([page!.to]);
    expect(mail.subject).toBe(`[SEV2] ${id}: Checkout failing`);
    expect(mail.text).toContain(`${PUBLIC_URL}/incidents/${id}`);
  }
}

/**
 * Every event on the timeline exactly once: seq 1..n without gap or repeat, one id per seq, and no logical event
 * recorded twice (a step started twice, a page reported twice, two declarations …).
 */
function expectTimelineOnce(id: string, events: TimelineEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.id)).toEqual(events.map((e) => `${id}:${e.seq}`));
  const identity = (e: TimelineEvent) => {
    const d = e.data;
    switch (e.type) {
      case 'page.sent':
      case 'page.failed':
        return `${e.type}|${String(d.stepId)}|r${String(d.round)}|l${String(d.level)}|${String(d.person)}|${String(d.channel)}`;
      case 'phase.entered':
      case 'phase.completed':
        return `${e.type}|${String(d.phase)}`;
      default:
        return `${e.type}|${String(d.stepId ?? '')}`;
    }
  };
  const seen = events.map(identity);
  const repeated = seen.filter((k, i) => seen.indexOf(k) !== i);
  expect(repeated).toEqual([]);
  expect(events[0]?.type).toBe('incident.declared');
}

const ofType = (events: TimelineEvent[], type: TimelineEvent['type']) => events.filter((e) => e.type === type);
const pageSentLevels = (events: TimelineEvent[]) =>
  ofType(events, 'page.sent').map((e) => [e.data.round, e.data.level, e.data.person, e.data.channel]);
const EXPECTED_SENT = EXPECTED_PAGES.map((p) => [p.round, p.level, p.person, 'email']);

/** The escalation ran to the end: three levels, the fallback, exhausted, the runbook went on to the hold decision. */
function expectExhaustedTimeline(id: string, events: TimelineEvent[]): void {
  expectTimelineOnce(id, events);
  expect(ofType(events, 'page.started')).toHaveLength(1);
  expect(ofType(events, 'page.started')[0]?.data).toMatchObject({
    policyId: POLICY_ID,
    repeat: 0,
    levels: [{ people: ['ana'] }, { people: ['ben'] }, { people: ['cleo'] }],
  });
  expect(pageSentLevels(events)).toEqual(EXPECTED_SENT);
  expect(ofType(events, 'page.failed')).toEqual([]);
  expect(ofType(events, 'page.exhausted')).toHaveLength(1);
  expect(ofType(events, 'step.started').map((e) => e.data.stepId)).toEqual([PAGE_STEP, HOLD_STEP]);
  expect(ofType(events, 'step.failed').map((e) => [e.data.stepId, e.data.onFailure])).toEqual([[PAGE_STEP, 'continue']]);
  expect(ofType(events, 'decision.requested').map((e) => e.data.stepId)).toEqual([HOLD_STEP]);
  expect(ofType(events, 'incident.acknowledged')).toEqual([]);
  // Nothing after the exhaustion but the runbook moving on.
  const exhaustedAt = events.findIndex((e) => e.type === 'page.exhausted');
  expect(events.slice(exhaustedAt + 1).filter((e) => e.type.startsWith('page.'))).toEqual([]);
}

/** The read model's page rows: one per page, each sent. */
async function expectPageRows(id: string, pages: readonly ExpectedPage[]) {
  const rows = await readModel().listPages(id);
  expect(rows.map((r) => [r.key, r.level, r.personId, r.channel, r.recipient, r.status]).sort()).toEqual(
    pages.map((p) => [keyOf(id, p), p.level, p.person, 'email', p.to, 'sent']).sort(),
  );
  return rows;
}

/** sendPage attempts in the history: how many were scheduled, and which attempt numbers started. */
function sendPageActivities(events: HistoryEvent[]) {
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendPage');
  const scheduledIds = new Set(scheduled.map((e) => String(e.eventId)));
  const startedAttempts = events
    .filter((e) => e.activityTaskStartedEventAttributes && scheduledIds.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt);
  return { scheduled: scheduled.length, startedAttempts };
}

test('a worker killed right after level 1 was paged, a level timer due while none runs: every level paged once, then the fallback', async () => {
  await setUp();
  const smtp = mailServer();
  const first = await startWorkerProcess('worker-1');
  const id = await declare();

  const timerId = await waitForLevelOneDone(id);
  // Level 2 is LEVEL_DELAY_S away.
  expect(smtp.messages.map(keyHeader)).toEqual([keyOf(id, EXPECTED_PAGES[0])]);
  await sigkill(first);
  await waitForTimerFired(id, timerId);
  expect(smtp.messages).toHaveLength(1);

  // The timer's workflow task sits on the dead worker's sticky queue until Temporal hands it on (~10 s).
  await startWorkerProcess('worker-2');
  await waitForEscalationEnd(id, 120_000);

  // On the wire: four pages, in level order, four distinct Message-IDs each received once, no other attempt.
  const mails = smtp.messages.slice();
  expect(mails.map(keyHeader)).toEqual(EXPECTED_PAGES.map((p) => keyOf(id, p)));
  expect(mails.map((m) => m.to[0])).toEqual(EXPECTED_PAGES.map((p) => p.to));
  expect([...countByMessageId(mails).values()]).toEqual([1, 1, 1, 1]);
  expectMailsMatchTheirKeys(id, mails);
  expect(smtp.attempts.map((a) => [a.messageId, a.outcome])).toEqual(mails.map((m) => [m.messageId, 'accepted']));
  expect(smtp.heldMessages).toEqual([]);

  const events = await timelineOf(id);
  expectExhaustedTimeline(id, events);
  const rows = await expectPageRows(id, EXPECTED_PAGES);
  expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1, 1]);

  // In Temporal: one timer per level, each fired once (none restarted or skipped), one first attempt per page.
  const history = await historyOf(id);
  const timers = levelTimerIds(history);
  expect(timers).toHaveLength(3);
  expect(timers[0]).toBe(timerId);
  expect(
    firedTimerIds(history)
      .filter((t) => timers.includes(t))
      .sort(),
  ).toEqual([...timers].sort());
  expect(sendPageActivities(history)).toEqual({ scheduled: 4, startedAttempts: [1, 1, 1, 1] });
});

test('a worker killed inside SMTP DATA (RFC 1047 window): that page is not sent again, the next level is paged, no duplicate', async () => {
  await setUp();
  const smtp = mailServer();
  // Level 1's message is read in full and never answered: the worker is left between its final "." and the reply.
  smtp.hangAfterData(1);
  const first = await startWorkerProcess('worker-1');
  const id = await declare();

  await waitUntil(() => smtp.heldMessages.length === 1, 'the level 1 message to be held in DATA', 60_000, 20);
  const held = smtp.heldMessages[0]!;
  expect(keyHeader(held)).toBe(keyOf(id, EXPECTED_PAGES[0]));
  expect(held.messageId).toBe(emailMessageId(keyOf(id, EXPECTED_PAGES[0]), PUBLIC_URL));
  // The worker is inside the send: its sendPage attempt is running and has marked the page as being sent.
  const description = await handleOf(id).describe();
  const pending = description.raw.pendingActivities ?? [];
  expect(
    pending.filter(
      (a) =>
        a.activityType?.name === 'sendPage' &&
        a.state === PENDING_ACTIVITY_STATE_STARTED &&
        a.lastWorkerIdentity?.startsWith(`${first.pid}@`),
    ),
  ).toHaveLength(1);
  expect((await readModel().listPages(id)).map((p) => p.status)).toEqual(['sending']);

  await sigkill(first);
  // The server had the whole message and takes responsibility for it, answering a client that is gone: the worst
  // case of the window. (Kept held, it would simply never count.)
  smtp.releaseHeld(250);
  expect(smtp.messages.map((m) => m.messageId)).toEqual([held.messageId]);

  // The lost attempt is retried once its heartbeat timeout (10 s) runs out.
  await startWorkerProcess('worker-2');
  await waitForEscalationEnd(id, 180_000);

  const mails = smtp.messages.slice();
  const counts = countByMessageId(mails);
  // The retry found the mark of an attempt that died mid-send: the page counts as uncertain and is not sent again.
  expect(counts.get(held.messageId!)).toBe(1);
  expect([...counts.values()]).toEqual([1, 1, 1, 1]);
  expect([...new Set(mails.map(keyHeader))]).toEqual(EXPECTED_PAGES.map((p) => keyOf(id, p)));
  expectMailsMatchTheirKeys(id, mails);
  expect(smtp.heldMessages).toEqual([]);

  const events = await timelineOf(id);
  expectTimelineOnce(id, events);
  expect(ofType(events, 'page.failed').map((e) => [e.data.level, e.data.person])).toEqual([[1, 'ana']]);
  expect(ofType(events, 'page.failed')[0]?.summary).toMatch(/earlier attempt died while sending/);
  expect(pageSentLevels(events)).toEqual(EXPECTED_SENT.filter((l) => l !== EXPECTED_SENT[0]));
  expect(ofType(events, 'page.exhausted')).toHaveLength(1);
  const rows = await readModel().listPages(id);
  expect(rows.find((r) => r.level === 1)).toMatchObject({ status: 'failed', attempts: 2 });
  expect(rows.filter((r) => r.level !== 1).map((r) => [r.status, r.attempts])).toEqual([
    ['sent', 1],
    ['sent', 1],
    ['sent', 1],
  ]);
  // Level 1 reached nobody for sure, so level 2 followed at once: only levels 2 and 3 waited out their delay.
  const history = await historyOf(id);
  expect(levelTimerIds(history)).toHaveLength(2);
  expect(sendPageActivities(history).scheduled).toBe(4);
});

test('acknowledged through the service while no worker runs: after the acknowledgement no page goes out', async () => {
  await setUp();
  const smtp = mailServer();
  const first = await startWorkerProcess('worker-1');
  const id = await declare();

  const timerId = await waitForLevelOneDone(id);
  expect(smtp.messages).toHaveLength(1);
  await sigkill(first);

  // The acknowledgement waits for a worker; meanwhile level 1's time runs out, so level 2 is due as well.
  const acknowledging = service.acknowledge(id, ctx());
  acknowledging.catch(() => undefined);
  await waitForTimerFired(id, timerId);
  expect(smtp.messages).toHaveLength(1);

  await startWorkerProcess('worker-2');
  const view = await acknowledging;
  const answeredAt = Date.now();
  expect(view.acknowledged).toMatchObject({ by: { id: responder.id } });
  expect(view.status).toBe('acknowledged');

  // The page step ends acknowledged and the runbook moves on; then nothing is left that could page: no level
  // timer still running and no activity in flight (the hold decision's own timer is not a level timer).
  await waitForEscalationEnd(id, 120_000);
  const afterAck = await historyOf(id);
  const running = runningTimers(afterAck);
  expect(levelTimerIds(afterAck).filter((t) => running.includes(t))).toEqual([]);
  expect(unsettledActivities(afterAck).filter((name) => name === 'sendPage')).toEqual([]);

  // No Message-ID arrived after the acknowledgement returned.
  expect(smtp.messages.filter((m) => m.receivedAt > answeredAt).map(keyHeader)).toEqual([]);
  // Stronger, as workflows/escalation.ts promises: the acknowledgement and the due timer reach the new worker in
  // one workflow task and the acknowledgement wins, so level 2 never even started.
  expect(smtp.attempts.map((a) => a.messageId)).toEqual([emailMessageId(keyOf(id, EXPECTED_PAGES[0]), PUBLIC_URL)]);
  expect(smtp.messages.map(keyHeader)).toEqual([keyOf(id, EXPECTED_PAGES[0])]);
  await expectPageRows(id, [EXPECTED_PAGES[0]]);

  const events = await timelineOf(id);
  expectTimelineOnce(id, events);
  expect(ofType(events, 'incident.acknowledged').map((e) => e.actor.id)).toEqual([responder.id]);
  expect(pageSentLevels(events)).toEqual([EXPECTED_SENT[0]]);
  expect(ofType(events, 'page.failed')).toEqual([]);
  expect(ofType(events, 'page.exhausted')).toEqual([]);
  expect(ofType(events, 'step.succeeded').find((e) => e.data.stepId === PAGE_STEP)?.data.output).toMatchObject({
    result: 'acknowledged',
    policy: POLICY_ID,
  });
  expect(ofType(events, 'decision.requested').map((e) => e.data.stepId)).toEqual([HOLD_STEP]);
  const ackAt = ofType(events, 'incident.acknowledged')[0]!.at;
  expect(ofType(events, 'page.sent').filter((e) => String(e.data.startedAt) > ackAt)).toEqual([]);
  expect((await readModel().getIncident(id))?.acknowledgedAt).toBe(ackAt);

  const history = await historyOf(id);
  expect(levelTimerIds(history)).toEqual([timerId]);
  expect(firedTimerIds(history).filter((t) => t === timerId)).toHaveLength(1);
  expect(sendPageActivities(history)).toEqual({ scheduled: 1, startedAttempts: [1] });
});
