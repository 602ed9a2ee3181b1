import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncidentRecord } from '../domain/incident';
import type { Logger } from '../logger';
import type { SlackIncidentRecord, SlackStore, SlackSyncCandidate, TimelineStore } from '../store/store';
import { CARD_EVENT_TYPES, deriveCard, responderSlackIds } from './card';
import type { CardPerson } from './card';
import { isAbortError, systemClock } from './clock';
import type { Clock } from './clock';
import { CARD_EVENT_TYPE, ECHOED_EVENT_TYPES, TIMELINE_EVENT_TYPE, cardMessage, channelNameFor, eventMessage } from './format';
import type { SlackGateway } from './gateway';
import { toSlackCallError } from './gateway';
import type { SlackDirectory } from './identity';

export interface SlackSyncOptions {
  store: SlackStore & TimelineStore;
  gateway: SlackGateway;
  directory: SlackDirectory;
  logger: Logger;
  /** FIRELINE_PUBLIC_URL, for the card's "Open in Fireline" link. */
  publicUrl: string;
  /** Rate-limit waits and card pacing run on it (tests pass a virtual clock). */
  clock?: Clock;
  /** Pause between two looks at the read model (default 1 s). */
  intervalMs?: number;
  /** Least time between two writes of one card (default 1 s: Slack allows about one message a second per channel). */
  minCardIntervalMs?: number;
  /** Incidents looked at per pass (default 50). */
  batchSize?: number;
  /** Timeline events echoed into a channel per pass (default 10). */
  echoPerPass?: number;
  /** The bot's own user id (never invited); found with auth.test when absent. */
  botUserId?: string;
  /** How long one holder keeps the sync lease between passes (default 30 s). */
  leaseMs?: number;
}

const CHANNEL_SUFFIXES = ['', '-2', '-3', '-4'];
/** Errors after which the channel cannot be written any more (archived or deleted by someone): stop syncing it. */
const CHANNEL_GONE = new Set(['channel_not_found', 'is_archived', 'not_in_channel']);
const CARD_AND_ECHO_TYPES = [...new Set([...CARD_EVENT_TYPES, ...ECHOED_EVENT_TYPES])];

interface ListedChannel {
  id?: string;
  name?: string;
  is_member?: boolean;
  is_archived?: boolean;
}

/**
 * Keeps each open incident's Slack channel and pinned live card in step with the read model. Runs in the worker
 * process: every `intervalMs` it asks the read model for incidents whose row or timeline moved since their card was
 * drawn (one indexed query), and for each one, in parallel across channels:
 *
 * 1. creates the channel `inc-<n>-<title>` if it has none (on `name_taken`, finds it with conversations.list),
 * 2. invites the commander, whoever acknowledged and everyone paged,
 * 3. posts and pins the card once (looking for an earlier post by its metadata key first), or updates it with
 *    chat.update — at most once per `minCardIntervalMs` per channel,
 * 4. echoes notable timeline events (acknowledged, decisions, notes, resolved …) as channel messages, each once.
 *
 * Channel id, card ts and progress are stored (migration 9) after every step, so a restart or a failed pass picks up
 * where it stopped and never makes a second channel or card. All Slack calls go through the gateway, which waits out
 * 429s per channel and never posts twice.
 */
export class SlackSync {
  private readonly clock: Clock;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** incident id → clock ms of the last card write. */
  private readonly lastCardWrite = new Map<string, number>();
  /** Incidents whose channel history was checked for echoes posted before this process started. */
  private readonly echoesChecked = new Set<string>();
  /** Incidents whose last sync failed: not tried again before `retryAt` (clock ms), backing off up to 5 minutes. */
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private botUserId: string | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: SlackSyncOptions) {
    this.clock = options.clock ?? systemClock;
    this.botUserId = options.botUserId;
  }

  /** Starts the polling loop (until stop()). */
  start(): void {
    if (this.loop) return;
    this.options.logger.info({ intervalMs: this.options.intervalMs ?? 1000 }, 'slack: keeping incident channels and cards in sync');
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.pass(false);
        } catch (error) {
          this.options.logger.warn({ err: (error as Error).message }, 'slack: sync pass failed');
        }
        if (this.stopped) break;
        // Real time, whatever the clock: a virtual clock must not make the loop spin.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.intervalMs ?? 1000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /** Stops the loop; rate-limit waits in progress end at once (their work is retried by the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.options.gateway.stop();
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.options.store.releaseSlackSyncLease(this.owner).catch(() => undefined);
  }

  /** One pass that waits for the work it started (tests drive the sync with it). */
  syncOnce(): Promise<void> {
    return this.pass(true);
  }

  private async pass(wait: boolean): Promise<void> {
    const { store } = this.options;
    const now = this.clock.now();
    const leased = await store.claimSlackSyncLease(
      this.owner,
      new Date(now).toISOString(),
      new Date(now + (this.options.leaseMs ?? 30_000)).toISOString(),
    );
    if (!leased) return;
    const candidates = await store.listSlackSyncCandidates(this.options.batchSize ?? 50);
    const started: Promise<void>[] = [];
    for (const candidate of candidates) {
      const id = candidate.incident.id;
      if (this.inFlight.has(id)) continue;
      const failed = this.failures.get(id);
      if (failed && failed.retryAt > this.clock.now()) continue;
      const work = this.syncIncident(candidate)
        .then(() => {
          this.failures.delete(id);
        })
        .catch((error: unknown) => {
          if (isAbortError(error)) return;
          const count = (this.failures.get(id)?.count ?? 0) + 1;
          const delayMs = Math.min(300_000, 1000 * 2 ** (count - 1));
          this.failures.set(id, { count, retryAt: this.clock.now() + delayMs });
          this.options.logger.warn(
            { incidentId: id, err: (error as Error).message, retryInMs: delayMs },
            'slack: incident sync failed; retrying later',
          );
        })
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, work);
      started.push(work);
    }
    if (wait) await Promise.all(started);
  }

  private async ownUserId(): Promise<string | undefined> {
    if (this.botUserId) return this.botUserId;
    try {
      this.botUserId = (await this.options.gateway.call<{ user_id?: string }>('auth.test', {}, { maxWaitMs: 30_000 })).user_id;
    } catch (error) {
      this.options.logger.warn({ err: toSlackCallError(error, 'auth.test').message }, 'slack: auth.test failed');
    }
    return this.botUserId;
  }

  private async save(row: SlackIncidentRecord): Promise<SlackIncidentRecord> {
    const saved = { ...row, updatedAt: new Date(this.clock.now()).toISOString() };
    await this.options.store.saveSlackIncident(saved);
    return saved;
  }

  private async syncIncident({ incident, maxSeq, slack }: SlackSyncCandidate): Promise<void> {
    const { gateway, store, logger } = this.options;
    const at = new Date(this.clock.now()).toISOString();
    let row: SlackIncidentRecord = slack ?? {
      incidentId: incident.id,
      channelId: null,
      channelName: channelNameFor(incident),
      cardTs: null,
      pinned: false,
      invited: [],
      cardHash: null,
      syncedUpdatedAt: null,
      syncedSeq: 0,
      postedSeq: 0,
      final: false,
      createdAt: at,
      updatedAt: at,
    };
    // Done: the incident closed (or its channel was archived or deleted by someone).
    if (row.final) return;
    // An incident that closed before Slack ever saw it gets no channel.
    if (incident.status === 'closed' && !row.channelId) {
      await this.save({ ...row, final: true });
      return;
    }
    // A channel made just now holds nothing yet: no need to look for earlier posts in it.
    let newChannel = false;
    if (!row.channelId) ({ row, created: newChannel } = await this.ensureChannel(row, incident));
    const channel = row.channelId!;

    try {
      const events = await store.listTimelineByType(incident.id, CARD_AND_ECHO_TYPES);
      const personIds = [
        ...new Set(
          events
            .filter((e) => e.type === 'page.sent')
            .map((e) => e.data.person)
            .filter((p): p is string => typeof p === 'string'),
        ),
      ];
      const people = new Map<string, CardPerson>();
      // A Slack id that could not be looked up now leaves the incident out of step, so a later pass invites them.
      let lookupsPending = false;
      for (const id of personIds) {
        const slackId = await this.options.directory.slackIdOfPerson(id);
        if (slackId === undefined) lookupsPending = true;
        people.set(id, { name: this.options.directory.personById(id)?.name ?? id, slackId: slackId ?? null });
      }
      const model = deriveCard(incident, events, (id) => people.get(id) ?? { name: id, slackId: null });

      row = await this.invite(row, responderSlackIds(model));

      const message = cardMessage(model, this.options.publicUrl);
      const hash = createHash('sha256').update(JSON.stringify(message)).digest('hex');
      const cardKey = { eventType: CARD_EVENT_TYPE, key: incident.id };
      if (!row.cardTs) {
        // No ts stored: a card may still exist (posted just before a crash, or "429 but posted"); look before posting.
        if (!newChannel) gateway.markUncertain(channel, cardKey);
        const posted = await gateway.postOnce(
          channel,
          { text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false },
          cardKey,
        );
        this.lastCardWrite.set(incident.id, this.clock.now());
        row = await this.save({ ...row, cardTs: posted.ts, cardHash: posted.reused ? null : hash });
      }
      if (!row.pinned) {
        await gateway.call('pins.add', { channel, timestamp: row.cardTs }, { channel }).catch((error: unknown) => {
          if (toSlackCallError(error, 'pins.add').slackError !== 'already_pinned') throw error;
        });
        row = await this.save({ ...row, pinned: true });
      }
      let cardBehind = false;
      if (row.cardHash !== hash) {
        const since = this.clock.now() - (this.lastCardWrite.get(incident.id) ?? 0);
        if (since < (this.options.minCardIntervalMs ?? 1000)) {
          cardBehind = true;
        } else {
          try {
            await gateway.call('chat.update', { channel, ts: row.cardTs, text: message.text, blocks: message.blocks }, { channel });
            this.lastCardWrite.set(incident.id, this.clock.now());
            row = await this.save({ ...row, cardHash: hash });
          } catch (error) {
            if (toSlackCallError(error, 'chat.update').slackError !== 'message_not_found') throw error;
            // Someone deleted the card: post a new one on the next pass.
            await this.save({ ...row, cardTs: null, pinned: false, cardHash: null });
            return;
          }
        }
      }

      const echoes = events.filter((e) => e.seq > row.postedSeq && ECHOED_EVENT_TYPES.includes(e.type)).sort((a, b) => a.seq - b.seq);
      const batch = echoes.slice(0, this.options.echoPerPass ?? 10);
      // Progress is stored after each post; after a restart, one that went out just before a crash is found by its key.
      let earlier = new Map<string, string>();
      if (batch.length && !this.echoesChecked.has(incident.id)) {
        if (!newChannel) earlier = await gateway.recentKeys(channel, TIMELINE_EVENT_TYPE);
        this.echoesChecked.add(incident.id);
      }
      for (const event of batch) {
        if (!earlier.has(event.id))
          await gateway.postOnce(
            channel,
            { ...eventMessage(event), unfurl_links: false, unfurl_media: false },
            { eventType: TIMELINE_EVENT_TYPE, key: event.id },
          );
        row = await this.save({ ...row, postedSeq: event.seq });
      }

      if (!cardBehind && !lookupsPending && echoes.length === batch.length) {
        await this.save({ ...row, syncedUpdatedAt: incident.updatedAt, syncedSeq: maxSeq, final: incident.status === 'closed' });
        if (incident.status === 'closed') {
          this.lastCardWrite.delete(incident.id);
          this.echoesChecked.delete(incident.id);
        }
      }
    } catch (error) {
      const failure = toSlackCallError(error, 'slack');
      if (failure.slackError && CHANNEL_GONE.has(failure.slackError)) {
        logger.warn(
          { incidentId: incident.id, channel, error: failure.slackError },
          'slack: the incident channel is gone or archived; no longer updating it',
        );
        await this.save({ ...row, final: true });
        return;
      }
      throw error;
    }
  }

  private async ensureChannel(row: SlackIncidentRecord, incident: IncidentRecord): Promise<{ row: SlackIncidentRecord; created: boolean }> {
    const { gateway, logger } = this.options;
    for (const suffix of CHANNEL_SUFFIXES) {
      const name = channelNameFor(incident, suffix);
      try {
        const created = await gateway.call<{ channel?: { id?: string } }>('conversations.create', { name, is_private: false });
        if (!created.channel?.id) throw new Error('conversations.create answered without a channel id');
        logger.info({ incidentId: incident.id, channel: created.channel.id, name }, 'slack: incident channel created');
        return { row: await this.save({ ...row, channelId: created.channel.id, channelName: name }), created: true };
      } catch (error) {
        if (toSlackCallError(error, 'conversations.create').slackError !== 'name_taken') throw error;
      }
      // Taken: most likely by this incident itself (created just before a crash, or a retried create).
      const existing = await this.channelNamed(name);
      if (!existing?.id) continue;
      if (existing.is_archived) {
        const revived = await gateway.call('conversations.unarchive', { channel: existing.id }, { channel: existing.id }).then(
          () => true,
          () => false,
        );
        if (!revived) continue;
      }
      if (existing.is_member === false) await gateway.call('conversations.join', { channel: existing.id }, { channel: existing.id });
      logger.info({ incidentId: incident.id, channel: existing.id, name }, 'slack: incident channel existed already; using it');
      return { row: await this.save({ ...row, channelId: existing.id, channelName: name }), created: false };
    }
    throw new Error(
      `no free channel name for ${incident.id} (tried ${CHANNEL_SUFFIXES.map((s) => channelNameFor(incident, s)).join(', ')})`,
    );
  }

  private async channelNamed(name: string): Promise<ListedChannel | undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.options.gateway.call<{ channels?: ListedChannel[]; response_metadata?: { next_cursor?: string } }>(
        'conversations.list',
        {
          types: 'public_channel,private_channel',
          exclude_archived: false,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        },
      );
      const found = page.channels?.find((c) => c.name === name);
      if (found) return found;
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return undefined;
  }

  private async invite(row: SlackIncidentRecord, wanted: string[]): Promise<SlackIncidentRecord> {
    const self = await this.ownUserId();
    const missing = wanted.filter((id) => id !== self && !row.invited.includes(id));
    if (missing.length === 0) return row;
    const channel = row.channelId!;
    const { gateway, logger } = this.options;
    try {
      await gateway.call('conversations.invite', { channel, users: missing.join(',') }, { channel });
    } catch (error) {
      const code = toSlackCallError(error, 'conversations.invite').slackError;
      if (code && CHANNEL_GONE.has(code)) throw error;
      if (code !== 'already_in_channel') {
        // One bad user fails the whole call: invite the rest one by one.
        for (const user of missing) {
          await gateway.call('conversations.invite', { channel, users: user }, { channel }).catch((e: unknown) => {
            const why = toSlackCallError(e, 'conversations.invite').slackError;
            if (why !== 'already_in_channel') logger.warn({ channel, user, error: why }, 'slack: could not invite a responder');
          });
        }
      }
    }
    return this.save({ ...row, invited: [...row.invited, ...missing] });
  }
}
