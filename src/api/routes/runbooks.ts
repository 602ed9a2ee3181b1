import path from 'node:path';
import { Router } from 'express';
import type { TokenService } from '../../services/tokens';
import { requireRole } from '../auth';
import { HttpError } from '../http-error';

/** What the runbook routes need of the catalog. */
export interface RunbookListing {
  list(): Promise<{ id: string; problems: { file: string }[] }[]>;
  get(id: string): Promise<unknown>;
}

export function runbookRoutes(deps: { tokens: TokenService; runbooks: RunbookListing }): Router {
  const r = Router();
  const viewer = requireRole(deps.tokens, 'viewer');
  r.get('/', viewer, async (_req, res) => {
    // Problems name files relative to the runbooks directory: server paths are none of a viewer's business.
    const items = (await deps.runbooks.list()).map((item) => ({
      ...item,
      problems: item.problems.map((p) => ({ ...p, file: path.basename(p.file) })),
    }));
    res.json({ items });
  });
  r.get('/:id', viewer, async (req, res) => {
    const snapshot = await deps.runbooks.get(String(req.params.id));
    if (!snapshot) throw new HttpError(404, 'not_found', `no runbook ${String(req.params.id).slice(0, 63)}`);
    res.json(snapshot);
  });
  return r;
}
