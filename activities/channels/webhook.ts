import { SIGNATURE_HEADER, signPayload, TIMESTAMP_HEADER } from '../../src/targets/sign';
import { activityCancellationSignal } from '../shared/activity';
import { basicAuthorization, displayUrl, exchange, parseRetryAfter, readText } from '../shared/http';
import { oneLine } from '../shared/text';
import { permanentFailure, rateLimitedFailure, temporaryFailure } from './errors';
import { checkMessage, drillSubject, parsePublicUrl, resolveIncidentUrl } from './format';
import type { PageChannel, PageDelivery, PageMessage } from './types';

export interface WebhookChannelOptions {
  /** The gateway endpoint (http or https). `user:pass@` becomes a Basic Authorization header. */
  url: string;
  /** Signs every request (X-Fireline-Timestamp + X-Fireline-Signature, see src/targets/sign.ts). */
  secret?: string;
  /** Fireline's public URL: relative incident URLs resolve against it. */
  publicUrl: string;
  /** One attempt's wait for the answer. Default 10 s. */
  timeoutMs?: number;
}

/** The JSON body of a webhook page. */
export interface WebhookPageBody {
  to: string;
  subject: string;
  text: string;
  incidentUrl: string;
  drill: boolean;
  idempotencyKey: string;
}

/** Retried statuses besides 5xx: request timeout, too early, too many requests. */
const RETRYABLE_4XX = new Set([408, 425, 429]);
const PROVIDER_ID_FIELDS = ['id', 'messageId', 'message_id', 'sid', 'uuid'];

/**
 * Pages through a generic HTTP gateway (SMS, voice): `POST <url>` with a JSON body, an `Idempotency-Key` header
 * (the gateway deduplicates retries on it) and, with a secret, an HMAC signature. 2xx = accepted; 408, 425, 429
 * (with Retry-After → `nextRetryDelay`), 5xx, timeouts and network errors are retried; other statuses, redirects
 * included (never followed: a signed page goes only where configured), are permanent.
 */
export function createWebhookChannel(options: WebhookChannelOptions): PageChannel & { readonly kind: 'webhook' } {
  const publicUrl = parsePublicUrl(options.publicUrl, 'webhook channel');
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    throw new Error('webhook channel: url is not a valid URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('webhook channel: url must be http or https');
  let basicAuth: string | undefined;
  if (target.username || target.password) {
    // fetch refuses URLs with credentials.
    basicAuth = basicAuthorization(decodeURIComponent(target.username), decodeURIComponent(target.password));
    target.username = '';
    target.password = '';
  }
  const url = target.toString();
  // The query may hold a token: errors show scheme, host and path only.
  const display = displayUrl(target);
  const timeoutMs = options.timeoutMs ?? 10_000;

  return {
    kind: 'webhook',

    async send(message: PageMessage): Promise<PageDelivery> {
      checkMessage('webhook', message);
      const page: WebhookPageBody = {
        to: message.to,
        subject: drillSubject(message.subject, message.drill),
        text: message.text,
        incidentUrl: resolveIncidentUrl('webhook', message.incidentUrl, publicUrl),
        drill: message.drill,
        idempotencyKey: message.idempotencyKey,
      };
      const body = JSON.stringify(page);
      const headers = new Headers({
        'Content-Type': 'application/json',
        'User-Agent': 'Fireline',
        'Idempotency-Key': message.idempotencyKey,
      });
      if (basicAuth) headers.set('Authorization', basicAuth);
      if (message.drill) headers.set('X-Fireline-Drill', 'true');
      if (options.secret) {
        // Signed per attempt: a retry carries a fresh timestamp, so receivers can keep a short tolerance.
        const timestamp = Math.floor(Date.now() / 1000);
        headers.set(TIMESTAMP_HEADER, String(timestamp));
        headers.set(SIGNATURE_HEADER, signPayload(options.secret, timestamp, body));
      }

      const answer = await exchange(
        url,
        { method: 'POST', headers, body, redirect: 'manual' },
        { timeoutMs, cancel: activityCancellationSignal() },
        (response) => readText(response, 4096),
      );
      // The gateway may have the page; the Idempotency-Key lets it drop the retry.
      if (!answer.answered) throw temporaryFailure('webhook', `POST ${display} ${answer.problem}`, answer.timedOut ? 'timeout' : 'network');
      const { response, body: text } = answer;

      const status = response.status;
      const snippet = oneLine(text, 200);
      const summary = `HTTP ${status} from POST ${display}${snippet ? `: ${snippet}` : ''}`;
      if (status >= 200 && status < 300) return { providerId: providerIdFrom(text), detail: summary };
      if (status === 429) {
        const wait = parseRetryAfter(response.headers.get('retry-after'));
        if (wait !== undefined) throw rateLimitedFailure('webhook', summary, wait, status);
        throw temporaryFailure('webhook', summary, status);
      }
      if (RETRYABLE_4XX.has(status) || status >= 500) throw temporaryFailure('webhook', summary, status);
      if (status >= 300 && status < 400)
        throw permanentFailure('webhook', `${summary} (redirects are not followed; configure the final URL)`, status);
      throw permanentFailure('webhook', summary, status);
    },

    async close(): Promise<void> {
      // fetch's connection pool is global.
    },
  };
}

/** The gateway's id for the message, from a JSON answer such as `{ "id": "SM123" }`. */
function providerIdFrom(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object') return null;
    for (const field of PROVIDER_ID_FIELDS) {
      const value = (parsed as Record<string, unknown>)[field];
      if (typeof value === 'string' && value !== '') return value;
      if (typeof value === 'number') return String(value);
    }
  } catch {
    // Not JSON: no id.
  }
  return null;
}
