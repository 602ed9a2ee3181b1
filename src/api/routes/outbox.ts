import { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/store';

const QuerySchema = z
  .object({
    incident: z.string().regex(/^INC-\d{1,12}$/, 'expected an incident id such as INC-12').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/** Messages that had no configured channel: the place to look when Slack or SMTP is not set up. */
export function outboxRoutes(deps: { store: Store }): Router {
  const r = Router();
  r.get('/', async (req, res) => {
    const q = QuerySchema.parse(req.query);
    res.json({ items: await deps.store.listOutbox({ incidentId: q.incident, limit: q.limit }) });
  });
  return r;
}
