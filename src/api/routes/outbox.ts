import { Router } from 'express';
import { z } from 'zod';
import { IncidentIdSchema } from '../../domain/incident';
import type { OutboxService } from '../../services/outbox';
import type { TokenService } from '../../services/tokens';
import { requireAccess } from '../auth';

const QuerySchema = z
  .object({
    incident: IncidentIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export function outboxRoutes(deps: { tokens: TokenService; outbox: OutboxService }): Router {
  const r = Router();
  r.use(requireAccess(deps.tokens, 'outbox.read'));
  r.get('/', async (req, res) => {
    const q = QuerySchema.parse(req.query);
    res.json({ items: await deps.outbox.list({ incidentId: q.incident, limit: q.limit }) });
  });
  return r;
}
