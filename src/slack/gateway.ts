import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger';
import { abortError, systemClock } from './clock';
import type { Clock } from './clock';
import { callSlack, SlackCallError, toSlackCallError } from './web-api';

export { createSlackWebClient, SlackCallError, slackClientOptions, toSlackCallError } from './web-api';

export interface CallOptions {
  /** The conversation the call is about: calls for one channel run one at a time, in order. Default: workspace-wide. */
  channel?: string;
  /**
   * How long this call may wait in total for rate limits to pass. Interactive calls (a modal must open within
   * 3 s of the click) pass 0 and fail at once; background work waits. Default: the gateway's maximum.
   */
  maxWaitMs?: number;
}

export interface MessageKey {
  /** Message metadata `event_type`. */
  eventType: string;
  /** `event_payload.key`: what makes the message unique. */
  key: string;
}

export interface SlackGatewayOptions {
  client: WebClient;
  logger: Logger;
  clock?: Clock;
  /** Longest a background call waits for rate limits before giving up (default 15 minutes). */
  maxRateLimitWaitMs?: number;
  /** How many recent messages are searched for an earlier post (default 100). */
  historyLimit?: number;
}

interface HistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

const WORKSPACE = '*workspace*';

/**
 * How the Slack app talks to the Web API (the paging activity calls ./web-api itself: Temporal retries it, and
 * the gateway's waiting and queues would only hold a worker slot).
 *
 * - Calls about one channel run one at a time, in order (a queue per channel); different channels run side by side.
 * - A rate limit (`rate_limited`: a 429, or Slack's `ratelimited`) blocks that method for that channel until Retry-After has passed; the call then
 *   waits and runs again. Nothing retries inside the web-api client.
 * - `postOnce` never posts twice: every post carries a key in its message metadata, and after an ambiguous failure
 *   (429 — Slack sometimes posts anyway —, timeout, 5xx) the channel's recent history is searched for that key
 *   before posting again.
 */
export class SlackGateway {
  readonly client: WebClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxWaitMs: number;
  private readonly historyLimit: number;
  private readonly queues = new Map<string, Promise<unknown>>();
  /** `<channel> <method>` → epoch ms before which that method must not be called for that channel. */
  private readonly blockedUntil = new Map<string, number>();
  /** Keys of posts whose last attempt may or may not have reached the channel. */
  private readonly uncertain = new Set<string>();
  private readonly stopping = new AbortController();

  constructor(options: SlackGatewayOptions) {
    this.client = options.client;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.maxWaitMs = options.maxRateLimitWaitMs ?? 15 * 60_000;
    this.historyLimit = options.historyLimit ?? 100;
  }

  /** Any Web API method; on a 429 it waits for Retry-After and calls again (every Fireline call is safe to repeat). */
  call<T = Record<string, unknown>>(method: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<T> {
    const channel = options.channel ?? WORKSPACE;
    return this.enqueue(channel, () => this.callWithWaits<T>(channel, method, args, options.maxWaitMs ?? this.maxWaitMs));
  }

  /** Posts unless a message with this key is already there; answers the message's ts either way. */
  postOnce(
    channel: string,
    args: Record<string, unknown>,
    key: MessageKey,
    options: { maxWaitMs?: number } = {},
  ): Promise<{ ts: string; reused: boolean }> {
    return this.enqueue(channel, async () => {
      const id = `${channel} ${key.eventType} ${key.key}`;
      const started = this.clock.now();
      const budget = options.maxWaitMs ?? this.maxWaitMs;
      for (;;) {
        // Wait first, then look: a message Slack stored while answering 429 has surely reached the history by then.
        await this.waitTurn(channel, 'chat.postMessage', budget - (this.clock.now() - started));
        if (this.uncertain.has(id)) {
          const earlier = (await this.recentKeysNow(channel, key.eventType, budget - (this.clock.now() - started))).get(key.key);
          if (earlier) {
            this.uncertain.delete(id);
            this.logger.info({ channel, key: key.key, ts: earlier }, 'slack: found the earlier post; not posting again');
            return { ts: earlier, reused: true };
          }
        }
        try {
          const result = await this.invoke<{ ts?: string; channel?: string }>(channel, 'chat.postMessage', {
            ...args,
            channel,
            metadata: { event_type: key.eventType, event_payload: { key: key.key } },
          });
          this.uncertain.delete(id);
          if (!result.ts) throw new SlackCallError('chat.postMessage', 'uncertain', 'chat.postMessage answered without a ts');
          return { ts: result.ts, reused: false };
        } catch (error) {
          const failure = toSlackCallError(error, 'chat.postMessage');
          if (failure.ambiguous) this.uncertain.add(id);
          // A rate limit is waited out at the top of the next attempt; anything else goes back to the caller.
          if (failure.kind !== 'rate_limited') throw failure;
        }
      }
    });
  }

  /** Keys (→ ts) of this app's recent messages in the channel with this metadata event type. */
  recentKeys(channel: string, eventType: string): Promise<Map<string, string>> {
    return this.enqueue(channel, () => this.recentKeysNow(channel, eventType, this.maxWaitMs));
  }

  /** Remembers that a post with this key may have been made (e.g. found at start-up), so the next post looks first. */
  markUncertain(channel: string, key: MessageKey): void {
    this.uncertain.add(`${channel} ${key.eventType} ${key.key}`);
  }

  /** When a method may next be called for a channel (epoch ms; 0 = now). */
  blockedUntilFor(channel: string | undefined, method: string): number {
    return this.blockedUntil.get(`${channel ?? WORKSPACE} ${method}`) ?? 0;
  }

  /** Ends every wait for a rate limit (with an AbortError). */
  stop(): void {
    this.stopping.abort();
  }

  private async recentKeysNow(channel: string, eventType: string, budgetMs: number): Promise<Map<string, string>> {
    const history = await this.callWithWaits<{ messages?: HistoryMessage[] }>(
      channel,
      'conversations.history',
      {
        channel,
        limit: this.historyLimit,
        include_all_metadata: true,
      },
      budgetMs,
    );
    const keys = new Map<string, string>();
    for (const message of history.messages ?? []) {
      const key = message.metadata?.event_payload?.key;
      if (message.metadata?.event_type === eventType && typeof key === 'string' && message.ts) keys.set(key, message.ts);
    }
    return keys;
  }

  private async callWithWaits<T>(channel: string, method: string, args: Record<string, unknown>, budgetMs: number): Promise<T> {
    const started = this.clock.now();
    for (;;) {
      await this.waitTurn(channel, method, budgetMs - (this.clock.now() - started));
      try {
        return await this.invoke<T>(channel, method, args);
      } catch (error) {
        if (toSlackCallError(error, method).kind !== 'rate_limited') throw error;
      }
    }
  }

  /** Waits until (channel, method) may be called; fails at once when that is further away than the budget allows. */
  private async waitTurn(channel: string, method: string, budgetMs: number): Promise<void> {
    const blockKey = `${channel} ${method}`;
    const wait = (this.blockedUntil.get(blockKey) ?? 0) - this.clock.now();
    if (wait <= 0) {
      this.blockedUntil.delete(blockKey);
      return;
    }
    if (wait > Math.max(0, budgetMs)) {
      throw new SlackCallError(
        method,
        'rate_limited',
        `Slack rate-limited ${method}; it may be called again in ${Math.ceil(wait / 1000)}s`,
        { status: 429, retryAfterMs: wait },
      );
    }
    if (this.stopping.signal.aborted) throw abortError();
    await this.clock.sleep(wait, this.stopping.signal);
  }

  /** One call; a 429 records until when (channel, method) is blocked and throws. */
  private async invoke<T>(channel: string, method: string, args: Record<string, unknown>): Promise<T> {
    try {
      return await callSlack<T>(this.client, method, args);
    } catch (error) {
      const failure = toSlackCallError(error, method);
      if (failure.kind === 'rate_limited') {
        const blockKey = `${channel} ${method}`;
        const until = this.clock.now() + (failure.retryAfterMs ?? 1000);
        this.blockedUntil.set(blockKey, Math.max(this.blockedUntil.get(blockKey) ?? 0, until));
        this.logger.warn(
          { method, channel: channel === WORKSPACE ? undefined : channel, retryAfterMs: failure.retryAfterMs },
          'slack: rate limited; waiting for Retry-After',
        );
      }
      throw failure;
    }
  }

  private enqueue<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    const tail = next.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }
}
