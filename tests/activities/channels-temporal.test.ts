import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { Client, Connection } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createEmailChannel, emailMessageId } from '../../activities/channels/email';
import { ChannelFailureType } from '../../activities/channels/errors';
import { createSlackChannel } from '../../activities/channels/slack';
import type { PageChannel, PageDelivery, PageMessage } from '../../activities/channels/types';
import { FakeSlack } from '../support/fake-slack';
import { testDataConverter } from '../support/keys';
import { TestSmtpServer } from '../support/smtp';
import { connectClient, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';

/**
 * The channels under real Temporal retries: a one-activity workflow (written to a temp dir and bundled here, so
 * it stays out of workflows/) sends one page with a short-backoff retry policy. What the channels throw must make
 * Temporal retry, wait for Retry-After, or stop, and the provider must see the page once.
 */

const PUBLIC_URL = 'https://fireline.example.com';

const WORKFLOW_SOURCE = `
import { proxyActivities } from '@temporalio/workflow';
const { sendPage } = proxyActivities({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 5 },
});
export async function pageOnce(message) {
  return await sendPage(message);
}
`;

interface Attempt {
  at: number;
  outcome: string;
}

let workflowCode: string;
let client: Client;
let connection: Connection;
let smtp: TestSmtpServer;
let slack: FakeSlack;

beforeAll(async () => {
  const dir = tempDir('fireline-channels-wf-');
  const workflowsPath = path.join(dir, 'page-once.js');
  fs.writeFileSync(workflowsPath, WORKFLOW_SOURCE);
  const nodeModules = path.resolve(__dirname, '../../node_modules');
  const noop = () => undefined;
  ({ code: workflowCode } = await bundleWorkflowCode({
    workflowsPath,
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
    webpackConfigHook: (config) => ({ ...config, resolve: { ...config.resolve, modules: [nodeModules, 'node_modules'] } }),
  }));
  ({ client, connection } = await connectClient());
  smtp = await TestSmtpServer.start();
  slack = await FakeSlack.start({ users: [{ id: 'U1ADA', name: 'ada' }] });
});

afterAll(async () => {
  await connection?.close();
  await smtp?.close();
  await slack?.close();
});

/** Runs pageOnce on a fresh worker whose sendPage goes through `channel`, recording every attempt. */
async function pageThroughTemporal(
  channel: PageChannel,
  message: PageMessage,
  onFailure: (attempt: number) => Promise<void> | void = () => undefined,
) {
  const taskQueue = uniqueTaskQueue('channels');
  const attempts: Attempt[] = [];
  const native = await NativeConnection.connect({ address: testTemporal().address });
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: { code: workflowCode },
    dataConverter: testDataConverter(),
    activities: {
      async sendPage(m: PageMessage): Promise<PageDelivery> {
        const at = Date.now();
        try {
          const result = await channel.send(m);
          attempts.push({ at, outcome: 'ok' });
          return result;
        } catch (error) {
          attempts.push({ at, outcome: error instanceof ApplicationFailure ? (error.type ?? 'ApplicationFailure') : String(error) });
          await onFailure(attempts.length);
          throw error;
        }
      },
    },
  });
  try {
    const result = await worker.runUntil(
      client.workflow.execute('pageOnce', { taskQueue, workflowId: `page-${taskQueue}`, args: [message], workflowExecutionTimeout: '60s' }),
    );
    return { result: result as PageDelivery, attempts, error: undefined };
  } catch (error) {
    return { result: undefined, attempts, error };
  } finally {
    await native.close();
  }
}

function page(key: string, to: string): PageMessage {
  return {
    idempotencyKey: key,
    to,
    subject: '[SEV1] inc-11: Orders down',
    text: 'Orders API returns 503.',
    incidentUrl: '/incidents/inc-11',
    drill: false,
  };
}

test('email: server down, then back → Temporal retries and the page lands exactly once', async () => {
  const channel = createEmailChannel({
    smtpUrl: smtp.url(),
    from: 'fireline@example.com',
    publicUrl: PUBLIC_URL,
    timeouts: { connectionMs: 1000, greetingMs: 1000, socketMs: 2000 },
  });
  const message = page(`inc-11:page:1:ada:email:${Date.now()}`, 'ada@example.com');
  await smtp.stop();
  try {
    const { result, attempts } = await pageThroughTemporal(channel, message, async (attempt) => {
      if (attempt === 2) await smtp.start();
    });
    expect(attempts.map((a) => a.outcome)).toEqual([ChannelFailureType.temporary, ChannelFailureType.temporary, 'ok']);
    expect(result?.providerId).toBe(emailMessageId(message.idempotencyKey, PUBLIC_URL));
    expect(smtp.withMessageId(result?.providerId ?? '')).toHaveLength(1);
  } finally {
    if (!smtp.listening) await smtp.start();
    await channel.close();
  }
});

test('email: 554 fails the activity once, without retries', async () => {
  const channel = createEmailChannel({ smtpUrl: smtp.url(), from: 'fireline@example.com', publicUrl: PUBLIC_URL });
  smtp.failData(554, 5);
  try {
    const { error, attempts } = await pageThroughTemporal(channel, page(`inc-11:page:2:ada:email:${Date.now()}`, 'ada@example.com'));
    expect(attempts).toHaveLength(1);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (error as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect((activityFailure as ActivityFailure).cause).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
  } finally {
    smtp.reset();
    await channel.close();
  }
});

test('Slack: "429 but posted" → Temporal waits Retry-After, the retry reconciles, one message', async () => {
  const channel = createSlackChannel({ token: slack.token, apiUrl: slack.apiUrl, publicUrl: PUBLIC_URL });
  slack.rateLimit('chat.postMessage', { retryAfter: 2, postAnyway: true });
  const message = page(`inc-11:page:1:ada:slack:${Date.now()}`, 'U1ADA');
  const { result, attempts } = await pageThroughTemporal(channel, message);

  expect(attempts.map((a) => a.outcome)).toEqual([ChannelFailureType.rateLimited, 'ok']);
  expect(result?.detail).toContain('already posted');
  expect(slack.messages.filter((m) => m.metadata?.event_payload.key === message.idempotencyKey)).toHaveLength(1);
  // The retry policy alone would have retried after 100 ms; Temporal waited for Retry-After.
  const limited = slack.callsTo('chat.postMessage').find((c) => c.status === 429);
  const retry = slack.calls.find((c) => c.seq > (limited?.seq ?? 0));
  expect((retry?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1900);
});
