import { randomUUID } from 'node:crypto';
import type { Actor } from '../domain/roles';
import type { AuditStore } from '../store/store';
import type { UseCase } from './access';

/** Who asks, and through what; every human action is audited with it. */
export interface ActionContext {
  actor: Actor;
  requestId: string;
  source: 'api' | 'slack' | 'cli';
  method?: string;
  path?: string;
  /** Dedupes a repeated request (Idempotency-Key header, Slack action id): Temporal runs the update once. */
  idempotencyKey?: string;
}

/**
 * Every use case is audited under its own name; closing a review is reached through `postmortem.edit`. The others
 * are changes no role table gates: signing the page in and out, tokens made on the command line or at first start.
 */
export type AuditAction =
  UseCase | 'incident.postmortem.review' | 'session.sign-in' | 'session.sign-out' | 'token.create' | 'token.revoke' | 'config.reload';

export interface AuditFact {
  action: AuditAction;
  incidentId?: string | null;
  /** What changed (names, ids, counts), or why it was refused. */
  details: Record<string, unknown>;
  outcome?: 'ok' | 'rejected';
}

/** Someone at this machine's shell: the CLI acts as an admin, named by the OS user. */
export function cliActionContext(user: string, command: string): ActionContext {
  return {
    actor: { id: `cli:${user}`, name: `${user} (CLI)`, role: 'admin' },
    requestId: randomUUID(),
    source: 'cli',
    method: 'cli',
    path: command,
  };
}

/** The one place audit rows are built: actor, action, target, request id, what changed and the outcome. */
export function createAuditLog(deps: { store: Pick<AuditStore, 'recordAudit'>; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async record(ctx: ActionContext, fact: AuditFact): Promise<void> {
      await deps.store.recordAudit({
        id: randomUUID(),
        at: now().toISOString(),
        actor: ctx.actor,
        action: fact.action,
        method: ctx.method ?? ctx.source,
        path: ctx.path ?? '',
        requestId: ctx.requestId,
        incidentId: fact.incidentId ?? null,
        details: fact.details,
        outcome: fact.outcome ?? 'ok',
      });
    },
  };
}
