import { Router } from 'express';
import { z } from 'zod';
import { GROUP_BY } from '../../services/metrics';
import type { MetricsService } from '../../services/metrics';
import type { TokenService } from '../../services/tokens';
import { requireAccess } from '../auth';
import { incidentIdOf } from '../params';

const toUtcIso = (text: string) => new Date(text).toISOString();

const SummaryQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    to: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    groupBy: z.enum(GROUP_BY).default('week'),
  })
  .strict();

/** GET /metrics/summary, and GET /incidents/:id/metrics (mounted ahead of the incident routes). */
export function metricsRoutes(deps: { tokens: TokenService; metrics: MetricsService }): { summary: Router; incidents: Router } {
  const read = requireAccess(deps.tokens, 'metrics.read');

  const summary = Router();
  summary.get('/summary', read, async (req, res) => {
    const q = SummaryQuerySchema.parse(req.query);
    res.json(await deps.metrics.summary(q));
  });

  const incidents = Router();
  incidents.get('/:id/metrics', read, async (req, res) => {
    res.json(await deps.metrics.incident(incidentIdOf(req)));
  });

  return { summary, incidents };
}
