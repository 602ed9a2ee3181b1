import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEmailChannel, emailMessageId } from '../../activities/channels/email';
import type { EmailChannel } from '../../activities/channels/email';
import { ChannelFailureType, channelFailureDetails } from '../../activities/channels/errors';
import type { PageDelivery, PageMessage } from '../../activities/channels/types';
import { TestSmtpServer } from '../support/smtp';
import { eventually } from '../support/wait';

const PUBLIC_URL = 'https://fireline.example.com';

let smtp: TestSmtpServer;
let channel: EmailChannel;
const extraChannels: EmailChannel[] = [];

function page(overrides: Partial<PageMessage> = {}): PageMessage {
  return {
    idempotencyKey: `inc-7:page:1:ada:email:${Math.random().toString(36).slice(2)}`,
    to: 'ada@example.com',
    subject: '[SEV1] inc-7: Checkout <down> & out',
    text: 'Checkout fails for 40% of orders.\n<script>alert("x")</script> & more',
    incidentUrl: '/incidents/inc-7',
    drill: false,
    ...overrides,
  };
}

function newChannel(timeouts = { connectionMs: 2000, greetingMs: 2000, socketMs: 1000 }): EmailChannel {
  const created = createEmailChannel({ smtpUrl: smtp.url(), from: 'Fireline <fireline@example.com>', publicUrl: PUBLIC_URL, timeouts });
  extraChannels.push(created);
  return created;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

/**
 * What Temporal does with the activity: call again after a retryable failure (here without waiting), stop at a
 * non-retryable one or after `maxAttempts`. `between` runs after each failed attempt (to heal the server).
 */
async function sendLikeTemporal(
  target: EmailChannel,
  message: PageMessage,
  maxAttempts: number,
  between: (attempt: number, failure: ApplicationFailure) => Promise<void> | void = () => undefined,
): Promise<{ result?: PageDelivery; failures: ApplicationFailure[] }> {
  const failures: ApplicationFailure[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      return { result: await target.send(message), failures };
    } catch (error) {
      if (!(error instanceof ApplicationFailure)) throw error;
      failures.push(error);
      if (error.nonRetryable) break;
      await between(attempt, error);
    }
  }
  return { failures };
}

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  channel = newChannel();
});

afterEach(async () => {
  if (!smtp.listening) await smtp.start();
  smtp.reset();
});

afterAll(async () => {
  await Promise.all(extraChannels.map((c) => c.close()));
  await smtp.close();
});

describe('email channel: content', () => {
  test('delivers subject, text, escaped HTML, the incident link and the headers', async () => {
    const message = page();
    const result = await channel.send(message);
    const [mail] = await smtp.waitForMessages(1);

    const messageId = emailMessageId(message.idempotencyKey, PUBLIC_URL);
    expect(messageId).toMatch(/^<fireline\.[0-9a-f]{32}@fireline\.example\.com>$/);
    expect(result.providerId).toBe(messageId);
    expect(result.detail).toContain('accepted');
    expect(mail?.messageId).toBe(messageId);
    expect(mail?.subject).toBe('[SEV1] inc-7: Checkout <down> & out');
    expect(mail?.from).toBe('"Fireline" <fireline@example.com>');
    expect(mail?.to).toEqual(['ada@example.com']);
    expect(mail?.headers['x-fireline-idempotency-key']).toBe(message.idempotencyKey);
    expect(mail?.headers['auto-submitted']).toBe('auto-generated');
    expect(mail?.headers['x-fireline-drill']).toBeUndefined();

    expect(mail?.text).toContain('Checkout fails for 40% of orders.\n<script>alert("x")</script> & more');
    expect(mail?.text).toContain('Open the incident: https://fireline.example.com/incidents/inc-7');
    expect(mail?.text).not.toContain('DRILL');

    const html = mail?.html as string;
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<title>[SEV1] inc-7: Checkout &lt;down&gt; &amp; out</title>');
    expect(html).toContain('href="https://fireline.example.com/incidents/inc-7"');
  });

  test('drills say so once in the subject, the bodies and a header', async () => {
    await channel.send(page({ drill: true, subject: 'Checkout down' }));
    await channel.send(page({ drill: true, subject: '[DRILL] Checkout down' }));
    const [first, second] = await smtp.waitForMessages(2);
    expect(first?.subject).toBe('[DRILL] Checkout down');
    expect(second?.subject).toBe('[DRILL] Checkout down');
    expect(first?.headers['x-fireline-drill']).toBe('true');
    expect(first?.text).toMatch(/^DRILL: this is an exercise/);
    expect(first?.html).toContain('<strong>DRILL</strong>');
  });

  test('the Message-ID is the same for every send of one key and differs between keys', async () => {
    const message = page();
    await channel.send(message);
    await channel.send(message);
    await channel.send(page());
    const mails = await smtp.waitForMessages(3);
    expect(mails[0]?.messageId).toBe(mails[1]?.messageId);
    expect(mails[2]?.messageId).not.toBe(mails[0]?.messageId);
    expect(emailMessageId(message.idempotencyKey, PUBLIC_URL)).toBe(emailMessageId(message.idempotencyKey, `${PUBLIC_URL}/other/path`));
  });

  test('a caller-rendered HTML body is used as given, inside the layout with the link', async () => {
    await channel.send(page({ html: '<p><b>Checkout</b> is down</p>' }));
    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.html).toContain('<p><b>Checkout</b> is down</p>');
    expect(mail?.html).toContain('href="https://fireline.example.com/incidents/inc-7"');
  });

  test('header injection through the subject is neutralised', async () => {
    await channel.send(page({ subject: 'Down\r\nBcc: eve@example.com' }));
    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.subject).toBe('Down Bcc: eve@example.com');
    expect(mail?.headers.bcc).toBeUndefined();
    expect(mail?.to).toEqual(['ada@example.com']);
  });
});

describe('email channel: failures and retries', () => {
  test('server down, then back: retried until delivered, exactly once', async () => {
    const warm = newChannel();
    // A pooled connection exists before the outage, so the first failure is a connection cut mid-use.
    await warm.send(page());
    smtp.reset();
    await smtp.stop();

    const message = page();
    const { result, failures } = await sendLikeTemporal(warm, message, 5, async (attempt) => {
      if (attempt === 2) await smtp.start();
    });

    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(result?.providerId).toBe(emailMessageId(message.idempotencyKey, PUBLIC_URL));
    expect(smtp.withMessageId(result?.providerId ?? '')).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
  });

  test('connection refused from the start is retryable and names the cause', async () => {
    await smtp.stop();
    const failure = await failureOf(newChannel().send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(failure.message).toMatch(/ECONNREFUSED|closed/);
  });

  test('451 then success: delivered once on the second attempt', async () => {
    smtp.failData(451, 1);
    const message = page();
    const { result, failures } = await sendLikeTemporal(channel, message, 3);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(channelFailureDetails(failures[0])).toEqual({ channel: 'email', code: 451 });
    expect(result).toBeDefined();
    expect(smtp.attempts.map((a) => a.outcome)).toEqual(['rejected', 'accepted']);
    expect(smtp.withMessageId(emailMessageId(message.idempotencyKey, PUBLIC_URL))).toHaveLength(1);
  });

  test('554 is permanent: one attempt, not retried', async () => {
    smtp.failData(554, 5);
    const { result, failures } = await sendLikeTemporal(channel, page(), 3);
    expect(result).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(failures[0]?.message).toContain('554');
    expect(channelFailureDetails(failures[0])).toEqual({ channel: 'email', code: 554 });
    expect(smtp.messages).toHaveLength(0);
  });

  test('every recipient rejected is permanent', async () => {
    smtp.rejectRecipients('gone@example.com', 550);
    const failure = await failureOf(channel.send(page({ to: 'gone@example.com' })));
    expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(channelFailureDetails(failure)?.code).toBe(550);
    expect(smtp.attempts).toHaveLength(0);
  });

  test('some recipients rejected is permanent too: the others got it once and must not get it again', async () => {
    smtp.rejectRecipients(/^gone@/, 550);
    const message = page({ to: 'gone@example.com, ada@example.com' });
    const { failures } = await sendLikeTemporal(channel, message, 3);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(failures[0]?.message).toContain('gone@example.com');
    expect(failures[0]?.message).toContain('accepted ada@example.com');
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]?.to).toEqual(['ada@example.com']);
  });

  test('a 4xx on every recipient is retryable', async () => {
    smtp.rejectRecipients('busy@example.com', 450);
    const failure = await failureOf(channel.send(page({ to: 'busy@example.com' })));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
  });

  test('no answer after the whole message was sent is an uncertain delivery, never retried', async () => {
    const impatient = newChannel({ connectionMs: 2000, greetingMs: 2000, socketMs: 400 });
    smtp.hangAfterData(1);
    const message = page();
    const { result, failures } = await sendLikeTemporal(impatient, message, 3);
    expect(result).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ type: ChannelFailureType.uncertain, nonRetryable: true });
    // The server does have it: a retry would have been the second copy.
    expect(smtp.heldMessages.map((m) => m.messageId)).toEqual([emailMessageId(message.idempotencyKey, PUBLIC_URL)]);
    expect(smtp.attempts).toHaveLength(1);
  });

  test('a server that never greets is a retryable timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const mute = createEmailChannel({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'fireline@example.com',
      publicUrl: PUBLIC_URL,
      timeouts: { greetingMs: 300 },
    });
    try {
      const failure = await failureOf(mute.send(page()));
      expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    } finally {
      await mute.close();
      silent.close();
    }
  });

  test('an address that is not one is permanent and never reaches the server', async () => {
    const before = smtp.connectionCount;
    for (const to of ['ada', 'ada@example.com, bob', '<script>@x']) {
      const failure = await failureOf(channel.send(page({ to })));
      expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    }
    expect(smtp.connectionCount).toBe(before);
  });

  test('an incident URL that is not http(s) is permanent', async () => {
    const failure = await failureOf(channel.send(page({ incidentUrl: 'javascript:alert(1)' })));
    expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
  });

  test('cancelling the activity ends the send with CancelledFailure', async () => {
    const slow = newChannel({ connectionMs: 2000, greetingMs: 2000, socketMs: 30_000 });
    smtp.hangAfterData(1);
    const env = new MockActivityEnvironment();
    const pending = env.run((message: PageMessage) => slow.send(message), page());
    await eventually(() => (smtp.heldMessages.length === 1 ? true : undefined), 'the message held after DATA');
    env.cancel();
    await expect(pending).rejects.toBeInstanceOf(CancelledFailure);
  });

  test('after close() a send fails retryably (another worker takes it)', async () => {
    const closing = newChannel();
    await closing.close();
    const failure = await failureOf(closing.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
  });

  test('bad settings fail at construction', () => {
    expect(() => createEmailChannel({ smtpUrl: 'not a url', from: 'f@example.com', publicUrl: PUBLIC_URL })).toThrow(/smtpUrl/);
    expect(() => createEmailChannel({ smtpUrl: smtp.url(), from: 'nobody', publicUrl: PUBLIC_URL })).toThrow(/from/);
    expect(() => createEmailChannel({ smtpUrl: smtp.url(), from: 'f@example.com', publicUrl: 'ftp://x' })).toThrow(/publicUrl/);
  });
});
