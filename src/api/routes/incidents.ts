import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { DeclareIncidentSchema, IncidentStatusSchema } from '../../domain/incident';
import { SeveritySchema } from '../../domain/severity';
import type { UseCase } from '../../services/access';
import type { ActionContext } from '../../services/audit';
import type { IncidentService } from '../../services/incidents';
import type { TokenService } from '../../services/tokens';
import { actionContextOf, requireAccess } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';
import { incidentIdOf } from '../params';
import { timelineToCsv, timelineToMarkdown } from '../timeline-format';
import { MAX_NOTE_LENGTH } from '../../domain/limits';

function toUtcIso(text: string): string {
  return new Date(text).toISOString();
}

const StepIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'not a step id');
const IdempotencyKeySchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'use 1–128 letters, digits or . _ : -');

const ListQuerySchema = z
  .object({
    status: IncidentStatusSchema.optional(),
    severity: SeveritySchema.optional(),
    service: z.string().min(1).max(100).optional(),
    runbook: z.string().min(1).max(63).optional(),
    // Stored times are UTC text; any offset the caller uses is turned into the same instant in that form.
    from: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    to: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    cursor: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const TimelineQuerySchema = z
  .object({
    format: z.enum(['json', 'md', 'csv']).default('json'),
    after: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

const EmptyBodySchema = z.object({}).strict();
const EscalateSchema = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();
const ResolveSchema = z.object({ summary: z.string().trim().min(1).max(MAX_NOTE_LENGTH).optional() }).strict();
const NoteSchema = z.object({ text: z.string().trim().min(1).max(MAX_NOTE_LENGTH) }).strict();
const SeverityBodySchema = z.object({ severity: SeveritySchema, reason: z.string().trim().min(1).max(500).optional() }).strict();
const DecisionSchema = z.object({ option: z.string().min(1).max(63) }).strict();
const CompleteTaskSchema = z.object({ note: z.string().trim().min(1).max(MAX_NOTE_LENGTH).optional() }).strict();
/** External events carry small JSON payloads (e.g. "backup finished" with its location). */
const EventBodySchema = z.object({ data: z.record(z.string(), z.unknown()).default({}) }).strict();

/** A body is optional on the steering routes; when one is sent it must be JSON. */
function bodyOf(req: Request): unknown {
  if (req.body === undefined) {
    if (req.headers['content-length'] && req.headers['content-length'] !== '0' && !req.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    }
    return {};
  }
  return req.body;
}

function contextOf(req: Request): ActionContext {
  const key = req.get('idempotency-key');
  let idempotencyKey: string | undefined;
  if (key !== undefined) {
    const parsed = IdempotencyKeySchema.safeParse(key);
    if (!parsed.success)
      throw new HttpError(400, 'invalid_request', `Idempotency-Key header: ${parsed.error.issues[0]!.message}`, {
        issues: [{ path: 'Idempotency-Key', message: parsed.error.issues[0]!.message }],
      });
    idempotencyKey = parsed.data;
  }
  return { ...actionContextOf(req), idempotencyKey };
}

export function incidentRoutes(deps: { incidents: IncidentService; tokens: TokenService }): Router {
  const r = Router();
  const allow = (useCase: UseCase) => requireAccess(deps.tokens, useCase);
  const read = allow('incident.read');
  const json = jsonBody();

  r.post('/', allow('incident.declare'), json, async (req, res) => {
    const input = DeclareIncidentSchema.parse(bodyOf(req));
    const incident = await deps.incidents.declare(input, contextOf(req));
    req.log.info({ incidentId: incident.id }, 'declared');
    res.status(201).location(`/api/v1/incidents/${incident.id}`).json({ incident });
  });

  r.get('/', read, async (req, res) => {
    const q = ListQuerySchema.parse(req.query);
    res.json(await deps.incidents.list(q));
  });

  r.get('/:id', read, async (req, res) => {
    res.json(await deps.incidents.get(incidentIdOf(req)));
  });

  r.get('/:id/timeline', read, async (req, res) => {
    const id = incidentIdOf(req);
    const q = TimelineQuerySchema.parse(req.query);
    const events = await deps.incidents.timeline(id, { afterSeq: q.after, limit: q.limit });
    if (q.format === 'csv') {
      res.type('text/csv').attachment(`${id}-timeline.csv`).send(timelineToCsv(events));
    } else if (q.format === 'md') {
      const { incident } = await deps.incidents.get(id);
      res.type('text/markdown').send(timelineToMarkdown(incident, events));
    } else {
      res.json({ events, next: events.length === q.limit ? events[events.length - 1]!.seq : null });
    }
  });

  r.post('/:id/acknowledge', allow('incident.acknowledge'), json, async (req, res) => {
    EmptyBodySchema.parse(bodyOf(req));
    res.json(await deps.incidents.acknowledge(incidentIdOf(req), contextOf(req)));
  });

  r.post('/:id/escalate', allow('incident.escalate'), json, async (req, res) => {
    const body = EscalateSchema.parse(bodyOf(req));
    res.json(await deps.incidents.escalate(incidentIdOf(req), body.reason, contextOf(req)));
  });

  r.post('/:id/resolve', allow('incident.resolve'), json, async (req, res) => {
    const body = ResolveSchema.parse(bodyOf(req));
    res.json(await deps.incidents.resolve(incidentIdOf(req), body.summary, contextOf(req)));
  });

  r.post('/:id/notes', allow('incident.note'), json, async (req, res) => {
    const body = NoteSchema.parse(bodyOf(req));
    res.status(201).json(await deps.incidents.addNote(incidentIdOf(req), body.text, contextOf(req)));
  });

  r.post('/:id/severity', allow('incident.severity'), json, async (req, res) => {
    const body = SeverityBodySchema.parse(bodyOf(req));
    res.json(await deps.incidents.changeSeverity(incidentIdOf(req), body.severity, body.reason, contextOf(req)));
  });

  // The workflow's validator then enforces the step's `approver` (commander by default).
  r.post('/:id/decisions/:stepId', allow('incident.decide'), json, async (req, res) => {
    const id = incidentIdOf(req);
    const stepId = stepIdOf(req, 'decision');
    const body = DecisionSchema.parse(bodyOf(req));
    res.json(await deps.incidents.decide(id, stepId, body.option, contextOf(req)));
  });

  r.post('/:id/tasks/:stepId/complete', allow('incident.task.complete'), json, async (req, res) => {
    const id = incidentIdOf(req);
    const stepId = stepIdOf(req, 'task');
    const body = CompleteTaskSchema.parse(bodyOf(req));
    res.json(await deps.incidents.completeTask(id, stepId, body.note, contextOf(req)));
  });

  r.post('/:id/events/:name', allow('incident.event'), json, async (req, res) => {
    const id = incidentIdOf(req);
    const name = stepIdOf(req, 'event', 'name');
    const body = EventBodySchema.parse(bodyOf(req));
    res.status(202).json(await deps.incidents.postEvent(id, name, body.data, contextOf(req)));
  });

  return r;
}

function stepIdOf(req: Request, what: string, param = 'stepId'): string {
  const parsed = StepIdSchema.safeParse(req.params[param]);
  if (!parsed.success) throw new HttpError(404, 'not_found', `no open ${what} "${String(req.params[param]).slice(0, 63)}"`);
  return parsed.data;
}
