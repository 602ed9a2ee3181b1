import { randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR } from '../domain/roles';
import type { OnCallConfig } from '../domain/oncall';
import type { Logger } from '../logger';
import { createAuditLog } from '../services/audit';
import type { AuditStore } from '../store/aggregates/audit';

interface IdChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

function changesById<T extends { id: string }>(before: readonly T[], after: readonly T[]): IdChanges {
  const old = new Map(before.map((x) => [x.id, JSON.stringify(x)]));
  const now = new Map(after.map((x) => [x.id, JSON.stringify(x)]));
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
    changed: [...now.keys()].filter((id) => old.has(id) && old.get(id) !== now.get(id)),
  };
}

/** What a reload of config/oncall.yaml changed, by id: people, schedules, escalation policies (ids only, no contacts). */
export function onCallChanges(previous: OnCallConfig, current: OnCallConfig) {
  return {
    people: changesById(previous.people, current.people),
    schedules: changesById(previous.schedules, current.schedules),
    escalationPolicies: changesById(previous.escalationPolicies, current.escalationPolicies),
  };
}

/**
 * The reload hook of config/oncall.yaml for an API process: one `config.reload` entry per change it picks up, by
 * Fireline itself (the file's editor is not known here). Each API replica reloads, and records, on its own.
 */
export function auditOnCallReload(deps: { store: Pick<AuditStore, 'recordAudit'>; logger: Logger; now?: () => Date }) {
  const audit = createAuditLog(deps);
  return (previous: OnCallConfig, current: OnCallConfig): void => {
    const ctx = { actor: SYSTEM_ACTOR, requestId: randomUUID(), source: 'api' as const, method: 'reload', path: 'config/oncall.yaml' };
    audit
      .record(ctx, { action: 'config.reload', details: { file: 'config/oncall.yaml', ...onCallChanges(previous, current) } })
      .catch((err: unknown) => deps.logger.error({ err }, 'could not audit the reload of config/oncall.yaml'));
  };
}
