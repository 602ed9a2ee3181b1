import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { GROUP_BY } from '../../services/metrics';
import type { MetricsService } from '../../services/metrics';
import type { TokenService } from '../../services/tokens';
import { requireRole } from '../auth';
import { HttpError } from '../http-error';

const toUtcIso = (text: string) => new Date(text).toISOString();

const SummaryQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    to: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    groupBy: z.enum(GROUP_BY).default('week'),
  })
  .strict();

const IncidentIdSchema = z.string().regex(/^INC-\d{1,15}$/);

function incidentIdOf(req: Request): string {
  const parsed = IncidentIdSchema.safeParse(req.params.id);
  if (!parsed.success) throw new HttpError(404, 'not_found', `no incident ${String(req.params.id).slice(0, 40)}`);
  return parsed.data;
}

/** GET /metrics/summary, and GET /incidents/:id/metrics (mounted ahead of the incident routes). */
export function metricsRoutes(deps: { tokens: TokenService; metrics: MetricsService }): { summary: Router; incidents: Router } {
  const viewer = requireRole(deps.tokens, 'viewer');

  const summary = Router();
  summary.get('/summary', viewer, async (req, res) => {
    const q = SummaryQuerySchema.parse(req.query);
    res.json(await deps.metrics.summary(q));
  });

  const incidents = Router();
  incidents.get('/:id/metrics', viewer, async (req, res) => {
    res.json(await deps.metrics.incident(incidentIdOf(req)));
  });

  return { summary, incidents };
}
