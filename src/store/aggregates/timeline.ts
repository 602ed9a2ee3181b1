import type { TimelineEvent, TimelineEventType } from '../../domain/timeline';

/** Each incident's timeline, written by id from the workflow, read by the API and the live stream. */
export interface TimelineStore {
  /**
   * Writes events by id: new ids are inserted, an id written again with different content is overwritten (the
   * retry of a rejected workflow task is the truth), an identical repeat changes nothing. Returns rows changed.
   */
  appendTimeline(events: TimelineEvent[]): Promise<number>;
  /** Drops events numbered after `lastSeq`: left by a rejected workflow task whose retry emitted fewer. */
  trimTimeline(incidentId: string, lastSeq: number): Promise<void>;
  listTimeline(incidentId: string, page: { afterSeq?: number; limit: number }): Promise<TimelineEvent[]>;
  /** The incident row's `updatedAt` and its last timeline seq (0 when none); cheap enough to poll each second. */
  timelineHead(incidentId: string): Promise<{ updatedAt: string; maxSeq: number } | undefined>;
  /** The incident's events of these types, oldest first. */
  listTimelineByType(incidentId: string, types: readonly TimelineEventType[]): Promise<TimelineEvent[]>;
}
