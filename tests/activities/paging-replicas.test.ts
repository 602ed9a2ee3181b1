// Two workers paging one person at the same moment, each with its own connection to the shared read model: the
// contact lease makes the throttle decision and its `sending` mark one step, so exactly one email goes out and
// the other page waits its turn (throttled, to be retried), on both engines.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEmailChannel } from '../../activities/channels/email';
import type { EmailChannel } from '../../activities/channels/email';
import { createPagingActivities } from '../../activities/paging';
import type { PageRequest } from '../../activities/paging';
import { FAILURE } from '../../src/domain/failure-types';
import type { Store } from '../../src/store/store';
import { TestSmtpServer } from '../support/smtp';
import { describeEachStore } from '../support/stores';

const NOW = new Date('2026-06-01T12:00:00.000Z');
let smtp: TestSmtpServer;
const channels: EmailChannel[] = [];

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
});
afterAll(async () => {
  await Promise.all(channels.map((c) => c.close()));
  await smtp.close();
});

function request(incident: string): PageRequest {
  return {
    key: `${incident}:page:r1:l1:ada:email`,
    incident: {
      id: incident,
      title: 'Checkout down',
      service: 'checkout',
      severity: 'SEV1',
      summary: null,
      drill: false,
      trigger: { kind: 'manual', by: { id: 'U1', name: 'Alice', role: 'commander' } },
      declaredAt: NOW.toISOString(),
    },
    stepId: 'page',
    round: 1,
    level: 1,
    personId: 'ada',
    name: 'Ada',
    channel: 'email',
    to: 'ada@example.com',
    message: 'Checkout fails',
  };
}

function worker(store: Store) {
  const email = createEmailChannel({ smtpUrl: smtp.url(), from: 'Fireline <fireline@example.com>', publicUrl: 'https://fireline.test' });
  channels.push(email);
  const activities = createPagingActivities({ store, channels: { email }, now: () => NOW });
  return (req: PageRequest) => new MockActivityEnvironment().run(activities.sendPage, req);
}

describeEachStore('paging one contact from two workers at once', (engine) => {
  afterEach(() => smtp.reset());

  it('sends one email; the other page is throttled or told the contact is busy, and retried later', async () => {
    const a = await engine.fresh();
    const b = await engine.another();
    const outcomes = await Promise.allSettled([worker(a)(request('INC-1')), worker(b)(request('INC-2'))]);
    const sent = outcomes.filter((o) => o.status === 'fulfilled');
    const held = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ApplicationFailure] : []));
    expect(sent).toHaveLength(1);
    expect(held).toHaveLength(1);
    expect(held[0]).toBeInstanceOf(ApplicationFailure);
    expect([FAILURE.throttled, FAILURE.contactBusy]).toContain(held[0]!.type);
    expect(held[0]!.nonRetryable).toBe(false);
    const mails = await smtp.waitForMessages(1);
    expect(mails).toHaveLength(1);
  });
});
