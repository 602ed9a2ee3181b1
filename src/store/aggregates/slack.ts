import type { IncidentRecord } from '../../domain/incident';

/** Each incident's Slack channel and live card, kept by the worker's sync loop, and the sync lease. */
export interface SlackStore {
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
