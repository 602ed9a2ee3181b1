import type { Role } from '../../domain/roles';

/** On-call overrides made through the API (schedules themselves are config). */
export interface OnCallStore {
  insertOnCallOverride(override: OnCallOverrideRecord): Promise<void>;
  /** Oldest first (the order in which later overrides win); `endsAfter` keeps those ending after it. */
  listOnCallOverrides(filter: { scheduleId?: string; endsAfter?: string; limit: number }): Promise<OnCallOverrideRecord[]>;
  /** Deletes the override if it belongs to the schedule; returns the deleted row. */
  deleteOnCallOverride(scheduleId: string, id: string): Promise<OnCallOverrideRecord | undefined>;
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
