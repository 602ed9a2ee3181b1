import { ApplicationFailure } from '@temporalio/common';
import type { IncidentInfo } from '../src/domain/incident';
import type { EscalationSnapshot } from '../src/domain/oncall';
import { UnknownPolicyError } from '../src/oncall/escalation';
import { snapshotEscalation } from '../src/oncall/overrides';
import type { OnCallSource } from '../src/oncall/source';
import type { IncidentStore, LeaseStore, OnCallStore, OutboxStore, PageRecord, PagingStore } from '../src/store/store';
import { uncertainFailure } from './channels/errors';
import { DEFAULT_THROTTLE_RULES, throttleDelayMs } from './channels/throttle';
import type { ThrottleKind, ThrottleRules } from './channels/throttle';
import type { ChannelKind, PageChannel } from './channels/types';
import { currentActivityContext } from './shared/activity';
import { drillMark } from '../src/domain/drill';
import { FAILURE } from '../src/domain/failure-types';

export interface PageRequest {
  /** `<incident>:<step>:r<round>:l<level>:<person>:<channel>` — the same for every attempt of this page. */
  key: string;
  incident: IncidentInfo;
  stepId: string;
  round: number;
  level: number;
  personId: string;
  name: string;
  channel: ChannelKind;
  to: string;
  message: string;
}

export interface PageResult {
  /** The channel it went through: the outbox when that channel is not configured. */
  via: ChannelKind | 'outbox';
  /** When this attempt began talking to the provider (ISO): the moment the page went out. */
  startedAt: string;
  providerId: string | null;
  detail: string;
}

export interface PagingDeps {
  store: IncidentStore & LeaseStore & OnCallStore & OutboxStore & PagingStore;
  oncall?: OnCallSource;
  channels?: Partial<Record<ChannelKind, PageChannel>>;
  publicUrl?: string;
  /** Per-contact limits (GoAlert's by default); throttled pages are delayed, never dropped. */
  throttle?: Partial<Record<ThrottleKind, ThrottleRules>>;
  now?: () => Date;
}

const THROTTLE_LOOKBACK_MS = 3 * 3_600_000;
/** Long enough for a throttle check and one write; a worker that dies holding it blocks the contact no longer. */
const CONTACT_LEASE_MS = 15_000;

/** While a send runs the activity heartbeats, so a dead worker's attempt is retried in seconds, not minutes. */
const HEARTBEAT_MS = 3000;

function heartbeat(): void {
  currentActivityContext()?.heartbeat();
}

function earlierAttempt(pages: PageRecord[], key: string): boolean {
  return pages.some((p) => p.key === key && p.status === 'sending');
}

function attemptOf(): number {
  return currentActivityContext()?.info.attempt ?? 1;
}

/** Escalation: pin the policy when a page step starts, and deliver one page to one contact. */
export function createPagingActivities(deps: PagingDeps) {
  const now = deps.now ?? (() => new Date());
  const publicUrl = (deps.publicUrl ?? 'http://localhost:3000').replace(/\/$/, '');

  async function record(
    req: PageRequest,
    via: PageRecord['channel'],
    status: PageRecord['status'],
    error: string | null,
    providerId: string | null,
  ) {
    await deps.store.recordPage({
      key: req.key,
      incidentId: req.incident.id,
      stepId: req.stepId,
      round: req.round,
      level: req.level,
      personId: req.personId,
      channel: via,
      recipient: req.to,
      status,
      attempts: attemptOf(),
      error,
      providerId,
      updatedAt: now().toISOString(),
    });
  }

  return {
    async resolveEscalation(req: { policyId: string; at: string }): Promise<EscalationSnapshot> {
      if (!deps.oncall)
        throw ApplicationFailure.nonRetryable(`no on-call configuration: cannot page policy "${req.policyId}"`, FAILURE.unknownPolicy);
      try {
        return await snapshotEscalation({ store: deps.store, config: deps.oncall.current() }, req.policyId, new Date(req.at));
      } catch (err) {
        if (err instanceof UnknownPolicyError) throw ApplicationFailure.nonRetryable(err.message, FAILURE.unknownPolicy);
        throw err;
      }
    },

    async sendPage(req: PageRequest): Promise<PageResult> {
      const channel = deps.channels?.[req.channel];
      const subject = `${drillMark(req.incident.drill)}[${req.incident.severity}] ${req.incident.id}: ${req.incident.title}`;
      const incidentUrl = `${publicUrl}/incidents/${encodeURIComponent(req.incident.id)}`;
      if (!channel) {
        const startedAt = now().toISOString();
        // Not configured here: the page is still visible, in the outbox the web page shows.
        await deps.store.enqueueOutbox({
          id: req.key,
          incidentId: req.incident.id,
          channel: req.channel,
          to: req.to,
          subject,
          body: `${drillMark(req.incident.drill)}${req.message}\n${incidentUrl}`,
          drill: req.incident.drill,
          createdAt: now().toISOString(),
        });
        await record(req, 'outbox', 'sent', null, req.key);
        return { via: 'outbox', startedAt, providerId: req.key, detail: `${req.channel} is not configured; in the outbox` };
      }
      // A crash after the provider accepted but before Temporal heard of it: email cannot dedupe, so look first.
      const earlier = (await deps.store.listPages(req.incident.id)).find((p) => p.key === req.key && p.status === 'sent');
      if (earlier)
        return {
          via: req.channel,
          startedAt: earlier.updatedAt,
          providerId: earlier.providerId,
          detail: 'already delivered by an earlier attempt',
        };
      // Last look before anything goes out: once an acknowledgement is recorded, no page starts.
      const incident = await deps.store.getIncident(req.incident.id);
      if (incident?.acknowledgedAt || incident?.resolvedAt) {
        await record(req, req.channel, 'withdrawn', 'acknowledged before it went out', null);
        throw ApplicationFailure.nonRetryable('acknowledged before this page went out', FAILURE.pageWithdrawn);
      }
      // Email cannot be deduplicated by the receiver: an attempt that died mid-send (a crashed worker) leaves
      // the `sending` mark, and the retry then counts the page as uncertain and moves on rather than risk a second one.
      if (req.channel === 'email' && earlierAttempt(await deps.store.listPages(req.incident.id), req.key)) {
        const why = 'an earlier attempt died while sending; not sent again (it may have arrived)';
        await record(req, req.channel, 'failed', why, null);
        throw uncertainFailure('email', why);
      }
      // The throttle decision and the `sending` mark it counts are one step per contact across all workers: two
      // pages to one person from two replicas at once must not both see a free slot.
      const contactLease = `page-contact:${req.channel}:${req.to}`;
      const leaseAt = now();
      if (
        !(await deps.store.claimLease(
          contactLease,
          req.key,
          leaseAt.toISOString(),
          new Date(leaseAt.getTime() + CONTACT_LEASE_MS).toISOString(),
        ))
      ) {
        throw ApplicationFailure.retryable('another worker is paging this contact at this moment', FAILURE.contactBusy);
      }
      try {
        const rules = deps.throttle?.[req.channel] ?? DEFAULT_THROTTLE_RULES[req.channel];
        const since = new Date(now().getTime() - THROTTLE_LOOKBACK_MS).toISOString();
        const delay = throttleDelayMs(await deps.store.recentPages(req.channel, req.to, since, req.key), now(), rules);
        if (delay > 0) {
          await record(req, req.channel, 'throttled', `throttled for ${Math.ceil(delay / 1000)} s`, null);
          throw ApplicationFailure.create({
            message: `${req.channel} to this contact is throttled`,
            type: FAILURE.throttled,
            nextRetryDelay: delay,
          });
        }
        await record(req, req.channel, 'sending', null, null);
      } finally {
        await deps.store.releaseLease(contactLease, req.key);
      }
      const startedAt = now().toISOString();
      const beat = setInterval(heartbeat, HEARTBEAT_MS);
      try {
        const delivery = await channel.send({
          idempotencyKey: req.key,
          to: req.to,
          subject,
          text: req.message,
          incidentUrl,
          drill: req.incident.drill,
        });
        await record(req, req.channel, 'sent', null, delivery.providerId);
        return { via: req.channel, startedAt, providerId: delivery.providerId, detail: delivery.detail };
      } catch (err) {
        // Recorded on every failed attempt; a later successful retry overwrites it with `sent`.
        await record(req, req.channel, 'failed', (err as Error).message.slice(0, 500), null);
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
