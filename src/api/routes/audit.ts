import { once } from 'node:events';
import { Router } from 'express';
import type { Response } from 'express';
import { z } from 'zod';
import { createAuditService } from '../../audit/service';
import { IncidentIdSchema } from '../../domain/incident';
import type { TokenService } from '../../services/tokens';
import type { AuditRecord, AuditStore } from '../../store/aggregates/audit';
import { AUDIT_CSV_HEADER, auditToCsvRow, auditToJson, auditToJsonLine } from '../audit-format';
import { requireAccess } from '../auth';

function toUtcIso(text: string): string {
  return new Date(text).toISOString();
}

const QuerySchema = z
  .object({
    actor: z.string().min(1).max(200).optional(),
    action: z
      .string()
      .regex(/^[a-z][a-z0-9.-]{0,62}$/, 'expected an action such as incident.declare')
      .optional(),
    target: IncidentIdSchema.optional(),
    since: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    until: z.iso.datetime({ offset: true }).transform(toUtcIso).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      .regex(/^[1-9]\d{0,14}$/, 'not a cursor this API gave out')
      .transform(Number)
      .optional(),
    format: z.enum(['json', 'jsonl', 'csv']).default('json'),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.since && q.until && q.since > q.until) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be before since' });
    if (q.format !== 'json' && q.cursor !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'pages are for format=json; an export holds every matching entry' });
  });

/** Writes one chunk, waiting when the client reads slower than the store answers. */
async function write(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk)) await once(res, 'drain');
}

/**
 * `GET /api/v1/audit` (admins): filters actor, action, target (incident id), since/until; JSON pages newest first
 * with `next` for `cursor`; `format=jsonl|csv` streams every matching entry in chain order as an attachment.
 */
export function auditRoutes(deps: { tokens: TokenService; store: Pick<AuditStore, 'listAudit'> }): Router {
  const r = Router();
  const audit = createAuditService(deps);

  r.get('/', requireAccess(deps.tokens, 'audit.read'), async (req, res) => {
    const q = QuerySchema.parse(req.query);
    const query = { actorId: q.actor, action: q.action, incidentId: q.target, since: q.since, until: q.until };
    if (q.format === 'json') {
      const page = await audit.list({ ...query, before: q.cursor, limit: q.limit });
      res.json({ entries: page.entries.map(auditToJson), next: page.next === null ? null : String(page.next) });
      return;
    }
    const [type, line, header] =
      q.format === 'csv'
        ? ['text/csv; charset=utf-8', auditToCsvRow, AUDIT_CSV_HEADER]
        : ['application/x-ndjson; charset=utf-8', auditToJsonLine, ''];
    const pages = audit.export(query);
    // The first page before the headers: a failing store still answers with an error status, not a cut file.
    const first = await pages.next();
    // attachment() first: it sets a type from the file name, which the exact type then replaces.
    res.status(200).attachment(`fireline-audit.${q.format}`).type(type);
    res.setHeader('Cache-Control', 'no-store');
    const rows = (page: AuditRecord[]) => page.map(line).join('');
    try {
      await write(res, header + (first.done ? '' : rows(first.value)));
      for await (const page of pages) await write(res, rows(page));
      res.end();
    } catch (err) {
      // Headers are out: the only honest signal left is a cut connection.
      req.log.warn({ err }, 'audit export stopped');
      res.destroy();
    }
  });

  return r;
}
