import type { EscalationSnapshot, OnCallConfig, OverridesBySchedule, ScheduleOverride } from '../domain/oncall';
import type { OnCallOverrideRecord, OnCallStore } from '../store/store';
import { resolveEscalation } from './escalation';

/** More than any schedule needs; a bound so a runaway script cannot make every request read a million rows. */
const MAX_STORED_OVERRIDES = 10_000;

export function toScheduleOverride(record: OnCallOverrideRecord): ScheduleOverride {
  return { id: record.id, person: record.personId, from: record.from, to: record.to };
}

/** API overrides ending after `since`, by schedule, oldest first (later ones win). */
export async function storedOverrides(
  store: Pick<OnCallStore, 'listOnCallOverrides'>,
  since: Date,
  scheduleId?: string,
): Promise<OverridesBySchedule> {
  const records = await store.listOnCallOverrides({ scheduleId, endsAfter: since.toISOString(), limit: MAX_STORED_OVERRIDES });
  const out: Record<string, ScheduleOverride[]> = {};
  for (const record of records) (out[record.scheduleId] ??= []).push(toScheduleOverride(record));
  return out;
}

/**
 * What a page step pins when it starts: the policy resolved at `at` against the current config and the
 * overrides made through the API. Throws UnknownPolicyError for a policy the config does not have.
 */
export async function snapshotEscalation(
  deps: { store: Pick<OnCallStore, 'listOnCallOverrides'>; config: OnCallConfig },
  policyId: string,
  at: Date,
): Promise<EscalationSnapshot> {
  return resolveEscalation(policyId, deps.config, at, await storedOverrides(deps.store, at));
}
