import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { SECTION_KEYS } from '../../services/postmortems';
import type { PostmortemService, SectionKey } from '../../services/postmortems';
import type { TokenService } from '../../services/tokens';
import { actionContextOf, requireAccess } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';
import { incidentIdOf } from '../params';

const SECTION_TEXT = z.string().max(50_000);
const DaySchema = z.iso.date({ error: 'expected a calendar day YYYY-MM-DD' });

const ActionItemSchema = z
  .object({
    id: z
      .string()
      .regex(/^ai_[0-9a-f]{12}$/, 'not an action item id')
      .optional(),
    title: z.string().trim().min(1).max(300),
    owner: z
      .string()
      .trim()
      .max(100)
      .nullable()
      .optional()
      .transform((v) => v || null),
    due: DaySchema.nullable().optional(),
    status: z.enum(['open', 'done']).optional(),
  })
  .strict();

const SectionsSchema = z
  .object(
    Object.fromEntries(SECTION_KEYS.map((k) => [k, SECTION_TEXT.optional()])) as Record<SectionKey, z.ZodOptional<typeof SECTION_TEXT>>,
  )
  .strict();

const EditSchema = z
  .object({
    version: z.number().int().min(1).optional(),
    body: z.string().max(200_000).optional(),
    sections: SectionsSchema.optional(),
    actionItems: z.array(ActionItemSchema).max(100).optional(),
    status: z.enum(['draft', 'in-review', 'done']).optional(),
  })
  .strict();

const ListSchema = z
  .object({
    status: z.enum(['open', 'done']).optional(),
    cursor: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const etagOf = (version: number) => `"${version}"`;

/** The version the editor saw: If-Match (`"3"`, `W/"3"` or `3`) or `version` in the body; both must agree. */
function expectedVersionOf(req: Request, bodyVersion: number | undefined): number {
  const header = req.get('if-match');
  let fromHeader: number | undefined;
  if (header !== undefined) {
    const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
    if (!match) {
      throw new HttpError(400, 'invalid_request', 'If-Match header: expected the ETag of the post-mortem, e.g. "3"', {
        issues: [{ path: 'If-Match', message: 'expected the ETag of the post-mortem' }],
      });
    }
    fromHeader = Number(match[1]);
  }
  if (fromHeader !== undefined && bodyVersion !== undefined && fromHeader !== bodyVersion) {
    throw new HttpError(400, 'invalid_request', 'version: differs from the If-Match header', {
      issues: [{ path: 'version', message: 'differs from the If-Match header' }],
    });
  }
  const expected = fromHeader ?? bodyVersion;
  if (expected === undefined) {
    throw new HttpError(
      428,
      'precondition_required',
      'send If-Match with the ETag you read (or "version" in the body), so a save never overwrites an edit you have not seen',
    );
  }
  return expected;
}

/**
 * GET/PUT /incidents/:id/postmortem (mounted ahead of the incident routes) and the action items across incidents.
 * Viewers read; commanders edit.
 */
export function postmortemRoutes(deps: { tokens: TokenService; postmortems: PostmortemService }): {
  incidents: Router;
  actionItems: Router;
} {
  const read = requireAccess(deps.tokens, 'postmortem.read');

  const incidents = Router();
  incidents.get('/:id/postmortem', read, async (req, res) => {
    const view = await deps.postmortems.get(incidentIdOf(req));
    res.setHeader('ETag', etagOf(view.version));
    res.setHeader('Cache-Control', 'no-store');
    res.json(view);
  });

  incidents.put('/:id/postmortem', requireAccess(deps.tokens, 'postmortem.edit'), jsonBody(), async (req, res) => {
    const id = incidentIdOf(req);
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const edit = EditSchema.parse(req.body ?? {});
    if (edit.body !== undefined && edit.sections !== undefined) {
      throw new HttpError(400, 'invalid_request', 'sections: give either body or sections, not both', {
        issues: [{ path: 'sections', message: 'give either body or sections, not both' }],
      });
    }
    const expected = expectedVersionOf(req, edit.version);
    const view = await deps.postmortems.update(id, edit, expected, actionContextOf(req));
    res.setHeader('ETag', etagOf(view.version));
    res.json(view);
  });

  const actionItems = Router();
  actionItems.get('/', read, async (req, res) => {
    const q = ListSchema.parse(req.query);
    res.json(await deps.postmortems.listActionItems(q));
  });

  return { incidents, actionItems };
}
