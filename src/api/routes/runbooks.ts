import path from 'node:path';
import { Router } from 'express';
import type { TokenService } from '../../services/tokens';
import { requireAccess } from '../auth';
import { z } from 'zod';
import { parseRunbook } from '../../runbooks/load';
import type { ParseOptions } from '../../runbooks/load';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

/** What the runbook routes need of the catalog. */
export interface RunbookListing {
  list(): Promise<{ id: string; problems: { file: string }[] }[]>;
  get(id: string): Promise<unknown>;
}

const ValidateSchema = z
  .object({
    content: z
      .string()
      .min(1)
      .max(256 * 1024),
    /** Only for messages and the id-equals-file-name rule; never read from disk. */
    file: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}\.ya?ml$/, 'a file name such as order-db-outage.yaml')
      .optional(),
  })
  .strict();

export function runbookRoutes(deps: { tokens: TokenService; runbooks: RunbookListing; parseOptions?: ParseOptions }): Router {
  const r = Router();
  const read = requireAccess(deps.tokens, 'runbook.read');
  r.get('/', read, async (_req, res) => {
    // Problems name files relative to the runbooks directory: server paths are none of a viewer's business.
    const items = (await deps.runbooks.list()).map((item) => ({
      ...item,
      problems: item.problems.map((p) => ({ ...p, file: path.basename(p.file) })),
    }));
    res.json({ items });
  });
  // Checks a runbook before it is committed: the same parser and rules as `fireline runbooks validate`.
  r.post('/validate', requireAccess(deps.tokens, 'runbook.validate'), jsonBody(), async (req, res) => {
    const body = ValidateSchema.parse(req.body ?? {});
    const result = parseRunbook(body.content, body.file ?? 'runbook.yaml', deps.parseOptions ?? {});
    res.json(
      result.ok ? { ok: true, problems: [], version: result.version } : { ok: false, problems: result.problems, version: result.version },
    );
  });

  r.get('/:id', read, async (req, res) => {
    const snapshot = await deps.runbooks.get(String(req.params.id));
    if (!snapshot) throw new HttpError(404, 'not_found', `no runbook ${String(req.params.id).slice(0, 63)}`);
    res.json(snapshot);
  });
  return r;
}
