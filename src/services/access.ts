import { roleAtLeast } from '../domain/roles';
import type { Role } from '../domain/roles';

/**
 * The least role each use case needs (viewer < responder < commander < admin), for the HTTP API and Slack alike.
 * Decisions pass this gate at responder; the workflow's validator then holds them to the step's `approver`.
 */
export const PERMISSIONS = {
  'incident.read': 'viewer',
  'incident.declare': 'commander',
  'incident.acknowledge': 'responder',
  'incident.escalate': 'responder',
  'incident.note': 'responder',
  'incident.decide': 'responder',
  'incident.task.complete': 'responder',
  'incident.event': 'responder',
  'incident.resolve': 'commander',
  'incident.severity': 'commander',
  'postmortem.read': 'viewer',
  'postmortem.edit': 'commander',
  'metrics.read': 'viewer',
  'runbook.read': 'viewer',
  'runbook.validate': 'viewer',
  'outbox.read': 'viewer',
  'oncall.read': 'viewer',
  'oncall.override.create': 'admin',
  'oncall.override.delete': 'admin',
  // A silence can hide a real outage: even reading them is for admins.
  'silence.read': 'admin',
  'silence.create': 'admin',
  'silence.expire': 'admin',
  'session.read': 'viewer',
  // The codec server: decoding shows what a history holds, which is what reading the incident shows; encoding
  // only seals a value (acting on a workflow with it still takes Temporal access).
  'payload.decode': 'viewer',
  'payload.encode': 'viewer',
  // Who did what: the trail an auditor reads, with request paths and the details of every change.
  'audit.read': 'admin',
  // Tokens are the keys to everything above.
  'token.read': 'admin',
  'token.create': 'admin',
  'token.revoke': 'admin',
} as const satisfies Record<string, Role>;

export type UseCase = keyof typeof PERMISSIONS;

export function can(role: Role, useCase: UseCase): boolean {
  return roleAtLeast(role, PERMISSIONS[useCase]);
}
