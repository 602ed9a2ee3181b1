import fs from 'node:fs';
import path from 'node:path';
import { createEmailChannel } from '../../activities/channels';
import type { PageChannel } from '../../activities/channels/types';
import type { Actor } from '../../src/domain/roles';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createOnCallSource } from '../../src/oncall/source';
import { acknowledgeUpdate, escalateUpdate, postEventUpdate, statusQuery } from '../../workflows/messages';
import { snapshotOf } from '../support/runbooks';
import { TestSmtpServer } from '../support/smtp';
import { eventually } from '../support/temporal';
import { idOf, unsettledActivities, useWorkflowHarness } from '../support/workflow-harness';

const responder: Actor = { id: 'u-ana', name: 'Ana', role: 'responder' };
const NO_THROTTLE = { email: [], slack: [], webhook: [], sms: [], voice: [] };

// Each test boots its worker with the on-call config it needs.
const wf = useWorkflowHarness('paging', { worker: false });
const { start, timeline: events } = wf;
let smtp: TestSmtpServer;
let email: PageChannel;
let oncallFile: string;

function oncallYaml(levelDelay: string, repeat = 0, firstLevel = 'ana'): string {
  return `
people:
  - { id: ana, name: Ana, email: ana@example.com, timeZone: Europe/Berlin }
  - { id: ben, name: Ben, email: ben@example.com, timeZone: Europe/Berlin }
  - { id: cleo, name: Cleo, email: cleo@example.com, timeZone: Europe/Berlin }
escalationPolicies:
  - id: orders-primary
    levels:
      - { targets: [{ person: ${firstLevel} }], delay: ${levelDelay} }
      - { targets: [{ person: ben }], delay: ${levelDelay} }
    repeat: ${repeat}
    fallback: { person: cleo }
`;
}

const pageRunbook = (wait: 'ack' | 'none' = 'ack'): RunbookSnapshot =>
  snapshotOf({
    id: 'paging',
    title: 'Paging',
    owner: 'team-test',
    escalation: 'orders-primary',
    phases: {
      report: [{ id: 'page', kind: 'page', wait, onFailure: 'continue' }],
      // With background paging the runbook goes on; this keeps the incident open until the test is done.
      execute: wait === 'none' ? [{ id: 'hold', kind: 'wait', for: { event: 'done' }, timeout: '10m' }] : [],
      retrospective: [{ id: 'review', kind: 'notify', message: 'review' }],
    },
  });

beforeEach(async () => {
  oncallFile = path.join(wf.dir, 'oncall.yaml');
  smtp = await TestSmtpServer.start();
  email = createEmailChannel({
    smtpUrl: smtp.url(),
    from: 'Fireline <fireline@example.com>',
    publicUrl: 'https://fireline.example.com',
    timeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 3000 },
  });
});

/** Writes the on-call config the worker starts with (the source then reloads it when it changes). */
async function boot(yaml: string) {
  fs.writeFileSync(oncallFile, yaml);
  await wf.startWorker({
    deps: {
      oncall: createOnCallSource(oncallFile),
      pageChannels: { email },
      throttle: NO_THROTTLE,
      publicUrl: 'https://fireline.example.com',
    },
  });
}
afterEach(async () => {
  await email.close();
  await smtp.stop();
});

/** Once the acknowledge call has answered, no page starts (one already on its way may still land). */
function expectNoPageAfter(timeline: TimelineEvent[], ackAnsweredAt: string) {
  expect(timeline.filter((e) => e.type === 'page.sent' && String(e.data.startedAt) > ackAnsweredAt)).toEqual([]);
}

test('pages level by level by real email until acknowledged; nothing after the acknowledgement', async () => {
  await boot(oncallYaml('1s'));
  const handle = await start(pageRunbook());
  // Level 1 (Ana) at once, level 2 (Ben) a second later; Ana acknowledges after Ben's page.
  const mails = await smtp.waitForMessages(2, 15_000);
  expect(mails.map((m) => m.to)).toEqual([['ana@example.com'], ['ben@example.com']]);
  expect(mails[0]?.subject).toMatch(/^\[SEV2\] INC-\d+: Checkout failing$/);
  expect(mails[0]?.text).toContain('https://fireline.example.com/incidents/INC-');
  await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
  const answeredAt = new Date().toISOString();
  await handle.result();
  const timeline = await events(handle);
  expectNoPageAfter(timeline, answeredAt);
  expect(timeline.filter((e) => e.type === 'page.sent').map((e) => e.data.person)).toEqual(['ana', 'ben']);
  // The fallback (Cleo) never heard of it, and each page was delivered once (one Message-ID each): the workflow
  // is closed and every activity it scheduled has finished, so these are all the mails there will be.
  expect(unsettledActivities((await handle.fetchHistory()).events ?? [])).toEqual([]);
  expect(smtp.messages).toHaveLength(2);
  expect(new Set(smtp.messages.map((m) => m.messageId)).size).toBe(2);
  const pages = await wf.store.listPages(idOf(handle));
  expect(pages.map((p) => [p.level, p.personId, p.channel, p.status])).toEqual([
    [1, 'ana', 'email', 'sent'],
    [2, 'ben', 'email', 'sent'],
  ]);
});

test('the policy is pinned when paging starts: editing it mid-escalation changes nothing for this incident', async () => {
  await boot(oncallYaml('1s'));
  const handle = await start(pageRunbook());
  await smtp.waitForMessages(1, 15_000);
  // Make Cleo the first level: this incident keeps paging Ana, then Ben; a new incident pages Cleo first.
  fs.writeFileSync(oncallFile, oncallYaml('1s', 0, 'cleo'));
  const mails = await smtp.waitForMessages(3, 20_000); // Ana, Ben, then the fallback Cleo
  expect(mails.map((m) => m.to[0])).toEqual(['ana@example.com', 'ben@example.com', 'cleo@example.com']);
  await handle.result();
  const timeline = await events(handle);
  expect(timeline.some((e) => e.type === 'page.exhausted')).toBe(true);
  expect(timeline.find((e) => e.type === 'page.started')?.data).toMatchObject({ levels: [{ people: ['ana'] }, { people: ['ben'] }] });

  await new Promise((r) => setTimeout(r, 1100)); // the source looks at the file at most once a second
  const after = await start(pageRunbook('none'));
  const levels = await eventually(
    async () => (await events(after)).find((e) => e.type === 'page.started')?.data.levels as { people: string[] }[] | undefined,
    'the new incident paging',
  );
  expect(levels[0]?.people).toEqual(['cleo']);
  await after.terminate('done');
});

test('a 5xx from the mail server is recorded as failed and the next level is paged at once', async () => {
  await boot(oncallYaml('1h'));
  smtp.rejectRecipients('ana@example.com', 550);
  const handle = await start(pageRunbook());
  const mails = await smtp.waitForMessages(1, 20_000);
  expect(mails[0]?.to).toEqual(['ben@example.com']);
  await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
  await handle.result();
  const pages = await wf.store.listPages(idOf(handle));
  expect(pages.find((p) => p.personId === 'ana')).toMatchObject({ status: 'failed' });
  expect(pages.find((p) => p.personId === 'ben')).toMatchObject({ status: 'sent' });
  expect((await events(handle)).find((e) => e.type === 'page.failed')?.data).toMatchObject({ person: 'ana', channel: 'email' });
});

test('a 4xx then success delivers once; the server down then back delivers once', async () => {
  await boot(oncallYaml('1h'));
  smtp.failData(451, 2);
  const first = await start(pageRunbook());
  const [mail] = await smtp.waitForMessages(1, 30_000);
  expect(mail?.to).toEqual(['ana@example.com']);
  await first.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
  await first.result();
  expect(smtp.messages).toHaveLength(1);
  expect((await wf.store.listPages(idOf(first)))[0]).toMatchObject({ status: 'sent', personId: 'ana' });

  smtp.reset();
  await smtp.stop();
  const second = await start(pageRunbook());
  await eventually(
    async () => ((await wf.store.listPages(idOf(second))).some((p) => p.status === 'failed') ? true : undefined),
    'a failed attempt',
  );
  await smtp.start();
  const mails = await smtp.waitForMessages(1, 30_000);
  expect(mails.map((m) => m.to[0])).toEqual(['ana@example.com']);
  await second.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
  await second.result();
  expect(smtp.messages).toHaveLength(1);
});

test('manual escalate pages the next level at once; repeats page each level once per round', async () => {
  await boot(oncallYaml('1h', 1));
  const handle = await start(pageRunbook('none'));
  await smtp.waitForMessages(1, 15_000);
  await handle.executeUpdate(escalateUpdate, { args: [{ actor: responder, reason: 'Ana is on a plane' }] });
  await smtp.waitForMessages(2, 15_000);
  await handle.executeUpdate(escalateUpdate, { args: [{ actor: responder }] });
  await handle.executeUpdate(escalateUpdate, { args: [{ actor: responder }] });
  const mails = await smtp.waitForMessages(4, 15_000);
  expect(mails.map((m) => m.to[0])).toEqual(['ana@example.com', 'ben@example.com', 'ana@example.com', 'ben@example.com']);
  await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
  await handle.executeUpdate(postEventUpdate, { args: [{ actor: responder, name: 'done', data: {} }] });
  await handle.result();
  const keys = (await wf.store.listPages(idOf(handle))).map((p) => p.key.split(':').slice(2, 4).join(':'));
  expect(keys).toEqual(['r0:l1', 'r0:l2', 'r1:l1', 'r1:l2']);
  expect((await handle.query(statusQuery).catch(() => null))?.status ?? 'closed').toBe('closed');
});

test('acknowledgements racing the escalation timer never leave a page after the acknowledgement', async () => {
  await boot(oncallYaml('300ms', 3));
  const handles = await Promise.all(Array.from({ length: 8 }, () => start(pageRunbook())));
  // Acknowledge each at a different moment around the 300 ms level boundaries.
  const ackedAt = new Map<string, string>();
  await Promise.all(
    handles.map(async (h, i) => {
      await new Promise((r) => setTimeout(r, 250 + i * 110));
      await h.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
      ackedAt.set(h.workflowId, new Date().toISOString());
    }),
  );
  for (const h of handles) {
    await h.result();
    const timeline = await events(h);
    expectNoPageAfter(timeline, ackedAt.get(h.workflowId)!);
    // One page per level and round: keys are unique and each delivered page is on the timeline once.
    const sent = timeline.filter((e) => e.type === 'page.sent').map((e) => `${String(e.data.round)}:${String(e.data.level)}`);
    expect(new Set(sent).size).toBe(sent.length);
    expect(smtp.messages.filter((m) => m.headers['x-fireline-idempotency-key']?.startsWith(`${idOf(h)}:`))).toHaveLength(sent.length);
  }
});
