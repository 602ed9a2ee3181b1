import { Router } from 'express';
import { z } from 'zod';
import { IncidentStatusSchema } from '../../domain/incident';
import { SeveritySchema } from '../../domain/severity';
import type { TokenService } from '../../services/tokens';
import type { IncidentStore } from '../../store/store';
import { requireAccess } from '../auth';

const SearchQuerySchema = z
  .object({
    q: z.string().trim().max(200).optional(),
    status: IncidentStatusSchema.optional(),
    severity: SeveritySchema.optional(),
    service: z.string().min(1).max(100).optional(),
    runbook: z.string().min(1).max(63).optional(),
    cursor: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/**
 * GET /incidents/search: the list's filters plus `q` (title contains), for the page's search box. Same order
 * and cursor paging as GET /incidents. Kept beside the page until the list route takes a `q` of its own.
 */
export function incidentSearchRoutes(deps: { tokens: TokenService; store: IncidentStore }): Router {
  const r = Router();
  r.get('/search', requireAccess(deps.tokens, 'incident.read'), async (req, res) => {
    const { q, ...filter } = SearchQuerySchema.parse(req.query);
    res.json(await deps.store.searchIncidents({ ...filter, titleContains: q || undefined }));
  });
  return r;
}
