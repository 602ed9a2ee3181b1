import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import type { SilenceService } from '../../services/silences';
import type { TokenService } from '../../services/tokens';
import { actionContextOf, requireAccess } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

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

/** Maintenance windows: `POST /`, `GET /`, `GET /:id`, `DELETE /:id` (expires it). */
export function silenceRoutes(deps: { tokens: TokenService; silences: SilenceService }): Router {
  const r = Router();
  const read = requireAccess(deps.tokens, 'silence.read');

  r.post('/', requireAccess(deps.tokens, 'silence.create'), jsonBody(), async (req, res) => {
    if (req.body === undefined) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const silence = await deps.silences.create(req.body, actionContextOf(req));
    req.log.info({ silenceId: silence.id }, 'silence created');
    res.status(201).location(`/api/v1/silences/${silence.id}`).json({ silence });
  });

  r.get('/', read, async (req, res) => {
    const q = ListQuerySchema.parse(req.query);
    res.json({ silences: await deps.silences.list(q) });
  });

  r.get('/:id', read, async (req, res) => {
    res.json({ silence: await deps.silences.get(silenceIdOf(req)) });
  });

  r.delete('/:id', requireAccess(deps.tokens, 'silence.expire'), async (req, res) => {
    const id = silenceIdOf(req);
    const { silence, changed } = await deps.silences.expire(id, actionContextOf(req));
    if (changed) req.log.info({ silenceId: id }, 'silence expired');
    res.json({ silence });
  });

  return r;
}
