import { createHash } from 'node:crypto';
import { RunbookSchema } from '../../src/domain/runbook';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { IncidentInfo, IncidentRecord } from '../../src/domain/incident';

/** A runbook snapshot from plain data, parsed by the real schema (so durations are text, as authors write them). */
export function snapshotOf(data: unknown): RunbookSnapshot {
  const runbook = RunbookSchema.parse(data);
  const text = JSON.stringify(data);
  return { runbook, version: createHash('sha256').update(text).digest('hex'), source: `${runbook.id}.yaml` };
}

/** A six-phase runbook with a notify in each phase and one decision, with short durations. */
export function sixPhaseRunbook(overrides: { decideTimeout?: string; autoResolve?: boolean } = {}): RunbookSnapshot {
  return snapshotOf({
    id: 'test-six-phases',
    title: 'Six phases',
    owner: 'team-test',
    autoResolve: overrides.autoResolve ?? true,
    phases: {
      detect: [{ id: 'detected', kind: 'notify', message: 'Detected ${incident.title}' }],
      report: [{ id: 'report', kind: 'notify', via: 'slack', to: '#incidents', message: '${incident.id} is ${incident.severity}' }],
      decide: [
        {
          id: 'strategy',
          kind: 'decide',
          prompt: 'Fail over or restore?',
          options: ['failover', 'restore'],
          default: 'failover',
          timeout: overrides.decideTimeout ?? '10m',
        },
      ],
      execute: [
        { id: 'pause', kind: 'wait', duration: '100ms' },
        { id: 'execute-note', kind: 'notify', message: 'Executing ${decision.strategy}' },
      ],
      recover: [{ id: 'recovered', kind: 'notify', message: 'Recovered' }],
      retrospective: [{ id: 'review', kind: 'notify', message: 'Please review ${incident.id}' }],
    },
  });
}

let counter = 0;
export function incidentInfo(overrides: Partial<IncidentInfo> = {}): IncidentInfo {
  counter += 1;
  return {
    id: `INC-${Date.now() % 1_000_000}${counter}`,
    title: 'Checkout failing',
    service: 'checkout',
    severity: 'SEV2',
    summary: null,
    drill: false,
    trigger: { kind: 'manual', by: { id: 'u1', name: 'Ada', role: 'commander' } },
    declaredAt: new Date().toISOString(),
    ...overrides,
  };
}

/** The read-model row a declared incident has before its workflow starts (the service inserts it). */
export function recordOf(info: IncidentInfo, snapshot: RunbookSnapshot): IncidentRecord {
  return {
    ...info,
    runbookId: snapshot.runbook.id,
    runbookVersion: snapshot.version,
    workflowId: `incident/${info.id}`,
    status: 'open',
    phase: 'detect',
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    updatedAt: info.declaredAt,
  };
}
