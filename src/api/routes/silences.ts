import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { CreateSilenceSchema, silenceWindow } from '../../ingest/silences';
import type { TokenService } from '../../services/tokens';
import type { AuditEntry, SilenceRecord, Store } from '../../store/store';
import { actorOf, requireRole } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

/**
 * Maintenance windows: alerts matching an active silence are recorded but start nothing. Only admins manage
 * them (a silence can hide a real outage), and every change is audited.
 */
export interface SilenceRouteDeps {
  store: Store;
  tokens: TokenService;
  /** Refreshed after each change, so this process's sink applies it at once. */
  silenceCache?: { refresh(): Promise<void> };
  now?: () => Date;
}

const SilenceIdSchema = z.uuid();
const ListQuerySchema = z
  .object({
    /** `active`: in force now; `all` (default): every silence, latest end first. */
    state: z.enum(['active', 'all']).default('all'),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

function silenceIdOf(req: Request): string {
  const parsed = SilenceIdSchema.safeParse(req.params.id);
  if (!parsed.success) throw new HttpError(404, 'not_found', `no silence ${String(req.params.id).slice(0, 40)}`);
  return parsed.data;
}

/** A silence with its state at `now`: pending (not started), active, or expired. */
function view(silence: SilenceRecord, now: Date): SilenceRecord & { state: 'pending' | 'active' | 'expired' } {
  const at = now.toISOString();
  const state = silence.endsAt <= at ? 'expired' : silence.startsAt > at ? 'pending' : 'active';
  return { ...silence, state };
}

export function silenceRoutes(deps: SilenceRouteDeps): Router {
  const r = Router();
  const admin = requireRole(deps.tokens, 'admin');
  const json = jsonBody();
  const now = deps.now ?? (() => new Date());

  async function audit(req: Request, action: string, details: Record<string, unknown>): Promise<void> {
    const entry: AuditEntry = {
      id: randomUUID(),
      at: now().toISOString(),
      actor: actorOf(req),
      action,
      method: req.method,
      path: req.baseUrl + req.path,
      requestId: req.id,
      incidentId: null,
      details,
      outcome: 'ok',
    };
    await deps.store.recordAudit(entry);
  }

  r.post('/', admin, json, async (req, res) => {
    if (req.body === undefined) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const input = CreateSilenceSchema.parse(req.body);
    const at = now();
    const window = silenceWindow(input, at);
    if ('error' in window) throw new HttpError(400, 'invalid_request', `${window.error.path}: ${window.error.message}`, { issues: [window.error] });
    const actor = actorOf(req);
    const silence: SilenceRecord = {
      id: randomUUID(),
      matchers: input.matchers,
      startsAt: window.startsAt,
      endsAt: window.endsAt,
      comment: input.comment,
      createdBy: { id: actor.id, name: actor.name },
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    await deps.store.insertSilence(silence);
    await deps.silenceCache?.refresh();
    await audit(req, 'silence.create', { silenceId: silence.id, matchers: silence.matchers, startsAt: silence.startsAt, endsAt: silence.endsAt, comment: silence.comment });
    req.log.info({ silenceId: silence.id }, 'silence created');
    res.status(201).location(`/api/v1/silences/${silence.id}`).json({ silence: view(silence, at) });
  });

  r.get('/', admin, async (req, res) => {
    const q = ListQuerySchema.parse(req.query);
    const at = now();
    const silences = await deps.store.listSilences({ activeAt: q.state === 'active' ? at.toISOString() : undefined, limit: q.limit });
    res.json({ silences: silences.map((s) => view(s, at)) });
  });

  r.get('/:id', admin, async (req, res) => {
    const silence = await deps.store.getSilence(silenceIdOf(req));
    if (!silence) throw new HttpError(404, 'not_found', `no silence ${req.params.id}`);
    res.json({ silence: view(silence, now()) });
  });

  /** Expires the silence (kept for the record); expiring an expired one changes nothing. */
  r.delete('/:id', admin, async (req, res) => {
    const id = silenceIdOf(req);
    const at = now();
    const before = await deps.store.getSilence(id);
    if (!before) throw new HttpError(404, 'not_found', `no silence ${id}`);
    const silence = (await deps.store.expireSilence(id, at.toISOString())) ?? before;
    await deps.silenceCache?.refresh();
    if (before.endsAt > at.toISOString()) {
      await audit(req, 'silence.expire', { silenceId: id, matchers: silence.matchers, endedAt: silence.endsAt });
      req.log.info({ silenceId: id }, 'silence expired');
    }
    res.json({ silence: view(silence, at) });
  });

  return r;
}
