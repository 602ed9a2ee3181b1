import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stateful fake of the Slack Web API over real HTTP on 127.0.0.1 (reference: docs/reference/integrations.md §4.4–§4.8), for
 * `WebClient` (`slackApiUrl: fake.apiUrl`) and Bolt (`clientOptions: { slackApiUrl: fake.apiUrl }`).
 *
 *   const slack = await FakeSlack.start({ users: [{ id: 'U1', name: 'ada', email: 'ada@example.com' }] });
 *   new WebClient(slack.token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
 *   slack.rateLimit('chat.postMessage', { retryAfter: 30, times: 1, postAnyway: true }); // "429 but posted"
 *   slack.failWith('conversations.open', 'user_not_found');
 *   slack.delay('*', 200);
 *   slack.messagesIn(channelId); slack.callsTo('chat.postMessage'); slack.responses
 *   slack.addUserMessage(channelId, 'U1', 'typed by a person');           // e.g. to react to it
 *   await slack.close();
 *
 * Requests into a Slack app: postSlashCommand / postInteraction / postSignedForm (form bodies), postEvent /
 * postSignedJson (Events API), all signed with slackSignature.
 *
 * Wire behaviour:
 * - `POST /api/<method>` (GET with a query works too), form (`application/x-www-form-urlencoded`, with or without
 *   charset) or JSON bodies. In forms, `blocks`, `attachments`, `view` and `metadata` are JSON-encoded strings and
 *   are parsed; booleans and numbers arrive as strings and are read as such.
 * - The token comes from `Authorization: Bearer …` or the `token` field: none → `not_authed`, unknown → `invalid_auth`.
 * - Answers are HTTP 200 `{ ok: true, … }` / `{ ok: false, error }`; a rate limit is HTTP 429 with `Retry-After`
 *   (seconds) and `{ ok: false, error: 'ratelimited' }`; an unknown method is `unknown_method`.
 * - State: users (by id and email), channels (public, private, IMs; members; archived), messages with unique,
 *   increasing `"<seconds>.<6 digits>"` ts per channel (and across channels), metadata, pins, reactions,
 *   ephemeral messages, views.
 * - `POST /response/<id>` records what an app sends to a `response_url` (`responseUrl(id)` makes one).
 *
 * Knobs apply per method name or to every method with `'*'`; the first matching knob with calls left wins. A call
 * goes through: latency → token check → rate limit → HTTP error → forced error → the method. `times` defaults to
 * 1; `Infinity` keeps a knob until `clearKnobs()`. A rate limit with `forMs` applies to every call in that period
 * instead of a number of calls.
 *
 * The bot is `botUserId` (default `UBOT`) / `botId` `BBOT` in team `teamId` `T0FIRELINE`; it is a member of every
 * channel it creates and of channels added with `members` including it.
 */

export interface FakeSlackUser {
  id: string;
  name: string;
  realName?: string;
  email?: string;
  deleted?: boolean;
  isBot?: boolean;
  tz?: string;
}

export interface FakeSlackChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isIm: boolean;
  isMpim: boolean;
  isArchived: boolean;
  /** The other user of an IM. */
  user?: string;
  members: Set<string>;
  created: number;
  creator: string;
  topic: string;
  purpose: string;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  /** The author: the bot's user id for messages posted through the API. */
  user: string;
  botId?: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  threadTs?: string;
  edited?: { user: string; ts: string };
  /** Other fields the caller sent (unfurl_links, mrkdwn, …). */
  extra: Record<string, unknown>;
  postedAt: number;
}

export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  messageTs: string;
  text?: string;
  blocks?: unknown[];
  at: number;
}

export interface FakeSlackView {
  id: string;
  hash: string;
  externalId?: string;
  triggerId?: string;
  view: Record<string, unknown>;
  openedAt: number;
  /** views.open / views.push / views.update calls that produced this state. */
  via: string;
}

export interface FakeSlackResponse {
  id: string;
  at: number;
  contentType: string;
  body: unknown;
}

export interface FakeSlackCall {
  seq: number;
  /** When the request arrived (ms since the epoch, the fake's clock). */
  at: number;
  method: string;
  token: string | null;
  contentType: string;
  args: Record<string, unknown>;
  /** HTTP status answered: 200, 429 or a forced HTTP error. */
  status: number;
  ok: boolean;
  error?: string;
  /** Retry-After sent with a 429, in seconds. */
  retryAfter?: number;
  /** True when the method's effect happened (also for "429 but posted"). */
  applied: boolean;
  response: unknown;
}

export interface RateLimitKnob {
  /** Retry-After in seconds. Default: the rest of `forMs` (rounded up), else 1. */
  retryAfter?: number;
  /** Number of calls answered 429 (default 1 unless forMs is set). */
  times?: number;
  /** Answer 429 to every call for this long from now. */
  forMs?: number;
  /** Perform the call (store the message …) and still answer 429: Slack's "429 but posted". */
  postAnyway?: boolean;
}

export interface FakeSlackOptions {
  /** Accepted tokens; default ['xoxb-fake-token']. */
  tokens?: string[];
  users?: FakeSlackUser[];
  /** Channels to create at start; the bot is a member unless `members` is given without it. */
  channels?: { id?: string; name: string; isPrivate?: boolean; members?: string[]; isArchived?: boolean }[];
  botUserId?: string;
  botId?: string;
  teamId?: string;
  appId?: string;
  /** The fake's clock for call timestamps, ts and rate-limit periods; default Date.now. */
  now?: () => number;
}

/** What a method handler returns (merged into `{ ok: true }`) or throws (`SlackMethodError`). */
export type FakeSlackHandler = (args: Record<string, unknown>, context: { token: string; fake: FakeSlack }) => Record<string, unknown>;

export class SlackMethodError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

interface Knob {
  remaining: number;
  until?: number;
}

interface LatencyKnob extends Knob {
  ms: number;
}
interface RateKnob extends Knob {
  retryAfter?: number;
  postAnyway: boolean;
}
interface HttpKnob extends Knob {
  status: number;
  body: string;
}
interface ErrorKnob extends Knob {
  error: string;
  extra: Record<string, unknown>;
}

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];
const CHANNEL_NAME = /^[a-z0-9_-]+$/;

function fail(error: string, extra: Record<string, unknown> = {}): never {
  throw new SlackMethodError(error, extra);
}

function str(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

function num(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : Number(str(value));
  return Number.isFinite(n) ? n : fallback;
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return (str(value) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function takeKnob<K extends Knob>(knobs: Map<string, K[]>, method: string, now: number): K | undefined {
  for (const key of [method, '*']) {
    const entries = knobs.get(key);
    if (!entries) continue;
    for (const knob of entries) {
      if (knob.until !== undefined) {
        if (now < knob.until) return knob;
        continue;
      }
      if (knob.remaining > 0) {
        knob.remaining--;
        return knob;
      }
    }
  }
  return undefined;
}

function addKnob<K extends Knob>(knobs: Map<string, K[]>, method: string, knob: K): void {
  const entries = knobs.get(method) ?? [];
  entries.push(knob);
  knobs.set(method, entries);
}

export class FakeSlack {
  readonly tokens: Set<string>;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly appId: string;
  readonly users = new Map<string, FakeSlackUser>();
  readonly channels = new Map<string, FakeSlackChannel>();
  /** Every message ever posted, in posting order (updates change them in place; deletes remove them). */
  readonly messages: FakeSlackMessage[] = [];
  readonly ephemerals: FakeSlackEphemeral[] = [];
  readonly views = new Map<string, FakeSlackView>();
  /** channel id → pinned message ts. */
  readonly pins = new Map<string, Set<string>>();
  /** `<channel>:<ts>` → reaction names. */
  readonly reactions = new Map<string, Set<string>>();
  readonly responses: FakeSlackResponse[] = [];
  readonly calls: FakeSlackCall[] = [];

  private readonly server: http.Server;
  private baseUrl = '';
  private readonly now: () => number;
  private readonly handlers = new Map<string, FakeSlackHandler>();
  private readonly latencies = new Map<string, LatencyKnob[]>();
  private readonly rateLimits = new Map<string, RateKnob[]>();
  private readonly httpErrors = new Map<string, HttpKnob[]>();
  private readonly errors = new Map<string, ErrorKnob[]>();
  private lastTsMicros = 0;
  private idCounter = 0;
  private readonly callWaiters = new Set<() => void>();

  private constructor(options: FakeSlackOptions) {
    this.tokens = new Set(options.tokens ?? ['xoxb-fake-token']);
    this.botUserId = options.botUserId ?? 'UBOT';
    this.botId = options.botId ?? 'BBOT';
    this.teamId = options.teamId ?? 'T0FIRELINE';
    this.appId = options.appId ?? 'AFIRELINE';
    this.now = options.now ?? Date.now;
    this.addUser({ id: this.botUserId, name: 'fireline', realName: 'Fireline', isBot: true });
    for (const user of options.users ?? []) this.addUser(user);
    for (const channel of options.channels ?? []) this.addChannel(channel);
    this.installMethods();
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The first accepted token. */
  get token(): string {
    return [...this.tokens][0] ?? '';
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.baseUrl;
  }

  /** `http://127.0.0.1:<port>/api/`, for `slackApiUrl` (SLACK_API_URL). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A response_url that records what is posted to it in `responses`. */
  responseUrl(id = `R${this.nextId()}`): string {
    return `${this.baseUrl}/response/${encodeURIComponent(id)}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- state ---------------------------------------------------------------------------------------------

  addUser(user: FakeSlackUser): FakeSlackUser {
    this.users.set(user.id, user);
    return user;
  }

  addChannel(spec: { id?: string; name: string; isPrivate?: boolean; members?: string[]; isArchived?: boolean }): FakeSlackChannel {
    const channel: FakeSlackChannel = {
      id: spec.id ?? `${spec.isPrivate ? 'G' : 'C'}${this.nextId()}`,
      name: spec.name.replace(/^#/, ''),
      isPrivate: spec.isPrivate ?? false,
      isIm: false,
      isMpim: false,
      isArchived: spec.isArchived ?? false,
      members: new Set(spec.members ?? [this.botUserId]),
      created: Math.floor(this.now() / 1000),
      creator: this.botUserId,
      topic: '',
      purpose: '',
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The IM channel with a user, opened if needed (as `conversations.open` would). */
  imWith(userId: string): FakeSlackChannel {
    for (const channel of this.channels.values()) if (channel.isIm && channel.user === userId) return channel;
    const channel: FakeSlackChannel = {
      id: `D${this.nextId()}`,
      name: userId,
      isPrivate: true,
      isIm: true,
      isMpim: false,
      isArchived: false,
      user: userId,
      members: new Set([this.botUserId, userId]),
      created: Math.floor(this.now() / 1000),
      creator: this.botUserId,
      topic: '',
      purpose: '',
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  channelByName(name: string): FakeSlackChannel | undefined {
    const bare = name.replace(/^#/, '');
    for (const channel of this.channels.values()) if (!channel.isIm && channel.name === bare) return channel;
    return undefined;
  }

  /** A message a person typed in a channel (not the bot), e.g. one to react to. */
  addUserMessage(channel: string, user: string, text: string, options: { threadTs?: string } = {}): FakeSlackMessage {
    const id = this.channels.has(channel) ? channel : (this.channelByName(channel)?.id ?? channel);
    const message: FakeSlackMessage = { channel: id, ts: this.nextTs(), user, text, extra: {}, postedAt: this.now() };
    if (options.threadTs) message.threadTs = options.threadTs;
    this.messages.push(message);
    return message;
  }

  /** Messages in a channel (id or #name), oldest first, thread replies included. */
  messagesIn(channel: string): FakeSlackMessage[] {
    const id = this.channels.has(channel) ? channel : (this.channelByName(channel)?.id ?? channel);
    return this.messages.filter((m) => m.channel === id);
  }

  message(channel: string, ts: string): FakeSlackMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  callsTo(method: string): FakeSlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves once `method` was called at least `count` times (any outcome); rejects after `timeoutMs`. */
  async waitForCalls(method: string, count: number, timeoutMs = 5000): Promise<FakeSlackCall[]> {
    const done = () => this.callsTo(method).length >= count;
    if (done()) return this.callsTo(method);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.callWaiters.delete(check);
        resolve(this.callsTo(method));
      };
      const timer = setTimeout(() => {
        this.callWaiters.delete(check);
        reject(new Error(`expected ${count} call(s) to ${method} within ${timeoutMs} ms, got ${this.callsTo(method).length}`));
      }, timeoutMs);
      this.callWaiters.add(check);
    });
  }

  /** Forgets the call log and captured responses (state stays). */
  clearCalls(): void {
    this.calls.splice(0);
    this.responses.splice(0);
  }

  // --- knobs ---------------------------------------------------------------------------------------------

  /** Answers `{ ok: false, error }` (HTTP 200) to the next `times` calls of `method` ('*' for all). */
  failWith(method: string, error: string, options: { times?: number; extra?: Record<string, unknown> } = {}): void {
    addKnob(this.errors, method, { remaining: options.times ?? 1, error, extra: options.extra ?? {} });
  }

  /** Answers HTTP 429 with Retry-After (see RateLimitKnob), optionally after performing the call. */
  rateLimit(method: string, options: RateLimitKnob = {}): void {
    const knob: RateKnob = { remaining: options.times ?? 1, postAnyway: options.postAnyway ?? false };
    if (options.retryAfter !== undefined) knob.retryAfter = options.retryAfter;
    if (options.forMs !== undefined) knob.until = this.now() + options.forMs;
    addKnob(this.rateLimits, method, knob);
  }

  /** Answers a non-200 HTTP status (e.g. 500, 503 with an HTML body) to the next `times` calls. */
  httpError(method: string, status: number, options: { times?: number; body?: string } = {}): void {
    addKnob(this.httpErrors, method, {
      remaining: options.times ?? 1,
      status,
      body: options.body ?? `<html><body>${status}</body></html>`,
    });
  }

  /** Waits `ms` before answering the next `times` calls (default: every call until clearKnobs). */
  delay(method: string, ms: number, options: { times?: number } = {}): void {
    addKnob(this.latencies, method, { remaining: options.times ?? Infinity, ms });
  }

  /** Removes knobs for one method (or all). */
  clearKnobs(method?: string): void {
    for (const knobs of [this.latencies, this.rateLimits, this.httpErrors, this.errors]) {
      if (method === undefined) knobs.clear();
      else knobs.delete(method);
    }
  }

  /** Adds or replaces a method. */
  method(name: string, handler: FakeSlackHandler): void {
    this.handlers.set(name, handler);
  }

  // --- HTTP ----------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = this.now();
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
    const contentType = req.headers['content-type'] ?? '';

    const response = url.pathname.match(/^\/response\/([^/]+)$/);
    if (response && req.method === 'POST') {
      let body: unknown = raw;
      try {
        body = contentType.startsWith('application/json') ? JSON.parse(raw) : raw;
      } catch {
        // Keep the raw text: the test will see what was sent.
      }
      this.responses.push({ id: decodeURIComponent(response[1] ?? ''), at, contentType, body });
      this.notifyWaiters();
      return json(res, 200, { ok: true });
    }

    const api = url.pathname.match(/^\/api\/([A-Za-z0-9_.]+)$/);
    if (!api || (req.method !== 'POST' && req.method !== 'GET')) return json(res, 404, { ok: false, error: 'not_found' });
    const method = api[1] ?? '';

    let args: Record<string, unknown>;
    try {
      args = parseArgs(raw, contentType, url.searchParams);
    } catch (error) {
      return this.finish(res, {
        at,
        method,
        token: null,
        contentType,
        args: {},
        status: 200,
        body: { ok: false, error: (error as Error).message },
        applied: false,
      });
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : (str(args.token) ?? null);
    const base = { at, method, token, contentType, args };

    const latency = takeKnob(this.latencies, method, at);
    if (latency) await new Promise((resolve) => setTimeout(resolve, latency.ms));

    if (!token) return this.finish(res, { ...base, status: 200, body: { ok: false, error: 'not_authed' }, applied: false });
    if (!this.tokens.has(token))
      return this.finish(res, { ...base, status: 200, body: { ok: false, error: 'invalid_auth' }, applied: false });

    const rate = takeKnob(this.rateLimits, method, this.now());
    if (rate) {
      const retryAfter = rate.retryAfter ?? (rate.until !== undefined ? Math.max(1, Math.ceil((rate.until - this.now()) / 1000)) : 1);
      let applied = false;
      if (rate.postAnyway) applied = this.invoke(method, args, token).ok === true;
      return this.finish(res, { ...base, status: 429, body: { ok: false, error: 'ratelimited' }, applied, retryAfter });
    }
    const httpKnob = takeKnob(this.httpErrors, method, at);
    if (httpKnob) return this.finish(res, { ...base, status: httpKnob.status, body: httpKnob.body, applied: false });
    const forced = takeKnob(this.errors, method, at);
    if (forced)
      return this.finish(res, { ...base, status: 200, body: { ok: false, error: forced.error, ...forced.extra }, applied: false });

    const body = this.invoke(method, args, token);
    return this.finish(res, { ...base, status: 200, body, applied: body.ok === true });
  }

  private invoke(method: string, args: Record<string, unknown>, token: string): Record<string, unknown> {
    const handler = this.handlers.get(method);
    if (!handler) return { ok: false, error: 'unknown_method' };
    try {
      return { ok: true, ...handler(args, { token, fake: this }) };
    } catch (error) {
      if (error instanceof SlackMethodError) return { ok: false, error: error.error, ...error.extra };
      throw error;
    }
  }

  private finish(
    res: http.ServerResponse,
    call: {
      at: number;
      method: string;
      token: string | null;
      contentType: string;
      args: Record<string, unknown>;
      status: number;
      body: unknown;
      applied: boolean;
      retryAfter?: number;
    },
  ): void {
    const body = call.body as { ok?: boolean; error?: string } | string;
    const entry: FakeSlackCall = {
      seq: this.calls.length + 1,
      at: call.at,
      method: call.method,
      token: call.token,
      contentType: call.contentType,
      args: call.args,
      status: call.status,
      ok: typeof body === 'object' && body.ok === true && call.status === 200,
      applied: call.applied,
      response: call.body,
    };
    if (typeof body === 'object' && body.error !== undefined) entry.error = body.error;
    if (call.retryAfter !== undefined) entry.retryAfter = call.retryAfter;
    this.calls.push(entry);
    this.notifyWaiters();
    if (typeof call.body === 'string') {
      res.writeHead(call.status, { 'content-type': 'text/html' });
      res.end(call.body);
      return;
    }
    const headers: Record<string, string> = call.retryAfter !== undefined ? { 'retry-after': String(call.retryAfter) } : {};
    json(res, call.status, call.body, headers);
  }

  private notifyWaiters(): void {
    for (const waiter of [...this.callWaiters]) waiter();
  }

  // --- helpers for handlers ------------------------------------------------------------------------------

  private nextId(): string {
    this.idCounter++;
    return this.idCounter.toString(36).toUpperCase().padStart(8, '0');
  }

  /** Unique and increasing: `<seconds>.<microseconds, 6 digits>`. */
  nextTs(): string {
    const micros = Math.max(Math.floor(this.now() * 1000), this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  private user(id: unknown, error = 'user_not_found'): FakeSlackUser {
    const user = this.users.get(str(id) ?? '');
    if (!user) fail(error);
    return user;
  }

  /** A channel by id or #name; a user id means the IM with that user (as chat.postMessage accepts). */
  private channel(value: unknown): FakeSlackChannel {
    const id = str(value);
    if (!id) fail('channel_not_found');
    const found = this.channels.get(id) ?? this.channelByName(id) ?? (this.users.has(id) ? this.imWith(id) : undefined);
    if (!found) fail('channel_not_found');
    return found;
  }

  private botCanRead(channel: FakeSlackChannel): void {
    if ((channel.isPrivate || channel.isIm) && !channel.members.has(this.botUserId)) fail('channel_not_found');
    if (!channel.members.has(this.botUserId) && !channel.isIm) fail('not_in_channel');
  }

  private channelJson(channel: FakeSlackChannel): Record<string, unknown> {
    if (channel.isIm) {
      return { id: channel.id, is_im: true, is_org_shared: false, user: channel.user, created: channel.created, is_user_deleted: false };
    }
    return {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.isPrivate,
      is_group: channel.isPrivate,
      is_im: false,
      is_mpim: channel.isMpim,
      is_private: channel.isPrivate,
      is_archived: channel.isArchived,
      is_member: channel.members.has(this.botUserId),
      created: channel.created,
      creator: channel.creator,
      num_members: channel.members.size,
      topic: { value: channel.topic, creator: '', last_set: 0 },
      purpose: { value: channel.purpose, creator: '', last_set: 0 },
    };
  }

  private userJson(user: FakeSlackUser): Record<string, unknown> {
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      real_name: user.realName ?? user.name,
      deleted: user.deleted ?? false,
      is_bot: user.isBot ?? false,
      tz: user.tz ?? 'Europe/London',
      profile: { email: user.email, real_name: user.realName ?? user.name, display_name: user.name },
    };
  }

  private messageJson(message: FakeSlackMessage, withMetadata: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { type: 'message', ts: message.ts, user: message.user, text: message.text ?? '' };
    if (message.botId) {
      out.bot_id = message.botId;
      out.app_id = this.appId;
    }
    if (message.blocks) out.blocks = message.blocks;
    if (message.attachments) out.attachments = message.attachments;
    if (message.threadTs) out.thread_ts = message.threadTs;
    if (message.edited) out.edited = message.edited;
    if (withMetadata && message.metadata) out.metadata = message.metadata;
    return out;
  }

  private content(args: Record<string, unknown>, required: boolean): Pick<FakeSlackMessage, 'text' | 'blocks' | 'attachments'> {
    const text = str(args.text);
    const blocks = args.blocks;
    const attachments = args.attachments;
    if (blocks !== undefined && (!Array.isArray(blocks) || blocks.length > 50)) fail('invalid_blocks');
    if (attachments !== undefined && (!Array.isArray(attachments) || attachments.length > 100))
      fail(Array.isArray(attachments) ? 'too_many_attachments' : 'invalid_attachments');
    if (required && !text && blocks === undefined && attachments === undefined) fail('no_text');
    if (text !== undefined && text.length > 40_000) fail('msg_too_long');
    const out: Pick<FakeSlackMessage, 'text' | 'blocks' | 'attachments'> = {};
    if (text !== undefined) out.text = text;
    if (blocks !== undefined) out.blocks = blocks as unknown[];
    if (attachments !== undefined) out.attachments = attachments as unknown[];
    return out;
  }

  private metadata(value: unknown): FakeSlackMessage['metadata'] {
    if (value === undefined) return undefined;
    const m = value as { event_type?: unknown; event_payload?: unknown } | null;
    if (!m || typeof m !== 'object' || typeof m.event_type !== 'string' || !m.event_payload || typeof m.event_payload !== 'object')
      fail('invalid_metadata_format');
    return { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
  }

  private installMethods(): void {
    const m = (name: string, handler: FakeSlackHandler) => this.handlers.set(name, handler);

    m('auth.test', () => ({
      url: 'https://fireline-test.slack.com/',
      team: 'Fireline Test',
      user: 'fireline',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }));

    m('chat.postMessage', (args) => {
      const channel = this.channel(args.channel);
      if (channel.isArchived) fail('is_archived');
      if (!channel.isIm && !channel.members.has(this.botUserId)) fail(channel.isPrivate ? 'channel_not_found' : 'not_in_channel');
      const content = this.content(args, true);
      const metadata = this.metadata(args.metadata);
      const threadTs = str(args.thread_ts);
      if (threadTs && !this.message(channel.id, threadTs)) fail('thread_not_found');
      const extra = { ...args };
      for (const key of ['token', 'channel', 'text', 'blocks', 'attachments', 'metadata', 'thread_ts']) delete extra[key];
      const message: FakeSlackMessage = {
        channel: channel.id,
        ts: this.nextTs(),
        user: this.botUserId,
        botId: this.botId,
        ...content,
        extra,
        postedAt: this.now(),
      };
      if (metadata) message.metadata = metadata;
      if (threadTs) message.threadTs = threadTs;
      this.messages.push(message);
      return { channel: channel.id, ts: message.ts, message: this.messageJson(message, true) };
    });

    m('chat.update', (args) => {
      const channel = this.channel(args.channel);
      const message = this.message(channel.id, str(args.ts) ?? '');
      if (!message) fail('message_not_found');
      if (message.user !== this.botUserId) fail('cant_update_message');
      if (channel.isArchived) fail('is_archived');
      const content = this.content(args, false);
      Object.assign(message, content);
      const metadata = this.metadata(args.metadata);
      if (metadata) message.metadata = metadata;
      message.edited = { user: this.botUserId, ts: this.nextTs() };
      return { channel: channel.id, ts: message.ts, text: message.text ?? '', message: this.messageJson(message, true) };
    });

    m('chat.delete', (args) => {
      const channel = this.channel(args.channel);
      const index = this.messages.findIndex((x) => x.channel === channel.id && x.ts === str(args.ts));
      if (index < 0) fail('message_not_found');
      if (this.messages[index]?.user !== this.botUserId) fail('cant_delete_message');
      this.messages.splice(index, 1);
      return { channel: channel.id, ts: str(args.ts) };
    });

    m('chat.postEphemeral', (args) => {
      const channel = this.channel(args.channel);
      const user = this.user(args.user);
      if (!channel.isIm && !channel.members.has(user.id)) fail('user_not_in_channel');
      const content = this.content(args, true);
      const ephemeral: FakeSlackEphemeral = { channel: channel.id, user: user.id, messageTs: this.nextTs(), at: this.now(), ...content };
      this.ephemerals.push(ephemeral);
      return { message_ts: ephemeral.messageTs };
    });

    m('chat.getPermalink', (args) => {
      const channel = this.channel(args.channel);
      const ts = str(args.message_ts) ?? '';
      if (!this.message(channel.id, ts)) fail('message_not_found');
      return { channel: channel.id, permalink: `https://fireline-test.slack.com/archives/${channel.id}/p${ts.replace('.', '')}` };
    });

    m('conversations.open', (args) => {
      const channelArg = str(args.channel);
      if (channelArg) {
        const channel = this.channel(channelArg);
        return { channel: bool(args.return_im) ? this.channelJson(channel) : { id: channel.id } };
      }
      const users = list(args.users);
      if (users.length === 0) fail('users_list_not_supplied');
      if (users.length > 8) fail('too_many_users');
      for (const id of users) {
        const user = this.user(id);
        if (user.deleted) fail('user_disabled');
      }
      const others = users.filter((u) => u !== this.botUserId);
      if (others.length === 0) fail('cannot_dm_bot');
      let channel: FakeSlackChannel;
      if (others.length === 1) {
        const existing = [...this.channels.values()].some((c) => c.isIm && c.user === others[0]);
        channel = this.imWith(others[0] ?? '');
        return {
          channel: bool(args.return_im) ? this.channelJson(channel) : { id: channel.id },
          ...(existing ? { already_open: true, no_op: true } : {}),
        };
      }
      const members = new Set([this.botUserId, ...others]);
      const key = [...members].sort().join(',');
      const existing = [...this.channels.values()].find((c) => c.isMpim && [...c.members].sort().join(',') === key);
      channel = existing ?? this.addChannel({ name: `mpdm-${[...members].join('--')}-1`, isPrivate: true, members: [...members] });
      channel.isMpim = true;
      return { channel: { id: channel.id } };
    });

    m('conversations.create', (args) => {
      const name = str(args.name) ?? '';
      if (name === '') fail('invalid_name_required');
      if (name.length > 80) fail('invalid_name_maxlength');
      if (!CHANNEL_NAME.test(name))
        fail(
          /[A-Z]/.test(name) || /\s/.test(name)
            ? 'invalid_name_specials'
            : /[.,]/.test(name)
              ? 'invalid_name_punctuation'
              : 'invalid_name_specials',
        );
      if (this.channelByName(name)) fail('name_taken');
      const channel = this.addChannel({ name, isPrivate: bool(args.is_private), members: [this.botUserId] });
      return { channel: this.channelJson(channel) };
    });

    m('conversations.invite', (args) => {
      const channel = this.channel(args.channel);
      if (channel.isArchived) fail('is_archived');
      if (!channel.members.has(this.botUserId)) fail('not_in_channel');
      const users = list(args.users);
      if (users.length === 0) fail('no_user');
      if (users.length > 1000) fail('too_many_users');
      for (const id of users) {
        if (id === this.botUserId) fail('cant_invite_self');
        const user = this.user(id);
        if (user.deleted) fail('user_is_restricted');
      }
      if (users.every((id) => channel.members.has(id))) fail('already_in_channel');
      for (const id of users) channel.members.add(id);
      return { channel: this.channelJson(channel) };
    });

    m('conversations.kick', (args) => {
      const channel = this.channel(args.channel);
      const user = this.user(args.user);
      if (!channel.members.has(user.id)) fail('not_in_channel');
      channel.members.delete(user.id);
      return {};
    });

    m('conversations.join', (args) => {
      const channel = this.channel(args.channel);
      if (channel.isArchived) fail('is_archived');
      if (channel.isPrivate) fail('method_not_supported_for_channel_type');
      channel.members.add(this.botUserId);
      return { channel: this.channelJson(channel) };
    });

    m('conversations.archive', (args) => {
      const channel = this.channel(args.channel);
      if (channel.isArchived) fail('already_archived');
      if (channel.isIm) fail('method_not_supported_for_channel_type');
      channel.isArchived = true;
      return {};
    });

    m('conversations.unarchive', (args) => {
      const channel = this.channel(args.channel);
      if (!channel.isArchived) fail('not_archived');
      channel.isArchived = false;
      return {};
    });

    m('conversations.rename', (args) => {
      const channel = this.channel(args.channel);
      const name = str(args.name) ?? '';
      if (!CHANNEL_NAME.test(name) || name.length > 80) fail('invalid_name_specials');
      if (this.channelByName(name) && this.channelByName(name) !== channel) fail('name_taken');
      channel.name = name;
      return { channel: this.channelJson(channel) };
    });

    m('conversations.setTopic', (args) => {
      const channel = this.channel(args.channel);
      if (channel.isArchived) fail('is_archived');
      channel.topic = str(args.topic) ?? '';
      return { channel: this.channelJson(channel) };
    });

    m('conversations.setPurpose', (args) => {
      const channel = this.channel(args.channel);
      if (channel.isArchived) fail('is_archived');
      channel.purpose = str(args.purpose) ?? '';
      return { channel: this.channelJson(channel) };
    });

    m('conversations.info', (args) => ({ channel: this.channelJson(this.channel(args.channel)) }));

    m('conversations.members', (args) => {
      const channel = this.channel(args.channel);
      return { members: [...channel.members], response_metadata: { next_cursor: '' } };
    });

    m('conversations.list', (args) => {
      const types = list(args.types ?? 'public_channel');
      const all = [...this.channels.values()].filter((c) => {
        if (bool(args.exclude_archived) && c.isArchived) return false;
        if (c.isIm) return types.includes('im');
        if (c.isMpim) return types.includes('mpim');
        return types.includes(c.isPrivate ? 'private_channel' : 'public_channel') && (!c.isPrivate || c.members.has(this.botUserId));
      });
      const { page, next } = paginate(all, args, 100);
      return { channels: page.map((c) => this.channelJson(c)), response_metadata: { next_cursor: next } };
    });

    m('conversations.history', (args) => {
      const channel = this.channel(args.channel);
      this.botCanRead(channel);
      const oldest = num(args.oldest, 0);
      const latest = num(args.latest, Infinity);
      const inclusive = bool(args.inclusive);
      const withMetadata = bool(args.include_all_metadata);
      const all = this.messages
        .filter((x) => x.channel === channel.id && (!x.threadTs || x.threadTs === x.ts))
        .filter((x) => {
          const ts = Number(x.ts);
          return inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest;
        })
        .reverse();
      const { page, next } = paginate(all, args, 100);
      return {
        messages: page.map((x) => this.messageJson(x, withMetadata)),
        has_more: next !== '',
        pin_count: this.pins.get(channel.id)?.size ?? 0,
        response_metadata: { next_cursor: next },
      };
    });

    m('conversations.replies', (args) => {
      const channel = this.channel(args.channel);
      this.botCanRead(channel);
      const ts = str(args.ts) ?? '';
      const parent = this.message(channel.id, ts);
      if (!parent) fail('thread_not_found');
      const thread = [parent, ...this.messages.filter((x) => x.channel === channel.id && x.threadTs === ts && x.ts !== ts)];
      const { page, next } = paginate(thread, args, 100);
      return {
        messages: page.map((x) => this.messageJson(x, bool(args.include_all_metadata))),
        has_more: next !== '',
        response_metadata: { next_cursor: next },
      };
    });

    m('views.open', (args) => this.openView(args, 'views.open'));
    m('views.push', (args) => this.openView(args, 'views.push'));
    m('views.update', (args) => {
      const viewId = str(args.view_id);
      const externalId = str(args.external_id);
      const existing = viewId ? this.views.get(viewId) : [...this.views.values()].find((v) => v.externalId === externalId);
      if (!existing) fail('not_found');
      const hash = str(args.hash);
      if (hash && hash !== existing.hash) fail('hash_conflict');
      const view = this.checkView(args.view);
      existing.view = view;
      existing.hash = `h${this.nextId()}`;
      existing.via = 'views.update';
      return { view: this.viewJson(existing) };
    });

    m('users.info', (args) => ({ user: this.userJson(this.user(args.user)) }));

    m('users.lookupByEmail', (args) => {
      const email = (str(args.email) ?? '').toLowerCase();
      const user = [...this.users.values()].find((u) => u.email?.toLowerCase() === email);
      if (!user) fail('users_not_found');
      return { user: this.userJson(user) };
    });

    m('users.list', (args) => {
      const { page, next } = paginate([...this.users.values()], args, 200);
      return { members: page.map((u) => this.userJson(u)), response_metadata: { next_cursor: next } };
    });

    m('pins.add', (args) => {
      const channel = this.channel(args.channel);
      const ts = str(args.timestamp) ?? '';
      if (!this.message(channel.id, ts)) fail('message_not_found');
      const pins = this.pins.get(channel.id) ?? new Set<string>();
      if (pins.has(ts)) fail('already_pinned');
      pins.add(ts);
      this.pins.set(channel.id, pins);
      return {};
    });

    m('pins.remove', (args) => {
      const channel = this.channel(args.channel);
      const ts = str(args.timestamp) ?? '';
      if (!this.pins.get(channel.id)?.delete(ts)) fail('no_pin');
      return {};
    });

    m('reactions.add', (args) => {
      const channel = this.channel(args.channel);
      const ts = str(args.timestamp) ?? '';
      if (!this.message(channel.id, ts)) fail('message_not_found');
      const name = str(args.name) ?? '';
      if (!name) fail('invalid_name');
      const key = `${channel.id}:${ts}`;
      const reactions = this.reactions.get(key) ?? new Set<string>();
      if (reactions.has(name)) fail('already_reacted');
      reactions.add(name);
      this.reactions.set(key, reactions);
      return {};
    });
  }

  private checkView(value: unknown): Record<string, unknown> {
    const view = value as Record<string, unknown> | undefined;
    if (!view || typeof view !== 'object' || typeof view.type !== 'string') fail('invalid_arguments');
    if (JSON.stringify(view).length > 250_000) fail('view_too_large');
    return view;
  }

  private openView(args: Record<string, unknown>, via: string): Record<string, unknown> {
    const triggerId = str(args.trigger_id) ?? str(args.interactivity_pointer);
    if (!triggerId) fail('invalid_arguments');
    const view = this.checkView(args.view);
    const externalId = typeof view.external_id === 'string' ? view.external_id : undefined;
    if (externalId && [...this.views.values()].some((v) => v.externalId === externalId)) fail('duplicate_external_id');
    const state: FakeSlackView = { id: `V${this.nextId()}`, hash: `h${this.nextId()}`, triggerId, view, openedAt: this.now(), via };
    if (externalId) state.externalId = externalId;
    this.views.set(state.id, state);
    return { view: this.viewJson(state) };
  }

  private viewJson(view: FakeSlackView): Record<string, unknown> {
    return {
      ...view.view,
      id: view.id,
      hash: view.hash,
      root_view_id: view.id,
      previous_view_id: null,
      app_id: this.appId,
      bot_id: this.botId,
      team_id: this.teamId,
      state: { values: {} },
    };
  }
}

function paginate<T>(items: T[], args: Record<string, unknown>, fallbackLimit: number): { page: T[]; next: string } {
  const limit = Math.max(1, Math.min(num(args.limit, fallbackLimit) || fallbackLimit, 1000));
  const cursor = str(args.cursor);
  const start = cursor
    ? Number(
        Buffer.from(cursor, 'base64')
          .toString('utf8')
          .replace(/^offset:/, ''),
      ) || 0
    : 0;
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(`offset:${start + limit}`).toString('base64') : '';
  return { page, next };
}

function parseArgs(raw: string, contentType: string, query: URLSearchParams): Record<string, unknown> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  if (raw !== '') {
    if (contentType.startsWith('application/json')) {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        throw new Error('invalid_json');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('invalid_json');
      Object.assign(args, body);
    } else if (contentType.startsWith('multipart/')) {
      throw new Error('invalid_form_data');
    } else {
      Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
    }
  }
  for (const field of JSON_FIELDS) {
    const value = args[field];
    if (typeof value === 'string' && value !== '') {
      try {
        args[field] = JSON.parse(value);
      } catch {
        throw new Error(field === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments');
      }
    }
  }
  return args;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

// --- Signed requests into a Slack app (docs/reference/integrations.md §4.1, §0.5) ------------------------------------------

/** `v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>` */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedPostOptions {
  signingSecret: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Override or drop (`null`) headers to test rejections. */
  headers?: Record<string, string | null>;
}

/**
 * POSTs a form body to a Slack app endpoint (e.g. `http://127.0.0.1:3000/slack/events`) exactly as Slack does:
 * the bare `application/x-www-form-urlencoded` content type (Bolt refuses a charset suffix) and v0 signature headers.
 */
export async function postSignedForm(url: string, fields: Record<string, string>, options: SignedPostOptions): Promise<Response> {
  const body = new URLSearchParams(fields).toString();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(options.signingSecret, timestamp, body),
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) delete headers[name.toLowerCase()];
    else headers[name.toLowerCase()] = value;
  }
  return fetch(url, { method: 'POST', headers, body });
}

/** A slash command, signed. `fields` add to or override the defaults (team T1, channel C1, user U1). */
export function postSlashCommand(
  url: string,
  command: string,
  text: string,
  fields: Record<string, string>,
  options: SignedPostOptions,
): Promise<Response> {
  return postSignedForm(
    url,
    {
      token: 'legacy',
      team_id: 'T1',
      team_domain: 'fireline',
      channel_id: 'C1',
      channel_name: 'general',
      user_id: 'U1',
      user_name: 'ada',
      command,
      text,
      api_app_id: 'AFIRELINE',
      is_enterprise_install: 'false',
      trigger_id: `${Date.now()}.1.abc`,
      ...fields,
    },
    options,
  );
}

/** An interaction (block_actions, view_submission …): one `payload` field holding the JSON, signed. */
export function postInteraction(url: string, payload: Record<string, unknown>, options: SignedPostOptions): Promise<Response> {
  return postSignedForm(url, { payload: JSON.stringify(payload) }, options);
}

/** POSTs a JSON body (Events API deliveries) with `application/json` and v0 signature headers over exactly its bytes. */
export async function postSignedJson(url: string, body: unknown, options: SignedPostOptions): Promise<Response> {
  const text = JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(options.signingSecret, timestamp, text),
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) delete headers[name.toLowerCase()];
    else headers[name.toLowerCase()] = value;
  }
  return fetch(url, { method: 'POST', headers, body: text });
}

/** An Events API delivery (`event_callback`) wrapping `event`, signed. */
export function postEvent(
  url: string,
  event: Record<string, unknown>,
  options: SignedPostOptions & { teamId?: string; eventId?: string },
): Promise<Response> {
  return postSignedJson(
    url,
    {
      token: 'legacy',
      team_id: options.teamId ?? 'T1',
      api_app_id: 'AFIRELINE',
      event: { event_ts: `${Math.floor(Date.now() / 1000)}.000100`, ...event },
      type: 'event_callback',
      event_id: options.eventId ?? `Ev${Date.now().toString(36).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: options.teamId ?? 'T1', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    },
    options,
  );
}
