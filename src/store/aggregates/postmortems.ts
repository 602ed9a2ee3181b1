import type { IncidentStatus } from '../../domain/incident';
import type { Severity } from '../../domain/severity';
import type { Page } from './incidents';

/** Post-mortems and their action items. */
export interface PostmortemStore {
  /** Inserts the draft unless the incident already has a post-mortem; returns whether it was new. */
  insertPostmortem(postmortem: PostmortemRecord): Promise<boolean>;
  getPostmortem(incidentId: string): Promise<PostmortemRecord | undefined>;
  getEditablePostmortem(incidentId: string): Promise<EditablePostmortem | undefined>;
  /**
   * Replaces body, status and the whole action item list in one transaction if the stored version is still
   * `expectedVersion`; answers the new version, or the current one when someone saved in between.
   */
  savePostmortem(change: PostmortemChange): Promise<{ saved: true; version: number } | { saved: false; currentVersion: number | null }>;
  /** Action items across incidents, soonest due first (undated last); keyset-paged. */
  listActionItems(filter: { status?: ActionItemStatus; cursor?: string; limit: number }): Promise<Page<ActionItemListing>>;
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
