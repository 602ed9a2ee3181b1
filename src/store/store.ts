import type { AlertStore } from './aggregates/alerts';
import type { AuditStore } from './aggregates/audit';
import type { AuthStore } from './aggregates/auth';
import type { AuthThrottleStore } from './aggregates/auth-throttle';
import type { IdempotencyStore } from './aggregates/idempotency';
import type { LeaseStore } from './aggregates/leases';
import type { IncidentStore } from './aggregates/incidents';
import type { MetricsStore } from './aggregates/metrics';
import type { OidcStore } from './aggregates/oidc';
import type { OnCallStore } from './aggregates/oncall';
import type { OutboxStore } from './aggregates/outbox';
import type { PagingStore } from './aggregates/paging';
import type { PostmortemStore } from './aggregates/postmortems';
import type { SilenceStore } from './aggregates/silences';
import type { SlackStore } from './aggregates/slack';
import type { TimelineStore } from './aggregates/timeline';

export type { AlertRecord, AlertStore, InboxRow } from './aggregates/alerts';
export type { AuditEntry, AuditStore } from './aggregates/audit';
export type { AuditFilter, AuditRecord } from './aggregates/audit';
export type { AuthStore, SessionRecord, TokenRecord } from './aggregates/auth';
export type { AuthThrottleStore } from './aggregates/auth-throttle';
export type { IdempotencyStore } from './aggregates/idempotency';
export type { LeaseStore } from './aggregates/leases';
export type { IncidentFilter, IncidentStore, Page } from './aggregates/incidents';
export type { IncidentMetricsPoint, IncidentMetricsRecord, IncidentMilestones, MetricsStore } from './aggregates/metrics';
export type { OidcLoginRecord, OidcSessionRecord, OidcStore } from './aggregates/oidc';
export type { OnCallOverrideRecord, OnCallStore } from './aggregates/oncall';
export type { OutboxMessage, OutboxStore } from './aggregates/outbox';
export type { PageRecord, PagingStore } from './aggregates/paging';
export type {
  ActionItemListing,
  ActionItemRecord,
  ActionItemStatus,
  EditablePostmortem,
  PostmortemChange,
  PostmortemRecord,
  PostmortemStore,
} from './aggregates/postmortems';
export type { SilenceMatcher, SilenceRecord, SilenceStore } from './aggregates/silences';
export type { SlackIncidentRecord, SlackStore, SlackSyncCandidate } from './aggregates/slack';
export type { TimelineStore } from './aggregates/timeline';

/** Opening, health and schema of a read model, whichever engine it is on. */
export interface StoreLifecycle {
  /** Applies the migrations not applied yet; safe to run from several processes at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The read model. Workflows write it through activities (idempotently, by deterministic ids); the API and
 * the web page read it, so pages never query Temporal. It is one interface per aggregate (src/store/aggregates/),
 * and each consumer takes only the ones it uses; `Store` is all of them, for the entry points that wire them.
 * SQLite (src/store/sqlite/) is the embedded default; PostgreSQL (src/store/postgres/) the scaled shape.
 */
export type Store = StoreLifecycle &
  IncidentStore &
  TimelineStore &
  OutboxStore &
  IdempotencyStore &
  AlertStore &
  PagingStore &
  AuthStore &
  OidcStore &
  AuthThrottleStore &
  PostmortemStore &
  AuditStore &
  OnCallStore &
  SilenceStore &
  MetricsStore &
  SlackStore &
  LeaseStore;
