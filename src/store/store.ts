import type { IncidentPatch, IncidentRecord, IncidentStatus } from '../domain/incident';
import type { Role } from '../domain/roles';
import type { Severity } from '../domain/severity';
import type { TimelineEvent, TimelineEventType } from '../domain/timeline';

/**
 * The read model. Workflows write it through activities (idempotently, by deterministic ids); the API and
 * the web page read it, so pages never query Temporal. SQLite is the default; PostgreSQL implements the same
 * interface for the scaled shape.
 */
export interface Store {
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Next number of the `INC-<n>` sequence; atomic across processes. */
  allocateIncidentNumber(): Promise<number>;
  insertIncident(incident: IncidentRecord): Promise<void>;
  /** Applies a patch; a patch older than the stored row's `updatedAt` is ignored (retries arrive late). */
  updateIncident(id: string, patch: IncidentPatch, at: string): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /** Only to take back a row whose workflow could not be started. */
  deleteIncident(id: string): Promise<void>;
  listIncidents(filter: IncidentFilter): Promise<Page<IncidentRecord>>;

  /**
   * Writes events by id: new ids are inserted, an id written again with different content is overwritten (the
   * retry of a rejected workflow task is the truth), an identical repeat changes nothing. Returns rows changed.
   */
  appendTimeline(events: TimelineEvent[]): Promise<number>;
  /** Drops events numbered after `lastSeq`: left by a rejected workflow task whose retry emitted fewer. */
  trimTimeline(incidentId: string, lastSeq: number): Promise<void>;
  listTimeline(incidentId: string, page: { afterSeq?: number; limit: number }): Promise<TimelineEvent[]>;

  /** Inserts a message unless one with the same id exists; returns whether it was new. */
  enqueueOutbox(message: OutboxMessage): Promise<boolean>;
  listOutbox(filter: { incidentId?: string; limit: number }): Promise<OutboxMessage[]>;

  /**
   * Records `value` under (scope, key) unless something is there already; returns the value that was there
   * first (undefined when this call claimed the key). Atomic, so two racing requests agree on one winner.
   */
  claimIdempotencyKey(scope: string, key: string, value: string, at: string): Promise<string | undefined>;
  /** Frees a key whose request failed, so a retry of it starts afresh. */
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;

  /** The incident an alert group currently feeds, if any. */
  getAlertGroup(integration: string, groupKey: string): Promise<{ incidentId: string; updatedAt: string } | undefined>;
  /**
   * Points the group at `incidentId` only if it still points at `expected` (undefined = no row yet); returns
   * whether it did. Two processes racing on a new group agree on one incident.
   */
  swapAlertGroup(integration: string, groupKey: string, expected: string | undefined, incidentId: string, at: string): Promise<boolean>;
  /** Forgets the group's incident if it is still `incidentId` (its workflow could not be started). */
  deleteAlertGroup(integration: string, groupKey: string, incidentId: string): Promise<void>;
  /** Accepts alerts into the inbox in one transaction (durable once this resolves). */
  enqueueAlerts(rows: { incidentId: string; alert: unknown; receivedAt: string }[]): Promise<void>;
  /** Inbox rows not yet forwarded, oldest first. */
  pendingAlerts(incidentId: string, limit: number): Promise<{ id: number; alert: unknown; receivedAt: string }[]>;
  /** Incidents with alerts waiting in the inbox (to resume forwarding after a restart). */
  incidentsWithPendingAlerts(): Promise<string[]>;
  markAlertsForwarded(ids: number[], at: string): Promise<void>;
  /** The start arguments of an incident opened by alerts, kept until its workflow exists. */
  saveIncidentStart(incidentId: string, args: unknown): Promise<void>;
  getIncidentStart(incidentId: string): Promise<{ args: unknown; startedAt: string | null } | undefined>;
  markIncidentStarted(incidentId: string, at: string): Promise<void>;
  /** Upserts the last known state of each alert episode; an older write never overwrites a newer one. */
  upsertAlerts(alerts: AlertRecord[]): Promise<void>;
  listAlerts(incidentId: string): Promise<AlertRecord[]>;

  /** Records a page attempt's outcome; the key is the page's idempotency key, so a retry updates its row. */
  recordPage(page: PageRecord): Promise<void>;
  listPages(incidentId: string): Promise<PageRecord[]>;
  /** When pages to this recipient were sent since `since` (for per-contact throttling). */
  recentPages(channel: string, recipient: string, since: string): Promise<string[]>;

  insertToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  countTokens(): Promise<number>;

  /** Inserts the draft unless the incident already has a post-mortem; returns whether it was new. */
  insertPostmortem(postmortem: PostmortemRecord): Promise<boolean>;
  getPostmortem(incidentId: string): Promise<PostmortemRecord | undefined>;

  recordAudit(entry: AuditEntry): Promise<void>;
  listAudit(filter: { incidentId?: string; limit: number }): Promise<AuditEntry[]>;

  insertOnCallOverride(override: OnCallOverrideRecord): Promise<void>;
  /** Oldest first (the order in which later overrides win); `endsAfter` keeps those ending after it. */
  listOnCallOverrides(filter: { scheduleId?: string; endsAfter?: string; limit: number }): Promise<OnCallOverrideRecord[]>;
  /** Deletes the override if it belongs to the schedule; returns the deleted row. */
  deleteOnCallOverride(scheduleId: string, id: string): Promise<OnCallOverrideRecord | undefined>;

  insertSilence(silence: SilenceRecord): Promise<void>;
  getSilence(id: string): Promise<SilenceRecord | undefined>;
  /**
   * Silences, latest end first. With `activeAt` only those in force then (startsAt ≤ at < endsAt); `limit`
   * defaults to 1000.
   */
  listSilences(filter: { activeAt?: string; limit?: number }): Promise<SilenceRecord[]>;
  /**
   * Ends a silence at `at` (a pending one starts and ends there), keeping it for the record; answers the
   * updated silence, or undefined when there is none with this id. Expiring an expired silence changes nothing.
   */
  expireSilence(id: string, at: string): Promise<SilenceRecord | undefined>;

  // The managers' page: live heads, search, metrics, post-mortem editing and sessions (migration 7).

  /** The incident row's `updatedAt` and its last timeline seq (0 when none); cheap enough to poll each second. */
  timelineHead(incidentId: string): Promise<{ updatedAt: string; maxSeq: number } | undefined>;
  /** The latest `updatedAt` of any incident, null when there are none: when it moves, lists may have changed. */
  incidentsHead(): Promise<string | null>;
  /** `listIncidents` narrowed to titles containing `titleContains` (case-insensitive for ASCII letters). */
  searchIncidents(filter: IncidentFilter & { titleContains?: string }): Promise<Page<IncidentRecord>>;
  /** The incident's events of these types, oldest first. */
  listTimelineByType(incidentId: string, types: readonly TimelineEventType[]): Promise<TimelineEvent[]>;

  /**
   * Incidents whose metrics row is missing or out of date: not final, and the incident row or its timeline
   * moved on since it was computed. `maxSeq` is the timeline's last seq now.
   */
  listStaleIncidentMetrics(limit: number): Promise<{ incident: IncidentRecord; maxSeq: number }[]>;
  upsertIncidentMetrics(rows: IncidentMetricsRecord[]): Promise<void>;
  getIncidentMetrics(incidentId: string): Promise<IncidentMetricsRecord | undefined>;
  /** Metrics of the incidents declared in [from, to), oldest first. */
  listIncidentMetrics(range: { from: string; to: string }): Promise<IncidentMetricsPoint[]>;

  getEditablePostmortem(incidentId: string): Promise<EditablePostmortem | undefined>;
  /**
   * Replaces body, status and the whole action item list in one transaction if the stored version is still
   * `expectedVersion`; answers the new version, or the current one when someone saved in between.
   */
  savePostmortem(change: PostmortemChange): Promise<{ saved: true; version: number } | { saved: false; currentVersion: number | null }>;
  /** Action items across incidents, soonest due first (undated last); keyset-paged. */
  listActionItems(filter: { status?: ActionItemStatus; cursor?: string; limit: number }): Promise<Page<ActionItemListing>>;

  insertSession(session: SessionRecord): Promise<void>;
  /** The session with this id hash if it has not expired at `now`, with the token it was opened with. */
  findSession(idHash: string, now: string): Promise<{ session: SessionRecord; token: TokenRecord } | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Returns how many expired sessions were removed. */
  deleteExpiredSessions(now: string): Promise<number>;

  // Slack (migration 9): each incident's channel and live card, kept by the worker's sync loop.

  getSlackIncident(incidentId: string): Promise<SlackIncidentRecord | undefined>;
  /** The incident whose channel this is, if any. */
  findSlackIncidentByChannel(channelId: string): Promise<SlackIncidentRecord | undefined>;
  /** Inserts or replaces the row. */
  saveSlackIncident(record: SlackIncidentRecord): Promise<void>;
  /**
   * Incidents whose channel or card is behind: open ones without a row, without a card, or whose row or timeline
   * moved since the card was drawn; and closed ones whose card was not drawn final yet. Rows marked final (closed, or
   * the channel is gone) are left alone. Oldest declared first.
   */
  listSlackSyncCandidates(limit: number): Promise<SlackSyncCandidate[]>;
  /** Takes or extends the one sync lease; false while another owner holds an unexpired one. */
  claimSlackSyncLease(owner: string, now: string, until: string): Promise<boolean>;
  releaseSlackSyncLease(owner: string): Promise<void>;
}

export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: Severity;
  service?: string;
  runbook?: string;
  /** Declared at or after (ISO). */
  from?: string;
  /** Declared before (ISO). */
  to?: string;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface OutboxMessage {
  /** Deterministic: `<incidentId>:<stepId>:<attempt-group>`; a retried send finds it already there. */
  id: string;
  incidentId: string;
  channel: 'outbox' | 'slack' | 'email' | 'webhook';
  to: string | null;
  subject: string;
  body: string;
  drill: boolean;
  createdAt: string;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  /** sha256 of the token, hex; the token itself is never stored. */
  hash: string;
  createdAt: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { id: string; name: string; role: Role };
  action: string;
  method: string;
  path: string;
  requestId: string;
  incidentId: string | null;
  details: Record<string, unknown>;
  outcome: 'ok' | 'rejected';
}

export interface PostmortemRecord {
  incidentId: string;
  template: string;
  status: 'draft' | 'in-review' | 'done';
  dueAt: string;
  /** Markdown. */
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface AlertRecord {
  incidentId: string;
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  endsAt: string | null;
  summary: string;
  labels: Record<string, string>;
  source: string;
  /** Deliveries of this episode seen so far. */
  received: number;
  firstSeen: string;
  lastSeen: string;
}

/** An on-call override made through the API; times are ISO-8601 UTC. */
export interface OnCallOverrideRecord {
  id: string;
  scheduleId: string;
  personId: string;
  from: string;
  to: string;
  reason: string | null;
  createdAt: string;
  createdBy: { id: string; name: string; role: Role };
}

/** A label matcher of a silence, as in Alertmanager: equality, inequality, regex and negated regex (anchored). */
export interface SilenceMatcher {
  name: string;
  value: string;
  op: '=' | '!=' | '=~' | '!~';
}

/** A maintenance window: alerts whose labels match every matcher between startsAt and endsAt are silenced. */
export interface SilenceRecord {
  id: string;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: { id: string; name: string };
  createdAt: string;
  updatedAt: string;
}

export interface PageRecord {
  key: string;
  incidentId: string;
  stepId: string;
  round: number;
  level: number;
  personId: string;
  channel: 'email' | 'slack' | 'webhook' | 'outbox';
  recipient: string;
  /** `sending` is set just before an email goes out and replaced by the outcome; left alone, the attempt died. */
  status: 'sending' | 'sent' | 'failed' | 'throttled' | 'withdrawn';
  attempts: number;
  error: string | null;
  providerId: string | null;
  updatedAt: string;
}

/** When an incident's milestones were reached (ISO); see src/services/metrics.ts for how each is found. */
export interface IncidentMilestones {
  impactStartedAt: string;
  detectedAt: string;
  reportedAt: string | null;
  acknowledgedAt: string | null;
  mitigatedAt: string | null;
  resolvedAt: string | null;
}

/** One incident's cached milestones and the durations between them (milliseconds; null until reached). */
export interface IncidentMetricsRecord extends IncidentMilestones {
  incidentId: string;
  /** Copied from the incident when computed, for grouping; a change to the incident recomputes the row. */
  declaredAt: string;
  severity: Severity;
  service: string | null;
  runbookId: string;
  drill: boolean;
  timeToDetectMs: number;
  timeToAcknowledgeMs: number | null;
  timeToMitigateMs: number | null;
  timeToResolveMs: number | null;
  /** Computed from a closed incident: never recomputed. */
  final: boolean;
  /** The incident's `updatedAt` and last timeline seq it was computed from. */
  sourceUpdatedAt: string;
  sourceSeq: number;
  computedAt: string;
}

/** What a summary aggregates: one incident's dimensions and durations. */
export type IncidentMetricsPoint = Pick<
  IncidentMetricsRecord,
  | 'incidentId'
  | 'declaredAt'
  | 'severity'
  | 'service'
  | 'runbookId'
  | 'drill'
  | 'resolvedAt'
  | 'timeToDetectMs'
  | 'timeToAcknowledgeMs'
  | 'timeToMitigateMs'
  | 'timeToResolveMs'
>;

export type ActionItemStatus = 'open' | 'done';

export interface ActionItemRecord {
  id: string;
  incidentId: string;
  /** Order within the post-mortem. */
  position: number;
  title: string;
  owner: string | null;
  /** A calendar day, YYYY-MM-DD. */
  due: string | null;
  status: ActionItemStatus;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface ActionItemListing extends ActionItemRecord {
  incident: { title: string; severity: Severity; status: IncidentStatus };
}

export interface EditablePostmortem {
  postmortem: PostmortemRecord;
  version: number;
  actionItems: ActionItemRecord[];
}

export interface PostmortemChange {
  incidentId: string;
  expectedVersion: number;
  body: string;
  status: PostmortemRecord['status'];
  updatedAt: string;
  actionItems: ActionItemRecord[];
}

/** A signed-in page session; the session id itself is only in the browser's cookie. */
export interface SessionRecord {
  /** sha256 hex of the session id. */
  idHash: string;
  tokenId: string;
  /** The value the page must echo in X-Fireline-CSRF on state-changing requests. */
  csrf: string;
  createdAt: string;
  expiresAt: string;
}

/** An incident's Slack channel and pinned live card. */
export interface SlackIncidentRecord {
  incidentId: string;
  /** Null until the channel exists. */
  channelId: string | null;
  channelName: string;
  /** The card message's ts; null until posted. */
  cardTs: string | null;
  pinned: boolean;
  /** Slack user ids invited so far. */
  invited: string[];
  /** sha256 of the card as last posted or updated. */
  cardHash: string | null;
  /** The incident row's `updatedAt` and the timeline seq the card was drawn from. */
  syncedUpdatedAt: string | null;
  syncedSeq: number;
  /** Last timeline seq whose event was considered for posting into the channel. */
  postedSeq: number;
  /** The incident is closed and its card shows so: nothing more to do. */
  final: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface SlackSyncCandidate {
  incident: IncidentRecord;
  /** The incident's last timeline seq (0 when none). */
  maxSeq: number;
  slack: SlackIncidentRecord | null;
}
