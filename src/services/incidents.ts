import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DeclareIncidentInput, IncidentInfo, IncidentRecord } from '../domain/incident';
import type { RunbookSnapshot } from '../domain/runbook';
import { severityFromRisk } from '../domain/severity';
import type { Severity } from '../domain/severity';
import type { TimelineEvent } from '../domain/timeline';
import type { Logger } from '../logger';
import type { AuditStore, IdempotencyStore, IncidentFilter, IncidentStore, Page, TimelineStore } from '../store/store';
import { formatIncidentId, incidentWorkflowId } from '../temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import {
  acknowledgeUpdate,
  addNoteUpdate,
  changeSeverityUpdate,
  completeReviewUpdate,
  completeTaskUpdate,
  decideUpdate,
  escalateUpdate,
  postEventUpdate,
  resolveUpdate,
  statusQuery,
} from '../../workflows/messages';
import type { IncidentView } from '../../workflows/messages';
import { createAuditLog } from './audit';
import type { ActionContext, AuditAction } from './audit';
import { conflict, invalidField, notFound } from './errors';
import { translateTemporalError } from './temporal-errors';

// Callers that steer incidents name who asks; the type lives with the audit log that records it.
export type { ActionContext } from './audit';

export interface RunbookSource {
  get(id: string): Promise<RunbookSnapshot | undefined>;
}

export interface IncidentServiceDeps {
  client: Client;
  store: AuditStore & IdempotencyStore & IncidentStore & TimelineStore;
  runbooks: RunbookSource;
  taskQueue: string;
  logger: Logger;
  now?: () => Date;
}

export interface IncidentDetail {
  incident: IncidentRecord;
  /** Live state from the workflow; null once closed or while Temporal is unreachable. */
  live: IncidentView | null;
}

const DEFAULT_SEVERITY: Severity = 'SEV3';
const LIVE_QUERY_DEADLINE_MS = 3000;

/**
 * Draws the next incident id and inserts its read-model row (open, detect) before any workflow exists, so the
 * workflow's first write always finds it. `claim` may veto the id (idempotency): then nothing is inserted.
 */
export async function prepareIncident(
  deps: { store: AuditStore & IdempotencyStore & IncidentStore & TimelineStore; now?: () => Date },
  snapshot: RunbookSnapshot,
  fields: Omit<IncidentInfo, 'id' | 'declaredAt'> & { claim?: (id: string, at: string) => Promise<boolean> },
): Promise<{ incident: IncidentInfo; record: IncidentRecord | null }> {
  const { claim, ...info } = fields;
  const id = formatIncidentId(await deps.store.allocateIncidentNumber());
  const declaredAt = (deps.now ?? (() => new Date()))().toISOString();
  const incident: IncidentInfo = { ...info, id, declaredAt };
  if (claim && !(await claim(id, declaredAt))) return { incident, record: null };
  const record: IncidentRecord = {
    ...incident,
    runbookId: snapshot.runbook.id,
    runbookVersion: snapshot.version,
    workflowId: incidentWorkflowId(id),
    status: 'open',
    phase: 'detect',
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    updatedAt: declaredAt,
  };
  await deps.store.insertIncident(record);
  return { incident, record };
}

/** The incident use cases shared by the API, Slack and the CLI. Only this layer starts or steers workflows. */
export function createIncidentService(deps: IncidentServiceDeps) {
  const audit = createAuditLog(deps);
  const handleOf = (id: string): WorkflowHandle<typeof incidentWorkflow> =>
    deps.client.workflow.getHandle<typeof incidentWorkflow>(incidentWorkflowId(id));

  function chooseSeverity(input: DeclareIncidentInput, snapshot: RunbookSnapshot): Severity {
    if (input.severity) return input.severity;
    if (input.likelihood && input.impact) return severityFromRisk({ likelihood: input.likelihood, impact: input.impact });
    const rb = snapshot.runbook;
    if (rb.severity) return rb.severity;
    if (rb.risk) return severityFromRisk(rb.risk);
    return DEFAULT_SEVERITY;
  }

  /** Fills defaults and refuses unknown or missing parameters, naming them. */
  function resolveParams(given: Record<string, string> | undefined, snapshot: RunbookSnapshot): Record<string, string> {
    const declared = snapshot.runbook.parameters;
    const unknown = Object.keys(given ?? {}).filter((k) => !(k in declared));
    if (unknown.length) throw invalidField(`parameters.${unknown[0]}`, `runbook ${snapshot.runbook.id} has no such parameter`);
    const params: Record<string, string> = {};
    for (const [name, spec] of Object.entries(declared)) {
      const value = given?.[name] ?? spec.default;
      if (value === undefined) {
        if (spec.required) throw invalidField(`parameters.${name}`, `required by runbook ${snapshot.runbook.id}`);
        continue;
      }
      params[name] = value;
    }
    return params;
  }

  async function requireIncident(id: string): Promise<IncidentRecord> {
    const incident = await deps.store.getIncident(id);
    if (!incident) throw notFound(`no incident ${id}`);
    return incident;
  }

  /** Runs one validated update; rejections are audited too, so refused attempts are visible. */
  async function steer(
    id: string,
    ctx: ActionContext,
    action: AuditAction,
    details: Record<string, unknown>,
    run: (handle: WorkflowHandle<typeof incidentWorkflow>, updateId: string | undefined) => Promise<IncidentView>,
  ): Promise<IncidentView> {
    await requireIncident(id);
    const updateId = ctx.idempotencyKey ? `${action}:${ctx.idempotencyKey}` : undefined;
    try {
      const view = await run(handleOf(id), updateId);
      await audit.record(ctx, { action, incidentId: id, details });
      return view;
    } catch (err) {
      try {
        translateTemporalError(err, id);
      } catch (translated) {
        await audit.record(ctx, {
          action,
          incidentId: id,
          details: { ...details, error: (translated as Error).message },
          outcome: 'rejected',
        });
        throw translated;
      }
    }
  }

  return {
    async declare(input: DeclareIncidentInput, ctx: ActionContext): Promise<IncidentRecord> {
      const snapshot = await deps.runbooks.get(input.runbook);
      if (!snapshot) throw invalidField('runbook', `unknown runbook "${input.runbook}"`);
      const params = resolveParams(input.parameters, snapshot);
      const severity = chooseSeverity(input, snapshot);
      let earlier: string | undefined;
      const keyScope = `declare:${ctx.actor.id}`;
      const { incident, record } = await prepareIncident(deps, snapshot, {
        title: input.title,
        service: input.service ?? snapshot.runbook.service ?? null,
        severity,
        summary: input.summary ?? null,
        drill: input.drill ?? false,
        trigger: { kind: 'manual', by: ctx.actor },
        params,
        // A retried declaration returns the incident the first one made (the number drawn stays unused).
        claim: ctx.idempotencyKey
          ? async (id, at) => {
              earlier = await deps.store.claimIdempotencyKey(keyScope, ctx.idempotencyKey!, id, at);
              return earlier === undefined;
            }
          : undefined,
      });
      if (!record) {
        const existing = earlier ? await deps.store.getIncident(earlier) : undefined;
        if (existing) return existing;
        // The first request with this key is still between its claim and its insert.
        throw conflict('a declaration with this Idempotency-Key is in progress; retry shortly');
      }
      const { id } = incident;
      const workflowId = record.workflowId;
      try {
        await deps.client.workflow.start('incidentWorkflow', {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ incident, snapshot }],
          workflowIdConflictPolicy: 'FAIL',
          // An incident id is never reused, not even after its workflow closed.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        // Without its workflow the row would be an incident nobody runs: take it back, and free the key so a
        // retry of this request starts afresh.
        await deps.store.deleteIncident(id);
        if (ctx.idempotencyKey) await deps.store.releaseIdempotencyKey(keyScope, ctx.idempotencyKey);
        translateTemporalError(err, id);
      }
      deps.logger.info({ incidentId: id, runbook: snapshot.runbook.id, requestId: ctx.requestId }, 'incident declared');
      await audit.record(ctx, {
        action: 'incident.declare',
        incidentId: id,
        details: { runbook: snapshot.runbook.id, version: snapshot.version, severity: record.severity, drill: record.drill },
      });
      return record;
    },

    list(filter: IncidentFilter): Promise<Page<IncidentRecord>> {
      return deps.store.listIncidents(filter);
    },

    /** Incidents not yet closed (up to `limit` per status), newest first. */
    async listActive(limit: number): Promise<IncidentRecord[]> {
      const pages = await Promise.all(
        (['open', 'acknowledged', 'resolved'] as const).map((status) => deps.store.listIncidents({ status, limit })),
      );
      return pages.flatMap((p) => p.items).sort((a, b) => (a.declaredAt < b.declaredAt ? 1 : -1));
    },

    async get(id: string): Promise<IncidentDetail> {
      const incident = await requireIncident(id);
      if (incident.status === 'closed') return { incident, live: null };
      try {
        // Bounded: right after a worker crash a query can wait ~10 s for the sticky queue to time out.
        const handle = handleOf(id);
        const live = await deps.client.connection.withDeadline(Date.now() + LIVE_QUERY_DEADLINE_MS, () => handle.query(statusQuery));
        return { incident, live };
      } catch (err) {
        deps.logger.warn({ incidentId: id, err: (err as Error).message }, 'live status unavailable');
        return { incident, live: null };
      }
    },

    async timeline(id: string, page: { afterSeq?: number; limit: number }): Promise<TimelineEvent[]> {
      await requireIncident(id);
      return deps.store.listTimeline(id, page);
    },

    acknowledge: (id: string, ctx: ActionContext) =>
      steer(id, ctx, 'incident.acknowledge', {}, (h, updateId) =>
        h.executeUpdate(acknowledgeUpdate, { args: [{ actor: ctx.actor }], updateId }),
      ),

    decide: (id: string, stepId: string, option: string, ctx: ActionContext) =>
      steer(id, ctx, 'incident.decide', { stepId, option }, (h, updateId) =>
        h.executeUpdate(decideUpdate, { args: [{ actor: ctx.actor, stepId, option }], updateId }),
      ),

    escalate: (id: string, reason: string | undefined, ctx: ActionContext) =>
      steer(id, ctx, 'incident.escalate', { reason: reason ?? null }, (h, updateId) =>
        h.executeUpdate(escalateUpdate, { args: [{ actor: ctx.actor, reason }], updateId }),
      ),

    resolve: (id: string, summary: string | undefined, ctx: ActionContext) =>
      steer(id, ctx, 'incident.resolve', { summary: summary ?? null }, (h, updateId) =>
        h.executeUpdate(resolveUpdate, { args: [{ actor: ctx.actor, summary }], updateId }),
      ),

    addNote: (id: string, text: string, ctx: ActionContext) =>
      steer(id, ctx, 'incident.note', { length: text.length }, (h, updateId) =>
        h.executeUpdate(addNoteUpdate, { args: [{ actor: ctx.actor, text }], updateId }),
      ),

    completeTask: (id: string, stepId: string, note: string | undefined, ctx: ActionContext) =>
      steer(id, ctx, 'incident.task.complete', { stepId, note: note ?? null }, (h, updateId) =>
        h.executeUpdate(completeTaskUpdate, { args: [{ actor: ctx.actor, stepId, note }], updateId }),
      ),

    postEvent: (id: string, name: string, data: Record<string, unknown>, ctx: ActionContext) =>
      steer(id, ctx, 'incident.event', { name }, (h, updateId) =>
        h.executeUpdate(postEventUpdate, { args: [{ actor: ctx.actor, name, data }], updateId }),
      ),

    completeReview: (id: string, summary: string | undefined, ctx: ActionContext) =>
      steer(id, ctx, 'incident.postmortem.review', { summary: summary ?? null }, (h, updateId) =>
        h.executeUpdate(completeReviewUpdate, { args: [{ actor: ctx.actor, summary }], updateId }),
      ),

    changeSeverity: (id: string, severity: Severity, reason: string | undefined, ctx: ActionContext) =>
      steer(id, ctx, 'incident.severity', { severity, reason: reason ?? null }, (h, updateId) =>
        h.executeUpdate(changeSeverityUpdate, { args: [{ actor: ctx.actor, severity, reason }], updateId }),
      ),
  };
}

export type IncidentService = ReturnType<typeof createIncidentService>;
