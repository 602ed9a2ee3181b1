import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { DurationSchema } from '../../domain/duration';
import { RoleSchema } from '../../domain/roles';
import type { TokenService } from '../../services/tokens';
import { actionContextOf, requireAccess } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

const TokenIdSchema = z.uuid();

const CreateTokenSchema = z
  .object({
    name: z.string().trim().min(1, 'give the token a name (who or what uses it)').max(200),
    role: RoleSchema,
    /** An absolute end (ISO 8601 with offset) or a lifetime from now ("90d"); neither = until revoked. */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    expiresIn: DurationSchema.optional(),
  })
  .strict()
  .refine((b) => !(b.expiresAt && b.expiresIn), { message: 'give expiresAt or expiresIn, not both', path: ['expiresIn'] });

function tokenIdOf(req: Request): string {
  const parsed = TokenIdSchema.safeParse(req.params.id);
  if (!parsed.success) throw new HttpError(404, 'not_found', `no token ${String(req.params.id).slice(0, 40)}`);
  return parsed.data;
}

/**
 * API tokens, for admins: `GET /` lists them (never their hashes), `POST /` makes one and answers it in clear once,
 * `DELETE /:id` revokes it and ends its page sessions. Every change is audited.
 */
export function tokenRoutes(deps: { tokens: TokenService }): Router {
  const r = Router();

  r.get('/', requireAccess(deps.tokens, 'token.read'), async (_req, res) => {
    res.json({ tokens: await deps.tokens.list() });
  });

  r.get('/:id', requireAccess(deps.tokens, 'token.read'), async (req, res) => {
    res.json({ token: await deps.tokens.get(tokenIdOf(req)) });
  });

  r.post('/', requireAccess(deps.tokens, 'token.create'), jsonBody(), async (req, res) => {
    if (req.body === undefined) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const body = CreateTokenSchema.parse(req.body);
    const expiry = body.expiresIn !== undefined ? { expiresInMs: body.expiresIn } : { expiresAt: body.expiresAt };
    const { token, record, view } = await deps.tokens.create(body.name, body.role, actionContextOf(req), expiry);
    req.log.info({ newTokenId: record.id, role: record.role }, 'token created');
    // The clear token is in this response only; it is never stored and cannot be read back.
    res.status(201).location(`/api/v1/tokens/${record.id}`).set('Cache-Control', 'no-store').json({ token, record: view });
  });

  r.delete('/:id', requireAccess(deps.tokens, 'token.revoke'), async (req, res) => {
    const id = tokenIdOf(req);
    const { token, changed } = await deps.tokens.revoke(id, actionContextOf(req));
    if (changed) req.log.info({ revokedTokenId: id }, 'token revoked');
    res.json({ token });
  });

  return r;
}
