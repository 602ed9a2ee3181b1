import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ChannelFailureType, channelFailureDetails } from '../../activities/channels/errors';
import { createWebhookChannel } from '../../activities/channels/webhook';
import type { WebhookPageBody } from '../../activities/channels/webhook';
import type { PageMessage } from '../../activities/channels/types';
import { checkSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/targets/sign';

const PUBLIC_URL = 'https://fireline.example.com';
const SECRET = 'whsec-paging-gateway-0123456789';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = (res: http.ServerResponse) => void;

const received: Received[] = [];
/** Answers for the next requests, in order; then 202 with an id. */
const replies: Reply[] = [];
let server: http.Server;
let base: string;

function page(overrides: Partial<PageMessage> = {}): PageMessage {
  return {
    idempotencyKey: 'inc-3:page:2:bob:webhook',
    to: '+447700900123',
    subject: '[SEV2] inc-3: Inventory sync stalled',
    text: 'Inventory sync stalled for 20 min. Ack in Fireline.',
    incidentUrl: '/incidents/inc-3',
    drill: false,
    ...overrides,
  };
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

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies.shift();
      if (reply) return reply(res);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"SM-0001","status":"queued"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received.splice(0);
  replies.splice(0);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('webhook channel', () => {
  test('POSTs the page as JSON with the Idempotency-Key and a signature that verifies', async () => {
    const channel = createWebhookChannel({ url: `${base}/sms?token=secret-query-token`, secret: SECRET, publicUrl: PUBLIC_URL });
    const result = await channel.send(page());
    expect(result).toEqual({ providerId: 'SM-0001', detail: expect.stringContaining('HTTP 202') });
    expect(result.detail).not.toContain('secret-query-token');

    const [request] = received;
    expect(request?.path).toBe('/sms?token=secret-query-token');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe('inc-3:page:2:bob:webhook');
    const body = JSON.parse(request?.body ?? '') as WebhookPageBody;
    expect(body).toEqual({
      to: '+447700900123',
      subject: '[SEV2] inc-3: Inventory sync stalled',
      text: 'Inventory sync stalled for 20 min. Ack in Fireline.',
      incidentUrl: 'https://fireline.example.com/incidents/inc-3',
      drill: false,
      idempotencyKey: 'inc-3:page:2:bob:webhook',
    });
    const check = checkSignature({
      secret: SECRET,
      header: request?.headers[SIGNATURE_HEADER.toLowerCase()] as string,
      timestamp: request?.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
      body: request?.body ?? '',
    });
    expect(check).toEqual({ ok: true });
    expect(
      checkSignature({
        secret: 'another-secret',
        header: request?.headers[SIGNATURE_HEADER.toLowerCase()] as string,
        timestamp: request?.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
        body: request?.body ?? '',
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  test('without a secret nothing is signed; drills are marked', async () => {
    const channel = createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL });
    await channel.send(page({ drill: true }));
    const [request] = received;
    expect(request?.headers[SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
    expect(request?.headers['x-fireline-drill']).toBe('true');
    expect(JSON.parse(request?.body ?? '')).toMatchObject({ drill: true, subject: '[DRILL] [SEV2] inc-3: Inventory sync stalled' });
  });

  test('credentials in the URL become Basic auth', async () => {
    const channel = createWebhookChannel({ url: `http://gw:p%40ss@127.0.0.1:${new URL(base).port}/sms`, publicUrl: PUBLIC_URL });
    await channel.send(page());
    expect(received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('gw:p@ss').toString('base64')}`);
  });

  test('a non-JSON 2xx answer is accepted without a provider id', async () => {
    replies.push((res) => res.writeHead(200).end('OK'));
    const result = await createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page());
    expect(result.providerId).toBeNull();
  });

  test('500 is retryable and the retry carries the same Idempotency-Key with a fresh signature', async () => {
    const channel = createWebhookChannel({ url: `${base}/sms`, secret: SECRET, publicUrl: PUBLIC_URL });
    replies.push((res) => res.writeHead(500).end('gateway exploded'));
    const failure = await failureOf(channel.send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(failure.message).toContain('HTTP 500');
    expect(failure.message).toContain('gateway exploded');
    expect(channelFailureDetails(failure)).toEqual({ channel: 'webhook', code: 500 });

    await channel.send(page());
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['inc-3:page:2:bob:webhook', 'inc-3:page:2:bob:webhook']);
    expect(received[0]?.body).toBe(received[1]?.body);
  });

  test.each([408, 425, 502, 503])('%i is retryable', async (status) => {
    replies.push((res) => res.writeHead(status).end());
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
  });

  test.each([400, 401, 403, 404, 410, 422])('%i is permanent', async (status) => {
    replies.push((res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"invalid number"}'));
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(channelFailureDetails(failure)?.code).toBe(status);
  });

  test('429 with Retry-After seconds → nextRetryDelay', async () => {
    replies.push((res) => res.writeHead(429, { 'retry-after': '42' }).end('slow down'));
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.rateLimited, nonRetryable: false, nextRetryDelay: '42s' });
    expect(channelFailureDetails(failure)).toEqual({ channel: 'webhook', code: 429, retryAfterMs: 42_000 });
  });

  test('429 with an HTTP-date Retry-After → the wait until then', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    replies.push((res) => res.writeHead(429, { 'retry-after': at }).end());
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure.type).toBe(ChannelFailureType.rateLimited);
    const seconds = Number(String(failure.nextRetryDelay).replace(/s$/, ''));
    expect(seconds).toBeGreaterThanOrEqual(88);
    expect(seconds).toBeLessThanOrEqual(90);
  });

  test('429 without Retry-After is retryable with the policy backoff', async () => {
    replies.push((res) => res.writeHead(429).end());
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  test('redirects are not followed and are permanent', async () => {
    replies.push((res) => res.writeHead(302, { location: `${base}/elsewhere` }).end());
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.permanent, nonRetryable: true });
    expect(received.map((r) => r.path)).toEqual(['/sms']);
  });

  test('no answer within the timeout is retryable', async () => {
    replies.push(() => undefined);
    const failure = await failureOf(createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL, timeoutMs: 200 }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(failure.message).toContain('no answer within 200ms');
  });

  test('connection refused is retryable', async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const failure = await failureOf(createWebhookChannel({ url: `http://127.0.0.1:${port}/sms`, publicUrl: PUBLIC_URL }).send(page()));
    expect(failure).toMatchObject({ type: ChannelFailureType.temporary, nonRetryable: false });
    expect(failure.message).toContain('ECONNREFUSED');
  });

  test('cancelling the activity ends the send with CancelledFailure', async () => {
    replies.push(() => undefined);
    const channel = createWebhookChannel({ url: `${base}/sms`, publicUrl: PUBLIC_URL, timeoutMs: 30_000 });
    const env = new MockActivityEnvironment();
    const pending = env.run((message: PageMessage) => channel.send(message), page());
    setTimeout(() => env.cancel(), 100);
    await expect(pending).rejects.toBeInstanceOf(CancelledFailure);
  });

  test('bad settings fail at construction', () => {
    expect(() => createWebhookChannel({ url: 'nope', publicUrl: PUBLIC_URL })).toThrow(/url/);
    expect(() => createWebhookChannel({ url: 'ftp://gw/sms', publicUrl: PUBLIC_URL })).toThrow(/http/);
  });
});
