import { CHANNEL_ADDRESS } from '../domain/oncall';
import type {
  EscalationPolicy,
  EscalationSnapshot,
  EscalationTarget,
  OnCallConfig,
  OverridesBySchedule,
  Person,
  SnapshotContact,
  SnapshotTarget,
} from '../domain/oncall';
import { whoIsOnCall } from './schedule';

export class UnknownPolicyError extends Error {
  constructor(readonly policyId: string) {
    super(`no escalation policy "${policyId}" in config/oncall.yaml`);
    this.name = 'UnknownPolicyError';
  }
}

/** The person's contact rules as concrete addresses; a rule whose address is missing is skipped. */
export function contactsOf(person: Person): SnapshotContact[] {
  return person.contact
    .flatMap((rule) => {
      const to = person[CHANNEL_ADDRESS[rule.channel]];
      return to === undefined ? [] : [{ channel: rule.channel, to, delayMs: rule.delay }];
    })
    .sort((a, b) => a.delayMs - b.delayMs);
}

function targetOf(person: Person, scheduleId: string | null): SnapshotTarget {
  return { personId: person.id, name: person.name, contacts: contactsOf(person), scheduleId };
}

function describe(target: EscalationTarget): string {
  return 'person' in target ? `person "${target.person}"` : `schedule "${target.schedule}"`;
}

/**
 * The policy made concrete at one instant: each level's people (schedules read at `at`, API overrides
 * included) with their contact addresses and delays. This is what a page step pins when it starts, so a
 * config edit or a hand-off during the escalation changes nothing for that incident. Plain JSON.
 *
 * Semantics the workflow follows: page level 1; after its `delayMs` without an acknowledgement page the next
 * level; after the last level's delay start again at level 1, `repeat` more times; then page the fallback.
 * A level that resolved to nobody (see `warnings`) is skipped at once.
 */
export function resolveEscalation(
  policy: EscalationPolicy | string,
  config: OnCallConfig,
  at: Date,
  overrides: OverridesBySchedule = {},
): EscalationSnapshot {
  const found = typeof policy === 'string' ? config.escalationPolicies.find((p) => p.id === policy) : policy;
  if (!found) throw new UnknownPolicyError(String(policy));
  const people = new Map(config.people.map((p) => [p.id, p]));
  const warnings: string[] = [];

  const resolve = (target: EscalationTarget, where: string): SnapshotTarget[] => {
    if ('person' in target) {
      const person = people.get(target.person);
      if (!person) warnings.push(`${where}: ${describe(target)} is not in config/oncall.yaml`);
      return person ? [targetOf(person, null)] : [];
    }
    const schedule = config.schedules.find((s) => s.id === target.schedule);
    if (!schedule) {
      warnings.push(`${where}: ${describe(target)} is not in config/oncall.yaml`);
      return [];
    }
    const onCall = whoIsOnCall(schedule, config.people, at, overrides[schedule.id] ?? []);
    if (onCall.length === 0) warnings.push(`${where}: nobody is on call in ${describe(target)}`);
    return onCall.map((p) => targetOf(p, schedule.id));
  };

  const levels = found.levels.map((level, i) => {
    const seen = new Set<string>();
    // Someone named twice in a level (directly and through a schedule) is paged once.
    const targets = level.targets
      .flatMap((t) => resolve(t, `level ${i + 1}`))
      .filter((t) => (seen.has(t.personId) ? false : (seen.add(t.personId), true)));
    return { delayMs: level.delay, targets };
  });

  const fallbackTargets = found.fallback ? resolve(found.fallback, 'fallback') : [];
  return {
    policyId: found.id,
    levels,
    repeat: found.repeat,
    fallback: fallbackTargets[0] ?? null,
    resolvedAt: at.toISOString(),
    warnings,
  };
}
