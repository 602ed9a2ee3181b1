// Records for the store contract suite: complete, typed rows at known minutes, so each test states only what differs.
import type { IncidentRecord } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import type { AuditEntry, IncidentMetricsRecord, OutboxMessage } from '../../src/store/store';

export const ALICE: Actor = { id: 'U1', name: 'Alice', role: 'commander' };
const BASE = Date.parse('2025-03-01T00:00:00.000Z');

export function minutes(n: number): string {
  return new Date(BASE + n * 60_000).toISOString();
}

export function incident(n: number, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id: `INC-${n}`,
    title: `Checkout errors ${n}`,
    service: 'checkout',
    severity: 'SEV2',
    summary: null,
    drill: false,
    trigger: { kind: 'manual', by: ALICE },
    declaredAt: minutes(n),
    runbookId: 'checkout-down',
    runbookVersion: 'abc123',
    workflowId: `incident-INC-${n}`,
    status: 'open',
    phase: 'detect',
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    updatedAt: minutes(n),
    ...overrides,
  };
}

export function event(incidentId: string, seq: number, overrides: Partial<TimelineEvent> = {}): TimelineEvent {
  return {
    id: `${incidentId}:${seq}`,
    incidentId,
    seq,
    at: minutes(seq),
    type: 'step.succeeded',
    phase: 'execute',
    actor: ALICE,
    summary: `step ${seq}`,
    data: { step: `s${seq}`, nested: { ok: true, n: seq, none: null, list: [1, 'two', false] } },
    ...overrides,
  };
}

export function message(id: string, incidentId: string, at: number): OutboxMessage {
  return {
    id,
    incidentId,
    channel: 'outbox',
    to: null,
    subject: `page ${id}`,
    body: 'Checkout is down',
    drill: true,
    createdAt: minutes(at),
  };
}

export function audit(id: string, incidentId: string | null, at: number): AuditEntry {
  return {
    id,
    at: minutes(at),
    actor: ALICE,
    action: 'incident.declare',
    method: 'POST',
    path: '/api/v1/incidents',
    requestId: `req-${id}`,
    incidentId,
    details: { runbook: 'checkout-down', tags: ['a', 'b'], nested: { n: 1, none: null } },
    outcome: 'ok',
  };
}

export function metrics(of: IncidentRecord, overrides: Partial<IncidentMetricsRecord> = {}): IncidentMetricsRecord {
  return {
    incidentId: of.id,
    declaredAt: of.declaredAt,
    severity: of.severity,
    service: of.service,
    runbookId: of.runbookId,
    drill: of.drill,
    impactStartedAt: of.declaredAt,
    detectedAt: of.declaredAt,
    reportedAt: null,
    acknowledgedAt: null,
    mitigatedAt: null,
    resolvedAt: null,
    timeToDetectMs: 0,
    timeToAcknowledgeMs: null,
    timeToMitigateMs: null,
    timeToResolveMs: null,
    final: false,
    sourceUpdatedAt: of.updatedAt,
    sourceSeq: 0,
    computedAt: of.updatedAt,
    ...overrides,
  };
}
